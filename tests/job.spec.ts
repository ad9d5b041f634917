import '@ton/test-utils';
import { Address, beginCell, Cell, contractAddress, toNano } from '@ton/core';
import { BlockchainSnapshot, internal, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import {
    Bps,
    PhaseDone,
    PhaseExpired,
    PhaseFailed,
    PhaseOpen,
    PhaseRejected,
    PhaseVerifying,
    StageClaimed,
    StageCommitted,
    StageRevealed,
    storeJettonTransfer,
    storePostJobPayload,
} from '../wrappers/Hub';
import { Job, JobCreate, JobSpec, storeJobCommon, storeJobCreate, storeJobRecord, storeJobState } from '../wrappers/Job';
import { commitOf, hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { allSucceeded, FOG, GAS, payload, Protocol, protocolFixture, specOf } from '../client/sandbox/protocol';

const JOB = Job.errors;
const PRICE = 50n * FOG;
const RESULT = hashOf('the result');
const OTHER = hashOf('another result');
const SALT = 7n;

let p: Protocol;
let w: SandboxContract<TreasuryContract>[];
let requester: SandboxContract<TreasuryContract>, stranger: SandboxContract<TreasuryContract>;
let start: BlockchainSnapshot;

beforeAll(async () => {
    // a network that settles differing reveals by majority vote (disputeAllowance 0): these tests
    // make their slashes by vote; tests/job-dispute.spec.ts settles the same by dispute
    p = await protocolFixture({ disputeAllowance: 0n });
    w = [];
    for (const name of ['w1', 'w2', 'w3', 'w4']) w.push(await p.blockchain.treasury(name));
    requester = await p.blockchain.treasury('requester');
    stranger = await p.blockchain.treasury('stranger');
    for (const t of [...w, requester]) {
        await p.fund(t.address, 5_000n * FOG);
        expect(allSucceeded(await p.stake(t, 2_000n * FOG))).toBe(true);
    }
    start = p.blockchain.snapshot();
});

beforeEach(async () => {
    await p.blockchain.loadFrom(start);
    p.blockchain.now = NOW;
});

const accountId = (a: Address) => BigInt('0x' + a.hash.toString('hex'));
const stateOf = async (job: SandboxContract<Job>) =>
    beginCell()
        .store(storeJobState(await job.getJobState()))
        .endCell();
const providerState = async (t: SandboxContract<TreasuryContract>) => (await p.providerOf(t.address)).getProviderState();
const tonOf = async (a: Address) => (await p.blockchain.getContract(a)).balance;

/** Sends, expects the job to refuse it with `code`, and the job's whole state to be as it was. */
async function refusedUnchanged(job: SandboxContract<Job>, send: () => Promise<SendMessageResult>, code: number) {
    const before = await stateOf(job);
    const r = await send();
    expect(r.transactions).toHaveTransaction({ to: job.address, success: false, exitCode: code });
    expect((await stateOf(job)).equals(before)).toBe(true);
    return r;
}

/** The hub holds in FOG exactly what it owes: every stake and every open escrow. */
async function expectHubBalanced() {
    const h = await p.hub.getHubState();
    expect(await p.balanceOf(p.hub.address)).toBe(h.totalStaked + h.totalEscrow);
}

/** Posts a job from the requester (it passes the pass check and opens). */
async function open(spec: Partial<JobSpec> = {}) {
    const id = (await p.hub.getHubState()).nextJobId;
    expect(allSucceeded(await p.post(requester, PRICE, spec))).toBe(true);
    const job = await p.job(id);
    expect((await job.getJobState()).phase).toBe(PhaseOpen);
    return job;
}

async function claimed(n = 3) {
    const job = await open();
    for (const t of w.slice(0, n)) expect(allSucceeded(await p.claim(t, 0n))).toBe(true);
    return job;
}

async function committed(results: bigint[] = [RESULT, RESULT, RESULT]) {
    const job = await claimed();
    for (let i = 0; i < results.length; i++) expect(allSucceeded(await p.commit(w[i], 0n, results[i]))).toBe(true);
    return job;
}

/** A k=3 job settled on RESULT by its last reveal. */
async function settled() {
    const job = await committed();
    for (const t of w.slice(0, 3)) expect(allSucceeded(await p.reveal(t, 0n, RESULT))).toBe(true);
    return job;
}

/** Moves the clock one second past one of the job's deadlines. */
async function after(job: SandboxContract<Job>, deadline: 'claimUntil' | 'commitUntil' | 'revealUntil') {
    p.blockchain.now = Number((await job.getJobState())[deadline]) + 1;
}

const commitWith = (job: SandboxContract<Job>, t: SandboxContract<TreasuryContract>, value: bigint, commit: bigint) =>
    job.send(t.getSender(), { value }, { $$type: 'Commit', queryId: 0n, commit });
const revealWith = (job: SandboxContract<Job>, t: SandboxContract<TreasuryContract>, value: bigint, resultHash: bigint, salt = SALT) =>
    job.send(t.getSender(), { value }, { $$type: 'Reveal', queryId: 0n, resultHash, salt });
const createOf = (requesterAddress: Address): JobCreate => ({
    $$type: 'JobCreate',
    k: 3n,
    quorum: 2n,
    claimWindow: p.params.claimWindow,
    collateral: p.params.collateral,
    provider: { $$type: 'CodeId', hash: 0n, depth: 0n },
    pass: accountId(requesterAddress),
    record: beginCell()
        .store(
            storeJobRecord({
                $$type: 'JobRecord',
                common: beginCell()
                    .store(
                        storeJobCommon({
                            $$type: 'JobCommon',
                            requester: requesterAddress,
                            price: PRICE,
                            slashBps: p.params.slashBps,
                            epochStart: p.params.epochStart,
                            epochLength: p.params.epochLength,
                            claimWindow: p.params.claimWindow,
                            commitWindow: p.params.commitWindow,
                            revealWindow: p.params.revealWindow,
                            dispute: { $$type: 'CodeId', hash: 0n, depth: 0n },
                            allowance: 0n,
                        }),
                    )
                    .endCell(),
                posting: beginCell().endCell(),
                initialRoot: 0n,
                pass: accountId(requesterAddress),
                group: null,
                input: null,
            }),
        )
        .endCell(),
});
const jobCreate = (requesterAddress: Address): Cell =>
    beginCell()
        .store(storeJobCreate(createOf(requesterAddress)))
        .endCell();

/**
 * Posts a job from the requester one transaction at a time and stops right after the job's
 * job_create: the job exists in phase verifying and the pass's owner_info is still in flight.
 */
async function postUntilVerifying() {
    const wallet = await p.walletOf(requester.address);
    const post = payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf() }));
    const body = beginCell()
        .store(
            storeJettonTransfer({
                $$type: 'JettonTransfer',
                queryId: 0n,
                amount: PRICE,
                destination: p.hub.address,
                responseDestination: requester.address,
                customPayload: null,
                forwardTonAmount: toNano('1'),
                forwardPayload: beginCell().storeBit(1).storeRef(post).endCell().beginParse(),
            }),
        )
        .endCell();
    const it = await p.blockchain.sendMessageIter(internal({ from: requester.address, to: wallet.address, value: toNano('1.1'), body }), {
        allowParallel: true,
    });
    const job = await p.job(0n);
    for (let step = await it.next(); !step.done && step.value.address !== accountId(job.address); step = await it.next());
    return {
        job,
        finish: async () => {
            while (!(await it.next()).done);
        },
    };
}

