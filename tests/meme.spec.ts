/**
 * The meme example (examples/as/meme.ts): a prompt in, a PNG out. The PNG is parsed here with a
 * CRC-32 of our own and Node's zlib, its filters undone, and the picture checked: white text with a
 * black outline at the top and bottom, a picture in between (the model's sketch, or with style:art
 * the procedural art), the settings words taken out of the caption, the same bytes on every run.
 * That the sketch is the model's is checked in memes.spec.ts.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { DIST } from '../client/paths';
import { ComputePool } from '../client/compute/pool';
import { runProgramDirect } from '../client/compute/task';
import { instrument, MAX_FUEL } from '../client/compute/meter';
import { checkProgram, memoryCapPages } from '../client/compute/abi';
import { RunOk } from '../client/compute/types';

const program = readFileSync(join(DIST, 'examples', 'meme.wasm'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const SIZE = 384;

let metered: Uint8Array;
beforeAll(async () => {
    metered = (await instrument(program)).bytes;
});

/** One metered run in this thread. */
function run(prompt: string | Buffer, maxMemoryMb = 64): RunOk {
    const r = runProgramDirect({ program: metered, input: Buffer.from(prompt), fuel: MAX_FUEL, maxMemoryMb, maxOutputBytes: 16 << 20 });
    if (r.status !== 'ok') throw new Error(`meme failed: ${r.reason}: ${r.message}`);
    return r;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
    let c = 0xffffffff;
    for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}

interface Picture {
    width: number;
    height: number;
    palette: Buffer;
    /** Palette indices, row by row. */
    pixels: Uint8Array;
    filters: Set<number>;
}

/** Parses a PNG as meme.ts documents it (8-bit palette), checking every chunk's CRC on the way. */
function decodePng(png: Buffer): Picture {
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const chunks: { type: string; data: Buffer }[] = [];
    let pos = 8;
    while (pos < png.length) {
        const len = png.readUInt32BE(pos);
        expect(pos + 12 + len).toBeLessThanOrEqual(png.length);
        const typeAndData = png.subarray(pos + 4, pos + 8 + len);
        expect(png.readUInt32BE(pos + 8 + len)).toBe(crc32(typeAndData));
        chunks.push({ type: typeAndData.subarray(0, 4).toString('latin1'), data: typeAndData.subarray(4) });
        pos += 12 + len;
    }
    expect(pos).toBe(png.length);
    const types = chunks.map((c) => c.type);
    expect(types[0]).toBe('IHDR');
    expect(types[types.length - 1]).toBe('IEND');
    expect(types.indexOf('PLTE')).toBeLessThan(types.indexOf('IDAT'));

    const ihdr = chunks[0].data;
    expect(ihdr.length).toBe(13);
    const width = ihdr.readUInt32BE(0);
    const height = ihdr.readUInt32BE(4);
    // bit depth 8, colour type 3 (palette), deflate, adaptive filtering, no interlace
    expect([...ihdr.subarray(8)]).toEqual([8, 3, 0, 0, 0]);
    const palette = chunks.find((c) => c.type === 'PLTE')!.data;
    expect(palette.length).toBe(768);

    const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    expect(raw.length).toBe(height * (1 + width));
    const pixels = new Uint8Array(width * height);
    const filters = new Set<number>();
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (width + 1)];
        filters.add(filter);
        for (let x = 0; x < width; x++) {
            const v = raw[y * (width + 1) + 1 + x];
            if (filter === 0) pixels[y * width + x] = v;
            else if (filter === 1) pixels[y * width + x] = (v + (x > 0 ? pixels[y * width + x - 1] : 0)) & 0xff;
            else throw new Error(`row ${y}: filter ${filter}, not 0 or 1 as documented`);
        }
    }
    return { width, height, palette, pixels, filters };
}

const BLACK = 0;
const WHITE = 1;

/** How often each palette index occurs in rows [y0, y1). */
function histogram(p: Picture, y0: number, y1: number): Map<number, number> {
    const counts = new Map<number, number>();
    for (let i = y0 * p.width; i < y1 * p.width; i++) counts.set(p.pixels[i], (counts.get(p.pixels[i]) ?? 0) + 1);
    return counts;
}

/** A hash of the text as drawn: 1 where white, 2 where the black outline is, 0 elsewhere. */
const textMask = (p: Picture) => sha(Uint8Array.from(p.pixels, (v) => (v === WHITE ? 1 : v === BLACK ? 2 : 0)));

