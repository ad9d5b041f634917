/**
 * How good the meme model is (docs/memes.md, "Quality"), measured the way the issue asks and in one
 * run with the grid the docs show:
 * - a classifier is trained separately, on real sketches only (examples/data/sketches.ts, a seed the
 *   model never trained on), by the mlp-train example;
 * - for each subject, the pictures memes with seed:1 … seed:N draw (vae-sample, the same decoder
 *   and latent points as meme.ts) are classified by it with mlp-infer: the share recognised as the
 *   subject asked for;
 * - diversity: the mean distance between two of a subject's pictures (root of the summed squared
 *   pixel differences, pixels 0..1), next to the same for N real sketches of it;
 * - the grid: memes of each subject (`<subject> | seed:<i>`), drawn by the meme example.
 * Every step is a metered run of a network program, deterministic, so the figures and the grid are
 * the same bytes on every machine: `node dist/examples/memes.js --write` writes them into docs/ and
 * a test checks the docs against a fresh run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { encodeDataset } from './data/digits';
import { generateSketches, MEME_MODEL_FILE, MEME_RECORD_FILE, SKETCH_SIDE, SUBJECTS } from './data/sketches';
import { mlpInferInput, mlpTrainInput, runExample, vaeSampleInput } from './catalog';
import { ROOT } from '../client/paths';
import { resultHashOf } from '../client/results';

/** What the docs record: docs/memes/quality.json. */
export interface MemeQuality {
    /** The model measured, by its output hash (client/results.ts: what a job settles on, and what the training record names). */
    model: string;
    /** Pictures drawn per subject (seeds 1..N). */
    perSubject: number;
    classifier: { hidden: number; epochs: number; trained: number; heldOut: number; heldOutRight: number };
    subjects: { subject: string; recognised: number; of: number; diversity: number; realDiversity: number; distinct: number }[];
    /** sha256 of the grid PNG. */
    grid: string;
}

export const MEME_DOCS = join(ROOT, 'docs', 'memes');
const QUALITY_FILE = join(MEME_DOCS, 'quality.json');
const GRID_FILE = join(MEME_DOCS, 'grid.png');
/** The real sketches the classifier learns from and the diversity is compared with: seeds the model never saw. */
const CLASSIFIER_SEED = 7001;
const REAL_SEED = 7002;
const GRID_COLUMNS = 4;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const PIXELS = SKETCH_SIDE * SKETCH_SIDE;

/** Mean distance between two of `images` (each PIXELS bytes), pixels scaled to 0..1, over every pair. */
export function meanDistance(images: Uint8Array[]): number {
    let total = 0;
    let pairs = 0;
    for (let i = 0; i < images.length; i++)
        for (let j = i + 1; j < images.length; j++) {
            let d = 0;
            for (let k = 0; k < PIXELS; k++) {
                const q = (images[i][k] - images[j][k]) / 255;
                d += q * q;
            }
            total += Math.sqrt(d);
            pairs++;
        }
    return pairs === 0 ? 0 : total / pairs;
}

/** The classifier: mlp-train on real sketches (80% trained, 20% held out). */
async function trainClassifier(): Promise<{ model: Buffer; settings: MemeQuality['classifier'] }> {
    const [hidden, epochs] = [48, 6];
    const dataset = encodeDataset(generateSketches(500, CLASSIFIER_SEED));
    const model = await runExample('mlp-train', mlpTrainInput({ hidden, epochs, rate: 0.02, seed: 7, heldOutPercent: 20, dataset }));
    const at = model.length - 16;
    return {
        model,
        settings: {
            hidden,
            epochs,
            trained: model.readUInt32LE(at + 4),
            heldOut: model.readUInt32LE(at + 12),
            heldOutRight: model.readUInt32LE(at + 8),
        },
    };
}

/** The pictures memes of `subject` with seed:1 … seed:count draw. */
export async function memeSketches(model: Buffer, subject: number, count: number): Promise<Uint8Array[]> {
    const out = await runExample('vae-sample', vaeSampleInput(model, subject, count, 1, 0.6));
    return Array.from({ length: count }, (_, i) => out.subarray(i * PIXELS, (i + 1) * PIXELS));
}