/** A job posted by the stranger, who holds no pass: the pass check rejects it. */
async function rejectedJob() {
    await p.fund(stranger.address, PRICE);
    await p.post(stranger, PRICE);
    const job = await p.job(0n);
    expect((await job.getJobState()).phase).toBe(PhaseRejected);
    return job;
}

/** Anyone may ask a pass for its owner_info on behalf of `dest`; the pass answers with the value. */
const askPass = async (owner: Address, dest: Address) =>
    (await p.passOf(owner)).send(
        stranger.getSender(),
        { value: toNano('0.1') },
        {
            $$type: 'RequestOwner',
            queryId: 0n,
            dest,
            forwardPayload: beginCell().endCell(),
            withContent: false,
        },
    );
const forgedOwnerInfo = (job: SandboxContract<Job>, from: SandboxContract<TreasuryContract>) =>
    job.send(
        from.getSender(),
        { value: toNano('0.1') },
        {
            $$type: 'OwnerInfo',
            queryId: 0n,
            itemId: accountId(from.address),
            initiator: job.address,
            owner: from.address,
            data: beginCell().endCell(),
            revokedAt: 0n,
            content: null,
        },
    );

/** A job posted by a staker whose pass was revoked (it unstaked below the minimum and withdrew). */
async function postWithRevokedPass() {
    const leaver = await p.blockchain.treasury('leaver');
    await p.fund(leaver.address, 2_000n * FOG);
    await p.stake(leaver, 1_000n * FOG);
    const provider = await p.providerOf(leaver.address);
    await provider.send(leaver.getSender(), { value: toNano('0.5') }, { $$type: 'Unstake', queryId: 0n, amount: 1n * FOG });
    p.blockchain.now = NOW + Number(p.params.unbondingPeriod);
    expect(allSucceeded(await provider.send(leaver.getSender(), { value: toNano('1') }, { $$type: 'WithdrawStake', queryId: 0n }))).toBe(
        true,
    );
    const pass = await (await p.passOf(leaver.address)).getPassState();
    expect(pass.live === false && pass.revokedAt > 0n).toBe(true);
    const fogBefore = await p.balanceOf(leaver.address);
    return { leaver, fogBefore, r: await p.post(leaver, PRICE), job: await p.job(0n) };
}

