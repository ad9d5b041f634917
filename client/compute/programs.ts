/**
 * Programs on their way to a run: checked against the ABI, metered once (meter.ts), and cached by
 * the hash of their bytes, so a pool thread never loads binaryen and a program submitted again is
 * not instrumented again. `runHere` is the whole path in the calling thread.
 */
import { createHash } from 'node:crypto';
import { isUint8Array } from 'node:util/types';
import { checkProgram, memoryCapPages, ProgramRefused, wasm } from './abi';
import { instrument, MAX_FUEL } from './meter';
import { runProgramDirect } from './task';
import { ComputeJob, ProgramFailed, ProgramResult, ProgramTask } from './types';

export interface MeteredProgramsOptions {
    /** Programs kept; the least recently used beyond this are forgotten. Default 64. */
    maxPrograms?: number;
    /** Metered bytes kept, in all; default 256 MiB. */
    maxBytes?: number;
}

/**
 * Metered modules by the sha256 of the program's bytes, least recently used first out: bounded in
 * count and bytes, so it does not grow with a worker's history. A refusal is kept as well (the same
 * bytes are refused again); a failure of the meter itself (a plain Error) is not.
 */
export class MeteredPrograms {
    private readonly entries = new Map<string, { metered: Promise<Uint8Array>; bytes: number }>();
    private bytes = 0;
    private readonly maxPrograms: number;
    private readonly maxBytes: number;

    constructor(options: MeteredProgramsOptions = {}) {
        this.maxPrograms = options.maxPrograms ?? 64;
        this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    }

    /** Programs held now. */
    get size(): number {
        return this.entries.size;
    }

    /** The metered module of `program`; rejects with ProgramRefused for what the meter refuses. */
    meter(program: Uint8Array): Promise<Uint8Array> {
        const key = createHash('sha256').update(program).digest('hex');
        const hit = this.entries.get(key);
        if (hit !== undefined) {
            this.entries.delete(key);
            this.entries.set(key, hit);
            return hit.metered;
        }
        const entry = { metered: instrument(program).then((m) => m.bytes), bytes: 0 };
        this.entries.set(key, entry);
        entry.metered.then(
            (bytes) => {
                if (this.entries.get(key) !== entry) return;
                entry.bytes = bytes.length;
                this.bytes += entry.bytes;
                this.evict();
            },
            (err) => {
                if (!(err instanceof ProgramRefused) && this.entries.get(key) === entry) this.entries.delete(key);
            },
        );
        this.evict();
        return entry.metered;
    }

    private evict(): void {
        for (const [key, entry] of this.entries) {
            if (this.entries.size <= this.maxPrograms && this.bytes <= this.maxBytes) return;
            this.entries.delete(key);
            this.bytes -= entry.bytes;
        }
    }
}

/** The cache of this process's direct runs, and of pools not given their own. */
export const meteredPrograms = new MeteredPrograms();

/** Throws a TypeError or RangeError for a malformed job (not a verdict: the caller's mistake). */
export function validateJob(job: ComputeJob): void {
    // isUint8Array, unlike instanceof, also holds across realms (vm contexts, Jest).
    if (!isUint8Array(job.program)) throw new TypeError('program must be a Uint8Array');
    if (!isUint8Array(job.input)) throw new TypeError('input must be a Uint8Array');
    if (typeof job.fuel !== 'bigint' || job.fuel < 0n || job.fuel > MAX_FUEL) {
        throw new RangeError(`fuel must be a bigint from 0 to ${MAX_FUEL}`);
    }
    memoryCapPages(job.maxMemoryMb);
}

/**
 * The task for a job: the program validated, checked against the ABI (abi.ts) and metered, in this
 * order; or the verdict that refuses it, before any of its code runs. Throws only what
 * `validateJob` throws and the meter's own failures (plain Errors: a worker-side fault).
 */
export async function prepareTask(
    job: ComputeJob,
    maxOutputBytes: number,
    programs: MeteredPrograms = meteredPrograms,
): Promise<ProgramTask | ProgramFailed> {
    validateJob(job);
    try {
        if (!wasm.validate(job.program)) throw new ProgramRefused('invalid', 'not a valid WebAssembly module');
        checkProgram(job.program, memoryCapPages(job.maxMemoryMb));
        const program = await programs.meter(job.program);
        return { program, input: job.input, fuel: job.fuel, maxMemoryMb: job.maxMemoryMb, maxOutputBytes };
    } catch (err) {
        if (err instanceof ProgramRefused) return { status: 'failed', reason: err.reason, message: err.message, fuel: 0n };
        throw err;
    }
}

/**
 * Runs a job in the calling thread, metered, with the pool's checks and verdicts but no wall-clock
 * limit. A metered run needs a thread stack of 4 MiB or more (meter.ts, STACK_BUDGET): Node's main
 * thread has about 1 MiB, so a program recursing near the depth budget may overflow natively
 * first, which throws (a worker-side failure, never a verdict). Fine for programs that do not
 * recurse deeply (the examples); the pool's threads have the stack for every program.
 */
export async function runHere(
    job: ComputeJob,
    maxOutputBytes: number,
    programs: MeteredPrograms = meteredPrograms,
): Promise<ProgramResult> {
    const task = await prepareTask(job, maxOutputBytes, programs);
    return 'status' in task ? task : runProgramDirect(task);
}
