/**
 * Data-parallel training as `fog train` runs it (docs/map-reduce.md, "Training"): a schedule of R
 * rounds over S shards of a generated dataset. Each round, every shard trains the round's model on
 * its own slice for a few epochs, and a reduce averages the shards' models, weighted by their
 * samples and in shard order, and measures the result on held-out data: the next round's model.
 * Two tasks: `digits`, a digit classifier (mlp-shard and mlp-average), and `sketches`, the
 * conditional VAE the meme example draws with (vae-shard and vae-average, docs/memes.md).
 * Everything that decides a model is in the plan, so the same plan trained here (`trainHere`)
 * gives the model the network gives, bit for bit.
 */
import { readFileSync } from 'node:fs';
import { encodeDataset, generateDigits } from './data/digits';
import { generateSketches, SUBJECTS } from './data/sketches';
import { exampleNamed, modelAccuracy, VAE_HEADER_BYTES, VAE_MEASURE_BYTES, vaeMeasures, vaeWeights } from './catalog';
import { frameParts, MAX_FRAMED_BYTES } from '../client/inputs';
import { runHere } from '../client/compute/programs';
import { fuelForJob } from '../client/compute/fuel';

/** What is trained: a digit classifier, or the sketch model memes are drawn with. */
export const TASKS = ['digits', 'sketches'] as const;
export type TrainingTask = (typeof TASKS)[number];

/** What a training run is: its data, its split, its model and its schedule. */
export interface TrainingOptions {
    /** Absent: digits. */
    task?: TrainingTask;
    /** Digits generated for the run, training and held-out together. */
    samples: number;
    /** Held out from training, percent: the accuracy each round reports. */
    heldOutPercent: number;
    shards: number;
    rounds: number;
    /** Passes over its slice each shard makes per round. */
    epochs: number;
    hidden: number;
    /** Learning rate, 0.0001 to 1 (in steps of 0.0001). */
    rate: number;
    /** Fixes the data, the initial weights and every shuffle: 1 to 2³² − 1. */
    seed: number;
    /** sketches: the latent dimensions of the VAE. */
    latent?: number;
    /** sketches: samples per Adam step. */
    batch?: number;
}

export const TRAINING_DEFAULTS: TrainingOptions = {
    samples: 6000,
    heldOutPercent: 10,
    shards: 4,
    rounds: 3,
    epochs: 2,
    hidden: 32,
    rate: 0.05,
    seed: 1,
};

/**
 * The sketch model's schedule (docs/memes.md): what `fog train --task sketches` runs by default and
 * what the shipped model (examples/data/meme-model.bin.json) was trained with.
 */
export const SKETCH_DEFAULTS: TrainingOptions = {
    task: 'sketches',
    samples: 8800,
    heldOutPercent: 10,
    shards: 4,
    rounds: 12,
    epochs: 2,
    hidden: 128,
    rate: 0.0025,
    seed: 1,
    latent: 8,
    batch: 16,
};

/** The defaults of a task. */
export const defaultsOf = (task: TrainingTask): TrainingOptions => (task === 'sketches' ? SKETCH_DEFAULTS : TRAINING_DEFAULTS);

/** A run's data, cut as the schedule uses it. */
export interface TrainingPlan {
    options: TrainingOptions;
    /** The held-out digits (examples/data/digits.ts format), every round's reduce measures on. */
    heldOut: Buffer;
    /** Each shard's training digits, the same every round. */
    slices: Buffer[];
}

const u32s = (...n: number[]) => {
    const b = Buffer.alloc(4 * n.length);
    n.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
    return b;
};