/** Measures `model` (the shipped one by default) and draws the grid; nothing is written. */
export async function measureMemes(
    model: Buffer = readFileSync(MEME_MODEL_FILE),
    perSubject = 50,
): Promise<{ quality: MemeQuality; grid: Buffer }> {
    const classifier = await trainClassifier();
    const real = generateSketches(perSubject, REAL_SEED).samples;
    const subjects: MemeQuality['subjects'] = [];
    for (const [index, subject] of SUBJECTS.entries()) {
        const pictures = await memeSketches(model, index, perSubject);
        const verdicts = (await runExample('mlp-infer', mlpInferInput(classifier.model, pictures))).toString('utf-8').trim().split('\n');
        subjects.push({
            subject,
            recognised: verdicts.filter((line) => Number(line.split(' ')[0]) === index).length,
            of: perSubject,
            diversity: round3(meanDistance(pictures)),
            realDiversity: round3(meanDistance(real.filter((s) => s.label === index).map((s) => s.x))),
            distinct: new Set(pictures.map((p) => sha256(p))).size,
        });
    }
    const grid = await memeGrid();
    return { quality: { model: resultHashOf(model), perSubject, classifier: classifier.settings, subjects, grid: sha256(grid) }, grid };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** The prompt of the grid's meme of `subject` in column `i`. */
export const gridPrompt = (subject: string, i: number) => `${subject} | seed:${i + 1}`;

/** Memes of every subject, GRID_COLUMNS each, at half size: one PNG, a row per subject. */
async function memeGrid(): Promise<Buffer> {
    const cell = 192;
    const width = GRID_COLUMNS * cell;
    const height = SUBJECTS.length * cell;
    const rgb = Buffer.alloc(width * height * 3);
    for (const [row, subject] of SUBJECTS.entries())
        for (let col = 0; col < GRID_COLUMNS; col++) {
            const meme = readPalettePng(await runExample('meme', Buffer.from(gridPrompt(subject, col))));
            // half size: each cell pixel averages a 2×2 block
            for (let y = 0; y < cell; y++)
                for (let x = 0; x < cell; x++)
                    for (let c = 0; c < 3; c++) {
                        let sum = 0;
                        for (let dy = 0; dy < 2; dy++)
                            for (let dx = 0; dx < 2; dx++) sum += meme.palette[3 * meme.pixels[(2 * y + dy) * meme.width + 2 * x + dx] + c];
                        rgb[3 * ((row * cell + y) * width + col * cell + x) + c] = (sum + 2) >> 2;
                    }
        }
    return writeRgbPng(width, height, rgb);
}

/** The pixels (palette indices) and palette of a PNG as meme.ts writes it (8-bit palette, filters none or sub). */
export function readPalettePng(png: Buffer): { width: number; height: number; palette: Buffer; pixels: Uint8Array } {
    let at = 8;
    let palette: Buffer = Buffer.alloc(0);
    const idat: Buffer[] = [];
    let [width, height] = [0, 0];
    while (at < png.length) {
        const len = png.readUInt32BE(at);
        const type = png.toString('latin1', at + 4, at + 8);
        const data = png.subarray(at + 8, at + 8 + len);
        if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
        else if (type === 'PLTE') palette = data;
        else if (type === 'IDAT') idat.push(data);
        at += 12 + len;
    }
    const raw = inflateSync(Buffer.concat(idat));
    const pixels = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (width + 1)];
        for (let x = 0; x < width; x++) {
            const v = raw[y * (width + 1) + 1 + x];
            pixels[y * width + x] = filter === 1 && x > 0 ? (v + pixels[y * width + x - 1]) & 0xff : v;
        }
    }
    return { width, height, palette, pixels };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});

function chunk(type: string, data: Buffer): Buffer {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    let c = 0xffffffff;
    for (const b of body) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
    return out;
}

