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
        name: 'concat',
        what: 'a reducer: the parts of a composite input (a map’s outputs, in shard order) joined into one',
        defaultInput: () => frameParts(['hello ', 'from ', 'fog'].map((t) => Buffer.from(t))),
        summary: (out) => `${out.length.toLocaleString('en-US')} bytes joined: ${JSON.stringify(out.toString('utf-8', 0, 60))}`,
    },
    {
        name: 'meme',
        what: 'a PNG meme from a prompt: art drawn from the prompt, its text on top ("top | bottom" splits it)',
        defaultInput: () => Buffer.from('when the job verifies | on the first try'),
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
