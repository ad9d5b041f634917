/**
 * The example programs `fog job submit --example <name>` runs and `npm start` demonstrates: the
 * input each takes when none is given, and a one-line reading of its output. Their binaries are
 * built into dist/examples by `npm run build` (examples/build.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from '../client/paths';
import { fuelForJob, MAX_JOB_MFUEL } from '../client/compute/fuel';
import { runHere } from '../client/compute/programs';
import { decodeDataset, DIGITS_FILE, encodeDataset } from './data/digits';
import { generateSketches, MEME_MODEL_FILE } from './data/sketches';
import { frameParts } from '../client/inputs';

export interface Example {
    name: string;
    what: string;
    /** The input used when the user gives none (mlp-infer's runs mlp-train first, hence the promise). */
    defaultInput(): Buffer | Promise<Buffer>;
    /** What an output of this program says, in a few words. */
    summary(output: Buffer): string;
}

const u32 = (...n: number[]) => {
    const b = Buffer.alloc(4 * n.length);
    n.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
    return b;
};

/** mlp-train's input: its settings, then a dataset in the format of examples/data/digits.ts. */
export function mlpTrainInput(
    o: { hidden?: number; epochs?: number; rate?: number; seed?: number; heldOutPercent?: number; dataset?: Buffer } = {},
): Buffer {
    const rate = Math.round((o.rate ?? 0.05) * 10_000);
    return Buffer.concat([
        u32(o.hidden ?? 32, o.epochs ?? 10, rate, o.seed ?? 1, o.heldOutPercent ?? 20),
        o.dataset ?? readFileSync(DIGITS_FILE),
    ]);
}

/** mlp-infer's input: a model as mlp-train output it, then the samples (feature bytes each). */
export function mlpInferInput(model: Buffer, samples: Uint8Array[]): Buffer {
    return Buffer.concat([model, u32(samples.length), ...samples]);
}

/** The accuracy counts at the end of an mlp-train output. */
export function modelAccuracy(model: Buffer): { trainRight: number; trained: number; heldOutRight: number; heldOut: number } {
    if (model.length < 36 || model.toString('latin1', 0, 4) !== 'FOGM') throw new Error('not a model from mlp-train');
    const at = model.length - 16;
    return {
        trainRight: model.readUInt32LE(at),
        trained: model.readUInt32LE(at + 4),
        heldOutRight: model.readUInt32LE(at + 8),
        heldOut: model.readUInt32LE(at + 12),
    };
}

/** Bytes of a sketch model's header (examples/as/lib/vae.ts): "FOGV" and five u32. */
export const VAE_HEADER_BYTES = 24;
/** Bytes of the measures after a sketch model's weights. */
export const VAE_MEASURE_BYTES = 24;

/** The weights of a sketch model's encoder and of its decoder (lib/vae.ts's arrays, encoder first). */
export function vaeWeights(d: number, c: number, h: number, z: number): { encoder: number; decoder: number } {
    return { encoder: h * (d + c) + h + 2 * (z * h + z), decoder: h * (z + c) + h + d * h + d };
}

/** A sketch model's sizes from its header: pixels, subjects, hidden units, latent dimensions, largest pixel value. */
export function vaeHeader(model: Buffer): { d: number; c: number; h: number; z: number; maxValue: number } {
    if (model.length < VAE_HEADER_BYTES || model.toString('latin1', 0, 4) !== 'FOGV') throw new Error('not a sketch model: no FOGV header');
    const [d, c, h, z, maxValue] = [4, 8, 12, 16, 20].map((at) => model.readUInt32LE(at));
    return { d, c, h, z, maxValue };
}

/** The measures at the end of a sketch model (examples/as/lib/vae.ts): mean losses and sample counts. */
export function vaeMeasures(model: Buffer): { trainLoss: number; trained: number; heldOutLoss: number; heldOut: number } {
    if (model.length < VAE_HEADER_BYTES + VAE_MEASURE_BYTES || model.toString('latin1', 0, 4) !== 'FOGV')
        throw new Error('not a sketch model from vae-shard or vae-average');
    const at = model.length - VAE_MEASURE_BYTES;
    return {
        trainLoss: model.readDoubleLE(at),
        trained: model.readUInt32LE(at + 8),
        heldOutLoss: model.readDoubleLE(at + 12),
        heldOut: model.readUInt32LE(at + 20),
    };
}

