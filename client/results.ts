/**
 * What a job's on-chain result hash means. A program's output is named by its sha256; a program
 * that fails is named by the hash of a failure marker, so honest workers agree on failures too
 * and the requester learns why.
 */
import { sha256Hex } from './hash';
import { PhaseDone, PhaseExpired, PhaseFailed, PhaseOpen, PhaseRejected, PhaseVerifying } from '../wrappers/Hub';

/** A job's phases, as the Job contract numbers them (contracts/constants.tact). */
export const JobPhase = {
    Verifying: Number(PhaseVerifying),
    Open: Number(PhaseOpen),
    Done: Number(PhaseDone),
    Failed: Number(PhaseFailed),
    Expired: Number(PhaseExpired),
    Rejected: Number(PhaseRejected),
} as const;

/** Failures a worker commits as a result (deterministic ones, and the CPU-time limit). */
export const FAILURE_REASONS = ['invalid', 'imports', 'memory', 'trap', 'output-limit', 'timeout'] as const;

/** The hash a worker commits when the program fails for `reason`. */
export function failureHash(reason: string): string {
    return sha256Hex(Buffer.from(`fog:failed:${reason}`));
}

/** The failure a result hash stands for, if it is one. */
export function failureOf(resultHash: string): string | undefined {
    return FAILURE_REASONS.find((r) => failureHash(r) === resultHash);
}
