/**
 * A job as its requester sees it: when anyone may finalize it, and how it ended and why, as a
 * code a program can match and words a user can read. Read from the job's own state, so that a
 * requester with no keeper on the network can end its job itself.
 */
import { JobState } from '../wrappers/Job';
import { JobPhase, PhaseName, phaseName } from './results';

/** The fields of a job's state these functions read. */
export type JobView = Pick<JobState, 'phase' | 'claims' | 'commits' | 'reveals' | 'claimUntil' | 'revealUntil'> & {
    spec: Pick<JobState['spec'], 'k' | 'quorum'>;
};

/**
 * The chain time after which anyone may finalize the job (the Job contract's Finalize rule: a
 * pass that did not answer by claimUntil, fewer than k claims by claimUntil, or any job past
 * revealUntil), or undefined for a job already settled.
 */
export function finalizableAfter(s: JobView): number | undefined {
    const phase = Number(s.phase);
    if (phase === JobPhase.Verifying) return Number(s.claimUntil);
    if (phase !== JobPhase.Open) return undefined;
    // claims cannot grow after claimUntil, so a short job is finalizable from then on
    return Number(s.claims < s.spec.k ? s.claimUntil : s.revealUntil);
}

/** Whether anyone may finalize the job at chain time `now`. */
export function finalizable(s: JobView, now: number): boolean {
    const after = finalizableAfter(s);
    return after !== undefined && now > after;
}

/** Which deadline passed, in words, for a job finalizable now (printed when finalizing it). */
export function missedDeadline(s: JobView): string {
    if (Number(s.phase) === JobPhase.Verifying) return 'the requester’s pass did not answer in time';
    if (s.claims < s.spec.k) return `the claim window passed with ${s.claims} of ${s.spec.k} claims`;
    return `the reveal window passed with ${s.reveals} of ${s.commits} reveals`;
}

/** Where a job stands: its phase's name. */
export type Outcome = PhaseName;

/**
 * Why a job ended without a result. Every reason a job or a post can be refused for belongs here,
 * with its words in `REASONS`: the CLI's messages and its --json output read them from this one
 * table.
 */
export type Reason = 'no-quorum' | 'unclaimed' | 'no-pass';

const REASONS: Record<Reason, (s: JobView) => string> = {
    'no-quorum': (s) => `no result reached the quorum of ${s.spec.quorum}: ${s.reveals} of ${s.spec.k} workers revealed`,
    unclaimed: (s) => `only ${s.claims} of ${s.spec.k} workers claimed it in time`,
    // a job is rejected only by its pass check: the pass said no, or did not answer by claimUntil
    'no-pass': () => 'the requester holds no valid Contributor Pass',
};

const REASON_OF: Partial<Record<Outcome, Reason>> = { failed: 'no-quorum', expired: 'unclaimed', rejected: 'no-pass' };

/** The job's outcome (final from `done` on), with the reason when it ended without a result. */
export function outcomeOf(s: JobView): { outcome: Outcome; final: boolean; reason?: Reason } {
    const outcome = phaseName(s.phase);
    if (outcome === undefined) throw new Error(`unknown job phase ${s.phase}`);
    // done, failed, expired, rejected: a job in a dispute (phase 6) is not final yet
    const phase = Number(s.phase);
    return { outcome, final: phase >= JobPhase.Done && phase <= JobPhase.Rejected, reason: REASON_OF[outcome] };
}

/** The outcome in words: `rejected: the requester holds no valid Contributor Pass (refunded)`. */
export function describeOutcome(s: JobView): string {
    const { outcome, reason } = outcomeOf(s);
    if (outcome === 'verifying') return 'verifying the requester’s pass';
    if (reason === undefined) return outcome;
    return `${outcome}: ${REASONS[reason](s)} (refunded)`;
}
