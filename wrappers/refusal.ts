/**
 * The hub's refusals in words. When the hub sends a FOG transfer back (a bad stake or job post,
 * or too little TON with it) it emits a RefusedEvent carrying what the transfer was and a reason
 * code; the codes are contracts/constants.tact's `Refuse*` constants, imported here from the
 * generated wrapper so no copy can drift. The CLI, the bot and the watcher show these sentences.
 */
import { Address, fromNano } from '@ton/core';
import {
    MaxUriCells,
    RefusedEvent,
    RefusedOther,
    RefusedPost,
    RefusedStake,
    RefuseFuelTooLarge,
    RefuseKOutOfRange,
    RefuseLimits,
    RefuseMalformed,
    RefuseNothingStaked,
    RefusePostTon,
    RefusePriceTooLow,
    RefuseQuorum,
    RefuseStakeTon,
    RefuseUnknownPayload,
    RefuseUrisTooLarge,
    RefuseWindowTooLong,
    RefuseShards,
    RefuseJobCode,
    MaxShards,
} from './Hub';

/** Each reason code, as the end of "the hub sent it back because …". */
export const REFUSAL_REASONS: ReadonlyMap<bigint, string> = new Map([
    [RefuseUnknownPayload, 'the transfer carried neither a stake nor a job post'],
    [RefuseMalformed, 'its payload was cut short'],
    [RefuseNothingStaked, 'it staked 0 FOG'],
    [RefuseStakeTon, 'it carried less TON than the hub’s stake cost (get-method stake_cost)'],
    [RefusePriceTooLow, 'the price is below the minimum job price'],
    [RefuseKOutOfRange, 'k (the number of workers) is 0 or above the maximum the hub allows'],
    [RefuseQuorum, 'the quorum is above k or not a majority of it'],
    [RefuseLimits, 'the fuel or memory limit is 0'],
    [RefuseWindowTooLong, 'a claim, commit or reveal window is longer than the hub allows'],
    [RefuseUrisTooLarge, `the program and input URIs take more than ${MaxUriCells} cells (about 2 KB)`],
    [
        RefusePostTon,
        'it carried less TON than the hub’s post cost for its k (get-method post_cost, or post_shards_cost for a sharded post)',
    ],
    [RefuseFuelTooLarge, 'the fuel limit is too large to dispute: each side’s time in a match would pass a week'],
    [RefuseShards, `a sharded post needs 1 to ${MaxShards} shards and FOG that divides evenly among them`],
    [RefuseJobCode, 'the masterchain library holding the jobs’ code is not published (its Librarian ran out of rent?): no job could run'],
]);

/** What a refused transfer was, by RefusedEvent's `what`. */
const WHAT: ReadonlyMap<bigint, string> = new Map([
    [RefusedOther, 'transfer'],
    [RefusedStake, 'stake'],
    [RefusedPost, 'job post'],
]);

/** The reason in words; an unknown code (a newer hub) is named, not hidden. */
export function refusalReason(reason: bigint): string {
    return REFUSAL_REASONS.get(reason) ?? `reason code ${reason}, unknown to this version`;
}

/** "stake", "job post" or "transfer". */
export function refusedWhat(what: bigint): string {
    return WHAT.get(what) ?? 'transfer';
}

/**
 * One sentence for a user: "The hub refused a job post and sent 10 FOG back to EQ…: the price is
 * below the minimum job price."
 */
export function describeRefusal(e: Pick<RefusedEvent, 'what' | 'reason' | 'amount'> & { to: Address }): string {
    return `The hub refused a ${refusedWhat(e.what)} and sent ${fromNano(e.amount)} FOG back to ${e.to.toString()}: ${refusalReason(e.reason)}.`;
}