async function expectRejectedAndRefunded(job: SandboxContract<Job>, requesterOf: SandboxContract<TreasuryContract>, fogBefore: bigint) {
    expect((await job.getJobState()).phase).toBe(PhaseRejected);
    expect(await p.balanceOf(requesterOf.address)).toBe(fogBefore);
    expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    expect(await tonOf(job.address)).toBe(0n);
    await expectHubBalanced();
}

describe('job_create', () => {
    it("records the requester, price, spec and the hub's terms, and opens after the pass check", async () => {
        const job = await open({ claimWindow: 100n });
        const s = await job.getJobState();
        const claimUntil = BigInt(NOW) + 100n;
        expect(s).toMatchObject({
            price: PRICE,
            claimUntil,
            commitUntil: claimUntil + p.params.commitWindow,
            claims: 0n,
            commits: 0n,
            reveals: 0n,
        });
        expect(s.revealUntil).toBe(s.commitUntil + p.params.revealWindow);
        expect(s.requester.equals(requester.address) && s.terms.collection.equals(p.collection.address)).toBe(true);
        expect([s.spec.k, s.terms.collateral, s.terms.slashBps]).toEqual([3n, p.params.collateral, p.params.slashBps]);
        expect((await p.hub.getHubState()).totalEscrow).toBe(PRICE);
        await expectHubBalanced();
    });

    it('refuses a job_create from anyone but the hub on an existing job', async () => {
        const job = await open();
        await refusedUnchanged(
            job,
            () => job.send(stranger.getSender(), { value: toNano('0.5') }, createOf(stranger.address)),
            JOB['Only the hub'],
        );
    });

    it('refuses a forged deploy of a future job, which the hub can still post', async () => {
        // the StateInit the hub will deploy job 0 with: its data, and the hub's job code (a library cell)
        const future = { code: await p.hub.getJobCode(), data: (await Job.fromInit(p.hub.address, 0n, null)).init!.data };
        expect(contractAddress(0, future).equals((await p.job(0n)).address)).toBe(true);
        const r = await p.blockchain.sendMessage(
            internal({
                from: stranger.address,
                to: contractAddress(0, future),
                value: toNano('0.5'),
                body: jobCreate(stranger.address),
                stateInit: future,
            }),
        );
        expect(r.transactions).toHaveTransaction({ to: (await p.job(0n)).address, success: false, exitCode: JOB['Only the hub'] });
        const job = await open();
        expect((await job.getJobState()).requester.equals(requester.address)).toBe(true);
    });

    it('refuses a second job_create, even from the hub', async () => {
        const job = await open();
        await refusedUnchanged(
            job,
            () =>
                p.blockchain.sendMessage(
                    internal({
                        from: p.hub.address,
                        to: job.address,
                        value: toNano('0.5'),
                        body: jobCreate(stranger.address),
                    }),
                ),
            JOB['Job exists'],
        );
    });
});

