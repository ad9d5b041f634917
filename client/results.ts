/**
 * What a job's on-chain result hash means. A program's output is named by its sha256; a program
 * that fails is named by the hash of a failure marker, so honest workers agree on failures too
 * and the requester learns why.
 */
import { sha256Hex } from './hash';
import {
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
} as const;

/** A job phase's name: the word the CLIs print and match, and the key of any table of phase words. */
export type PhaseName = 'verifying' | 'open' | 'done' | 'failed' | 'expired' | 'rejected';

const PHASE_NAMES = new Map<number, PhaseName>([
    [JobPhase.Verifying, 'verifying'],
    [JobPhase.Open, 'open'],
    [JobPhase.Done, 'done'],
    [JobPhase.Failed, 'failed'],
    [JobPhase.Expired, 'expired'],
    [JobPhase.Rejected, 'rejected'],
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

/** The hash a worker commits when the program fails for `reason`. */
export function failureHash(reason: string): string {
    return sha256Hex(Buffer.from(`fog:failed:${reason}`));
}

/** The failure a result hash stands for, if it is one. */
export function failureOf(resultHash: string): string | undefined {
    return FAILURE_REASONS.find((r) => failureHash(r) === resultHash);
}
