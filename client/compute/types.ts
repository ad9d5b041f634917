/**
 * The compute pool's messages: the job a caller submits, the task a thread receives, and the
 * result that comes back. Everything here is plain data, so it crosses thread boundaries as is.
 */

/** A job as the worker receives it: a WebAssembly program (see abi.ts), its input and its limits. */
export interface ComputeJob {
    /** The WebAssembly module's bytes. */
    program: Uint8Array;
    /** The bytes the program reads with `fog.read_input`. */
    input: Uint8Array;
    /** Wall-clock seconds the program may run on its thread (threads never outnumber cores). */
    maxCpuSeconds: number;
    /** The memory cap in MiB: the imported memory's maximum is `maxMemoryMb * 16` pages of 64 KiB. */
    maxMemoryMb: number;
}

/** The message a pool thread receives for one run (the `runProgram` task handler's argument). */
export interface ProgramTask {
    program: Uint8Array;
    input: Uint8Array;
    maxMemoryMb: number;
    maxOutputBytes: number;
    /** Set to 1 (and notified) by the thread when it starts the task, so the time limit excludes queueing. */
    started?: Int32Array;
}

/** Why a program failed on its own: the same bytes and input fail the same way on every honest worker. */
export type ProgramFailureReason = 'invalid' | 'imports' | 'memory' | 'trap' | 'output-limit';

/** Why the pool stopped a run: the time limit, or the caller's AbortSignal (or `close()`). */
export type PoolFailureReason = 'timeout' | 'cancelled';

/** A run that returned from `run`: `output` is everything the program wrote with `fog.write_output`. */
export interface RunOk {
    status: 'ok';
    output: Uint8Array;
    /** Milliseconds spent compiling, instantiating and running the program (not queueing). */
    ms: number;
}

/** A run that ended without a result. */
export interface RunFailed<Reason extends string = ProgramFailureReason | PoolFailureReason> {
    status: 'failed';
    reason: Reason;
    message: string;
}

/** What a program run yields in a thread or directly: its output, or a deterministic failure. */
export type ProgramResult = RunOk | RunFailed<ProgramFailureReason>;

/** What `ComputePool.run` yields. */
export type RunResult = RunOk | RunFailed;
