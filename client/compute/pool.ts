/**
 * The worker's compute pool: one piscina pool whose threads run metered job programs (task.ts)
 * under the job's limits. Programs are checked and metered here, on the calling thread, once per
 * program (programs.ts). Fuel, call depth, memory and output are limited inside the run, the same
 * on every machine; the wall-clock limit (`wallSeconds`) is the worker's own protection, enforced
 * from here by aborting the task, which makes piscina terminate the thread and start a fresh one.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../paths';
import { Piscina } from 'piscina';
import { MAX_MEMORY_MB } from './abi';
import { MeteredPrograms, meteredPrograms, prepareTask, validateJob } from './programs';
import { WorkerFault } from './task';
import { ComputeJob, PoolFailureReason, ProgramResult, ProgramTask, RunFailed, RunResult } from './types';

export interface ComputePoolOptions {
    /** Threads, each running one job at a time; default: the cores available to the process. */
    threads?: number;
    /** Jobs that may wait for a thread; one more is refused with ComputeQueueFull. Default 256. */
    maxQueue?: number;
    /** The output cap of every run, in bytes; default 16 MiB. */
    maxOutputBytes?: number;
    /**
     * Wall-clock seconds a run may take on its thread before the pool stops it as 'timeout'
     * (queueing not counted); default 600. It protects the worker and depends on its machine, so a
     * 'timeout' is never a verdict: the fuel limit decides how far a program may run.
     */
    wallSeconds?: number;
}

/** The pool's defaults. */
export const COMPUTE_POOL_DEFAULTS: Required<ComputePoolOptions> = {
    threads: availableParallelism(),
    maxQueue: 256,
    maxOutputBytes: 16 * 1024 * 1024,
    wallSeconds: 600,
};

/** The longest wall-clock limit a pool accepts: a day. */
export const MAX_WALL_SECONDS = 86_400;

/**
 * Each thread's V8 limits.
 *
 * The stack: the meter (meter.ts) traps as 'stack' at STACK_BUDGET (100 000 frame-weight units);
 * V8 overflowed natively at 332 490 units at the earliest on a 4 MiB stack, and at 1 386 210 on
 * 16 MiB, 13.9× the budget (docs/metering.md, "Call depth"): headroom for frame shapes nobody
 * measured and for the host functions' JavaScript frames on top. It is address space reserved
 * per thread; only the pages a run touches are committed.
 *
 * The heap, a backstop: job memory is WebAssembly memory, outside the JS heap and capped per job,
 * and abi.ts bounds what else a program can put on the heap (tables; no GC types). But V8 counts
 * a WebAssembly memory's buffer as external memory, a new buffer at every `memory.grow`, and once
 * external memory passes half the old generation's limit it runs a full garbage collection at
 * every grow: with 128 MiB, growing one page at a time past 64 MiB cost a full GC per page (4 096
 * grows: 29 s in a thread, 1.5 s on the main thread, on the shared 2-core test machine). The old
 * generation's limit is therefore twice the largest memory cap, as high as the main thread's own
 * (about 4 GiB here), so a thread grows memory as fast as the main thread does. A heap that still
 * grows past it ends its thread (ERR_WORKER_OUT_OF_MEMORY), not the process: a WorkerFault, never
 * a verdict. V8 aborts the whole process on a single allocation far past the limit, hence the
 * ABI's caps.
 */
export const THREAD_LIMITS = { maxOldGenerationSizeMb: 2 * MAX_MEMORY_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 16 } as const;

/** `run` was called with every thread busy and `maxQueue` jobs already waiting: back off and retry. */
export class ComputeQueueFull extends Error {
    constructor(readonly maxQueue: number) {
        super(`the compute queue is full (maxQueue ${maxQueue}): retry later`);
        this.name = 'ComputeQueueFull';
    }
}

