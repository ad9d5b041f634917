/**
 * The compute pool's messages: the job a caller submits, the task a thread receives, and the
 * result that comes back. Everything here is plain data, so it crosses thread boundaries as is.
 */

/**
 * A job as the worker receives it: a WebAssembly program (see abi.ts), its input and its limits.
 * The verdict, the output and the fuel used are a function of these four fields alone.
 */
export interface ComputeJob {
    /** The WebAssembly module's bytes, as the requester wrote them (the pool meters them). */
    program: Uint8Array;
    /** The bytes the program reads with `fog.read_input`. */
    input: Uint8Array;
    /** The fuel limit (docs/metering.md): 0 to MAX_FUEL. For a job on chain, `fuelForJob(spec)` (client/compute/fuel.ts). */
    fuel: bigint;
    /** The memory cap in MiB: the imported memory's maximum is `maxMemoryMb * 16` pages of 64 KiB. */
    maxMemoryMb: number;
}

/** The message a pool thread receives for one run (the `runProgram` task handler's argument). */
export interface ProgramTask {
    /** The metered module: `instrument(program).bytes` (meter.ts), never the requester's bytes themselves. */
    program: Uint8Array;
    input: Uint8Array;
    fuel: bigint;
    maxMemoryMb: number;
    maxOutputBytes: number;
    /** Set to 1 (and notified) by the thread when it starts the task, so the time limit excludes queueing. */
    started?: Int32Array;
}

/**
 * Why a program failed on its own: the same bytes, input and limits fail the same way on every
 * honest worker. 'fuel' and 'stack' are the meter's traps (docs/metering.md).
 */
export type ProgramFailureReason = 'invalid' | 'imports' | 'memory' | 'trap' | 'output-limit' | 'fuel' | 'stack';

/**
 * Why the pool stopped a run: the worker's own wall-clock limit, or the caller's AbortSignal (or
 * `close()`). Neither is a verdict on the program: a worker never commits one.
 */
export type PoolFailureReason = 'timeout' | 'cancelled';

/** A run that returned from `run`: `output` is everything the program wrote with `fog.write_output`. */
export interface RunOk {
    status: 'ok';
    output: Uint8Array;
    /** Milliseconds spent compiling, instantiating and running the program (not queueing). */
    ms: number;
    /** The fuel the run used: the limit less what was left. */
    fuel: bigint;
}

/** A run that ended without a result. */
export interface RunFailed<Reason extends string = ProgramFailureReason | PoolFailureReason> {
    status: 'failed';
    reason: Reason;
    message: string;
}

/** A program's own failure: a verdict, with the fuel it used (the limit after a fuel trap; 0 when refused before running). */
export interface ProgramFailed extends RunFailed<ProgramFailureReason> {
    fuel: bigint;
}

/** What a program run yields in a thread or directly: its output, or a deterministic failure. */
export type ProgramResult = RunOk | ProgramFailed;

/** What `ComputePool.run` yields. */
export type RunResult = ProgramResult | RunFailed<PoolFailureReason>;

/** Whether a pool's result is a verdict on the program (what a worker commits), not a stop of the worker's making. */
export function isVerdict(result: RunResult): result is ProgramResult {
    return result.status === 'ok' || (result.reason !== 'timeout' && result.reason !== 'cancelled');
}
