/**
 * The worker's compute pool: one piscina pool whose threads run job programs (task.ts) under the
 * job's limits. Memory and output caps are enforced inside the run; the time limit from here, by
 * aborting the task, which makes piscina terminate the thread and start a fresh one.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DIST } from '../paths';
import { isUint8Array } from 'node:util/types';
import { Piscina } from 'piscina';
import { memoryCapPages } from './abi';
import { ComputeJob, PoolFailureReason, ProgramResult, ProgramTask, RunFailed, RunResult } from './types';

export interface ComputePoolOptions {
    /** Threads, each running one job at a time; default: the cores available to the process. */
    threads?: number;
    /** Jobs that may wait for a thread; one more is refused with ComputeQueueFull. Default 256. */
    maxQueue?: number;
    /** The output cap of every run, in bytes; default 16 MiB. */
    maxOutputBytes?: number;
}

/** The pool's defaults. */
export const COMPUTE_POOL_DEFAULTS: Required<ComputePoolOptions> = {
    threads: availableParallelism(),
    maxQueue: 256,
    maxOutputBytes: 16 * 1024 * 1024,
};

/** The longest time limit a job may ask for. */
export const MAX_CPU_SECONDS = 86_400;

/**
 * Each thread's V8 limits, a backstop: job memory is WebAssembly memory, outside the JS heap and
 * capped per job, and abi.ts bounds what else a program can put on the heap (tables; no GC types).
 * A heap that still grows past the limit ends its thread (ERR_WORKER_OUT_OF_MEMORY), not the process
 * — but V8 aborts the whole process on a single allocation far past the limit, hence the ABI's caps.
 * The stack size is pinned so that every worker's programs overflow at the same depth.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

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

    /** Starts the threads; throws a RangeError naming the first bad option. */
    constructor(options: ComputePoolOptions = {}) {
        const threads = options.threads ?? COMPUTE_POOL_DEFAULTS.threads;
        const maxQueue = options.maxQueue ?? COMPUTE_POOL_DEFAULTS.maxQueue;
        const maxOutputBytes = options.maxOutputBytes ?? COMPUTE_POOL_DEFAULTS.maxOutputBytes;
        if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be a positive integer');
        if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
        if (!Number.isInteger(maxOutputBytes) || maxOutputBytes < 1 || maxOutputBytes > 2 ** 30) {
            throw new RangeError('maxOutputBytes must be an integer from 1 to 1073741824');
        }
        this.options = { threads, maxQueue, maxOutputBytes };
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
     * Runs a job. Resolves with its output or why it failed: a program failure (abi.ts), 'timeout'
     * after `maxCpuSeconds` on a thread (queueing not counted), or 'cancelled' when `signal` aborts
     * or the pool closes. Rejects with ComputeQueueFull when the queue is full, with a RangeError for
     * a malformed job, and with an Error once the pool is closed.
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
        const timeout: Stop = { status: 'failed', reason: 'timeout', message: `exceeded the time limit of ${job.maxCpuSeconds} s` };
        void whenStarted(started).then(() => {
            if (!settled) timer = setTimeout(() => halt(timeout), job.maxCpuSeconds * 1000);
        });

        const { program, input, maxMemoryMb } = job;
        const task: ProgramTask = { program, input, maxMemoryMb, maxOutputBytes: this.options.maxOutputBytes, started };
        try {
            return await this.piscina.run(task, { signal: controller.signal });
        } catch (err) {
            if (stop !== undefined) return stop;
            // A backstop: abi.ts bounds what a program can put on the heap, so this should not happen.
            if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
                return { status: 'failed', reason: 'memory', message: `the thread ran out of heap: ${(err as Error).message}` };
            }
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

function validateJob(job: ComputeJob): void {
    // isUint8Array, unlike instanceof, also holds across realms (vm contexts, Jest).
    if (!isUint8Array(job.program)) throw new TypeError('program must be a Uint8Array');
    if (!isUint8Array(job.input)) throw new TypeError('input must be a Uint8Array');
    const seconds = job.maxCpuSeconds;
    if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= MAX_CPU_SECONDS)) {
        throw new RangeError(`maxCpuSeconds must be a number above 0 and at most ${MAX_CPU_SECONDS}`);
    }
    memoryCapPages(job.maxMemoryMb);
}

/** Resolves once the thread flags the task as started, or run() wakes it on finishing. */
async function whenStarted(flag: Int32Array): Promise<void> {
    const wait = waitAsync(flag, 0, 0);
    if (wait.async) await wait.value;
}

/**
 * The compiled task handler. piscina threads load plain JavaScript, so whether this file runs from
 * source (ts-jest) or from dist, the handler is <project root>/dist/client/compute/task.js.
 */
function compiledTask(): string {
    const task = join(DIST, 'client', 'compute', 'task.js');
    if (!existsSync(task)) throw new Error(`compiled task not found at ${task}: run npm run build`);
    return task;
}
