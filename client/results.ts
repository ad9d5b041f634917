/**
 * What a job's on-chain result hash means. A program's output is named by its output cell's hash
 * (`resultHashOf`): a cell holding the output's length (uint32) with one reference to a 4-ary tree
 * of 64-byte zero-padded leaves over 2^24 bytes (`outputHash` in dispute/cells.ts), the hash the
 * dispute game's final state proves (docs/disputes.md, "The result hash"). So an output has at
 * most MAX_OUTPUT_BYTES (16 MiB), a protocol constant: a longer one is the failure 'output-limit'
 * (`underOutputCap`). A program that fails is named by the sha256 of a failure marker
 * (`failureHash`), so honest workers agree on failures too and the requester learns why. Blobs
 * stay named by their sha256 (hash.ts); a storage node indexes results by their output hash.
 */
import { sha256Hex } from './hash';
import { capacityOf, OUTPUT_DEPTH, outputHash } from './dispute/cells';
import type { ProgramResult } from './compute/types';
import {
    PhaseDisputing,
    PhaseDone,
    PhaseExpired,
    PhaseFailed,
    PhaseOpen,
    PhaseRejected,
    PhaseVerifying,
    StageClaimed,
    StageCommitted,
    StageRevealed,
} from '../wrappers/Hub';

/** A job's phases, as the Job contract numbers them (contracts/constants.tact). */
export const JobPhase = {
    Verifying: Number(PhaseVerifying),
    Open: Number(PhaseOpen),
    Done: Number(PhaseDone),
    Failed: Number(PhaseFailed),
    Expired: Number(PhaseExpired),
    Rejected: Number(PhaseRejected),
    Disputing: Number(PhaseDisputing),
} as const;

/** A job phase's name: the word the CLIs print and match, and the key of any table of phase words. */
export type PhaseName = 'verifying' | 'open' | 'done' | 'failed' | 'expired' | 'rejected' | 'disputing';

const PHASE_NAMES = new Map<number, PhaseName>([
    [JobPhase.Verifying, 'verifying'],
    [JobPhase.Open, 'open'],
    [JobPhase.Done, 'done'],
    [JobPhase.Failed, 'failed'],
    [JobPhase.Expired, 'expired'],
    [JobPhase.Rejected, 'rejected'],
    [JobPhase.Disputing, 'disputing'],
]);

/** The name of a job's phase, or undefined for a number the contracts do not define. */
export function phaseName(phase: number | bigint): PhaseName | undefined {
    return PHASE_NAMES.get(Number(phase));
}

/** How far one claim on a job got (a slot's stage). */
export type StageName = 'claimed' | 'committed' | 'revealed';

const STAGE_NAMES = new Map<number, StageName>([
    [Number(StageClaimed), 'claimed'],
    [Number(StageCommitted), 'committed'],
    [Number(StageRevealed), 'revealed'],
]);

/** The name of a slot's stage, or undefined for a number the contracts do not define. */
export function stageName(stage: number | bigint): StageName | undefined {
    return STAGE_NAMES.get(Number(stage));
}

/**
 * Failures a worker commits as a result: the program's own, the same on every honest worker
 * (client/compute/types.ts). Never a stop of the worker's making ('timeout', 'cancelled').
 */
export const FAILURE_REASONS = ['invalid', 'imports', 'memory', 'trap', 'output-limit', 'fuel', 'stack'] as const;

/** The longest output a result hash can name, bytes: the output tree's capacity, 2^24 (16 MiB). */
export const MAX_OUTPUT_BYTES = capacityOf(OUTPUT_DEPTH);

/**
 * The hash a worker commits for a program's `output` (hex): its output cell's hash. Throws a
 * RangeError for an output over MAX_OUTPUT_BYTES (see `underOutputCap`).
 */
export function resultHashOf(output: Uint8Array): string {
    if (output.length > MAX_OUTPUT_BYTES)
        throw new RangeError(`an output of ${output.length} bytes is over the ${MAX_OUTPUT_BYTES}-byte cap`);
    return outputHash(output);
}

/**
 * A run's verdict under the protocol's output cap: an output over MAX_OUTPUT_BYTES (possible only
 * from a pool given a larger `maxOutputBytes`) is the failure 'output-limit', the verdict of a
 * pool with the default cap and of the reference interpreter; anything else is returned as is.
 */
export function underOutputCap(run: ProgramResult): ProgramResult {
    if (run.status !== 'ok' || run.output.length <= MAX_OUTPUT_BYTES) return run;
    const message = `output exceeds the cap of ${MAX_OUTPUT_BYTES} bytes`;
    return { status: 'failed', reason: 'output-limit', message, fuel: run.fuel };
}

/** The hash a worker commits when the program fails for `reason`. */
export function failureHash(reason: string): string {
    return sha256Hex(Buffer.from(`fog:failed:${reason}`));
}

/** The failure a result hash stands for, if it is one. */
export function failureOf(resultHash: string): string | undefined {
    return FAILURE_REASONS.find((r) => failureHash(r) === resultHash);
}