/** Checks the options and generates and cuts the data. Throws a RangeError naming a bad option. */
export function trainingPlan(o: TrainingOptions): TrainingPlan {
    const whole = (v: number, name: string, lo: number, hi: number) => {
        if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name} must be a whole number from ${lo} to ${hi}, got ${v}`);
    };
    whole(o.samples, 'samples', 20, 500_000);
    whole(o.heldOutPercent, 'held-out percent', 1, 90);
    whole(o.shards, 'shards', 1, 64);
    whole(o.rounds, 'rounds', 1, 1000);
    whole(o.epochs, 'epochs', 1, 10_000);
    whole(o.hidden, 'hidden units', 1, 1024);
    whole(o.seed, 'seed', 1, 2 ** 32 - 1);
    whole(Math.round(o.rate * 10_000), 'the learning rate in ten-thousandths', 1, 10_000);
    const task = o.task ?? 'digits';
    if (!TASKS.includes(task)) throw new RangeError(`task must be one of ${TASKS.join(', ')}, got ${String(task)}`);
    if (task === 'sketches') {
        whole(o.latent ?? 0, 'latent dimensions', 1, 256);
        whole(o.batch ?? 0, 'batch size', 1, 4096);
    }
    const held = Math.max(1, Math.floor((o.samples * o.heldOutPercent) / 100));
    const trained = o.samples - held;
    if (trained < o.shards) throw new RangeError(`${trained} training samples cannot be cut into ${o.shards} shards`);
    // every job's framed input within what a composite input holds, checked before the data is made
    const [features, classes] = task === 'sketches' ? [1024, SUBJECTS.length] : [64, 10];
    const dataset = (n: number) => 8 + n * (features + 1);
    const model =
        task === 'sketches'
            ? vaeSize(features, classes, o.hidden, o.latent!)
            : MODEL_HEADER + 8 * (o.hidden * features + o.hidden + classes * o.hidden + classes) + 16;
    const framed = (sizes: number[]) => 4 + sizes.reduce((n, s) => n + 4 + s, 0);
    const shard = framed([task === 'sketches' ? 32 : 24, model, dataset(Math.ceil(trained / o.shards))]);
    const reduce = framed([dataset(held), ...Array<number>(o.shards).fill(model)]);
    if (Math.max(shard, reduce) > MAX_FRAMED_BYTES)
        throw new RangeError(
            `a ${shard > reduce ? 'shard' : 'reduce'} would read ${Math.max(shard, reduce)} bytes, more than a composite input holds (${MAX_FRAMED_BYTES}): fewer samples, hidden units or shards`,
        );
    const digits =
        task === 'sketches' ? generateSketches(Math.ceil(o.samples / classes), o.seed) : generateDigits(Math.ceil(o.samples / 10), o.seed);
    const samples = digits.samples.slice(0, o.samples);
    const training = samples.slice(0, trained);
    const slices = Array.from({ length: o.shards }, (_, i) => {
        const [from, to] = [Math.floor((i * trained) / o.shards), Math.floor(((i + 1) * trained) / o.shards)];
        return encodeDataset({ ...digits, samples: training.slice(from, to) });
    });
    return { options: o, heldOut: encodeDataset({ ...digits, samples: samples.slice(trained) }), slices };
}

/** Bytes of a model's header (examples/as/lib/mlp.ts): "FOGM" and four u32. */
const MODEL_HEADER = 20;

/** Bytes of a sketch model with its measures (examples/as/lib/vae.ts). */
function vaeSize(d: number, c: number, h: number, z: number): number {
    const w = vaeWeights(d, c, h, z);
    return VAE_HEADER_BYTES + 8 * (w.encoder + w.decoder) + VAE_MEASURE_BYTES;
}

/** Shard `shard`'s settings in round `round` (mlp-shard's or vae-shard's first part). */
export function shardSettings(plan: TrainingPlan, round: number, shard: number): Buffer {
    const o = plan.options;
    const rate = Math.round(o.rate * 10_000);
    if (o.task === 'sketches') return u32s(o.hidden, o.latent!, o.epochs, o.batch!, rate, o.seed, round, shard);
    return u32s(o.hidden, o.epochs, rate, o.seed, round, shard);
}

/** Shard `shard`'s parts in round `round`, from the round's model (empty in the first round). */
export function shardParts(plan: TrainingPlan, round: number, shard: number, model: Buffer): Buffer[] {
    return [shardSettings(plan, round, shard), model, plan.slices[shard]];
}

/** A round's reduce's parts: the held-out digits, then the shards' models in shard order. */
export function reduceParts(plan: TrainingPlan, models: readonly Buffer[]): Buffer[] {
    return [plan.heldOut, ...models];
}

/** The programs of a round: mlp-shard and mlp-average for digits, vae-shard and vae-average for sketches. */
export function trainingPrograms(task: TrainingTask = 'digits'): { shard: Buffer; reduce: Buffer } {
    const [shard, reduce] = task === 'sketches' ? ['vae-shard', 'vae-average'] : ['mlp-shard', 'mlp-average'];
    return { shard: readFileSync(exampleNamed(shard).program), reduce: readFileSync(exampleNamed(reduce).program) };
}

/**
 * What a round's model says of itself, for the record and for people: digits, the accuracy counts;
 * sketches, the mean losses (nats per sketch, lower is better).
 */
export function roundMeasures(task: TrainingTask, model: Buffer): { measures: Record<string, number>; text: string } {
    if (task === 'sketches') {
        const m = vaeMeasures(model);
        return {
            measures: m,
            text: `mean loss ${m.heldOutLoss.toFixed(2)} nats on ${m.heldOut} held-out sketches (the shards' own models: ${m.trainLoss.toFixed(2)} on their ${m.trained})`,
        };
    }
    const a = roundAccuracy(model);
    return {
        measures: a,
        text: `${percent(a.heldOutRight, a.heldOut)} right on ${a.heldOut} held-out digits (the shards' own models: ${percent(a.trainRight, a.trained)} on their ${a.trained})`,
    };
}