describe('owner_info', () => {
    it("opens the job when the requester's live pass answers, and refuses a forged answer meanwhile", async () => {
        const { job, finish } = await postUntilVerifying();
        expect((await job.getJobState()).phase).toBe(PhaseVerifying);
        await refusedUnchanged(job, () => forgedOwnerInfo(job, requester), JOB["Only the requester's pass"]);
        expect((await job.getJobState()).phase).toBe(PhaseVerifying);
        await finish();
        expect(await job.getJobState()).toMatchObject({ phase: PhaseOpen, claimUntil: BigInt(NOW) + p.params.claimWindow });
    });

    it('refuses a forged owner_info that would open a rejected job', async () => {
        const job = await rejectedJob();
        await refusedUnchanged(job, () => forgedOwnerInfo(job, stranger), JOB["Only the requester's pass"]);
    });

    it('refuses a second answer of the genuine pass once the job is open', async () => {
        const job = await open();
        await refusedUnchanged(job, () => askPass(requester.address, job.address), JOB['Job is not being verified']);
    });

    it("rejects a job whose requester's pass was revoked, on the pass's own answer, refunding in full", async () => {
        const { leaver, fogBefore, r, job } = await postWithRevokedPass();
        expect(r.transactions).not.toHaveTransaction({ to: job.address, success: false });
        await expectRejectedAndRefunded(job, leaver, fogBefore);
    });
});

describe('job_claim', () => {
    it('gives the first claimant slot 0 and locks its collateral', async () => {
        const job = await claimed(1);
        const s = await job.getJobState();
        expect(s.claims).toBe(1n);
        expect(s.slots.get(0)!.worker.equals(w[0].address)).toBe(true);
        expect(s.slots.get(0)).toMatchObject({
            provider: accountId((await p.providerOf(w[0].address)).address),
            stage: StageClaimed,
            hash: 0n,
        });
        expect(await providerState(w[0])).toMatchObject({ locked: p.params.collateral, openClaims: 1n });
    });

    it('refuses a forged job_claim sent straight from a wallet, not from a Provider', async () => {
        const job = await open();
        const forged = (owner: Address) =>
            job.send(
                stranger.getSender(),
                { value: toNano('0.1') },
                { $$type: 'JobClaim', jobId: 0n, collateral: p.params.collateral, owner },
            );
        for (const owner of [stranger.address, w[0].address])
            await refusedUnchanged(job, () => forged(owner), JOB["Only the worker's provider"]);
    });

    it('refuses the same provider twice, and the bounce undoes the second lock', async () => {
        const job = await claimed(1);
        const provider = await p.providerOf(w[0].address);
        const r = await refusedUnchanged(job, () => p.claim(w[0], 0n), JOB['Already claimed']);
        expect(r.transactions).toHaveTransaction({ from: job.address, to: provider.address, inMessageBounced: true, success: true });
        expect(await provider.getProviderState()).toMatchObject({ stake: 2_000n * FOG, locked: p.params.collateral, openClaims: 1n });
    });

    it("refuses a 4th claim on a k=3 job, and the 4th provider's lock is undone", async () => {
        const job = await claimed(3);
        const r = await refusedUnchanged(job, () => p.claim(w[3], 0n), JOB['Job is fully claimed']);
        expect(r.transactions).toHaveTransaction({
            from: job.address,
            to: (await p.providerOf(w[3].address)).address,
            inMessageBounced: true,
        });
        expect(await providerState(w[3])).toMatchObject({ stake: 2_000n * FOG, locked: 0n, openClaims: 0n });
    });

    it('refuses a claim after the claim window, and unlocks', async () => {
        const job = await open();
        await after(job, 'claimUntil');
        await refusedUnchanged(job, () => p.claim(w[0], 0n), JOB['Claim window is over']);
        expect(await providerState(w[0])).toMatchObject({ locked: 0n, openClaims: 0n });
    });

    it('refuses a claim on a job that is not open (rejected), and unlocks', async () => {
        const job = await rejectedJob();
        await refusedUnchanged(job, () => p.claim(w[0], 0n), JOB['Job is not open']);
        expect(await providerState(w[0])).toMatchObject({ locked: 0n, openClaims: 0n });
    });

    it("locks each job's own collateral: a parameter change moves new jobs only, and a claim of another amount unlocks", async () => {
        const before = await open();
        const old = p.params.collateral;
        await p.hub.send(
            p.admin.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'SetParams',
                queryId: 0n,
                params: { ...p.params, collateral: 2n * old },
            },
        );
        const after = await open();
        expect((await before.getJobState()).terms.collateral).toBe(old);
        expect((await after.getJobState()).terms.collateral).toBe(2n * old);
        await refusedUnchanged(after, () => p.claim(w[0], 1n, GAS, old), JOB["Collateral differs from the job's terms"]);
        expect(await providerState(w[0])).toMatchObject({ locked: 0n, openClaims: 0n });
        expect(allSucceeded(await p.claim(w[0], 0n, GAS, old))).toBe(true);
        expect(allSucceeded(await p.claim(w[0], 1n, GAS, 2n * old))).toBe(true);
        expect(await providerState(w[0])).toMatchObject({ locked: 3n * old, openClaims: 2n });
    });
});

