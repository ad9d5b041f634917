import '@ton/test-utils';
import { Address, Cell, Slice } from '@ton/core';
import { BlockchainSnapshot, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import { Hub, JobPostedEvent, OutcomeWon, PhaseDone, PhaseExpired, PhaseOpen, PhaseRejected, Ppm, ReputationWin } from '../wrappers/Hub';
import { EVENT_LOADERS } from '../client/events';
import { Job } from '../wrappers/Job';
import { Provider } from '../wrappers/Provider';
import { hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { allSucceeded, FOG, payload, Protocol, protocolFixture } from '../client/sandbox/protocol';

const HUB = Hub.errors;
const JOB = Job.errors;
const PROV = Provider.errors;
const OP = Hub.opcodes;

describe("protocol: a job's life", () => {
    let p: Protocol;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;

    let start: BlockchainSnapshot;

    // deployed and funded once; each test starts from that state (the emulator's snapshot)
    beforeAll(async () => {
        // a network that settles differing reveals by majority vote (disputeAllowance 0): these tests
        // make their slashes by vote; tests/job-dispute.spec.ts settles the same by dispute
        p = await protocolFixture({ disputeAllowance: 0n });
        workers = [];
        for (const name of ['w1', 'w2', 'w3', 'w4']) {
            const w = await p.blockchain.treasury(name);
            await p.fund(w.address, 5_000n * FOG);
            workers.push(w);
        }
        requester = workers[3];
        start = p.blockchain.snapshot();
    });
    beforeEach(() => p.blockchain.loadFrom(start));

    /** Stakes enough for a pass for each of the first `n` workers and the requester. */
    const stakeAll = async (n = 3) => {
        for (const w of [...workers.slice(0, n), requester]) {
            const r = await p.stake(w, 2_000n * FOG);
            expect(allSucceeded(r)).toBe(true);
        }
    };

    it('stakes, mints a pass on reaching the minimum, and escrows nothing', async () => {
        const w = workers[0];
        let r = await p.stake(w, 500n * FOG);
        expect(allSucceeded(r)).toBe(true);
        const provider = await p.providerOf(w.address);
        let state = await provider.getProviderState();
        expect(state.stake).toBe(500n * FOG);
        expect(state.passHeld).toBe(false);
        r = await p.stake(w, 600n * FOG);
        expect(allSucceeded(r)).toBe(true);
        state = await provider.getProviderState();
        expect(state.stake).toBe(1_100n * FOG);
        expect(state.passHeld).toBe(true);
        const pass = await p.passOf(w.address);
        expect((await pass.getPassState()).live).toBe(true);
        expect((await p.hub.getHubState()).totalStaked).toBe(1_100n * FOG);
        expect(await p.balanceOf(p.hub.address)).toBe(1_100n * FOG);
    });

    it('derives job and epoch addresses in the provider exactly as the hub does', async () => {
        await p.stake(workers[0], 10n * FOG);
        const provider = await p.providerOf(workers[0].address);
        for (const id of [0n, 1n, 12345n, 2n ** 63n]) {
            expect((await provider.getJobAddress(id)).equals(await p.hub.getJobAddress(id))).toBe(true);
        }
        for (const n of [0n, 7n, 4_000_000_000n]) {
            expect((await provider.getEpochAddress(n)).equals(await p.hub.getEpochAddress(n))).toBe(true);
        }
    });

    it('derives provider and pass addresses in the job exactly as the hub and the collection do', async () => {
        await stakeAll();
        await p.post(requester, 10n * FOG);
        const job = await p.job(0n);
        for (const w of workers) {
            expect((await job.getProviderAddress(w.address)).equals(await p.hub.getProviderAddress(w.address))).toBe(true);
        }
        expect((await job.getPassAddress()).equals(await p.collection.getPassAddress(requester.address))).toBe(true);
    });

    it("emits each step's event, every body exactly the layout messages.tact declares", async () => {
        await stakeAll();
        const events: { from: Address; body: Cell }[] = [];
        const run = async (r: SendMessageResult) => {
            expect(allSucceeded(r)).toBe(true);
            for (const e of r.externals) events.push({ from: e.info.src, body: e.body });
        };
        const result = hashOf('the answer');
        await run(await p.post(requester, 30n * FOG));
        for (const w of workers.slice(0, 3)) await run(await p.claim(w, 0n));
        for (const w of workers.slice(0, 3)) await run(await p.commit(w, 0n, result));
        for (const w of workers.slice(0, 3)) await run(await p.reveal(w, 0n, result));

        // Decode each with its generated loader, which must consume the whole body.
        const decoded = events.map(({ from, body }) => {
            const name = Object.entries(OP).find(([, op]) => op === body.beginParse().preloadUint(32))![0];
            const slice = body.beginParse();
            const value = (EVENT_LOADERS as unknown as Record<string, (s: Slice) => Record<string, unknown>>)[name](slice);
            expect([name, slice.remainingBits, slice.remainingRefs]).toEqual([name, 0, 0]);
            return { from, name, value };
        });
        const job = await p.job(0n);
        const state = await job.getJobState();
        const w = workers.slice(0, 3).map((t) => t.address);
        const of = (name: string) => decoded.filter((e) => e.name === name);
        expect(decoded.map((e) => e.name)).toEqual([
            'JobPostedEvent',
            'JobOpenedEvent',
            ...Array(3).fill('JobClaimedEvent'),
            ...Array(3).fill('CommittedEvent'),
            ...Array(3).fill('RevealedEvent'),
            'JobFinalizedEvent',
            ...Array(3).fill('SettledEvent'),
        ]);
        const posted = of('JobPostedEvent')[0].value as unknown as JobPostedEvent;
        expect(posted.job.equals(job.address) && posted.requester.equals(requester.address)).toBe(true);
        expect([posted.id, posted.price, posted.k]).toEqual([0n, 30n * FOG, 3n]);
        expect(of('JobOpenedEvent')[0].value).toMatchObject({
            id: 0n,
            claimUntil: state.claimUntil,
            commitUntil: state.commitUntil,
            revealUntil: state.revealUntil,
        });
        for (const [kind, count] of [
            ['JobClaimedEvent', 'claims'],
            ['CommittedEvent', 'commits'],
            ['RevealedEvent', 'reveals'],
        ] as const) {
            of(kind).forEach((e, i) => {
                expect(e.from.equals(job.address)).toBe(true);
                expect((e.value.worker as Address).equals(w[i])).toBe(true);
                expect([e.value.id, e.value[count]]).toEqual([0n, BigInt(i + 1)]);
            });
        }
        for (const e of of('RevealedEvent')) expect(e.value.resultHash).toBe(result);
        expect(of('JobFinalizedEvent')[0].value).toMatchObject({
            id: 0n,
            phase: PhaseDone,
            resultHash: result,
            winners: 3n,
            slashed: 0n,
            epoch: 0n,
        });
        of('SettledEvent').forEach((e, i) => {
            expect((e.value.owner as Address).equals(w[i])).toBe(true);
            expect(e.value).toMatchObject({
                jobId: 0n,
                outcome: OutcomeWon,
                slashed: 0n,
                units: 10n * FOG,
                stake: 2_000n * FOG,
                reputation: ReputationWin,
                // no match, no share of anyone's slash
                bonus: 0n,
            });
        });
    });

    it('runs a k=3 job to a verified result: winners earn units, the price is burned', async () => {
        await stakeAll();
        const supplyBefore = (await p.token.getGetJettonData()).totalSupply;
        const r = await p.post(requester, 50n * FOG);
        expect(allSucceeded(r)).toBe(true);
        const job = await p.job(0n);
        let s = await job.getJobState();
        expect(s.phase).toBe(PhaseOpen);
        expect((await p.hub.getHubState()).totalEscrow).toBe(50n * FOG);

        const result = hashOf('the answer');
        for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.claim(w, 0n))).toBe(true);
        for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.commit(w, 0n, result))).toBe(true);
        for (const w of workers.slice(0, 3)) expect(allSucceeded(await p.reveal(w, 0n, result))).toBe(true);

        s = await job.getJobState();
        expect(s.phase).toBe(PhaseDone);
        expect(s.result).toBe(result);
        for (const w of workers.slice(0, 3)) {
            const st = await (await p.providerOf(w.address)).getProviderState();
            expect(st.locked).toBe(0n);
            expect(st.openClaims).toBe(0n);
            expect(st.curUnits).toBe((50n * FOG) / 3n);
            expect(st.reputation).toBe(1n);
        }
        const hub = await p.hub.getHubState();
        expect(hub.totalEscrow).toBe(0n);
        expect((await p.token.getGetJettonData()).totalSupply).toBe(supplyBefore - 50n * FOG);
        expect(await p.balanceOf(p.hub.address)).toBe(hub.totalStaked);
        const epoch = await (await p.epoch(0n)).getEpochState();
        expect(epoch.burned).toBe(50n * FOG);
        expect(epoch.units).toBe(3n * ((50n * FOG) / 3n));
        // The job holds no TON once settled.
        expect((await p.blockchain.getContract(job.address)).balance).toBe(0n);
    });

    it('slashes the one liar of three and settles on the honest result', async () => {
        await stakeAll();
        await p.post(requester, 50n * FOG);
        const honest = hashOf('honest');
        const lie = hashOf('lie');
        for (const w of workers.slice(0, 3)) await p.claim(w, 0n);
        await p.commit(workers[0], 0n, honest);
        await p.commit(workers[1], 0n, honest);
        await p.commit(workers[2], 0n, lie);
        await p.reveal(workers[0], 0n, honest);
        await p.reveal(workers[1], 0n, honest);
        const r = await p.reveal(workers[2], 0n, lie);
        expect(allSucceeded(r)).toBe(true);
        const s = await (await p.job(0n)).getJobState();
        expect(s.phase).toBe(PhaseDone);
        expect(s.result).toBe(honest);
        const liar = await (await p.providerOf(workers[2].address)).getProviderState();
        expect(liar.stake).toBe(2_000n * FOG - p.params.collateral);
        expect(liar.slashCount).toBe(1n);
        expect(liar.curUnits).toBe(0n);
        const winner = await (await p.providerOf(workers[0].address)).getProviderState();
        expect(winner.curUnits).toBe(25n * FOG);
        expect(await p.balanceOf(p.hub.address)).toBe((await p.hub.getHubState()).totalStaked);
    });

    it('slashes a worker who never reveals, after the reveal deadline', async () => {
        await stakeAll();
        await p.post(requester, 50n * FOG);
        const result = hashOf('r');
        for (const w of workers.slice(0, 3)) await p.claim(w, 0n);
        for (const w of workers.slice(0, 3)) await p.commit(w, 0n, result);
        await p.reveal(workers[0], 0n, result);
        await p.reveal(workers[1], 0n, result);
        const early = await p.finalize(workers[0], 0n);
        expect(early.transactions).toHaveTransaction({ success: false, exitCode: JOB['Too early to finalize'] });
        const s0 = await (await p.job(0n)).getJobState();
        p.blockchain.now = Number(s0.revealUntil) + 1;
        expect(allSucceeded(await p.finalize(workers[0], 0n))).toBe(true);
        const s = await (await p.job(0n)).getJobState();
        expect(s.phase).toBe(PhaseDone);
        const lazy = await (await p.providerOf(workers[2].address)).getProviderState();
        expect(lazy.slashCount).toBe(1n);
    });

    it('expires a job nobody claims and refunds the requester in full', async () => {
        await stakeAll();
        const before = await p.balanceOf(requester.address);
        await p.post(requester, 50n * FOG);
        expect(await p.balanceOf(requester.address)).toBe(before - 50n * FOG);
        const s0 = await (await p.job(0n)).getJobState();
        p.blockchain.now = Number(s0.claimUntil) + 1;
        expect(allSucceeded(await p.finalize(workers[0], 0n))).toBe(true);
        expect((await (await p.job(0n)).getJobState()).phase).toBe(PhaseExpired);
        expect(await p.balanceOf(requester.address)).toBe(before);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    });

    it('rejects a job from someone without a pass and refunds in full', async () => {
        const stranger = workers[0];
        const before = await p.balanceOf(stranger.address);
        const r = await p.post(stranger, 50n * FOG);
        expect(r.transactions).toHaveTransaction({ op: OP.JobClosed });
        expect((await (await p.job(0n)).getJobState()).phase).toBe(PhaseRejected);
        expect(await p.balanceOf(stranger.address)).toBe(before);
    });

    it('sends back FOG with an unknown payload, and ignores notifications not from its wallet', async () => {
        const w = workers[0];
        const before = await p.balanceOf(w.address);
        await p.toHub(
            w,
            10n * FOG,
            payload((b) => b.storeUint(0xdeadbeef, 32)),
        );
        expect(await p.balanceOf(w.address)).toBe(before);
        const fake = await p.hub.send(
            w.getSender(),
            { value: toNanoStr('0.5') },
            {
                $$type: 'JettonTransferNotification',
                queryId: 0n,
                amount: 1_000_000n * FOG,
                sender: w.address,
                forwardPayload: payload((b) => b.storeBit(0)).beginParse(),
            },
        );
        expect(fake.transactions).toHaveTransaction({
            to: p.hub.address,
            success: false,
            exitCode: HUB['Notification from a foreign wallet'],
        });
    });

    it('claims the epoch reward after the epoch ends', async () => {
        await stakeAll();
        await p.post(requester, 60n * FOG);
        const result = hashOf('x');
        for (const w of workers.slice(0, 3)) await p.claim(w, 0n);
        for (const w of workers.slice(0, 3)) await p.commit(w, 0n, result);
        for (const w of workers.slice(0, 3)) await p.reveal(w, 0n, result);
        const provider = await p.providerOf(workers[0].address);
        const early = await provider.send(
            workers[0].getSender(),
            { value: toNanoStr('1') },
            { $$type: 'ClaimRewards', queryId: 0n, epoch: 0n },
        );
        expect(early.transactions).toHaveTransaction({ success: false, exitCode: Hub.errors['Epoch is not over'] });
        expect((await provider.getProviderState()).curUnits).toBe(20n * FOG);
        p.blockchain.now = NOW + Number(p.params.epochLength + p.params.closeDelay);
        const before = await p.balanceOf(workers[0].address);
        const r = await provider.send(
            workers[0].getSender(),
            { value: toNanoStr('1') },
            { $$type: 'ClaimRewards', queryId: 0n, epoch: 0n },
        );
        expect(allSucceeded(r)).toBe(true);
        const e = await (await p.epoch(0n)).getEpochState();
        expect(e.closed).toBe(true);
        const emission = p.params.emissionBase + (60n * FOG * p.params.emissionRatioPpm) / Ppm;
        expect(e.emission).toBe(emission);
        expect(await p.balanceOf(workers[0].address)).toBe(before + emission / 3n);
        const twice = await provider.send(
            workers[0].getSender(),
            { value: toNanoStr('1') },
            { $$type: 'ClaimRewards', queryId: 0n, epoch: 0n },
        );
        expect(twice.transactions).toHaveTransaction({ success: false, exitCode: PROV['Nothing to claim for this epoch'] });
    });

    it('unstakes free stake only, and withdraws after unbonding, revoking the pass', async () => {
        const w = workers[0];
        await p.stake(w, 1_000n * FOG);
        const provider = await p.providerOf(w.address);
        const tooMuch = await provider.send(
            w.getSender(),
            { value: toNanoStr('0.5') },
            { $$type: 'Unstake', queryId: 0n, amount: 1_001n * FOG },
        );
        expect(tooMuch.transactions).toHaveTransaction({ success: false, exitCode: PROV['Not enough free stake'] });
        await provider.send(w.getSender(), { value: toNanoStr('0.5') }, { $$type: 'Unstake', queryId: 0n, amount: 400n * FOG });
        const early = await provider.send(w.getSender(), { value: toNanoStr('1') }, { $$type: 'WithdrawStake', queryId: 0n });
        expect(early.transactions).toHaveTransaction({ success: false, exitCode: PROV['Still unbonding'] });
        p.blockchain.now = NOW + Number(p.params.unbondingPeriod);
        const before = await p.balanceOf(w.address);
        const r = await provider.send(w.getSender(), { value: toNanoStr('1') }, { $$type: 'WithdrawStake', queryId: 0n });
        expect(allSucceeded(r)).toBe(true);
        expect(await p.balanceOf(w.address)).toBe(before + 400n * FOG);
        expect((await provider.getProviderState()).passHeld).toBe(false);
        expect((await (await p.passOf(w.address)).getPassState()).live).toBe(false);
        expect(await p.balanceOf(p.hub.address)).toBe((await p.hub.getHubState()).totalStaked);
    });
});

function toNanoStr(ton: string): bigint {
    return BigInt(Math.round(Number(ton) * 1e9));
}
