/**
 * The worker's side of a job's dispute matches (docs/disputes.md, "The game"): when a job it
 * revealed for enters `disputing` and this worker is a party of the match under way, it opens with
 * its final state and answers every bisection, each move computed by the reference interpreter
 * (client/dispute/game.ts) from the job's program and input. The move owed follows from the
 * Dispute's on-chain state alone, so a daemon killed at any point finds it again after a restart;
 * a move sent twice is refused by the contract ("Not your turn", "Already opened") and costs only
 * its fees.
 */
import { Address, Cell } from '@ton/core';
import { Party, rootsOf } from '../client/dispute/game';
import { liarOf } from '../client/dispute/liar';
import { ComputeJob } from '../client/compute/types';

/** The Dispute's state as its `dispute_state` get-method shows it (the fields a party reads). */
export interface MatchState {
    match: bigint;
    a: Address | null;
    b: Address | null;
    phase: bigint;
    turn: bigint;
    start: bigint;
    length: bigint;
    parts: bigint;
    roots: Cell | null;
    finalA: bigint;
    finalB: bigint;
}

/** The Dispute contract's phases (contracts/dispute.tact). */
export const MATCH_PHASE = { new: 0n, opening: 1n, playing: 2n, over: 3n } as const;

/** A move this worker owes a match. */
export type MatchMove =
    { kind: 'open'; proof: Cell } | { kind: 'bisect'; choice: number; roots: Cell } | { kind: 'prove'; choice: number; proof: Cell };

/** Which side `me` plays in the match (1 a, 2 b), or 0 when it is not a party. */
export function sideOf(s: MatchState, me: Address): 0 | 1 | 2 {
    if (s.a?.equals(me)) return 1;
    if (s.b?.equals(me)) return 2;
    return 0;
}

/** The move `party` owes the match in state `s` as `me`, or undefined when it owes none (not a party, opened already, not its turn, over). */
export function moveFor(party: Party, me: Address, s: MatchState): MatchMove | undefined {
    const side = sideOf(s, me);
    if (side === 0) return undefined;
    if (s.phase === MATCH_PHASE.opening) {
        if ((side === 1 ? s.finalA : s.finalB) !== 0n) return undefined;
        return { kind: 'open', proof: party.final().proof };
    }
    if (s.phase !== MATCH_PHASE.playing || Number(s.turn) !== side || s.roots === null) return undefined;
    return party.respond({ start: Number(s.start), length: Number(s.length), parts: Number(s.parts), roots: rootsOf(s.roots) });
}

/**
 * The parties this worker plays, one per disputed job, kept between ticks (each holds the
 * interpreter's checkpoints, so a next move replays only the segment in dispute). At most
 * `limit`: the oldest is dropped and rebuilt from the blobs when needed again.
 */
export class Parties {
    private readonly held = new Map<string, Party>();

    constructor(private readonly limit = 8) {}

    /**
     * The party of job `id` running `job` (loaded only when it is not held): honest, or for a demonstration liar the same faulty run
     * its revealed result came from (`liarFrom`: the step its fault strikes from, see
     * client/dispute/liar.ts).
     */
    async of(id: string, job: () => Promise<ComputeJob>, liarFrom?: number, honestResult?: bigint): Promise<Party> {
        let party = this.held.get(id);
        if (party === undefined) {
            party = liarFrom === undefined ? new Party(await job()) : liarOf(await job(), liarFrom, honestResult);
            if (this.held.size >= this.limit) this.held.delete(this.held.keys().next().value!);
            this.held.set(id, party);
        }
        return party;
    }

    forget(id: string): void {
        this.held.delete(id);
    }
}