describe('commit', () => {
    it("records a claimant's commit paid with exactly commit_cost, and refuses one nanoton less", async () => {
        const job = await claimed();
        const cost = await job.getCommitCost();
        const commit = commitOf(RESULT, w[0].address, SALT);
        await refusedUnchanged(job, () => commitWith(job, w[0], cost - 1n, commit), JOB['Insufficient TON for commit']);
        const r = await commitWith(job, w[0], cost, commit);
        expect(r.transactions).toHaveTransaction({ from: w[0].address, to: job.address, success: true });
        const s = await job.getJobState();
        expect(s.commits).toBe(1n);
        expect(s.slots.get(0)).toMatchObject({ stage: StageCommitted, hash: commit });
    });

    it('refuses a commit from anyone holding no claim on the job', async () => {
        const job = await claimed(2);
        for (const t of [w[3], stranger])
            await refusedUnchanged(
                job,
                () => commitWith(job, t, toNano('0.05'), commitOf(RESULT, t.address, SALT)),
                JOB['Not a claimant of this job'],
            );
    });

    it('refuses a second commit, keeping the first', async () => {
        const job = await claimed();
        await p.commit(w[0], 0n, RESULT);
        await refusedUnchanged(job, () => p.commit(w[0], 0n, OTHER), JOB['Already committed']);
        expect((await job.getJobState()).slots.get(0)!.hash).toBe(commitOf(RESULT, w[0].address, SALT));
    });

    it('refuses a commit after the commit window', async () => {
        const job = await claimed();
        await after(job, 'commitUntil');
        await refusedUnchanged(job, () => p.commit(w[0], 0n, RESULT), JOB['Commit window is over']);
    });

    it('refuses a commit on a job that is not open', async () => {
        const job = await rejectedJob();
        await refusedUnchanged(job, () => p.commit(w[0], 0n, RESULT), JOB['Job is not open']);
    });
});

