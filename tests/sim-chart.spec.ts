import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { renderCharts } from '../sim/chart';

/**
 * The chart renderer end to end: Vega-Lite specs become PNG files of the requested size, with the
 * marks drawn and the text set in the bundled font, and a broken spec rejects with the reason.
 */

interface Image {
    width: number;
    height: number;
    /** RGBA, 4 bytes a pixel, row by row. */
    pixels: Buffer;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes the 8-bit RGBA, non-interlaced PNGs resvg writes. */
function decodePng(png: Buffer): Image {
    expect(png.subarray(0, 8)).toEqual(SIGNATURE);
    const idat: Buffer[] = [];
    let width = 0;
    let height = 0;
    for (let at = 8; at < png.length;) {
        const length = png.readUInt32BE(at);
        const type = png.toString('latin1', at + 4, at + 8);
        const data = png.subarray(at + 8, at + 8 + length);
        if (type === 'IHDR') {
            width = data.readUInt32BE(0);
            height = data.readUInt32BE(4);
            expect([...data.subarray(8, 13)]).toEqual([8, 6, 0, 0, 0]); // depth, RGBA, deflate, filter, no interlace
        }
        if (type === 'IDAT') idat.push(data);
        at += 12 + length;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const stride = width * 4;
    const pixels = Buffer.alloc(stride * height);
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (stride + 1)];
        const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
        for (let x = 0; x < stride; x++) {
            const left = x >= 4 ? pixels[y * stride + x - 4] : 0;
            const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
            const upLeft = x >= 4 && y > 0 ? pixels[(y - 1) * stride + x - 4] : 0;
            pixels[y * stride + x] = (line[x] + predict(filter, left, up, upLeft)) & 0xff;
        }
    }
    return { width, height, pixels };
}

function predict(filter: number, left: number, up: number, upLeft: number): number {
    switch (filter) {
        case 0:
            return 0;
        case 1:
            return left;
        case 2:
            return up;
        case 3:
            return (left + up) >> 1;
        case 4: {
            const p = left + up - upLeft;
            const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
            return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
        }
        default:
            throw new Error(`PNG filter ${filter}`);
    }
}

function colours(image: Image): Set<number> {
    const seen = new Set<number>();
    for (let i = 0; i < image.pixels.length; i += 4) seen.add(image.pixels.readUInt32BE(i));
    return seen;
}

/** The rows in which a and b differ: [first, last], or undefined if they are the same image. */
function differingRows(a: Image, b: Image): [number, number] | undefined {
    const stride = a.width * 4;
    let rows: [number, number] | undefined;
    for (let y = 0; y < a.height; y++) {
        const row = (image: Image) => image.pixels.subarray(y * stride, (y + 1) * stride);
        if (!row(a).equals(row(b))) rows = [rows?.[0] ?? y, y];
    }
    return rows;
}

const revenue = {
    data: {
        values: [
            { month: 'Jan', fog: 3 },
            { month: 'Feb', fog: 7 },
            { month: 'Mar', fog: 5 },
        ],
    },
    mark: 'bar',
    encoding: {
        x: { field: 'month', type: 'nominal', sort: null },
        y: { field: 'fog', type: 'quantitative' },
    },
};

const supply = {
    data: { values: Array.from({ length: 12 }, (_, epoch) => ({ epoch, supply: 1000 + 80 * epoch - 3 * epoch ** 2 })) },
    mark: { type: 'line', point: true },
    encoding: {
        x: { field: 'epoch', type: 'quantitative' },
        y: { field: 'supply', type: 'quantitative' },
    },
};

describe('renderCharts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fog-chart-'));
    const file = (name: string) => join(dir, `${name}.png`);
    const image = (name: string) => decodePng(readFileSync(file(name)));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    beforeAll(() =>
        renderCharts([
            { spec: revenue, file: file('bar'), width: 400, height: 300 },
            { spec: supply, file: file('line'), width: 320, height: 200 },
            // The same layout twice: only the title's colour differs, so any difference is its glyphs.
            { spec: { ...revenue, title: 'Revenue' }, file: file('titled'), width: 400, height: 300 },
            { spec: { ...revenue, title: { text: 'Revenue', color: 'white' } }, file: file('blank-title'), width: 400, height: 300 },
        ]),
    );

    it('draws PNGs of the requested size', () => {
        expect([image('bar').width, image('bar').height]).toEqual([400, 300]);
        expect([image('line').width, image('line').height]).toEqual([320, 200]);
    });

    it('draws the marks, not a blank image', () => {
        for (const name of ['bar', 'line']) {
            const seen = colours(image(name));
            expect(seen.has(0xffffffff)).toBe(true); // the white background
            expect(seen.has(0x4c78a8ff)).toBe(true); // Vega's first category colour: the bars, the line
            expect(seen.size).toBeGreaterThan(10); // axes, gridlines and anti-aliased text
        }
    });

    it('sets text in the bundled font', () => {
        const rows = differingRows(image('titled'), image('blank-title'));
        expect(rows).toBeDefined();
        // The title sits above the plot: the glyphs are a dozen or so rows at the top.
        expect(rows![1]).toBeLessThan(30);
        expect(rows![1] - rows![0]).toBeGreaterThan(5);
    });

    it('rejects a spec Vega-Lite cannot draw, with the reason', async () => {
        const bad = { ...revenue, mark: 'nosuchmark' };
        await expect(renderCharts([{ spec: bad, file: file('bad') }])).rejects.toThrow(`chart ${file('bad')}: unknown mark "nosuchmark"`);
    });
});
