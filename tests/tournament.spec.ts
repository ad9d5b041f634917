/**
 * The order of a job's dispute matches (client/dispute/tournament.ts), as properties over every
 * shape of seats (fast-check): with one honest holder that always wins its matches, the job
 * settles on the honest result whatever the others reveal and however its other holders (Sybils
 * throwing their matches) and the wrong holders play; every holder of a wrong result is slashed;
 * a job of k seats has at most k − 1 matches. And the plain cases: agreement has no match, no
 * honest holder can leave a wrong result or none, a bad outcome is refused.
 */
import fc from 'fast-check';
import { Holder, Tournament } from '../client/dispute/tournament';

/** Plays a tournament: `winnerOf` picks each match's winner. */
function play(t: Tournament, winnerOf: (a: Holder, b: Holder) => number | 'neither') {
    for (let p = t.next(); p !== undefined; p = t.next()) {
        const a = t.holders.find((h) => h.slot === p!.a)!;
        const b = t.holders.find((h) => h.slot === p!.b)!;
        t.record(winnerOf(a, b));
    }
    return t.settle();
}

describe('the dispute tournament', () => {
    it('settles on the honest result whenever one honest holder plays, and slashes every wrong holder', () => {
        fc.assert(
            fc.property(
                // k seats: each reveals the honest result 'h' or one of three wrong ones; one of them is the honest worker
                fc.integer({ min: 2, max: 7 }).chain((k) =>
                    fc.record({
                        results: fc.array(fc.constantFrom('h', 'w1', 'w2', 'w3'), { minLength: k, maxLength: k }),
                        honestSeat: fc.integer({ min: 0, max: k - 1 }),
                        coins: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 16, maxLength: 16 }),
                    }),
                ),
                ({ results, honestSeat, coins }) => {
                    results[honestSeat] = 'h';
                    const holders = results.map((result, slot) => ({ slot, result }));
                    const t = new Tournament(holders);
                    let toss = 0;
                    const standing = play(t, (a, b) => {
                        if (a.slot === honestSeat) return a.slot;
                        if (b.slot === honestSeat) return b.slot;
                        // anyone else: either wins, or neither opens
                        const c = coins[toss++ % coins.length];
                        return c === 2 ? 'neither' : c === 0 ? a.slot : b.slot;
                    });
                    expect(standing.result).toBe('h');
                    expect(standing.defeated).not.toContain(honestSeat);
                    for (const h of holders) if (h.result !== 'h') expect(standing.slashed).toContain(h.slot);
                    expect(standing.slashed).not.toContain(honestSeat);
                    expect(t.matches).toBeLessThanOrEqual(results.length - 1);
                },
            ),
            { numRuns: 500 },
        );
    });

    it('has no match when every holder revealed the same result', () => {
        const t = new Tournament([0, 1, 2].map((slot) => ({ slot, result: 'x' })));
        expect(t.next()).toBeUndefined();
        expect(t.settle()).toEqual({ result: 'x', defeated: [], slashed: [] });
    });

    it('pairs the first undefeated holders of the two earliest results, and goes on with a thrown result’s other holder', () => {
        const t = new Tournament([
            { slot: 0, result: 'a' },
            { slot: 1, result: 'b' },
            { slot: 2, result: 'a' },
            { slot: 3, result: 'c' },
        ]);
        expect(t.next()).toEqual({ a: 0, b: 1 });
        t.record(1); // slot 0 throws
        expect(t.next()).toEqual({ a: 1, b: 2 });
        t.record(2);
        expect(t.next()).toEqual({ a: 2, b: 3 });
        t.record(2);
        expect(t.next()).toBeUndefined();
        expect(t.settle()).toEqual({ result: 'a', defeated: [0, 1, 3], slashed: [0, 1, 3] });
        expect(t.matches).toBe(3);
    });

    it('leaves no result when the last two holders both fail to open', () => {
        const t = new Tournament([
            { slot: 0, result: 'a' },
            { slot: 1, result: 'b' },
        ]);
        expect(t.next()).toEqual({ a: 0, b: 1 });
        t.record('neither');
        expect(t.settle()).toEqual({ result: undefined, defeated: [0, 1], slashed: [0, 1] });
    });

    it('refuses an outcome naming a slot not in the match, an outcome with no match, a settlement with one due, and a slot twice', () => {
        const t = new Tournament([
            { slot: 0, result: 'a' },
            { slot: 1, result: 'b' },
        ]);
        expect(() => t.record(0)).toThrow('no match is under way');
        t.next();
        expect(() => t.record(5)).toThrow(RangeError);
        expect(() => t.settle()).toThrow('a match is still due');
        expect(
            () =>
                new Tournament([
                    { slot: 0, result: 'a' },
                    { slot: 0, result: 'b' },
                ]),
        ).toThrow(RangeError);
    });
});