describe('reveal', () => {
    it('records a matching reveal paid with exactly reveal_cost, and refuses one nanoton less', async () => {
        const job = await committed();
        const cost = await job.getRevealCost();
        await refusedUnchanged(job, () => revealWith(job, w[0], cost - 1n, RESULT), JOB['Insufficient TON for reveal']);
        const r = await revealWith(job, w[0], cost, RESULT);
        expect(r.transactions).toHaveTransaction({ from: w[0].address, to: job.address, success: true });
        expect(await job.getJobState()).toMatchObject({ phase: PhaseOpen, reveals: 1n });
        expect((await job.getJobState()).slots.get(0)).toMatchObject({ stage: StageRevealed, hash: RESULT });
    });

    it('settles on the last reveal paid with exactly reveal_cost', async () => {
        const job = await committed();
        const cost = await job.getRevealCost();
        for (const t of w.slice(0, 3))
            expect((await revealWith(job, t, cost, RESULT)).transactions).toHaveTransaction({ to: job.address, success: true });
        expect((await job.getJobState()).phase).toBe(PhaseDone);
    });

    it('settles on the last reveal (quorum result, collateral released, 0 TON left, hub balanced), then refuses reveals', async () => {
        const job = await settled();
        expect(await job.getJobState()).toMatchObject({ phase: PhaseDone, result: RESULT });
        for (const t of w.slice(0, 3)) expect((await providerState(t)).locked).toBe(0n);
        expect(await tonOf(job.address)).toBe(0n);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
        await expectHubBalanced();
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, RESULT), JOB['Job is not open']);
    });

    it('settles without a quorum when all three disagree: nobody slashed, the requester refunded', async () => {
        const before = await p.balanceOf(requester.address);
        const results = [RESULT, OTHER, hashOf('a third result')];
        const job = await committed(results);
        for (let i = 0; i < 3; i++) await p.reveal(w[i], 0n, results[i]);
        expect((await job.getJobState()).phase).toBe(PhaseFailed);
        for (const t of w.slice(0, 3)) expect(await providerState(t)).toMatchObject({ stake: 2_000n * FOG, locked: 0n, slashCount: 0n });
        expect(await p.balanceOf(requester.address)).toBe(before);
        expect(await tonOf(job.address)).toBe(0n);
        await expectHubBalanced();
    });

    it('refuses a reveal from anyone holding no claim on the job', async () => {
        const job = await committed();
        await refusedUnchanged(job, () => p.reveal(w[3], 0n, RESULT), JOB['Not a claimant of this job']);
    });

    it('refuses a reveal while a claimant has not committed and the commit window is open, and accepts it after', async () => {
        const job = await committed([RESULT, RESULT]);
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, RESULT), JOB['Reveal phase has not started']);
        await after(job, 'commitUntil');
        expect(allSucceeded(await p.reveal(w[0], 0n, RESULT))).toBe(true);
        expect((await job.getJobState()).reveals).toBe(1n);
    });

    it('refuses a reveal of another result or another salt than the commit', async () => {
        const job = await committed();
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, OTHER), JOB['Reveal does not match the commit']);
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, RESULT, SALT + 1n), JOB['Reveal does not match the commit']);
    });

    it("refuses a copied commit revealed by the copier: the commit binds the worker's address", async () => {
        const job = await claimed();
        const [a, b, c] = w;
        const aCommit = commitOf(RESULT, a.address, SALT);
        await p.commit(a, 0n, RESULT);
        expect(allSucceeded(await commitWith(job, b, toNano('0.05'), aCommit))).toBe(true);
        await p.commit(c, 0n, RESULT);
        expect((await job.getJobState()).slots.get(1)!.hash).toBe(aCommit);
        await refusedUnchanged(job, () => p.reveal(b, 0n, RESULT, SALT), JOB['Reveal does not match the commit']);
        expect(allSucceeded(await p.reveal(a, 0n, RESULT, SALT))).toBe(true);
    });

    it('refuses a reveal from a claimant that never committed', async () => {
        const job = await committed([RESULT, RESULT]);
        await after(job, 'commitUntil');
        await refusedUnchanged(job, () => p.reveal(w[2], 0n, RESULT), JOB['Nothing to reveal']);
    });

    it('refuses a reveal after the reveal window', async () => {
        const job = await committed();
        await after(job, 'revealUntil');
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, RESULT), JOB['Reveal window is over']);
    });
});