/** An 8-bit RGB PNG (filter none on every row, zlib at its highest level: the same bytes from the same pixels). */
export function writeRgbPng(width: number, height: number, rgb: Buffer): Buffer {
    const raw = Buffer.alloc(height * (1 + 3 * width));
    for (let y = 0; y < height; y++) rgb.copy(raw, y * (1 + 3 * width) + 1, 3 * y * width, 3 * (y + 1) * width);
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', deflateSync(raw, { level: 9 })),
        chunk('IEND', Buffer.alloc(0)),
    ]);
}

/** The bar, in the tests and before `npm run train:meme` ships a model. */
export const QUALITY_BAR = { recognised: 0.8, diversityOfReal: 0.3 };

/** Where `q` falls short of QUALITY_BAR, in words; empty if nowhere. */
export function qualityProblems(q: MemeQuality): string[] {
    return q.subjects.flatMap((s) => [
        ...(s.recognised < QUALITY_BAR.recognised * s.of
            ? [`${s.subject}: ${s.recognised} of ${s.of} recognised, below ${100 * QUALITY_BAR.recognised}%`]
            : []),
        ...(s.distinct < s.of ? [`${s.subject}: only ${s.distinct} of ${s.of} pictures differ`] : []),
        ...(s.diversity <= QUALITY_BAR.diversityOfReal * s.realDiversity
            ? [
                  `${s.subject}: diversity ${s.diversity} is not above ${100 * QUALITY_BAR.diversityOfReal}% of real sketches' ${s.realDiversity}`,
              ]
            : []),
    ]);
}

/** The figures as the docs' table shows them. */
export function qualityTable(q: MemeQuality): string {
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
    const lines = [
        '| Subject | Recognised by the classifier | Diversity (real sketches) | Distinct pictures |',
        '|---|---|---|---|',
        ...q.subjects.map(
            (s) =>
                `| ${s.subject} | ${s.recognised} of ${s.of} (${pct(s.recognised, s.of)}) | ${s.diversity.toFixed(2)} (${s.realDiversity.toFixed(2)}) | ${s.distinct} of ${s.of} |`,
        ),
    ];
    const right = q.subjects.reduce((n, s) => n + s.recognised, 0);
    const of = q.subjects.reduce((n, s) => n + s.of, 0);
    lines.push(`| all | ${right} of ${of} (${pct(right, of)}) | | |`);
    return lines.join('\n');
}

/** Writes the grid and the figures into docs/memes/, and the table into docs/memes.md between its markers. */
export function writeMemeDocs(q: MemeQuality, grid: Buffer): void {
    mkdirSync(MEME_DOCS, { recursive: true });
    writeFileSync(GRID_FILE, grid);
    writeFileSync(QUALITY_FILE, JSON.stringify(q, null, 2) + '\n');
    const doc = join(ROOT, 'docs', 'memes.md');
    const text = readFileSync(doc, 'utf-8');
    const [open, close] = ['<!-- quality:start -->', '<!-- quality:end -->'];
    const [a, b] = [text.indexOf(open), text.indexOf(close)];
    if (a < 0 || b < a) throw new Error(`docs/memes.md has no ${open} … ${close} markers`);
    writeFileSync(doc, `${text.slice(0, a + open.length)}\n${qualityTable(q)}\n${text.slice(b)}`);
}

/** The figures the docs record (docs/memes/quality.json). */
export function recordedQuality(): MemeQuality {
    return JSON.parse(readFileSync(QUALITY_FILE, 'utf-8')) as MemeQuality;
}

/** The record of the run on the network that trained the shipped model (examples/data/meme-model.bin.json). */
export function memeRecord(): {
    options: Record<string, unknown>;
    k: number;
    rounds: { round: number; map: string; shards: string[]; shardResults: string[]; reduce: string; model: string }[];
} {
    return JSON.parse(readFileSync(MEME_RECORD_FILE, 'utf-8')) as ReturnType<typeof memeRecord>;
}

if (require.main === module) {
    (async () => {
        const { quality, grid } = await measureMemes();
        if (process.argv.includes('--write')) writeMemeDocs(quality, grid);
        process.stdout.write(`${qualityTable(quality)}\n`);
    })().catch((e: Error) => {
        process.stderr.write(`memes: ${e.message}\n`);
        process.exit(1);
    });
}
