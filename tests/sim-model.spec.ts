import '@ton/test-utils';
import fc from 'fast-check';
import { Address, beginCell, toNano } from '@ton/core';
import { internal, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { FOG, Protocol, protocolFixture } from '../client/sandbox/protocol';
import { JobPhase } from '../client/results';
import { Claim, Economy, emissionOf, MatchRule } from '../sim/model';
import { EvJobDisputed, loadJobDisputedEvent, PhaseDisputing, storeDisputeResolved } from '../wrappers/Hub';

/**
 * The simulation's model against the contracts: random jobs (k, quorum, price, who claims, who
 * computes honestly, lies, stays silent or never commits), settled on the emulator and by the
 * model, must leave identical books: every provider's stake, reputation, units and slashes, every
 * epoch's burned, slashed and units and, once closed, its emission, the FOG supply and the
 * requester's balance. FOG_MODEL_JOBS sets the number of jobs (30 by default, two thirds as many
 * with disputes).
 *
 * With disputes on, each match the job starts (its JobDisputedEvent names the pair, which must be
 * the model's) ends as the model's rule says: the honest result beats any other, a colluder's
 * defended run beats a made-up lie, two made-up lies both lose. The outcome reaches the job as the
 * Dispute would send it, from the Dispute's address: how a Dispute decides a match is tested by
 * tests/dispute.spec.ts and tests/job-dispute.spec.ts; here only what the job settles counts.
 */

const JOBS = Number(process.env.FOG_MODEL_JOBS ?? 30);
const WORKERS = 6;
const STAKE = 20_000n * FOG;

type Behaviour = 'honest' | 'liar' | 'colluder' | 'silent' | 'absent';

interface JobPlan {
    k: number;
    price: bigint;
    /** Each claimant, in claim order, and what it does; fewer than k claimants expires the job. */
    claimants: { worker: number; does: Behaviour }[];
    /** The order the claimants reveal in (indexes into `claimants`). */
    reveals: number[];
}

/** Random jobs whose claimants behave as drawn from `behaviours` (repeats weigh more). */
const planOf = (behaviours: Behaviour[]): fc.Arbitrary<JobPlan> =>
    fc
        .record({
            k: fc.integer({ min: 1, max: 5 }),
            price: fc.bigInt({ min: 1n, max: 500n }).map((x) => x * FOG),
            order: fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: WORKERS, maxLength: WORKERS }),
            does: fc.array(fc.constantFrom<Behaviour>(...behaviours), {
                minLength: 5,
                maxLength: 5,
            }),
            short: fc.integer({ min: 0, max: 9 }),
            reveals: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
        })
        .map(({ k, price, order, does, short, reveals }) => {
            // one job in ten gets fewer claims than it needs
            const claimants = order.slice(0, short === 0 ? k - 1 : k).map((worker, i) => ({ worker, does: does[i] }));
            return { k, price, claimants, reveals: reveals.filter((i) => i < claimants.length) };
        });

/** The model's match rule, for the disputes run (see above). */
const matchRule =
    (honest: bigint, colluded: bigint): MatchRule =>
    (a, b) => {
        const rank = (c: Claim) => (c.revealed === honest ? 2 : c.revealed === colluded ? 1 : 0);
        if (rank(a) === 0 && rank(b) === 0) return 'neither';
        return rank(a) >= rank(b) ? 'a' : 'b';
    };

/** The pairs of the matches a job started in `r`, from its JobDisputedEvents. */
function disputedIn(r: { externals: { body: import('@ton/core').Cell }[] }): [Address, Address][] {
    return r.externals
        .filter((e) => e.body.bits.length >= 32 && e.body.beginParse().preloadUint(32) === Number(EvJobDisputed))
        .map((e) => loadJobDisputedEvent(e.body.beginParse()))
        .map((e) => [e.a, e.b]);
}