describe('finalize', () => {
    it('refuses to finalize while the job can still progress', async () => {
        const job = await claimed(2);
        await refusedUnchanged(job, () => p.finalize(stranger, 0n), JOB['Too early to finalize']);
        await p.claim(w[2], 0n);
        const s = await job.getJobState();
        for (const t of [s.claimUntil + 1n, s.revealUntil]) {
            p.blockchain.now = Number(t);
            await refusedUnchanged(job, () => p.finalize(stranger, 0n), JOB['Too early to finalize']);
        }
    });

    it('expires an under-claimed job after the claim window: collateral released, the requester refunded', async () => {
        const before = await p.balanceOf(requester.address);
        const job = await claimed(1);
        await after(job, 'claimUntil');
        expect(allSucceeded(await p.finalize(stranger, 0n))).toBe(true);
        expect((await job.getJobState()).phase).toBe(PhaseExpired);
        expect(await providerState(w[0])).toMatchObject({ stake: 2_000n * FOG, locked: 0n, openClaims: 0n, slashCount: 0n });
        expect(await p.balanceOf(requester.address)).toBe(before);
        expect(await tonOf(job.address)).toBe(0n);
        await expectHubBalanced();
    });

    it('settles after the reveal deadline when anyone pokes it, slashing the one who never revealed; then refuses', async () => {
        const job = await committed();
        await p.reveal(w[0], 0n, RESULT);
        await p.reveal(w[1], 0n, RESULT);
        await after(job, 'revealUntil');
        const r = await p.finalize(stranger, 0n);
        expect(allSucceeded(r)).toBe(true);
        expect(r.transactions).toHaveTransaction({ from: job.address, to: stranger.address, op: Job.opcodes.Excesses });
        expect(await job.getJobState()).toMatchObject({ phase: PhaseDone, result: RESULT });
        const slashed = (p.params.collateral * p.params.slashBps) / Bps;
        expect(await providerState(w[2])).toMatchObject({ stake: 2_000n * FOG - slashed, locked: 0n, slashCount: 1n });
        expect(await providerState(w[0])).toMatchObject({ stake: 2_000n * FOG, locked: 0n, curUnits: PRICE / 2n });
        expect(await tonOf(job.address)).toBe(0n);
        await expectHubBalanced();
        await refusedUnchanged(job, () => p.finalize(stranger, 0n), JOB['Job is not open']);
    });

    it('settles a job short of commits when its one committer reveals after the commit deadline: no quorum, the requester refunded, the two who never committed slashed', async () => {
        const job = await claimed();
        const before = await p.balanceOf(requester.address);
        expect(allSucceeded(await p.commit(w[0], 0n, RESULT))).toBe(true);
        await refusedUnchanged(job, () => p.reveal(w[0], 0n, RESULT), JOB['Reveal phase has not started']);
        await after(job, 'commitUntil');
        await refusedUnchanged(job, () => p.commit(w[1], 0n, RESULT), JOB['Commit window is over']);
        // every commit is revealed and no more can come: this reveal settles the job
        expect(allSucceeded(await p.reveal(w[0], 0n, RESULT))).toBe(true);
        expect(await job.getJobState()).toMatchObject({ phase: PhaseFailed, result: 0n });
        const slashed = (p.params.collateral * p.params.slashBps) / Bps;
        expect(await providerState(w[0])).toMatchObject({ stake: 2_000n * FOG, locked: 0n, slashCount: 0n, curUnits: 0n });
        for (const t of w.slice(1, 3))
            expect(await providerState(t)).toMatchObject({ stake: 2_000n * FOG - slashed, locked: 0n, slashCount: 1n });
        expect(await p.balanceOf(requester.address)).toBe(before + PRICE);
        expect(await tonOf(job.address)).toBe(0n);
        await expectHubBalanced();
    });

    it('refuses to finalize a job its last reveal settled', async () => {
        const job = await settled();
        await refusedUnchanged(job, () => p.finalize(stranger, 0n), JOB['Job is not open']);
    });
});
