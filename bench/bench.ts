/**
 * `npm run bench`: gas, the compute pool, the devnet end to end, the watcher's catch-up, gas
 * against history, the meter's cost, the reference interpreter's speed and the dispute game, all measured in one run, written as BENCHMARKS.json (every raw figure) and
 * BENCHMARKS.md (rendered, with the machine). The short mode is a small run for the tests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { measureDevnet, startDevnetProcess } from './devnet';
import { measureDisputes } from './dispute';
import { measureGas } from './gas';
import { historyGas } from './history';
import { measureMetering } from './metering';
import { measureInterpreter } from './interpreter';
import { measurePool } from './pool';
import { BenchMode, BenchReport, goalsOf, machine, renderMarkdown } from './report';
import { measureWatcher } from './watcher';
import { measureTraining } from './training';
import { measureMemes } from './memes';
import { SKETCH_DEFAULTS } from '../examples/train';

/** How much work each mode does. */
export const SIZES = {
    full: {
        gas: { shardCounts: [1, 4, 16, 64] },
        pool: { targetMs: 100, runs: 15, jobsPerThread: 8 },
        metering: { runs: 31, warmup: 3 },
        interpreter: { examples: ['upper', 'fnv-rounds', 'matmul', 'mlp-infer', 'meme'], v8Runs: 5 },
        disputes: { examples: ['upper', 'fnv-rounds', 'matmul', 'mlp-infer', 'meme'] },
        devnet: { teams: 8, jobs: 48, k: 3 },
        history: { jobsBetween: 998, providers: 200 },
        training: {
            workers: [1, 2],
            options: { samples: 48_000, heldOutPercent: 5, shards: 8, rounds: 2, epochs: 8, hidden: 64, rate: 0.02, seed: 1 },
        },
        // the meme model: its shipped schedule, two of its rounds, on networks of 1 and 2 workers
        memes: { images: 16, training: { workers: [1, 2], options: { ...SKETCH_DEFAULTS, rounds: 2 } } },
    },
    short: {
        gas: { shardCounts: [1, 16] },
        pool: { targetMs: 10, runs: 3, jobsPerThread: 2 },
        metering: { runs: 1, warmup: 0 },
        interpreter: { examples: ['upper', 'mlp-infer'], v8Runs: 1 },
        disputes: { examples: ['upper'] },
        devnet: { teams: 2, jobs: 2, k: 3 },
        history: { jobsBetween: 2, providers: 1 },
        training: {
            workers: [1],
            options: { samples: 200, heldOutPercent: 10, shards: 2, rounds: 1, epochs: 1, hidden: 8, rate: 0.05, seed: 1 },
        },
        // no network run: the digits' training above covers fog train's path on a network
        memes: {
            images: 2,
            training: { workers: [], options: { ...SKETCH_DEFAULTS, samples: 96, shards: 2, rounds: 1, epochs: 1, hidden: 8 } },
        },
    },
} as const;

export const OUTPUT_FILES = { json: 'BENCHMARKS.json', markdown: 'BENCHMARKS.md' };

export interface BenchOptions {
    mode: BenchMode;
    /** Where BENCHMARKS.json and BENCHMARKS.md go. */
    out: string;
    /** Told what is being measured, one step at a time. */
    progress?: (step: string) => void;
}

/** Runs every benchmark and writes both files into `out`; resolves with the report. */
export async function runBench(opts: BenchOptions): Promise<BenchReport> {
    const sizes = SIZES[opts.mode];
    const say = opts.progress ?? (() => undefined);
    const start = performance.now();
    const work = mkdtempSync(join(tmpdir(), 'fog-bench-'));
    try {
        // first, on a quiet machine: its networks' windows are real time, and nothing else may slow their workers
        const t = sizes.training;
        say(
            `training: fog train, ${t.options.rounds} rounds of ${t.options.shards} shards and a reduce, on local networks of ${t.workers.join(' and ')} workers`,
        );
        const training = await measureTraining(t);
        const mt = sizes.memes.training;
        say(
            `memes: the model's size, ${sizes.memes.images} memes through the pool${mt.workers.length > 0 ? `, fog train --task sketches (${mt.options.rounds} rounds) on networks of ${mt.workers.join(' and ')} workers` : ''}`,
        );
        const memes = await measureMemes(sizes.memes);
        say(`gas: a job step by step, lifecycles k=1, 3, 5, a FOG transfer, sharded posts of ${sizes.gas.shardCounts.join(', ')}`);
        const gas = await measureGas(sizes.gas.shardCounts);
        say(`compute pool: matmul of about ${sizes.pool.targetMs} ms, in this thread and through the pool; throughput by threads`);
        const pool = await measurePool(sizes.pool);
        say(
            `metering: each example on its default input, unmetered and metered alternately (${sizes.metering.runs} runs each), in a thread with the pool's stack`,
        );
        const metering = await measureMetering(sizes.metering);
        say(`interpreter: ${sizes.interpreter.examples.join(', ')} on the reference interpreter against the metered V8 run`);
        const interpreter = await measureInterpreter(sizes.interpreter);
        say(`disputes: ${sizes.disputes.examples.join(', ')}, an honest party against a liar, a whole match in the emulator`);
        const disputes = await measureDisputes(sizes.disputes);
        say(
            `devnet: ${sizes.devnet.jobs} jobs on the bare emulator, then by ${sizes.devnet.teams} teams of wallets through the devnet's HTTP API`,
        );
        const devnetProcess = await startDevnetProcess(work);
        let devnet;
        let watcher;
        try {
            devnet = await measureDevnet(devnetProcess, sizes.devnet);
            say('watcher: catching up with the devnet’s history from a cold cursor');
            watcher = await measureWatcher(devnetProcess, work, devnet.historySeconds);
        } finally {
            await devnetProcess.stop();
        }
        say(
            `history: job #1 against job #${sizes.history.jobsBetween + 2} (${sizes.history.jobsBetween} jobs and ${sizes.history.providers} providers between)`,
        );
        const history = await historyGas(sizes.history);

        const figures = { gas, pool, devnet, watcher, history, metering, interpreter, disputes, training, memes };
        const report: BenchReport = {
            machine: machine(opts.mode),
            seconds: (performance.now() - start) / 1000,
            goals: goalsOf(figures, opts.mode),
            ...figures,
        };
        mkdirSync(opts.out, { recursive: true });
        writeFileSync(join(opts.out, OUTPUT_FILES.json), JSON.stringify(report, null, 2) + '\n');
        writeFileSync(join(opts.out, OUTPUT_FILES.markdown), renderMarkdown(report) + '\n');
        return report;
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}
