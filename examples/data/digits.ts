/**
 * The handwritten-digits dataset the `mlp-train` example learns from, generated here and shipped
 * as examples/data/digits.bin. Each sample is a digit drawn as strokes, put through a random
 * affine transform (scale, shear, shift) and a random pen width on a 32×32 canvas, sprinkled
 * with noise, then counted in 4×4 blocks into an 8×8 image of values 0..16 (the way the classic
 * optical-digits sets are made). Only arithmetic (no trigonometry), so every machine regenerates
 * the same bytes: `node dist/examples/data/digits.js` rewrites the file, and a test checks it.
 *
 * Format (little-endian): u32 samples, u16 features (64), u8 classes (10), u8 largest feature
 * value (16); then per sample its 64 feature bytes (row-major) and its label byte. Classes are
 * shuffled, so any tail of the file is a fair held-out set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../client/paths';

export const DIGITS_FILE = join(ROOT, 'examples', 'data', 'digits.bin');

export interface Dataset {
    features: number;
    classes: number;
    maxValue: number;
    samples: { x: Uint8Array; label: number }[];
}

/** Each digit as polylines on a 10×10 grid (x right, y down). */
const STROKES: [number, number][][][] = [
    [[[5, 0], [8, 1], [9, 5], [8, 9], [5, 10], [2, 9], [1, 5], [2, 1], [5, 0]]],
    [[[3, 2], [5, 0], [5, 10]], [[3, 10], [7, 10]]],
    [[[1, 2], [3, 0], [7, 0], [9, 2], [9, 4], [1, 10], [9, 10]]],
    [[[1, 1], [4, 0], [8, 1], [8, 4], [4, 5], [8, 6], [9, 9], [5, 10], [1, 9]]],
    [[[7, 10], [7, 0], [1, 7], [9, 7]]],
    [[[9, 0], [2, 0], [1, 4], [6, 4], [9, 6], [8, 9], [5, 10], [1, 9]]],
    [[[8, 0], [4, 1], [2, 4], [1, 8], [3, 10], [7, 10], [9, 8], [8, 5], [5, 4], [2, 6]]],
    [[[1, 0], [9, 0], [4, 10]], [[3, 5], [8, 5]]],
    [[[5, 5], [2, 3], [3, 0], [7, 0], [8, 3], [5, 5], [1, 7], [2, 10], [8, 10], [9, 7], [5, 5]]],
    [[[8, 4], [5, 6], [2, 5], [1, 2], [4, 0], [7, 0], [9, 2], [8, 6], [5, 10], [2, 10]]],
];

/** xorshift32: the same sequence everywhere (the sketches use it too). */
export function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
        s ^= s << 13;
        s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        return s / 4_294_967_296;
    };
}

/** Squared distance from (px, py) to the segment (ax, ay)–(bx, by). */
function distance2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
    const ex = px - (ax + t * dx);
    const ey = py - (ay + t * dy);
    return ex * ex + ey * ey;
}

/** One 8×8 image (values 0..16) of `digit`, drawn with the randomness `r`. */
function draw(digit: number, r: () => number): Uint8Array {
    const between = (lo: number, hi: number) => lo + (hi - lo) * r();
    const sx = between(1.6, 2.4); // grid units → pixels (the digit is 16..24 px wide)
    const sy = between(2.0, 2.6);
    const shear = between(-0.45, 0.45);
    const ox = 16 - 5 * sx + between(-2.5, 2.5);
    const oy = 16 - 5 * sy + between(-2, 2);
    const pen = between(1.0, 2.2);
    // every writer bends each stroke a little: each point moves by up to a grid unit
    const at = ([x, y]: [number, number]): [number, number] => {
        const jx = x + between(-1, 1);
        const jy = y + between(-1, 1);
        return [ox + sx * jx + shear * sy * (jy - 5), oy + sy * jy];
    };
    const segments: number[][] = [];
    for (const line of STROKES[digit]) {
        const points = line.map(at);
        for (let i = 1; i < points.length; i++) segments.push([...points[i - 1], ...points[i]]);
    }
    const image = new Uint8Array(64);
    for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
            let on = segments.some(([ax, ay, bx, by]) => distance2(x + 0.5, y + 0.5, ax, ay, bx, by) <= pen * pen);
            if (r() < 0.04) on = !on; // sensor noise
            if (on) image[(y >> 2) * 8 + (x >> 2)]++;
        }
    }
    return image;
}

/** `perClass` samples of each digit, shuffled, from `seed`. */
export function generateDigits(perClass = 150, seed = 0x5eed): Dataset {
    const r = rng(seed);
    const samples: Dataset['samples'] = [];
    for (let i = 0; i < perClass; i++) for (let d = 0; d < 10; d++) samples.push({ x: draw(d, r), label: d });
    for (let i = samples.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [samples[i], samples[j]] = [samples[j], samples[i]];
    }
    return { features: 64, classes: 10, maxValue: 16, samples };
}

/** The dataset in the file format above. */
export function encodeDataset(d: Dataset): Buffer {
    const row = d.features + 1;
    const out = Buffer.alloc(8 + d.samples.length * row);
    out.writeUInt32LE(d.samples.length, 0);
    out.writeUInt16LE(d.features, 4);
    out.writeUInt8(d.classes, 6);
    out.writeUInt8(d.maxValue, 7);
    d.samples.forEach((s, i) => {
        out.set(s.x, 8 + i * row);
        out[8 + i * row + d.features] = s.label;
    });
    return out;
}

/** Reads the file format above. */
export function decodeDataset(bytes: Buffer): Dataset {
    if (bytes.length < 8) throw new Error('not a dataset: shorter than its header');
    const n = bytes.readUInt32LE(0);
    const features = bytes.readUInt16LE(4);
    const row = features + 1;
    if (bytes.length !== 8 + n * row) throw new Error(`not a dataset: ${n} samples of ${features} features need ${8 + n * row} bytes, got ${bytes.length}`);
    const samples = [];
    for (let i = 0; i < n; i++) samples.push({ x: bytes.subarray(8 + i * row, 8 + i * row + features), label: bytes[8 + i * row + features] });
    return { features, classes: bytes[6], maxValue: bytes[7], samples };
}

if (require.main === module) {
    writeFileSync(DIGITS_FILE, encodeDataset(generateDigits()));
    process.stdout.write(`wrote ${join('examples', 'data', 'digits.bin')}\n`);
}