describe.each([
    { disputes: false, jobs: JOBS },
    { disputes: true, jobs: Math.ceil((JOBS * 2) / 3) },
])('the economics model settles exactly as the contracts do (disputes: $disputes)', ({ disputes, jobs: JOBS }) => {
    let p: Protocol;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;

    beforeAll(async () => {
        p = await protocolFixture({ disputeAllowance: disputes ? 3_600n : 0n });
        workers = [];
        for (let i = 0; i < WORKERS; i++) {
            const w = await p.blockchain.treasury(`model worker ${i}`);
            await p.fund(w.address, STAKE);
            await p.stake(w, STAKE);
            workers.push(w);
        }
        requester = await p.blockchain.treasury('model requester');
        await p.fund(requester.address, 1_000_000n * FOG);
        await p.stake(requester, 1_000n * FOG); // a pass, to post
    });

    it(
        `for ${JOBS} random jobs across epochs`,
        async () => {
            // with disputes, more liars: so that two made-up results meet too
            const behaviours: Behaviour[] = disputes
                ? ['honest', 'honest', 'liar', 'liar', 'colluder', 'silent', 'absent']
                : ['honest', 'honest', 'honest', 'liar', 'colluder', 'silent', 'absent'];
            const plans = fc.sample(planOf(behaviours), { numRuns: JOBS, seed: 7 });
            const model = new Economy(p.params);
            for (let i = 0; i < WORKERS; i++) model.stake(String(i), STAKE);
            const supplyBefore = (await p.token.getGetJettonData()).totalSupply;
            const requesterBefore = await p.balanceOf(requester.address);
            const rewardsBefore = await Promise.all(workers.map((w) => p.balanceOf(w.address)));
            const epochOf = () => Math.floor(((p.blockchain.now ?? NOW) - Number(p.params.epochStart)) / Number(p.params.epochLength));
            const HONEST = hashOf('the honest result');
            const COLLUDED = hashOf('the colluders’ result');
            let spent = 0n;
            let matchesPlayed = 0;
            let reordered = 0;
            const matchEnds = new Set<string>();
            const phases: Record<string, number> = {};

            for (const [n, job] of plans.entries()) {
                const id = (await p.hub.getHubState()).nextJobId;
                const quorum = Math.floor(job.k / 2) + 1;
                await p.post(requester, job.price, { k: BigInt(job.k), quorum: BigInt(quorum) });
                expect(Number((await (await p.job(id)).getJobState()).phase)).toBe(JobPhase.Open);
                const claims: Claim[] = [];
                // the pairs of the matches the job started (JobDisputedEvent), in order
                const pairs: [Address, Address][] = [];
                for (const c of job.claimants) await p.claim(workers[c.worker], id);
                for (const c of job.claimants) {
                    const result = c.does === 'liar' ? hashOf(`lie ${n} ${c.worker}`) : c.does === 'colluder' ? COLLUDED : HONEST;
                    if (c.does !== 'absent') await p.commit(workers[c.worker], id, result);
                    claims.push({ worker: String(c.worker), revealed: c.does === 'absent' || c.does === 'silent' ? undefined : result });
                }
                // with a claimant that never committed, reveals open when the commit window closes
                if (job.claimants.some((c) => c.does === 'absent')) {
                    p.blockchain.now = Number((await (await p.job(id)).getJobState()).commitUntil) + 1;
                }
                // the claimants reveal in the plan's order, not the order they claimed in
                let revealOrder = 0;
                for (const i of job.reveals) {
                    const c = job.claimants[i];
                    if (c.does === 'absent' || c.does === 'silent') continue;
                    claims[i].revealOrder = revealOrder++;
                    pairs.push(...disputedIn(await p.reveal(workers[c.worker], id, claims[i].revealed!)));
                }
                // past every deadline, anyone settles what is still open
                const state = await (await p.job(id)).getJobState();
                if (Number(state.phase) === JobPhase.Open) {
                    p.blockchain.now = Number(state.revealUntil) + 1;
                    pairs.push(...disputedIn(await p.finalize(requester, id)));
                }
                // each match the job starts ends as the model's rule says
                const match = disputes ? matchRule(HONEST, COLLUDED) : undefined;
                const settled = model.settle({ price: job.price, k: job.k, quorum, claims, match }, epochOf());
                const slotOf = (a: Address) => job.claimants.findIndex((c) => workers[c.worker].address.equals(a));
                for (let m = 0; (await (await p.job(id)).getJobState()).phase === PhaseDisputing; m++) {
                    const [a, b] = pairs[m].map(slotOf);
                    expect([a, b]).toEqual(settled.matches[m]);
                    const w = match!(claims[a], claims[b]);
                    matchEnds.add(w);
                    const body = beginCell()
                        .store(
                            storeDisputeResolved({
                                $$type: 'DisputeResolved',
                                id,
                                match: BigInt(m),
                                winner: w === 'a' ? 1n : w === 'b' ? 2n : 3n,
                                how: 2n,
                            }),
                        )
                        .endCell();
                    const r = await p.blockchain.sendMessage(
                        internal({
                            from: await (await p.job(id)).getDisputeAddress(),
                            to: (await p.job(id)).address,
                            value: toNano('0.03'),
                            body,
                            bounce: false,
                        }),
                    );
                    pairs.push(...disputedIn(r));
                }
                expect(pairs.length).toBe(settled.matches.length);
                matchesPlayed += pairs.length;
                // a match whose earlier-revealed side claimed later: reveal order, not claim order, pairs them
                if (settled.matches.some(([a, b]) => a > b)) reordered++;
                const after = await (await p.job(id)).getJobState();
                expect([Number(after.phase), after.result]).toEqual([
                    { done: JobPhase.Done, failed: JobPhase.Failed, expired: JobPhase.Expired }[settled.phase],
                    settled.result,
                ]);
                spent += job.price - settled.refunded;
                phases[settled.phase] = (phases[settled.phase] ?? 0) + 1;
                // a few hours pass between jobs: about 8 jobs an epoch
                p.blockchain.now = (p.blockchain.now ?? NOW) + 3 * 3_600;
            }

            for (let i = 0; i < WORKERS; i++) {
                const s = await (await p.providerOf(workers[i].address)).getProviderState();
                const b = model.providers.get(String(i))!;
                expect({
                    worker: i,
                    stake: s.stake,
                    reputation: s.reputation,
                    units: s.unitsTotal,
                    slashed: s.slashedTotal,
                    slashes: s.slashCount,
                    pass: s.passHeld,
                    open: s.openClaims,
                    slots: [Number(s.prevEpoch), s.prevUnits, Number(s.curEpoch), s.curUnits],
                    rewards: (await p.balanceOf(workers[i].address)) - rewardsBefore[i],
                }).toEqual({
                    worker: i,
                    stake: b.stake,
                    reputation: b.reputation,
                    units: b.unitsTotal,
                    slashed: b.slashedTotal,
                    slashes: b.slashCount,
                    pass: b.passHeld,
                    open: 0n,
                    slots: [b.prevEpoch, b.prevUnits, b.curEpoch, b.curUnits],
                    rewards: b.rewards,
                });
            }
            // close every epoch that saw a job, then compare its books and its emission
            p.blockchain.now = (p.blockchain.now ?? NOW) + Number(p.params.epochLength + p.params.closeDelay);
            for (const [n, e] of model.epochs) {
                const epoch = await p.epoch(BigInt(n));
                await epoch.send(requester.getSender(), { value: toNano('0.05') }, { $$type: 'CloseEpoch', queryId: 0n });
                const s = await epoch.getEpochState();
                model.close(n);
                expect({ epoch: n, burned: s.burned, slashed: s.slashed, units: s.units, emission: s.emission, minted: s.minted }).toEqual({
                    epoch: n,
                    burned: e.burned,
                    slashed: e.slashed,
                    units: e.units,
                    emission: emissionOf(e.burned, p.params),
                    minted: e.minted,
                });
            }
            // every provider claims what its two epoch slots still hold (Provider.ClaimRewards against Economy.claimEpoch)
            for (let i = 0; i < WORKERS; i++) {
                const b = model.providers.get(String(i))!;
                for (const [epoch, units] of [
                    [b.prevEpoch, b.prevUnits],
                    [b.curEpoch, b.curUnits],
                ] as const) {
                    if (units === 0n) continue;
                    const r = await (
                        await p.providerOf(workers[i].address)
                    ).send(workers[i].getSender(), { value: toNano('1') }, { $$type: 'ClaimRewards', queryId: 0n, epoch: BigInt(epoch) });
                    expect(r.transactions).toHaveTransaction({ from: workers[i].address, success: true });
                    expect(model.claimEpoch(String(i), epoch)).toBeGreaterThan(0n);
                }
                expect((await p.balanceOf(workers[i].address)) - rewardsBefore[i]).toBe(b.rewards);
            }
            for (const [n, e] of model.epochs)
                expect({ epoch: n, minted: (await (await p.epoch(BigInt(n))).getEpochState()).minted }).toEqual({
                    epoch: n,
                    minted: e.minted,
                });
            // the run went through every rule: settled, no quorum, expired, slashes, rewards a third epoch's win claimed
            expect(model.epochs.size).toBeGreaterThan(JOBS / 20);
            expect(Object.keys(phases).sort()).toEqual(['done', 'expired', 'failed']);
            // with disputes: matches won by either side and by neither
            if (disputes)
                expect([matchesPlayed > JOBS / 4, reordered > 0, [...matchEnds].sort()]).toEqual([true, true, ['a', 'b', 'neither']]);
            expect([...model.providers.values()].some((b) => b.slashCount > 0n)).toBe(true);
            expect([...model.providers.values()].some((b) => b.rewards > 0n)).toBe(true);
            expect((await p.token.getGetJettonData()).totalSupply - supplyBefore).toBe(model.supplyChange);
            expect(requesterBefore - (await p.balanceOf(requester.address))).toBe(spent);
        },
        10 * 60_000,
    );
});