type Stop = RunFailed<PoolFailureReason>;
type WaitAsync = (
    array: Int32Array,
    index: number,
    value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
// Atomics.waitAsync is in Node 20 but not in the tsconfig's ES2022 lib.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Runs job programs on a fixed set of threads; see abi.ts for what a program may do. */
export class ComputePool {
    /** The options in force, defaults filled in. */
    readonly options: Readonly<Required<ComputePoolOptions>>;
    private readonly piscina: Piscina<ProgramTask, ProgramResult>;
    /** How to stop each run in flight (running or queued), for close(); its size bounds the queue. */
    private readonly inFlight = new Set<(stop: Stop) => void>();
    private closed = false;

    /**
     * Starts the threads; throws a RangeError naming the first bad option. `programs` is where
     * metered programs are cached (default: the process's one cache, shared with direct runs).
     */
    constructor(
        options: ComputePoolOptions = {},
        private readonly programs: MeteredPrograms = meteredPrograms,
    ) {
        const threads = options.threads ?? COMPUTE_POOL_DEFAULTS.threads;
        const maxQueue = options.maxQueue ?? COMPUTE_POOL_DEFAULTS.maxQueue;
        const maxOutputBytes = options.maxOutputBytes ?? COMPUTE_POOL_DEFAULTS.maxOutputBytes;
        const wallSeconds = options.wallSeconds ?? COMPUTE_POOL_DEFAULTS.wallSeconds;
        if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
        if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
        if (!Number.isInteger(maxOutputBytes) || maxOutputBytes < 1 || maxOutputBytes > 2 ** 30) {
            throw new RangeError('maxOutputBytes must be an integer from 1 to 1073741824');
        }
        if (typeof wallSeconds !== 'number' || !(wallSeconds > 0 && wallSeconds <= MAX_WALL_SECONDS)) {
            throw new RangeError(`wallSeconds must be a number above 0 and at most ${MAX_WALL_SECONDS}`);
        }
        this.options = { threads, maxQueue, maxOutputBytes, wallSeconds };
        this.piscina = new Piscina({
            filename: compiledTask(),
            name: 'runProgram',
            minThreads: threads,
            maxThreads: threads,
            // piscina's own maxQueue does not count tasks that carry an AbortSignal (they wait in
            // its skipQueue), and every task here does: run() bounds the queue itself.
            resourceLimits: THREAD_LIMITS,
        });
    }

    /**
     * Runs a job. Resolves with its output or the program's failure (a verdict, abi.ts), both with
     * the fuel used; or with a stop that is not a verdict: 'timeout' after `wallSeconds` on a thread
     * (queueing not counted), 'cancelled' when `signal` aborts or the pool closes. Rejects with
     * ComputeQueueFull when the queue is full, with a TypeError or RangeError for a malformed job,
     * with a WorkerFault when this worker could not run it (the meter failed, the thread ran out of
     * native stack or heap), and with an Error once the pool is closed.
     */
    async run(job: ComputeJob, signal?: AbortSignal): Promise<RunResult> {
        if (this.closed) throw new Error('the compute pool is closed');
        validateJob(job);
        const cancelled: Stop = { status: 'failed', reason: 'cancelled', message: 'cancelled by the caller' };
        if (signal?.aborted) return cancelled;
        if (this.inFlight.size >= this.options.threads + this.options.maxQueue) throw new ComputeQueueFull(this.options.maxQueue);

        let stop: Stop | undefined;
        const controller = new AbortController();
        const halt = (why: Stop) => {
            stop ??= why;
            controller.abort();
        };
        const onAbort = () => halt(cancelled);
        signal?.addEventListener('abort', onAbort, { once: true });
        const closing = (why: Stop) => {
            stop ??= why;
        };
        this.inFlight.add(closing);

        // The clock starts when the thread picks the task up, not when it is queued.
        const started = new Int32Array(new SharedArrayBuffer(4));
        let timer: NodeJS.Timeout | undefined;
        let settled = false;
        const wall = this.options.wallSeconds;
        const timeout: Stop = { status: 'failed', reason: 'timeout', message: `exceeded this worker's wall-clock limit of ${wall} s` };
        try {
            const task = await prepareTask(job, this.options.maxOutputBytes, this.programs);
            if (stop !== undefined) return stop;
            if ('status' in task) return task;
            void whenStarted(started).then(() => {
                if (!settled) timer = setTimeout(() => halt(timeout), wall * 1000);
            });
            return await this.piscina.run({ ...task, started }, { signal: controller.signal });
        } catch (err) {
            if (stop !== undefined) return stop;
            // A backstop: abi.ts bounds what a program can put on the heap, so this should not happen.
            if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
                throw new WorkerFault(`the thread ran out of heap: ${(err as Error).message}`);
            }
            // A WorkerFault thrown in the thread arrives as a plain Error with its message.
            if (err instanceof Error && /native stack overflowed|not metered/.test(err.message)) throw new WorkerFault(err.message);
            throw err;
        } finally {
            settled = true;
            clearTimeout(timer);
            Atomics.notify(started, 0);
            signal?.removeEventListener('abort', onAbort);
            this.inFlight.delete(closing);
        }
    }

    /** Jobs waiting for a thread. */
    get queued(): number {
        return Math.max(0, this.inFlight.size - this.options.threads);
    }

    /** Refuses new jobs, ends the queued and running ones as 'cancelled' and terminates the threads. */
    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        for (const closing of this.inFlight) closing({ status: 'failed', reason: 'cancelled', message: 'the compute pool closed' });
        await this.piscina.destroy();
    }
}

/** Resolves once the thread flags the task as started, or run() wakes it on finishing. */
async function whenStarted(flag: Int32Array): Promise<void> {
    const wait = waitAsync(flag, 0, 0);
    if (wait.async) await wait.value;
}

/**
 * The compiled task handler. piscina threads load plain JavaScript, so whether this file runs from
 * source (under Jest) or from dist, the handler is <project root>/dist/client/compute/task.js.
 */
function compiledTask(): string {
    const task = join(DIST, 'client', 'compute', 'task.js');
    if (!existsSync(task)) throw new Error(`compiled task not found at ${task}: run npm run build`);
    return task;
}