/**
 * A small first-round vae-shard input (docs/memes.md): settings (hidden units, latent dimensions,
 * epochs, batch, learning rate ×10⁴, seed, round, shard), no model yet, and `samples` sketches.
 */
export function vaeShardInput(samples = 80, hidden = 16, model: Buffer = Buffer.alloc(0)): Buffer {
    const sketches = generateSketches(Math.ceil(samples / 8), 3);
    return frameParts([
        u32(hidden, 4, 1, 16, 15, 1, 0, 0),
        model,
        encodeDataset({ ...sketches, samples: sketches.samples.slice(0, samples) }),
    ]);
}

/** A vae-average input: `heldOut` sketches (of another seed than vaeShardInput's), then the shards' models. */
export function vaeAverageInput(models: readonly Buffer[], heldOut = 40): Buffer {
    const sketches = generateSketches(Math.ceil(heldOut / 8), 4);
    return frameParts([encodeDataset({ ...sketches, samples: sketches.samples.slice(0, heldOut) }), ...models]);
}

/** A vae-sample input: the subject (its index in SUBJECTS), how many, the seed, temperature ×1000, the model. */
export function vaeSampleInput(model: Buffer, subject: number, count: number, seed: number, temperature = 0.6): Buffer {
    return Buffer.concat([u32(subject, count, seed, Math.round(temperature * 1000)), model]);
}

/**
 * A small first-round mlp-shard input (docs/map-reduce.md, "Training"): settings (hidden units,
 * epochs, learning rate ×10⁴, seed, round, shard), no model yet, and the first `samples` shipped
 * digits as the shard's slice.
 */
export function mlpShardInput(samples = 300, hidden = 32, model: Buffer = Buffer.alloc(0)): Buffer {
    const digits = decodeDataset(readFileSync(DIGITS_FILE));
    return frameParts([u32(hidden, 2, 500, 1, 0, 0), model, encodeDataset({ ...digits, samples: digits.samples.slice(0, samples) })]);
}

/** An mlp-average input: `heldOut` of the shipped digits' last ones, then the shards' models. */
export function mlpAverageInput(models: readonly Buffer[], heldOut = 100): Buffer {
    const digits = decodeDataset(readFileSync(DIGITS_FILE));
    return frameParts([encodeDataset({ ...digits, samples: digits.samples.slice(-heldOut) }), ...models]);
}

/** The last `count` samples of the shipped digits (held out from training), features only. */
export function heldOutDigits(count: number): { features: Uint8Array[]; labels: number[] } {
    const tail = decodeDataset(readFileSync(DIGITS_FILE)).samples.slice(-count);
    return { features: tail.map((s) => s.x), labels: tail.map((s) => s.label) };
}

const percent = (right: number, of: number) => `${((100 * right) / of).toFixed(1)}%`;

