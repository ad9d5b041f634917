/**
 * The compute pool: what running a job program through the pool (a piscina thread, the task
 * message, the output moved back) costs over running the same module in this thread, for jobs of
 * about `targetMs`; and jobs per second from one thread to every core, against one thread.
 *
 * The program is the matmul example (dist/examples/matmul.wasm): its input is n, and A and B are
 * generated from a fixed seed, so n alone sets the work. Both sides run the same metered module
 * (metered once, before timing), so the difference is the pool's alone.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DIST } from '../client/paths';
import { ComputePool } from '../client/compute/pool';
import { MAX_FUEL } from '../client/compute/meter';
import { prepareTask } from '../client/compute/programs';
import { runProgramDirect } from '../client/compute/task';
import { ComputeJob, ProgramTask, RunResult } from '../client/compute/types';

export interface PoolFigures {
    program: string;
    /** The matrix size chosen so that one run takes about `targetMs`. */
    n: number;
    targetMs: number;
    runs: number;
    /** Milliseconds per run, in the order measured (direct and pool runs alternate). */
    directMs: number[];
    poolMs: number[];
    directMedianMs: number;
    poolMedianMs: number;
    /** poolMedianMs / directMedianMs - 1. */
    overhead: number;
    throughput: { threads: number; jobs: number; seconds: number; jobsPerSecond: number; ratio: number }[];
}

const MAX_N = 1024;

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
    if (values.length === 0) throw new RangeError('the median of no values');
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function matmul(n: number): ComputeJob {
    const input = Buffer.alloc(4);
    input.writeUInt32LE(n);
    return { program: readFileSync(join(DIST, 'examples', 'matmul.wasm')), input, fuel: MAX_FUEL, maxMemoryMb: 256 };
}

/** The metered task of a job, as the pool would send it to a thread. */
async function taskOf(job: ComputeJob): Promise<ProgramTask> {
    const task = await prepareTask(job, 64 * 1024 * 1024);
    if ('status' in task) throw new Error(`matmul was refused: ${task.message}`);
    return task;
}

function direct(task: ProgramTask): number {
    const start = performance.now();
    const r = runProgramDirect(task);
    if (r.status !== 'ok') throw new Error(`matmul failed in this thread: ${r.message}`);
    return performance.now() - start;
}

async function viaPool(pool: ComputePool, job: ComputeJob): Promise<number> {
    const start = performance.now();
    ok(await pool.run(job));
    return performance.now() - start;
}

function ok(r: RunResult): void {
    if (r.status !== 'ok') throw new Error(`matmul failed in the pool: ${r.message}`);
}

/** The n whose direct run takes about `targetMs` (the work grows as n³). */
async function calibrate(targetMs: number): Promise<number> {
    let n = 64;
    for (let i = 0; i < 6; i++) {
        const task = await taskOf(matmul(n));
        direct(task); // warm-up for this size
        const ms = median([direct(task), direct(task), direct(task)]);
        const next = Math.min(MAX_N, Math.max(8, Math.round(n * Math.cbrt(targetMs / ms))));
        if (Math.abs(next - n) <= Math.max(1, n * 0.03)) return next;
        n = next;
    }
    return n;
}

export async function measurePool(opts: { targetMs: number; runs: number; jobsPerThread: number }): Promise<PoolFigures> {
    const n = await calibrate(opts.targetMs);
    const job = matmul(n);
    const task = await taskOf(job);

    const single = new ComputePool({ threads: 1 });
    const directMs: number[] = [];
    const poolMs: number[] = [];
    try {
        for (let i = 0; i < 2; i++) {
            direct(task);
            await viaPool(single, job);
        }
        // alternated, so that drift in the machine's speed touches both alike
        for (let i = 0; i < opts.runs; i++) {
            directMs.push(direct(task));
            poolMs.push(await viaPool(single, job));
        }
    } finally {
        await single.close();
    }

    const throughput: PoolFigures['throughput'] = [];
    for (let threads = 1; threads <= availableParallelism(); threads++) {
        const pool = new ComputePool({ threads });
        try {
            await Promise.all(Array.from({ length: threads }, () => viaPool(pool, job)));
            const jobs = threads * opts.jobsPerThread;
            const start = performance.now();
            await Promise.all(Array.from({ length: jobs }, () => pool.run(job).then(ok)));
            const seconds = (performance.now() - start) / 1000;
            const jobsPerSecond = jobs / seconds;
            throughput.push({
                threads,
                jobs,
                seconds,
                jobsPerSecond,
                ratio: jobsPerSecond / (throughput[0]?.jobsPerSecond ?? jobsPerSecond),
            });
        } finally {
            await pool.close();
        }
    }

    const directMedianMs = median(directMs);
    const poolMedianMs = median(poolMs);
    return {
        program: 'matmul',
        n,
        targetMs: opts.targetMs,
        runs: opts.runs,
        directMs,
        poolMs,
        directMedianMs,
        poolMedianMs,
        overhead: poolMedianMs / directMedianMs - 1,
        throughput,
    };
}
