/**
 * The order of a job's dispute matches (docs/disputes.md, "Tournaments"): which two holders meet
 * next, and what the job settles on once no two results are left standing. A result stays in
 * while any of its holders has not lost a match; each match is between the first undefeated
 * holders of the two earliest-revealed results still in, and defeats one holder (or both, when
 * neither opened), so a job of k seats has at most k − 1 matches. A holder that throws its match
 * defeats only itself: the result it revealed goes on with its other holders. This is the model
 * the `Job` contract's tournament follows, and the one the simulation plays.
 */

/** A seat that revealed a result, in reveal order. */
export interface Holder {
    slot: number;
    result: string;
}

/** The next match: slot a (of the earlier-revealed result) against slot b. */
export interface Pairing {
    a: number;
    b: number;
}

/** What a finished tournament settles: the result standing (undefined: none), and who lost. */
export interface Standing {
    result: string | undefined;
    /** Slots that lost a match. */
    defeated: number[];
    /** Slots slashed: every holder of another result than the one standing, and every defeated holder. */
    slashed: number[];
}

export class Tournament {
    private readonly defeated = new Set<number>();
    private current: Pairing | undefined;
    matches = 0;

    constructor(readonly holders: readonly Holder[]) {
        const slots = new Set(holders.map((h) => h.slot));
        if (slots.size !== holders.length) throw new RangeError('a slot holds one result');
    }

    /** The results still in, in the order they were first revealed. */
    standing(): string[] {
        const results: string[] = [];
        for (const h of this.holders) if (!this.defeated.has(h.slot) && !results.includes(h.result)) results.push(h.result);
        return results;
    }

    /** The next match, or undefined when at most one result is left. */
    next(): Pairing | undefined {
        if (this.current !== undefined) return this.current;
        const [first, second] = this.standing();
        if (second === undefined) return undefined;
        const holderOf = (result: string) => this.holders.find((h) => h.result === result && !this.defeated.has(h.slot))!.slot;
        this.current = { a: holderOf(first), b: holderOf(second) };
        return this.current;
    }

    /** Records the current match's outcome: the winning slot, or 'neither' (both defeated). */
    record(winner: number | 'neither'): void {
        const match = this.current;
        if (match === undefined) throw new Error('no match is under way');
        if (winner !== 'neither' && winner !== match.a && winner !== match.b) throw new RangeError(`slot ${winner} is not in the match`);
        if (winner !== match.a) this.defeated.add(match.a);
        if (winner !== match.b) this.defeated.add(match.b);
        this.current = undefined;
        this.matches++;
    }

    /** What the job settles on; throws while a match is due. */
    settle(): Standing {
        if (this.next() !== undefined) throw new Error('a match is still due');
        const [result] = this.standing();
        const defeated = this.holders.map((h) => h.slot).filter((s) => this.defeated.has(s));
        const slashed = this.holders.filter((h) => h.result !== result || this.defeated.has(h.slot)).map((h) => h.slot);
        return { result, defeated, slashed };
    }
}