export const EXAMPLES: Example[] = [
    {
        name: 'upper',
        what: 'the input text in upper case',
        defaultInput: () => Buffer.from('hello from fog'),
        summary: (out) => JSON.stringify(out.toString('utf-8').slice(0, 60)),
    },
    {
        name: 'fnv-rounds',
        what: '64-bit FNV-1a over the input, as many rounds as its first 4 bytes say',
        defaultInput: () => Buffer.concat([u32(10_000), Buffer.alloc(1020, 7)]),
        summary: (out) => `hash ${out.toString('hex')}`,
    },
    {
        name: 'matmul',
        what: 'the product of two n×n f64 matrices (n = the first 4 bytes; generated from a fixed seed if only n is given)',
        defaultInput: () => u32(128),
        summary: (out) => `${Math.round(Math.sqrt(out.length / 8))}×${Math.round(Math.sqrt(out.length / 8))} product`,
    },
    {
        name: 'mlp-train',
        what: 'trains a neural network (64-32-10 MLP) on the shipped handwritten digits; outputs the model and its accuracy',
        defaultInput: () => mlpTrainInput(),
        summary: (out) => {
            const a = modelAccuracy(out);
            return `model of ${out.length.toLocaleString('en-US')} bytes, ${percent(a.heldOutRight, a.heldOut)} right on ${a.heldOut} held-out digits (${percent(a.trainRight, a.trained)} on ${a.trained} trained)`;
        },
    },
    {
        name: 'mlp-infer',
        what: 'classifies digits with a model from mlp-train (default: a model trained here, on 10 held-out digits)',
        defaultInput: async () => mlpInferInput(await runExample('mlp-train', mlpTrainInput()), heldOutDigits(10).features),
        summary: (out) => {
            const lines = out.toString('utf-8').trim().split('\n');
            return `${lines.length} digits read: ${lines.map((l) => l.split(' ')[0]).join(' ')}`;
        },
    },
    {
        name: 'mlp-shard',
        what: 'one shard of a training round: trains the round’s model (or a new one) on its slice of the digits for a few epochs',
        defaultInput: () => mlpShardInput(),
        summary: (out) => {
            const a = modelAccuracy(out);
            return `model of ${out.length.toLocaleString('en-US')} bytes, ${percent(a.trainRight, a.trained)} right on its ${a.trained} digits`;
        },
    },
    {
        name: 'mlp-average',
        what: 'a training round’s reducer: averages the shards’ models, weighted by their samples, and measures it on held-out digits',
        defaultInput: async () => mlpAverageInput([await runExample('mlp-shard', mlpShardInput())]),
        summary: (out) => {
            const a = modelAccuracy(out);
            return `model of ${out.length.toLocaleString('en-US')} bytes, ${percent(a.heldOutRight, a.heldOut)} right on ${a.heldOut} held-out digits`;
        },
    },
    {
        name: 'vae-shard',
        what: 'one shard of a round training the meme model (a conditional VAE on 32×32 sketches) on its slice',
        defaultInput: () => vaeShardInput(),
        summary: (out) => {
            const m = vaeMeasures(out);
            return `sketch model of ${out.length.toLocaleString('en-US')} bytes, mean loss ${m.trainLoss.toFixed(1)} nats on its ${m.trained} sketches`;
        },
    },
    {
        name: 'vae-average',
        what: 'the reducer of a round training the meme model: averages the shards’ models and measures it on held-out sketches',
        defaultInput: async () => vaeAverageInput([await runExample('vae-shard', vaeShardInput())]),
        summary: (out) => {
            const m = vaeMeasures(out);
            return `sketch model of ${out.length.toLocaleString('en-US')} bytes, mean loss ${m.heldOutLoss.toFixed(1)} nats on ${m.heldOut} held-out sketches`;
        },
    },
    {
        name: 'vae-sample',
        what: 'draws 32×32 sketches of a subject with a meme model (default: the shipped model, four cats)',
        defaultInput: () => vaeSampleInput(readFileSync(MEME_MODEL_FILE), 0, 4, 1),
        summary: (out) => `${out.length / 1024} sketches of 32×32`,
    },
    {
        name: 'concat',
        what: 'a reducer: the parts of a composite input (a map’s outputs, in shard order) joined into one',
        defaultInput: () => frameParts(['hello ', 'from ', 'fog'].map((t) => Buffer.from(t))),
        summary: (out) => `${out.length.toLocaleString('en-US')} bytes joined: ${JSON.stringify(out.toString('utf-8', 0, 60))}`,
    },
    {
        name: 'meme',
        what: 'a PNG meme from a prompt: a sketch drawn by the model the network trained (a subject word, seed:<n>, style:art steer it), its text on top ("top | bottom" splits it)',
        defaultInput: () => Buffer.from('when the cat verifies | on the first try'),
        summary: (out) => `PNG ${out.readUInt32BE(16)}×${out.readUInt32BE(20)}, ${out.length.toLocaleString('en-US')} bytes`,
    },
];

export function exampleNamed(name: string): Example & { program: string } {
    const e = EXAMPLES.find((x) => x.name === name);
    if (!e) throw new Error(`no example "${name}": try ${EXAMPLES.map((x) => x.name).join(', ')}`);
    return { ...e, program: join(DIST, 'examples', `${e.name}.wasm`) };
}

/**
 * Runs an example here, in this thread, metered (client/compute/programs.ts), and returns its
 * output; throws if the program fails. The fuel limit defaults to the most a job may state.
 */
export async function runExample(name: string, input: Buffer, fuel = fuelForJob({ maxMfuel: MAX_JOB_MFUEL })): Promise<Buffer> {
    const program = readFileSync(exampleNamed(name).program);
    const r = await runHere({ program, input, fuel, maxMemoryMb: 256 }, 64 << 20);
    if (r.status !== 'ok') throw new Error(`${name} failed here: ${r.reason}: ${r.message}`);
    return Buffer.from(r.output);
}
