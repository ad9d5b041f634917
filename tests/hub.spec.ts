import '@ton/test-utils';
import { beginCell, toNano } from '@ton/core';
import { BlockchainSnapshot, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import {
    Bps,
    Hub,
    JobSpec,
    loadRefusedEvent,
    loadStrayEvent,
    MaxReplication,
    MaxUriCells,
    Params,
    PhaseDone,
    PhaseFailed,
    PhaseOpen,
    storeJettonBurn,
    storeJettonTransfer,
    storePostJobPayload,
    storeStakePayload,
    RefusedOther,
    RefusedPost,
    RefusedStake,
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
} from '../wrappers/Hub';
import * as HubConstants from '../wrappers/Hub';
import { describeRefusal, REFUSAL_REASONS } from '../wrappers/refusal';
import { hashOf } from '../wrappers/commit';
import { deliverBounce, NOW } from '../client/sandbox/fixture';
import { actorsOf, allSucceeded, FOG, GAS, payload, Protocol, protocolFixture, specOf, urisOf } from '../client/sandbox/protocol';
import { jobSpec, MAX_URI_CELLS } from '../client/actions';
import { cellShape } from '../wrappers/gas';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from '../client/paths';

const HUB = Hub.errors;
const OP = Hub.opcodes;

describe('Hub', () => {
    let p: Protocol;
    let alice: SandboxContract<TreasuryContract>;
    let workers: SandboxContract<TreasuryContract>[];

    let start: BlockchainSnapshot;

    // deployed and funded once; each test starts from that state (the emulator's snapshot)
    beforeAll(async () => {
        // a network that settles differing reveals by majority vote (disputeAllowance 0): these tests
        // make their slashes by vote; tests/job-dispute.spec.ts settles the same by dispute
        p = await protocolFixture({ disputeAllowance: 0n });
        workers = await actorsOf(p, ['w1', 'w2', 'w3', 'alice'], 5_000n * FOG);
        alice = workers[3];
        start = p.blockchain.snapshot();
    });
    beforeEach(() => p.blockchain.loadFrom(start));

    const stakePayload = () => payload(storeStakePayload({ $$type: 'StakePayload', cores: 8n, memoryMb: 1024n }));
    const postPayload = (spec: Partial<JobSpec> = {}) => payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf(spec) }));
    const hubFog = () => p.balanceOf(p.hub.address);

    /** Stakes exactly minStake for the three workers and alice, posts a k=3 job and runs it to settlement. */
    const runJob = async (results: bigint[], price = 50n * FOG) => {
        for (const w of workers) expect(allSucceeded(await p.stake(w, p.params.minStake))).toBe(true);
        await p.post(alice, price);
        for (const w of workers.slice(0, 3)) await p.claim(w, 0n);
        for (const [i, w] of workers.slice(0, 3).entries()) await p.commit(w, 0n, results[i]);
        const out: SendMessageResult[] = [];
        for (const [i, w] of workers.slice(0, 3).entries()) out.push(await p.reveal(w, 0n, results[i]));
        return out[2];
    };

    /**
     * The RefusedEvents the hub emitted, decoded with the generated loader, which must consume the
     * whole body: the hub builds it inline, in one cell, as messages.tact declares it.
     */
    const refusals = (r: SendMessageResult) =>
        r.externals
            .filter((e) => e.info.src.equals(p.hub.address) && e.body.beginParse().preloadUint(32) === OP.RefusedEvent)
            .map((e) => {
                const body = e.body.beginParse();
                const event = loadRefusedEvent(body);
                expect([body.remainingBits, body.remainingRefs, e.body.refs.length]).toEqual([0, 0, 0]);
                return event;
            });

    /**
     * Alice's FOG comes back in full, the hub keeps nothing of it, and one RefusedEvent says what
     * was refused and why, how much and to whom.
     */
    const expectSentBack = async (r: SendMessageResult, before: bigint, what: bigint, reason: bigint, amount?: bigint) => {
        expect(allSucceeded(r)).toBe(true);
        expect(r.transactions).toHaveTransaction({ from: p.hub.address, op: OP.JettonTransfer, success: true });
        expect(await p.balanceOf(alice.address)).toBe(before);
        expect(await hubFog()).toBe(0n);
        const s = await p.hub.getHubState();
        expect([s.totalStaked, s.totalEscrow, s.nextJobId, s.strays]).toEqual([0n, 0n, 0n, 0n]);
        const events = refusals(r);
        expect(events).toHaveLength(1);
        expect({ what: events[0].what, reason: events[0].reason, queryId: events[0].queryId }).toEqual({ what, reason, queryId: 0n });
        if (amount !== undefined) expect(events[0].amount).toBe(amount);
        expect(events[0].to.equals(alice.address)).toBe(true);
    };

    describe('transfer_notification', () => {
        it('stakes: deploys the provider and holds exactly totalStaked in its wallet', async () => {
            const r = await p.stake(alice, 300n * FOG);
            expect(allSucceeded(r)).toBe(true);
            const provider = await p.providerOf(alice.address);
            expect(r.transactions).toHaveTransaction({
                from: p.hub.address,
                to: provider.address,
                op: OP.ProviderStake,
                deploy: true,
                success: true,
            });
            expect((await provider.getProviderState()).stake).toBe(300n * FOG);
            expect((await p.hub.getHubState()).totalStaked).toBe(300n * FOG);
            expect(await hubFog()).toBe(300n * FOG);
            // the wallet the hub now keeps (and reports) is the token's wallet for the hub
            expect((await p.hub.getHubState()).wallet.equals((await p.walletOf(p.hub.address)).address)).toBe(true);
        });

        it("refuses a notification that does not come from the hub's own wallet", async () => {
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                {
                    $$type: 'JettonTransferNotification',
                    queryId: 0n,
                    amount: 1_000n * FOG,
                    sender: alice.address,
                    forwardPayload: beginCell().storeBit(1).storeRef(stakePayload()).endCell().beginParse(),
                },
            );
            expect(r.transactions).toHaveTransaction({
                from: alice.address,
                to: p.hub.address,
                success: false,
                exitCode: HUB['Notification from a foreign wallet'],
            });
            expect((await p.hub.getHubState()).totalStaked).toBe(0n);
        });

        it('sends the FOG back in full for an unknown op', async () => {
            const before = await p.balanceOf(alice.address);
            await expectSentBack(
                await p.toHub(
                    alice,
                    10n * FOG,
                    payload((b) => b.storeUint(0xdeadbeef, 32)),
                ),
                before,
                RefusedOther,
                RefuseUnknownPayload,
                10n * FOG,
            );
        });

        it.each([
            [
                'a stake payload without its memory field',
                () => payload((b) => b.storeUint(OP.StakePayload, 32).storeUint(8, 16)),
                RefusedStake,
                RefuseMalformed,
            ],
            [
                'a post_job payload cut short',
                () => payload((b) => b.storeUint(OP.PostJobPayload, 32).storeUint(0, 200).storeRef(beginCell().endCell())),
                RefusedPost,
                RefuseMalformed,
            ],
            [
                'a post_job payload without its URIs',
                () => payload((b) => b.storeUint(OP.PostJobPayload, 32).storeUint(0, 688)),
                RefusedPost,
                RefuseMalformed,
            ],
            ['a payload shorter than an op', () => payload((b) => b.storeUint(1, 8)), RefusedOther, RefuseUnknownPayload],
        ])('sends the FOG back in full for %s', async (_name, body, what, reason) => {
            const before = await p.balanceOf(alice.address);
            await expectSentBack(await p.toHub(alice, 10n * FOG, body()), before, what, reason, 10n * FOG);
        });

        it('sends back a stake of 0 FOG', async () => {
            const before = await p.balanceOf(alice.address);
            await expectSentBack(await p.toHub(alice, 0n, stakePayload()), before, RefusedStake, RefuseNothingStaked, 0n);
            expect(
                await p.blockchain.getContract(await p.hub.getProviderAddress(alice.address)).then((c) => c.accountState?.type),
            ).not.toBe('active');
        });

        it.each<[string, Partial<JobSpec>, bigint, bigint?]>([
            ['k = 0', { k: 0n, quorum: 0n }, RefuseKOutOfRange],
            ['k above maxK', { k: 8n, quorum: 5n }, RefuseKOutOfRange],
            ['quorum * 2 <= k', { k: 4n, quorum: 2n }, RefuseQuorum],
            ['quorum > k', { k: 3n, quorum: 4n }, RefuseQuorum],
            ['a price below minJobPrice', {}, RefusePriceTooLow, 1n * FOG - 1n],
            ['maxMfuel = 0', { maxMfuel: 0n }, RefuseLimits],
            ['maxMemoryMb = 0', { maxMemoryMb: 0n }, RefuseLimits],
            ['a claim window above maxWindow', { claimWindow: 86_401n }, RefuseWindowTooLong],
            ['a commit window above maxWindow', { commitWindow: 86_401n }, RefuseWindowTooLong],
            ['a reveal window above maxWindow', { revealWindow: 86_401n }, RefuseWindowTooLong],
            [`URIs of more than ${MaxUriCells} cells`, { uris: urisOf(Number(MaxUriCells) + 1) }, RefuseUrisTooLarge],
        ])('sends the FOG back in full for a job spec with %s, saying why', async (_name, spec, reason, price = 10n * FOG) => {
            const before = await p.balanceOf(alice.address);
            await expectSentBack(await p.toHub(alice, price, postPayload(spec), toNano('1')), before, RefusedPost, reason, price);
        });

        it('has a sentence for every refusal reason the contracts define', () => {
            const codes = Object.entries(HubConstants)
                .filter(([name, v]) => /^Refuse[A-Z]/.test(name) && typeof v === 'bigint')
                .map(([, v]) => v as bigint);
            expect(codes.length).toBeGreaterThanOrEqual(11);
            expect([...REFUSAL_REASONS.keys()].sort()).toEqual(codes.sort());
            expect(new Set(codes).size).toBe(codes.length);
            expect(describeRefusal({ what: RefusedPost, reason: RefusePriceTooLow, amount: 2n * FOG, to: alice.address })).toBe(
                `The hub refused a job post and sent 2 FOG back to ${alice.address.toString()}: the price is below the minimum job price.`,
            );
            expect(describeRefusal({ what: RefusedStake, reason: 99n, amount: 0n, to: alice.address })).toMatch(
                /refused a stake .*reason code 99, unknown to this version\.$/,
            );
        });

        it('sends the FOG back with exactly getRefundCost() forward TON, and records it as stray with one nanoton less', async () => {
            const cost = await p.hub.getRefundCost();
            const before = await p.balanceOf(alice.address);
            await expectSentBack(
                await p.toHub(
                    alice,
                    4n * FOG,
                    payload((b) => b.storeUint(0xdeadbeef, 32)),
                    cost,
                ),
                before,
                RefusedOther,
                RefuseUnknownPayload,
                4n * FOG,
            );
            const r = await p.toHub(
                alice,
                4n * FOG,
                payload((b) => b.storeUint(0xdeadbeef, 32)),
                cost - 1n,
            );
            expect(refusals(r)).toHaveLength(0);
            expect((await p.hub.getHubState()).strays).toBe(4n * FOG);
        });

        it('stakes with exactly getStakeCost() forward TON and sends the FOG back with one nanoton less', async () => {
            const cost = await p.hub.getStakeCost();
            const before = await p.balanceOf(alice.address);
            await expectSentBack(
                await p.toHub(alice, 300n * FOG, stakePayload(), cost - 1n),
                before,
                RefusedStake,
                RefuseStakeTon,
                300n * FOG,
            );
            const r = await p.toHub(alice, 300n * FOG, stakePayload(), cost);
            expect(allSucceeded(r)).toBe(true);
            expect((await (await p.providerOf(alice.address)).getProviderState()).stake).toBe(300n * FOG);
            expect((await p.hub.getHubState()).totalStaked).toBe(300n * FOG);
            expect(await hubFog()).toBe(300n * FOG);
        });

        // Known defect: getStakeCost() falls about 2.3 mTON short of a first stake that mints the pass
        // (the collection refuses the mint with "Insufficient TON for pass mint" and the provider keeps
        // passHeld = true without a pass). Flip to `it` once the cost covers the whole chain.
        it('mints the pass when a first stake of minStake carries exactly getStakeCost()', async () => {
            const r = await p.toHub(alice, p.params.minStake, stakePayload(), await p.hub.getStakeCost());
            expect(allSucceeded(r)).toBe(true);
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(true);
        });

        it('posts with exactly getPostCost(k) forward TON and sends the FOG back with one nanoton less', async () => {
            await p.stake(alice, p.params.minStake);
            const cost = await p.hub.getPostCost(3n);
            const before = await p.balanceOf(alice.address);
            let r = await p.toHub(alice, 20n * FOG, postPayload(), cost - 1n);
            expect(await p.balanceOf(alice.address)).toBe(before);
            expect((await p.hub.getHubState()).nextJobId).toBe(0n);
            expect(refusals(r).map((e) => [e.what, e.reason, e.amount])).toEqual([[RefusedPost, RefusePostTon, 20n * FOG]]);
            r = await p.toHub(alice, 20n * FOG, postPayload(), cost);
            expect(allSucceeded(r)).toBe(true);
            expect((await (await p.job(0n)).getJobState()).phase).toBe(PhaseOpen);
            const s = await p.hub.getHubState();
            expect([s.nextJobId, s.totalEscrow]).toEqual([1n, 20n * FOG]);
            expect(await hubFog()).toBe(s.totalStaked + s.totalEscrow);
        });

        it('posts a job whose URIs take the most cells allowed at exactly getPostCost(k), and its budget carries it to settlement', async () => {
            for (const w of workers) expect(allSucceeded(await p.stake(w, p.params.minStake))).toBe(true);
            const uris = urisOf(Number(MaxUriCells));
            const r = await p.toHub(alice, 20n * FOG, postPayload({ uris }), await p.hub.getPostCost(3n));
            expect(allSucceeded(r)).toBe(true);
            const job = await p.job(0n);
            // the deploy's forward fee was charged for at most JobInitCells / JobInitBits
            const deploy = r.transactions.find(
                (t) => t.inMessage?.info.src?.toString() === p.hub.address.toString() && t.inMessage.init,
            )!.inMessage!;
            const { cells, bits } = cellShape(deploy.init!.code!, deploy.init!.data!, deploy.body);
            if (process.env.FOG_GAS_UPDATE === '1') console.log(`job deploy with the largest URIs: ${cells} cells, ${bits} bits`);
            expect(cells).toBeLessThanOrEqual(Number(HubConstants.JobInitCells));
            expect(bits).toBeLessThanOrEqual(Number(HubConstants.JobInitBits));
            expect((await job.getJobState()).spec.uris.equals(uris)).toBe(true);
            for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.claim(w, 0n))).toBe(true);
            for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.commit(w, 0n, hashOf('r')))).toBe(true);
            for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.reveal(w, 0n, hashOf('r')))).toBe(true);
            expect((await job.getJobState()).phase).toBe(PhaseDone);
            expect((await p.blockchain.getContract(job.address)).balance).toBe(0n);
        });

        // The costliest chains a k=7 job can run on the budget getPostCost(7) carries: no quorum
        // (refund only), and no quorum with silent workers (the refund, a burn of the slashes and
        // the epoch's record, all at once).
        it.each<[string, (number | 'uncommitted' | 'unrevealed')[], bigint]>([
            ['no quorum (3/3/1), settled by the last reveal', [0, 0, 0, 1, 1, 1, 2], 0n],
            ['no quorum, one worker never committed and one never revealed (finalize)', ['uncommitted', 'unrevealed', 0, 1, 2, 3, 4], 2n],
        ])('posts a k=7 job with the largest URIs at exactly getPostCost(7), and its budget carries %s', async (_name, plan, slashes) => {
            const seven: SandboxContract<TreasuryContract>[] = [];
            for (let i = 0; i < 7; i++) {
                const w = await p.blockchain.treasury(`k7 worker ${i}`);
                await p.fund(w.address, p.params.minStake);
                expect(allSucceeded(await p.stake(w, p.params.minStake))).toBe(true);
                seven.push(w);
            }
            expect(allSucceeded(await p.stake(alice, p.params.minStake))).toBe(true);
            const price = 20n * FOG;
            const before = await p.balanceOf(alice.address);
            const posted = await p.toHub(
                alice,
                price,
                postPayload({ k: 7n, quorum: 4n, uris: urisOf(Number(MaxUriCells)) }),
                await p.hub.getPostCost(7n),
            );
            expect(allSucceeded(posted)).toBe(true);
            const job = await p.job(0n);
            const steps: SendMessageResult[] = [];
            for (const w of seven) steps.push(await p.claim(w, 0n));
            const result = (i: number) => hashOf(`k7 result ${plan[i]}`);
            for (const [i, w] of seven.entries()) if (plan[i] !== 'uncommitted') steps.push(await p.commit(w, 0n, result(i)));
            const s = await job.getJobState();
            if (plan.includes('uncommitted')) p.blockchain.now = Number(s.commitUntil) + 1;
            for (const [i, w] of seven.entries()) if (typeof plan[i] === 'number') steps.push(await p.reveal(w, 0n, result(i)));
            if (plan.includes('unrevealed')) {
                p.blockchain.now = Number(s.revealUntil) + 1;
                steps.push(await p.finalize(workers[0], 0n));
            }
            for (const r of steps) expect(allSucceeded(r)).toBe(true);
            const end = await job.getJobState();
            expect(end.phase).toBe(PhaseFailed);
            expect((await p.blockchain.getContract(job.address)).balance).toBe(0n);
            // the price came back, the slashes were burned, nothing was left stray
            expect(await p.balanceOf(alice.address)).toBe(before);
            const h = await p.hub.getHubState();
            expect([h.totalEscrow, h.strays]).toEqual([0n, 0n]);
            expect(h.totalStaked).toBe(8n * p.params.minStake - slashes * ((p.params.collateral * p.params.slashBps) / Bps));
            expect(await hubFog()).toBe(h.totalStaked);
        });

        it('has the client refuse URIs the hub would refuse, before anything is sent', () => {
            expect(MAX_URI_CELLS).toBe(Number(MaxUriCells));
            const program = readFileSync(join(DIST, 'examples', 'upper.wasm'));
            const request = (url: string) => ({ program, input: Buffer.from('input'), urlOf: (h: string) => `${url}/${h}` });
            // URLs of 7 full cells each and the root: 15 cells, accepted; one byte more in each: 17, refused
            expect(() => jobSpec(request('h'.repeat(127 * 7 - 65)))).not.toThrow();
            expect(() => jobSpec(request('h'.repeat(127 * 7 - 64)))).toThrow(/URIs take 17 cells; a job allows 16/);
        });

        it('records FOG whose TON cannot pay for sending it back as strays, with a StrayEvent', async () => {
            // Exactly what the wallet's transfer alone needs: after the hub's own compute a refund would fall short.
            const forwardTon = await (await p.walletOf(alice.address)).getTransferCost(0n, 0n);
            const before = await p.balanceOf(alice.address);
            const r = await p.toHub(
                alice,
                7n * FOG,
                payload((b) => b.storeUint(0xdeadbeef, 32)),
                forwardTon,
            );
            const hubWallet = (await p.hub.getHubState()).wallet;
            expect(allSucceeded(r)).toBe(true);
            expect(r.transactions).not.toHaveTransaction({ from: p.hub.address, to: hubWallet });
            const events = r.externals
                .filter((e) => e.body.beginParse().preloadUint(32) === OP.StrayEvent)
                .map((e) => loadStrayEvent(e.body.beginParse()));
            expect(events).toHaveLength(1);
            expect(events[0].from.equals(alice.address)).toBe(true);
            expect([events[0].amount, events[0].total]).toEqual([7n * FOG, 7n * FOG]);
            expect((await p.hub.getHubState()).strays).toBe(7n * FOG);
            expect(await p.balanceOf(alice.address)).toBe(before - 7n * FOG);
            expect(await hubFog()).toBe(7n * FOG);
        });

        it('records a transfer its wallet refused as strays', async () => {
            const hubWallet = (await p.hub.getHubState()).wallet;
            const original = beginCell()
                .store(
                    storeJettonTransfer({
                        $$type: 'JettonTransfer',
                        queryId: 0n,
                        amount: 3n * FOG,
                        destination: alice.address,
                        responseDestination: alice.address,
                        customPayload: null,
                        forwardTonAmount: 0n,
                        forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
                    }),
                )
                .endCell();
            const r = await deliverBounce(p.blockchain, hubWallet, p.hub.address, original, toNano('0.005'));
            expect(allSucceeded(r)).toBe(true);
            expect((await p.hub.getHubState()).strays).toBe(3n * FOG);
        });
    });

    describe('return_stray', () => {
        beforeEach(async () => {
            const forwardTon = await (await p.walletOf(alice.address)).getTransferCost(0n, 0n);
            await p.toHub(
                alice,
                7n * FOG,
                payload((b) => b.storeUint(0xdeadbeef, 32)),
                forwardTon,
            );
            expect((await p.hub.getHubState()).strays).toBe(7n * FOG);
        });
        const returnStray = (from: SandboxContract<TreasuryContract>, amount: bigint) =>
            p.hub.send(from.getSender(), { value: toNano('0.2') }, { $$type: 'ReturnStray', queryId: 0n, to: alice.address, amount });

        it('pays the strays out to the address the admin names', async () => {
            const before = await p.balanceOf(alice.address);
            const r = await returnStray(p.admin, 7n * FOG);
            expect(allSucceeded(r)).toBe(true);
            expect(await p.balanceOf(alice.address)).toBe(before + 7n * FOG);
            expect((await p.hub.getHubState()).strays).toBe(0n);
            expect(await hubFog()).toBe(0n);
        });

        it('keeps the strays when the payout transfer bounces for lack of TON', async () => {
            const value = await (await p.walletOf(alice.address)).getTransferCost(0n, 0n);
            const r = await p.hub.send(
                p.admin.getSender(),
                { value },
                { $$type: 'ReturnStray', queryId: 0n, to: alice.address, amount: 7n * FOG },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, inMessageBounced: true, success: true });
            expect((await p.hub.getHubState()).strays).toBe(7n * FOG);
            expect(await hubFog()).toBe(7n * FOG);
        });

        it('refuses anyone but the admin', async () => {
            const r = await returnStray(alice, 7n * FOG);
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the admin'] });
            expect((await p.hub.getHubState()).strays).toBe(7n * FOG);
        });

        it('refuses more than the strays', async () => {
            const r = await returnStray(p.admin, 7n * FOG + 1n);
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['More than the strays'] });
            expect((await p.hub.getHubState()).strays).toBe(7n * FOG);
        });
    });

    describe('bounced jetton_burn', () => {
        it('records the FOG of a burn the wallet refused as strays', async () => {
            const wallet = (await p.hub.getHubState()).wallet;
            const burn = beginCell()
                .store(
                    storeJettonBurn({
                        $$type: 'JettonBurn',
                        queryId: 3n,
                        amount: 5n * FOG,
                        responseDestination: null,
                        customPayload: null,
                    }),
                )
                .endCell();
            const r = await deliverBounce(p.blockchain, wallet, p.hub.address, burn, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: true });
            expect(r.externals.map((e) => loadStrayEvent(e.body.beginParse()).total)).toEqual([5n * FOG]);
            expect((await p.hub.getHubState()).strays).toBe(5n * FOG);
        });
    });

    describe('provider_pass_mint', () => {
        it('relays the pass mint of a provider that reaches minStake', async () => {
            const provider = await p.providerOf(alice.address);
            const r = await p.stake(alice, p.params.minStake);
            expect(r.transactions).toHaveTransaction({ from: provider.address, to: p.hub.address, op: OP.ProviderPassMint, success: true });
            expect(r.transactions).toHaveTransaction({ from: p.hub.address, to: p.collection.address, op: OP.PassMint, success: true });
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(true);
        });

        it("refuses a treasury posing as the owner's provider", async () => {
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                { $$type: 'ProviderPassMint', queryId: 0n, owner: alice.address, cores: 1n, memoryMb: 1n },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB["Only the owner's provider"] });
            expect(r.transactions).not.toHaveTransaction({ to: p.collection.address });
        });
    });

    describe('provider_pass_revoke', () => {
        it('relays the revoke of a provider slashed below minStake', async () => {
            const lie = hashOf('lie');
            const r = await runJob([hashOf('ok'), hashOf('ok'), lie]);
            const liar = await p.providerOf(workers[2].address);
            expect(r.transactions).toHaveTransaction({ from: liar.address, to: p.hub.address, op: OP.ProviderPassRevoke, success: true });
            expect(r.transactions).toHaveTransaction({ from: p.hub.address, to: p.collection.address, op: OP.PassRevoke, success: true });
            expect((await (await p.passOf(workers[2].address)).getPassState()).live).toBe(false);
            expect((await (await p.passOf(workers[0].address)).getPassState()).live).toBe(true);
        });

        // Known defect: the collection returns the revoke's surplus to the hub as excesses, which the hub has
        // no receiver for, so that last transaction fails (the TON stays with the hub). Flip to `it` once
        // the hub accepts excesses.
        it('relays a slash-triggered revoke without a failed transaction in the chain', async () => {
            const r = await runJob([hashOf('ok'), hashOf('ok'), hashOf('lie')]);
            expect(allSucceeded(r)).toBe(true);
        });

        it("refuses a treasury posing as the owner's provider", async () => {
            await p.stake(alice, p.params.minStake);
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                { $$type: 'ProviderPassRevoke', queryId: 0n, owner: alice.address },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB["Only the owner's provider"] });
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(true);
        });
    });

    describe('provider_payout', () => {
        it('pays unbonded stake out and lowers totalStaked', async () => {
            await p.stake(alice, 600n * FOG);
            const provider = await p.providerOf(alice.address);
            await provider.send(alice.getSender(), { value: GAS }, { $$type: 'Unstake', queryId: 0n, amount: 200n * FOG });
            p.blockchain.now = NOW + Number(p.params.unbondingPeriod);
            const before = await p.balanceOf(alice.address);
            const r = await provider.send(alice.getSender(), { value: GAS }, { $$type: 'WithdrawStake', queryId: 0n });
            expect(r.transactions).toHaveTransaction({ from: provider.address, to: p.hub.address, op: OP.ProviderPayout, success: true });
            expect(await p.balanceOf(alice.address)).toBe(before + 200n * FOG);
            expect((await p.hub.getHubState()).totalStaked).toBe(400n * FOG);
            expect(await hubFog()).toBe(400n * FOG);
        });

        it("refuses a treasury posing as the owner's provider", async () => {
            await p.stake(workers[0], 600n * FOG);
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                { $$type: 'ProviderPayout', queryId: 0n, amount: 600n * FOG, revokePass: false, owner: alice.address },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB["Only the owner's provider"] });
            expect((await p.hub.getHubState()).totalStaked).toBe(600n * FOG);
            expect(await hubFog()).toBe(600n * FOG);
        });
    });

    describe('job_closed', () => {
        it('burns the price and the slashed stake, records the epoch and releases the escrow', async () => {
            const supply = (await p.token.getGetJettonData()).totalSupply;
            const r = await runJob([hashOf('ok'), hashOf('ok'), hashOf('lie')]);
            const job = await p.job(0n);
            expect(r.transactions).toHaveTransaction({ from: job.address, to: p.hub.address, op: OP.JobClosed, success: true });
            const s = await p.hub.getHubState();
            expect(s.totalEscrow).toBe(0n);
            expect(s.totalStaked).toBe(4n * p.params.minStake - p.params.collateral);
            expect((await p.token.getGetJettonData()).totalSupply).toBe(supply - 50n * FOG - p.params.collateral);
            expect(await hubFog()).toBe(s.totalStaked);
            const e = await (await p.epoch(0n)).getEpochState();
            expect([e.burned, e.slashed, e.units]).toEqual([50n * FOG, p.params.collateral, 50n * FOG]);
        });

        it('refuses a treasury posing as the job', async () => {
            await p.stake(alice, p.params.minStake);
            await p.post(alice, 20n * FOG);
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                {
                    $$type: 'JobClosed',
                    id: 0n,
                    price: 20n * FOG,
                    slashed: 0n,
                    units: 0n,
                    epoch: 0n,
                    burn: false,
                    requester: alice.address,
                },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the job'] });
            expect((await p.hub.getHubState()).totalEscrow).toBe(20n * FOG);
        });
    });

    describe('mint_reward', () => {
        it('mints the reward an epoch grants a winner', async () => {
            await runJob([hashOf('ok'), hashOf('ok'), hashOf('lie')]);
            p.blockchain.now = NOW + Number(p.params.epochLength + p.params.closeDelay);
            const provider = await p.providerOf(workers[0].address);
            const before = await p.balanceOf(workers[0].address);
            const r = await provider.send(workers[0].getSender(), { value: GAS }, { $$type: 'ClaimRewards', queryId: 0n, epoch: 0n });
            const epoch = await p.epoch(0n);
            expect(r.transactions).toHaveTransaction({ from: epoch.address, to: p.hub.address, op: OP.MintReward, success: true });
            expect(r.transactions).toHaveTransaction({ from: p.hub.address, to: p.token.address, op: OP.Mint, success: true });
            const e = await epoch.getEpochState();
            expect(e.minted).toBe(e.emission / 2n);
            expect(await p.balanceOf(workers[0].address)).toBe(before + e.emission / 2n);
        });

        it('refuses a treasury posing as the epoch', async () => {
            const supply = (await p.token.getGetJettonData()).totalSupply;
            const r = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.5') },
                { $$type: 'MintReward', epoch: 0n, amount: 1_000_000n * FOG, owner: alice.address },
            );
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the epoch'] });
            expect((await p.token.getGetJettonData()).totalSupply).toBe(supply);
        });
    });

    describe('set_params', () => {
        const setParams = (from: SandboxContract<TreasuryContract>, overrides: Partial<Params>) =>
            p.hub.send(
                from.getSender(),
                { value: toNano('0.2') },
                { $$type: 'SetParams', queryId: 0n, params: { ...p.params, ...overrides } },
            );

        it('stores valid parameters from the admin, readable through getParams, and returns the rest', async () => {
            const next = { ...p.params, minStake: 2_000n * FOG, maxK: 5n, minJobPrice: 3n * FOG, emissionCap: 50_000n * FOG };
            const r = await setParams(p.admin, next);
            expect(r.transactions).toHaveTransaction({ from: p.hub.address, to: p.admin.address, op: OP.Excesses });
            expect(r.externals.map((e) => e.body.beginParse().preloadUint(32))).toEqual([OP.ParamsEvent]);
            expect(await p.hub.getParams()).toEqual(next);
            const before = await p.balanceOf(alice.address);
            await expectSentBack(await p.post(alice, 2n * FOG), before, RefusedPost, RefusePriceTooLow, 2n * FOG);
        });

        it('refuses anyone but the admin', async () => {
            const r = await setParams(alice, { minStake: 1n * FOG, collateral: 1n * FOG });
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the admin'] });
            expect(await p.hub.getParams()).toEqual(p.params);
        });

        it.each<[string, Partial<Params>, keyof typeof Hub.errors]>([
            ['maxK = 0', { maxK: 0n }, 'maxK must be 1..7'],
            [`maxK = ${MaxReplication + 1n}`, { maxK: MaxReplication + 1n }, 'maxK must be 1..7'],
            ['slashBps above 10000', { slashBps: 10_001n }, 'slashBps must be at most 10000'],
            ['collateral = 0', { collateral: 0n }, 'minStake must cover one collateral'],
            ['minStake below collateral', { minStake: 99n * FOG, collateral: 100n * FOG }, 'minStake must cover one collateral'],
            ['a new epoch length', { epochLength: 3_600n, closeDelay: 0n }, 'The epoch schedule is fixed'],
            ['a new epoch start', { epochStart: 1n }, 'The epoch schedule is fixed'],
            ['closeDelay = epochLength', { closeDelay: 86_400n }, 'closeDelay must be shorter than an epoch'],
            ['claimWindow = 0', { claimWindow: 0n }, 'Windows must be positive'],
            ['commitWindow = 0', { commitWindow: 0n }, 'Windows must be positive'],
            ['revealWindow = 0', { revealWindow: 0n }, 'Windows must be positive'],
            ['claimWindow above maxWindow', { claimWindow: 86_401n }, 'Default windows must be within maxWindow'],
            ['commitWindow above maxWindow', { maxWindow: 1_000n }, 'Default windows must be within maxWindow'],
            ['revealWindow above maxWindow', { revealWindow: 86_401n }, 'Default windows must be within maxWindow'],
            ['emissionBase above emissionCap', { emissionBase: 100_000n * FOG + 1n }, 'emissionBase must be at most emissionCap'],
            // the base of each side's time in a match; a job adds a part that grows with its fuel limit
            ['disputeAllowance above a day', { disputeAllowance: 86_401n }, 'disputeAllowance must be at most a day'],
        ])('refuses %s', async (_name, overrides, reason) => {
            const r = await setParams(p.admin, overrides);
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB[reason] });
            expect(await p.hub.getParams()).toEqual(p.params);
        });
    });

    describe('two-step admin handover', () => {
        const propose = (from: SandboxContract<TreasuryContract>, to: SandboxContract<TreasuryContract> | null) =>
            p.hub.send(from.getSender(), { value: toNano('0.05') }, { $$type: 'ProposeAdmin', queryId: 0n, newAdmin: to?.address ?? null });
        const claim = (from: SandboxContract<TreasuryContract>) =>
            p.hub.send(from.getSender(), { value: toNano('0.05') }, { $$type: 'ClaimAdmin', queryId: 0n });

        it('moves the role only when the proposed admin claims it', async () => {
            expect(allSucceeded(await propose(p.admin, alice))).toBe(true);
            let s = await p.hub.getHubState();
            expect(s.admin.equals(p.admin.address) && s.pendingAdmin!.equals(alice.address)).toBe(true);
            expect(allSucceeded(await claim(alice))).toBe(true);
            s = await p.hub.getHubState();
            expect(s.admin.equals(alice.address)).toBe(true);
            expect(s.pendingAdmin).toBeNull();
            const old = await p.hub.send(
                p.admin.getSender(),
                { value: toNano('0.2') },
                { $$type: 'SetParams', queryId: 0n, params: p.params },
            );
            expect(old.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the admin'] });
            const now = await p.hub.send(
                alice.getSender(),
                { value: toNano('0.2') },
                { $$type: 'SetParams', queryId: 0n, params: p.params },
            );
            expect(allSucceeded(now)).toBe(true);
        });

        it('refuses a proposal from anyone but the admin', async () => {
            const r = await propose(alice, alice);
            expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: HUB['Only the admin'] });
            expect((await p.hub.getHubState()).pendingAdmin).toBeNull();
        });

        it('refuses a claim from anyone but the proposed admin, and any claim once the proposal is cancelled', async () => {
            let r = await claim(alice);
            expect(r.transactions).toHaveTransaction({
                to: p.hub.address,
                success: false,
                exitCode: HUB['Only the proposed admin may claim'],
            });
            await propose(p.admin, alice);
            r = await claim(workers[0]);
            expect(r.transactions).toHaveTransaction({
                to: p.hub.address,
                success: false,
                exitCode: HUB['Only the proposed admin may claim'],
            });
            await propose(p.admin, null);
            r = await claim(alice);
            expect(r.transactions).toHaveTransaction({
                to: p.hub.address,
                success: false,
                exitCode: HUB['Only the proposed admin may claim'],
            });
            expect((await p.hub.getHubState()).admin.equals(p.admin.address)).toBe(true);
        });
    });
});