describe('meme (AssemblyScript): a PNG for a prompt', () => {
    it('fits the Fog ABI', () => {
        expect(() => checkProgram(program, memoryCapPages(64))).not.toThrow();
    });

    it('draws a valid PNG: white outlined text at the top and the bottom, colourful art in between', () => {
        const prompt = 'one does not simply | walk into mordor';
        const r = run(prompt);
        const png = Buffer.from(r.output);
        const pic = decodePng(png);
        expect([pic.width, pic.height]).toEqual([SIZE, SIZE]);
        expect([...pic.filters].every((f) => f === 0 || f === 1)).toBe(true);
        expect([...pic.palette.subarray(0, 6)]).toEqual([0, 0, 0, 255, 255, 255]);

        const top = histogram(pic, 0, Math.floor(SIZE * 0.35));
        const bottom = histogram(pic, Math.ceil(SIZE * 0.65), SIZE);
        const middle = histogram(pic, Math.floor(SIZE * 0.35), Math.ceil(SIZE * 0.65));
        for (const region of [top, bottom]) {
            expect(region.get(WHITE) ?? 0).toBeGreaterThan(2000);
            expect(region.get(BLACK) ?? 0).toBeGreaterThan(2000);
        }
        // no text in the middle: only art, in many colours
        expect(middle.has(WHITE) || middle.has(BLACK)).toBe(false);
        expect(middle.size).toBeGreaterThanOrEqual(8);
        expect(new Set(pic.pixels).size).toBeGreaterThanOrEqual(12);

        // the outline surrounds the text: every white pixel's neighbours are white or black
        let unframed = 0;
        for (let y = 1; y < SIZE - 1; y++) {
            for (let x = 1; x < SIZE - 1; x++) {
                if (pic.pixels[y * SIZE + x] !== WHITE) continue;
                for (const d of [-1, 1, -SIZE, SIZE]) if (pic.pixels[y * SIZE + x + d] > WHITE) unframed++;
            }
        }
        expect(unframed).toBe(0);

        console.log(`meme: ${JSON.stringify(prompt)} → ${png.length} bytes of PNG in ${r.ms.toFixed(1)} ms (direct run, compile included)`);
        expect(png.length).toBeLessThan(100_000);
    });

    it('draws the text as documented: upper case, non-ASCII as "?", split at the middle word without a "|"', () => {
        // the same text after normalization, different art (the seed is the prompt's bytes)
        const a = decodePng(Buffer.from(run('hello 🐸 world').output));
        const b = decodePng(Buffer.from(run('HELLO   ? WORLD').output));
        const c = decodePng(Buffer.from(run('hello ? | world').output));
        expect(sha(a.pixels)).not.toBe(sha(b.pixels));
        expect(textMask(a)).toBe(textMask(b));
        // "HELLO ? WORLD" is split at the space nearest the middle: "HELLO ?" on top, "WORLD" below
        expect(textMask(a)).toBe(textMask(c));
        expect(histogram(a, SIZE - 40, SIZE).get(WHITE) ?? 0).toBeGreaterThan(0);
        // no text, no black or white
        const empty = decodePng(Buffer.from(run('').output));
        expect(empty.pixels.some((v) => v <= WHITE)).toBe(false);
        expect(new Set(empty.pixels).size).toBeGreaterThanOrEqual(8);
    });

    it('gives different pictures for different prompts', () => {
        const outputs = ['cat', 'dog', 'cat ', 'Cat', 'such wow | very compute'].map((p) => sha(run(p).output));
        expect(new Set(outputs).size).toBe(outputs.length);
    });

    it('takes seed:<n> and style:art out of the caption: the seed picks the picture, style:art the old art', () => {
        const mask = textMask(decodePng(Buffer.from(run('such cat | very seed').output)));
        const one = decodePng(Buffer.from(run('such cat seed:1 | very seed').output));
        const again = decodePng(Buffer.from(run('SEED:1 such cat | very seed').output));
        const two = decodePng(Buffer.from(run('such cat seed:2 | very seed').output));
        for (const p of [one, again, two]) expect(textMask(p)).toBe(mask);
        // the seed (in any case, anywhere) picks the picture; the colours come from the caption, the same here
        expect(sha(again.pixels)).toBe(sha(one.pixels));
        expect(sha(two.pixels)).not.toBe(sha(one.pixels));
        expect(one.palette).toEqual(two.palette);
        // a subject word, in any case, picks the subject: the same seed draws the same sketch for cat and CAT
        const ink = (p: Picture) => sha(Uint8Array.from(p.pixels.subarray(140 * SIZE, 240 * SIZE), (v) => (v - 2) % 16));
        expect(ink(decodePng(Buffer.from(run('CAT seed:9').output)))).toBe(ink(decodePng(Buffer.from(run('a cat! seed:9').output))));
        expect(ink(decodePng(Buffer.from(run('moon seed:9').output)))).not.toBe(ink(decodePng(Buffer.from(run('cat seed:9').output))));
        // not settings: out of range, or not whole words; they stay in the caption
        for (const p of ['cat seed:4294967296', 'cat seed:12x', 'cat seed:', 'cat style:artsy'])
            expect(textMask(decodePng(Buffer.from(run(p).output)))).not.toBe(textMask(decodePng(Buffer.from(run('cat').output))));
        // style:art draws the procedural art: its own palette, the same text
        const art = decodePng(Buffer.from(run('such cat style:art | very seed').output));
        expect(textMask(art)).toBe(mask);
        expect(art.palette).not.toEqual(one.palette);
        expect(sha(art.pixels)).not.toBe(sha(one.pixels));
    });

    it('uses only the first 200 bytes of a long prompt, within a small memory', () => {
        const long = Buffer.from('all work and no play makes jack a dull boy 🐸 '.repeat(110)); // ~5 KB
        expect(long.length).toBeGreaterThan(5000);
        // 4 MiB: the decoder's weights (1 MiB built in, 1 MiB as arrays) and the picture's buffers
        const r = run(long, 4);
        decodePng(Buffer.from(r.output));
        expect(sha(r.output)).toBe(sha(run(long.subarray(0, 200)).output));
    });

    it('gives the same bytes directly, on one thread and on two, run after run', async () => {
        const prompts = ['brace yourselves | winter is coming', '', '🐸🐸🐸'];
        const expected = prompts.map((p) => sha(run(p).output));
        expect(prompts.map((p) => sha(run(p).output))).toEqual(expected);
        for (const threads of [1, 2]) {
            const pool = new ComputePool({ threads });
            try {
                const runs = await Promise.all(
                    [...prompts, ...prompts].map((p) => pool.run({ program, input: Buffer.from(p), fuel: MAX_FUEL, maxMemoryMb: 64 })),
                );
                runs.forEach((r, i) => {
                    expect(r.status).toBe('ok');
                    expect(sha((r as RunOk).output)).toBe(expected[i % prompts.length]);
                });
            } finally {
                await pool.close();
            }
        }
    });
});
