/**
 * A job's dispute matches as its Dispute contract's transactions tell them (docs/disputes.md, "The
 * game"): each match's parties from the DisputeStart that began it, each move from the event the
 * contract emitted for it, and the outcome. Read newest first, a bounded number of transactions
 * (anyone may send the contract messages, and each refused one is a transaction too): what lies
 * further back is reported as cut, never guessed.
 */
import { Address, Transaction } from '@ton/core';
import type { TonClient } from '@ton/ton';
import { loadDisputeStart } from '../../wrappers/Dispute';
import { OpDisputeStart } from '../../wrappers/Hub';
import { eventsOf } from '../events';
import { DISPUTE_DEGREE, pointOf, stepBound } from './points';

/** One move, as the contract took it. */
export interface MatchMoveRecord {
    time: number;
    /** 'a' or 'b': the party that moved. */
    side: 'a' | 'b';
    kind: 'open' | 'bisect' | 'prove';
    /** bisect: the segment of the opponent's split it disputes (1-based); prove: the one-step segment. */
    choice: number;
    /** bisect: the steps [from, to) it split, into `parts`; prove: the step it proved (from, from + 1). */
    from: bigint;
    to: bigint;
    parts: number;
}

export interface MatchRecord {
    match: number;
    /** Set when the match's start was read (it may lie beyond the transactions read). */
    a?: Address;
    b?: Address;
    resultA?: bigint;
    resultB?: bigint;
    /** Each party's time to move, seconds. */
    allowance?: number;
    /** The steps the match bisects (stepBound of the job's fuel limit): its first split is of [0, bound). */
    bound?: bigint;
    started?: number;
    moves: MatchMoveRecord[];
    /** 'a', 'b' or 'neither' (no party opened in time); by proof or by a clock running out. */
    outcome?: { winner: 'a' | 'b' | 'neither'; how: 'proof' | 'timeout'; time: number };
}

export interface DisputeHistory {
    /** Matches in the order played. */
    matches: MatchRecord[];
    /** True when older transactions exist than the ones read: the first match shown may lack its start and first moves. */
    cut: boolean;
}

/** Transactions read at most (pages of 100, newest first). */
export const HISTORY_TRANSACTIONS = 300;

const PAGE = 100;
/** The parts a bisection of `length` steps has (the contract's min(16, length)). */
const partsOf = (length: bigint) => Number(length < BigInt(DISPUTE_DEGREE) ? length : BigInt(DISPUTE_DEGREE));
const WHAT = ['open', 'bisect', 'prove'] as const;

/** Reads the matches played in the Dispute at `address`. */
export async function disputeHistory(client: TonClient, address: Address, most = HISTORY_TRANSACTIONS): Promise<DisputeHistory> {
    const txs: Transaction[] = [];
    let cut = false;
    let page = await client.getTransactions(address, { limit: Math.min(PAGE, most), archival: true });
    for (;;) {
        txs.push(...page.slice(0, most - txs.length));
        if (page.length < PAGE || txs.length >= most) {
            cut = page.length === PAGE || txs.length >= most;
            break;
        }
        const last = page[page.length - 1];
        // (the client asks from (lt, hash) and drops that transaction itself; the filter only makes sure)
        page = (
            await client.getTransactions(address, {
                limit: PAGE,
                lt: last.lt.toString(),
                hash: last.hash().toString('base64'),
                archival: true,
            })
        ).filter((t) => t.lt < last.lt);
        if (page.length === 0) break;
    }
    return { matches: matchesOf(txs.reverse(), address), cut };
}

/** The matches `txs` (oldest first, all the Dispute's at `address`) tell. */
export function matchesOf(txs: readonly Transaction[], address: Address): MatchRecord[] {
    const matches = new Map<number, MatchRecord>();
    const record = (n: number) => {
        let m = matches.get(n);
        if (m === undefined) matches.set(n, (m = { match: n, moves: [] }));
        return m;
    };
    for (const tx of txs) {
        const body = tx.inMessage?.body.beginParse();
        const ok = tx.description.type === 'generic' && tx.description.computePhase.type === 'vm' && tx.description.computePhase.success;
        if (ok && body !== undefined && body.remainingBits >= 32 && body.preloadUint(32) === Number(OpDisputeStart)) {
            try {
                const s = loadDisputeStart(body);
                Object.assign(record(Number(s.match)), {
                    a: s.a,
                    b: s.b,
                    resultA: s.resultA,
                    resultB: s.resultB,
                    allowance: Number(s.allowance),
                    bound: BigInt(stepBound(Number(s.maxMfuel))),
                    started: tx.now,
                });
            } catch {
                // not a start after all
            }
        }
        for (const e of eventsOf(tx, address)) {
            if (e.$$type === 'DisputeMoveEvent') {
                const kind = WHAT[Number(e.what)];
                if (kind === undefined) continue;
                const m = record(Number(e.match));
                const side = e.side === 1n ? 'a' : 'b';
                const choice = Number(e.choice);
                if (kind === 'open') {
                    m.moves.push({ time: e.origin.time, side, kind, choice: 0, from: 0n, to: 0n, parts: 0 });
                } else if (kind === 'bisect') {
                    // the event holds the segment after the move: the one it split
                    m.moves.push({
                        time: e.origin.time,
                        side,
                        kind,
                        choice,
                        from: e.start,
                        to: e.start + e.length,
                        parts: partsOf(e.length),
                    });
                } else {
                    // the event holds the split the proof chose from (every split but a match's
                    // first, which no proof can end, has min(16, length) parts): its segment `choice` is the step
                    const from = BigInt(pointOf(Number(e.start), Number(e.length), partsOf(e.length), choice - 1));
                    m.moves.push({ time: e.origin.time, side, kind, choice, from, to: from + 1n, parts: 1 });
                }
            } else if (e.$$type === 'DisputeResolvedEvent') {
                const winner = e.winner === 1n ? 'a' : e.winner === 2n ? 'b' : 'neither';
                record(Number(e.match)).outcome = { winner, how: e.how === 1n ? 'proof' : 'timeout', time: e.origin.time };
            }
        }
    }
    return [...matches.values()].sort((x, y) => x.match - y.match);
}
