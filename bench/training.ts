/**
 * Data-parallel training on a local network (`fog train`, docs/map-reduce.md): one run on 1 worker
 * and on W workers (each worker one compute thread, as `npm start` runs them, all on this machine),
 * its wall time as a speedup next to the ideal W, and the chain's share of a round: what is left of
 * the round's wall time once the same round computed on the same threads without any chain (its
 * shards at once in a pool of W threads, then its reduce) is taken out. The chain's part is every
 * claim, commit, reveal and settlement, and the uploads and downloads between them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { entry, runNode, startNode } from '../client/processes';
import { ComputePool } from '../client/compute/pool';
import { fuelForJob } from '../client/compute/fuel';
import { isVerdict } from '../client/compute/types';
import { frameParts } from '../client/inputs';
import { resultHashOf } from '../client/results';
import { reduceParts, shardParts, trainHere, TrainingOptions, trainingPlan, TrainingPlan, trainingPrograms } from '../examples/train';

export interface TrainingSizes {
    /** The worker counts to run with; the first is the baseline the others' speedup is against. */
    workers: readonly number[];
    options: TrainingOptions;
}

export interface TrainingRound {
    /** The round's wall time as `fog train` measured it: its map posted, followed and downloaded, its reduce likewise. */
    seconds: number;
    /** The same round computed here on as many threads as the run had workers, without the chain. */
    computeSeconds: number;
    /** 1 − computeSeconds / seconds. */
    chainShare: number;
}

export interface TrainingRun {
    workers: number;
    /** Why the run did not finish (its figures are then empty): it is reported, not hidden. */
    error?: string;
    /** The rounds' wall time added up (the data's generation and the fuel measurement before them are left out). */
    seconds: number;
    rounds: TrainingRound[];
    /** The final model's output hash: the same for every run. */
    model: string;
    /** digits: the share of held-out digits right; sketches: the mean held-out loss, nats (lower is better). */
    heldOutAccuracy: number;
}

export interface TrainingFigures {
    options: TrainingOptions;
    /** The whole schedule trained here, in this thread, metered (`trainHere`). */
    localSeconds: number;
    runs: TrainingRun[];
    /** The baseline's seconds over each run's, by run (the baseline's own is 1). */
    speedups: number[];
    /** Every run's final model was the same, and the local run's. */
    sameModel: boolean;
}

/** `fog train` on a fresh local network of `workers` workers; its per-round figures and final model. */
async function runOnNetwork(workers: number, o: TrainingOptions): Promise<{ rounds: number[]; model: string; heldOutAccuracy: number }> {
    const sketches = o.task === 'sketches';
    // outside `work`, which the bench removes: a failed run's folder stays for a look (its error names it)
    const data = mkdtempSync(join(tmpdir(), `fog-bench-train-${workers}-`));
    const networkFile = join(data, 'network.json');
    const start = startNode('start', entry.start, [
        ...['--jobs', '0', '--train', '0', '--liars', '0', '--workers', String(workers)],
        ...['--data', join(data, 'local'), '--network-file', networkFile],
    ]);
    let ok = false;
    try {
        await start.waitForLine((l) => l.includes('Ctrl-C stops every process'), 180_000);
        const line = await runNode(entry.fog, [
            ...['train', '--home', join(data, 'local', 'requester'), '--network-file', networkFile],
            ...['--price', '1', '-k', '1', '--out', join(data, 'model.bin'), '--json'],
            ...['--samples', String(o.samples), '--held-out', String(o.heldOutPercent), '--shards', String(o.shards)],
            ...['--rounds', String(o.rounds), '--epochs', String(o.epochs), '--hidden', String(o.hidden)],
            ...['--rate', String(o.rate), '--seed', String(o.seed)],
            ...(sketches ? ['--task', 'sketches', '--latent', String(o.latent), '--batch', String(o.batch)] : []),
        ]);
        const r = JSON.parse(line.split('\n').pop()!) as {
            model: string;
            rounds: { seconds: number; heldOutRight: number; heldOut: number; heldOutLoss: number }[];
        };
        const last = r.rounds.at(-1)!;
        ok = true;
        return {
            rounds: r.rounds.map((x) => x.seconds),
            model: r.model,
            heldOutAccuracy: sketches ? last.heldOutLoss : last.heldOutRight / last.heldOut,
        };
    } finally {
        start.proc.kill('SIGINT');
        await start.exited;
        // a failed run's logs stay for a look (the error names the folder)
        if (ok) rmSync(data, { recursive: true, force: true });
    }
}

/** Each round of `plan` computed on a pool of `threads`: its shards at once, then its reduce; seconds per round. */
async function computeRounds(plan: TrainingPlan, models: readonly Buffer[], threads: number): Promise<number[]> {
    const programs = trainingPrograms(plan.options.task);
    const pool = new ComputePool({ threads });
    const run = async (program: Buffer, parts: Buffer[]) => {
        const r = await pool.run({ program, input: frameParts(parts), fuel: fuelForJob({ maxMfuel: 2 ** 32 - 1 }), maxMemoryMb: 256 });
        if (!isVerdict(r) || r.status !== 'ok') throw new Error(`a training program failed in the pool: ${JSON.stringify(r)}`);
        return Buffer.from(r.output);
    };
    try {
        const seconds: number[] = [];
        for (let round = 0; round < plan.options.rounds; round++) {
            const from = round === 0 ? Buffer.alloc(0) : models[round - 1];
            const began = performance.now();
            const outputs = await Promise.all(
                Array.from({ length: plan.options.shards }, (_, shard) => run(programs.shard, shardParts(plan, round, shard, from))),
            );
            await run(programs.reduce, reduceParts(plan, outputs));
            seconds.push((performance.now() - began) / 1000);
        }
        return seconds;
    } finally {
        await pool.close();
    }
}

/** Trains the schedule on each worker count's network and without the chain; see the module's comment. */
export async function measureTraining(sizes: TrainingSizes): Promise<TrainingFigures> {
    const plan = trainingPlan(sizes.options);
    const began = performance.now();
    const models = await trainHere(plan);
    const localSeconds = (performance.now() - began) / 1000;
    const runs: TrainingRun[] = [];
    for (const workers of sizes.workers) {
        let network;
        try {
            network = await runOnNetwork(workers, sizes.options);
        } catch (e) {
            runs.push({ workers, error: (e as Error).message, seconds: NaN, rounds: [], model: '', heldOutAccuracy: NaN });
            continue;
        }
        const compute = await computeRounds(plan, models, workers);
        const rounds = network.rounds.map((seconds, i) => ({
            seconds,
            computeSeconds: compute[i],
            chainShare: Math.max(0, 1 - compute[i] / seconds),
        }));
        runs.push({
            workers,
            seconds: network.rounds.reduce((a, b) => a + b, 0),
            rounds,
            model: network.model,
            heldOutAccuracy: network.heldOutAccuracy,
        });
    }
    const local = models.at(-1)!;
    return {
        options: sizes.options,
        localSeconds,
        runs,
        speedups: runs.map((r) => runs[0].seconds / r.seconds),
        sameModel: runs.every((r) => r.error !== undefined || r.model === resultHashOf(local)),
    };
}
