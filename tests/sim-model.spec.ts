import '@ton/test-utils';
import fc from 'fast-check';
import { toNano } from '@ton/core';
import { SandboxContract, TreasuryContract } from '@ton/sandbox';
import { hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { FOG, Protocol, protocolFixture } from '../client/sandbox/protocol';
import { JobPhase } from '../client/results';
import { Claim, Economy, emissionOf } from '../sim/model';

/**
 * The simulation's model against the contracts: random jobs (k, quorum, price, who claims, who
 * computes honestly, lies, stays silent or never commits), settled on the emulator and by the
 * model, must leave identical books: every provider's stake, reputation, units and slashes, every
 * epoch's burned, slashed and units and, once closed, its emission, the FOG supply and the
 * requester's balance. FOG_MODEL_JOBS sets the number of jobs (200 by default).
 */

const JOBS = Number(process.env.FOG_MODEL_JOBS ?? 200);
const WORKERS = 6;
const STAKE = 20_000n * FOG;

type Behaviour = 'honest' | 'liar' | 'colluder' | 'silent' | 'absent';

interface JobPlan {
    k: number;
    price: bigint;
    /** Each claimant, in claim order, and what it does; fewer than k claimants expires the job. */
    claimants: { worker: number; does: Behaviour }[];
}

const plan: fc.Arbitrary<JobPlan> = fc
    .record({
        k: fc.integer({ min: 1, max: 5 }),
        price: fc.bigInt({ min: 1n, max: 500n }).map((x) => x * FOG),
        order: fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: WORKERS, maxLength: WORKERS }),
        does: fc.array(fc.constantFrom<Behaviour>('honest', 'honest', 'honest', 'liar', 'colluder', 'silent', 'absent'), {
            minLength: 5,
            maxLength: 5,
        }),
        short: fc.integer({ min: 0, max: 9 }),
    })
    .map(({ k, price, order, does, short }) => ({
        k,
        price,
        // one job in ten gets fewer claims than it needs
        claimants: order.slice(0, short === 0 ? k - 1 : k).map((worker, i) => ({ worker, does: does[i] })),
    }));

describe('the economics model settles exactly as the contracts do', () => {
    let p: Protocol;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;

    beforeAll(async () => {
        p = await protocolFixture();
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
            const plans = fc.sample(plan, { numRuns: JOBS, seed: 7 });
            const model = new Economy(p.params);
            for (let i = 0; i < WORKERS; i++) model.stake(String(i), STAKE);
            const supplyBefore = (await p.token.getGetJettonData()).totalSupply;
            const requesterBefore = await p.balanceOf(requester.address);
            const rewardsBefore = await Promise.all(workers.map((w) => p.balanceOf(w.address)));
            const epochOf = () => Math.floor(((p.blockchain.now ?? NOW) - Number(p.params.epochStart)) / Number(p.params.epochLength));
            const HONEST = hashOf('the honest result');
            const COLLUDED = hashOf('the colluders’ result');
            let spent = 0n;
            const phases: Record<string, number> = {};

            for (const [n, job] of plans.entries()) {
                const id = (await p.hub.getHubState()).nextJobId;
                const quorum = Math.floor(job.k / 2) + 1;
                await p.post(requester, job.price, { k: BigInt(job.k), quorum: BigInt(quorum) });
                expect(Number((await (await p.job(id)).getJobState()).phase)).toBe(JobPhase.Open);
                const claims: Claim[] = [];
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
                for (const c of job.claimants) {
                    if (c.does === 'absent' || c.does === 'silent') continue;
                    const revealed = claims.find((x) => x.worker === String(c.worker))!.revealed!;
                    await p.reveal(workers[c.worker], id, revealed);
                }
                // past every deadline, anyone settles what is still open
                const state = await (await p.job(id)).getJobState();
                if (Number(state.phase) === JobPhase.Open) {
                    p.blockchain.now = Number(state.revealUntil) + 1;
                    await p.finalize(requester, id);
                }
                const settled = model.settle({ price: job.price, k: job.k, quorum, claims }, epochOf());
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
            expect([...model.providers.values()].some((b) => b.slashCount > 0n)).toBe(true);
            expect([...model.providers.values()].some((b) => b.rewards > 0n)).toBe(true);
            expect((await p.token.getGetJettonData()).totalSupply - supplyBefore).toBe(model.supplyChange);
            expect(requesterBefore - (await p.balanceOf(requester.address))).toBe(spent);
        },
        10 * 60_000,
    );
});