const percent = (right: number, of: number) => `${((100 * right) / of).toFixed(1)}%`;

/**
 * One round's accuracy as its reduce reports it: the round's model on the held-out digits, and the
 * shards' own models on their slices (trainRight of trained, added up).
 */
export function roundAccuracy(model: Buffer): { heldOut: number; heldOutRight: number; trained: number; trainRight: number } {
    const a = modelAccuracy(model);
    return { heldOut: a.heldOut, heldOutRight: a.heldOutRight, trained: a.trained, trainRight: a.trainRight };
}

/** Runs a training program on framed `parts` here, metered as a worker runs it; throws if it fails. */
async function runMetered(program: Buffer, parts: Buffer[], maxMemoryMb = 256): Promise<{ output: Buffer; fuel: bigint }> {
    const r = await runHere({ program, input: frameParts(parts), fuel: fuelForJob({ maxMfuel: 2 ** 32 - 1 }), maxMemoryMb }, 64 << 20);
    if (r.status !== 'ok') throw new Error(`a training program failed here: ${r.reason}: ${r.message}`);
    return { output: Buffer.from(r.output), fuel: r.fuel };
}

/**
 * The fuel a round's largest shard and its reduce use, measured here on the first round (the runs
 * are deterministic, so a worker's run uses the same): what `fog train` posts its limits from.
 * Later rounds start from a model instead of fresh weights and use a little more or less.
 */
export async function roundFuel(plan: TrainingPlan, maxMemoryMb: number): Promise<{ shard: bigint; reduce: bigint }> {
    const programs = trainingPrograms(plan.options.task);
    const largest = plan.slices.reduce((best, s, i) => (s.length > plan.slices[best].length ? i : best), 0);
    const shard = await runMetered(programs.shard, shardParts(plan, 0, largest, Buffer.alloc(0)), maxMemoryMb);
    const reduce = await runMetered(
        programs.reduce,
        reduceParts(
            plan,
            plan.slices.map(() => shard.output),
        ),
        maxMemoryMb,
    );
    return { shard: shard.fuel, reduce: reduce.fuel };
}

/**
 * Runs the plan here, in this thread, metered as a worker runs it, and returns each round's model
 * (what its reduce outputs); `onRound` hears each as it comes. Throws if a program fails.
 */
export async function trainHere(plan: TrainingPlan, onRound: (round: number, model: Buffer) => void = () => undefined): Promise<Buffer[]> {
    const programs = trainingPrograms(plan.options.task);
    const run = async (program: Buffer, parts: Buffer[]) => (await runMetered(program, parts)).output;
    const models: Buffer[] = [];
    let model: Buffer = Buffer.alloc(0);
    for (let round = 0; round < plan.options.rounds; round++) {
        const outputs: Buffer[] = [];
        for (let shard = 0; shard < plan.options.shards; shard++)
            outputs.push(await run(programs.shard, shardParts(plan, round, shard, model)));
        model = await run(programs.reduce, reduceParts(plan, outputs));
        models.push(model);
        onRound(round, model);
    }
    return models;
}
