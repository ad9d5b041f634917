/**
 * The arithmetic of a match's bisections (contracts/dispute.tact), apart from the interpreter, so
 * that a page showing a match loads only this.
 */

/** The degree of a bisection: a segment is split into at most this many parts. */
export const DISPUTE_DEGREE = 16;

/** Point `j` of a bisection of `length` steps from `start` into `parts` (the contract's pointOf), exact past 2^53 / 16. */
export function pointOf(start: number, length: number, parts: number, j: number): number {
    return start + Number((BigInt(j) * BigInt(length)) / BigInt(parts));
}

/**
 * The most steps a run with `maxMfuel` million fuel takes (the Dispute's stepBound; docs/disputes.md,
 * "Steps bounded by fuel"): a match bisects the steps up to it, where both runs have halted.
 */
export function stepBound(maxMfuel: number): number {
    return 2 * maxMfuel * 1_000_000 + 16;
}
