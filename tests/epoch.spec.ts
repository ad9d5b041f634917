import '@ton/test-utils';
import { Provider } from '../wrappers/Provider';
import { beginCell, toNano } from '@ton/core';
import { BlockchainSnapshot, BlockchainTransaction, internal, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { Epoch, loadEpochClosedEvent, Params, PhaseDone, Ppm, storeEpochAdd, storeReveal } from '../wrappers/Epoch';
import { hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { allSucceeded, FOG, GAS, Protocol, protocolFixture } from '../client/sandbox/protocol';

const EP = Epoch.errors;
const OP = Epoch.opcodes;

describe('Epoch', () => {
    let p: Protocol;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;

    /** Each setup deployed, funded and staked once, by its overrides; later uses start from its snapshot. */
    const setups = new Map<string, { p: Protocol; workers: SandboxContract<TreasuryContract>[]; start: BlockchainSnapshot }>();
    const setup = async (overrides: Partial<Params> = {}) => {
        const key = JSON.stringify(overrides, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
        let kept = setups.get(key);
        if (kept === undefined) {
            // a network that settles differing reveals by majority vote (disputeAllowance 0): the
            // liars' slashes here are by vote; tests/job-dispute.spec.ts settles them by dispute
            const fresh = await protocolFixture({ disputeAllowance: 0n, ...overrides });
            const ws: SandboxContract<TreasuryContract>[] = [];
            for (const name of ['w1', 'w2', 'w3', 'requester']) {
                const w = await fresh.blockchain.treasury(name);
                await fresh.fund(w.address, 5_000n * FOG);
                expect(allSucceeded(await fresh.stake(w, fresh.params.minStake))).toBe(true);
                ws.push(w);
            }
            setups.set(key, (kept = { p: fresh, workers: ws, start: fresh.blockchain.snapshot() }));
        } else await kept.p.blockchain.loadFrom(kept.start);
        p = kept.p;
        workers = kept.workers;
        requester = workers[3];
    };

    /** Posts job `id` at `price` and runs it up to its last reveal; `results` are what w1..w3 reveal. */
    const runUntilLastReveal = async (id: bigint, price: bigint, results: bigint[]) => {
        expect(allSucceeded(await p.post(requester, price))).toBe(true);
        const ws = workers.slice(0, 3);
        for (const w of ws) expect(allSucceeded(await p.claim(w, id))).toBe(true);
        for (const [i, w] of ws.entries()) await p.commit(w, id, results[i]);
        for (const [i, w] of ws.slice(0, 2).entries()) await p.reveal(w, id, results[i]);
        return { job: await p.job(id), last: workers[2], result: results[2] };
    };
    /** Posts job `id` at `price` and runs it to settlement; returns the last reveal's transactions. */
    const runJob = async (id: bigint, price: bigint, results = [hashOf('ok'), hashOf('ok'), hashOf('ok')]) => {
        const { job, last, result } = await runUntilLastReveal(id, price, results);
        const r = await p.reveal(last, id, result);
        expect((await job.getJobState()).phase).toBe(PhaseDone);
        return r;
    };
    const liar = [hashOf('ok'), hashOf('ok'), hashOf('lie')];
    const end = () => NOW + Number(p.params.epochLength);
    const closeAt = () => end() + Number(p.params.closeDelay);
    const close = async (by = requester) =>
        (await p.epoch(0n)).send(by.getSender(), { value: toNano('0.05') }, { $$type: 'CloseEpoch', queryId: 0n });
    const claimRewards = async (w: SandboxContract<TreasuryContract>, epoch = 0n) =>
        (await p.providerOf(w.address)).send(w.getSender(), { value: GAS }, { $$type: 'ClaimRewards', queryId: 0n, epoch });

    describe('epoch_record', () => {
        beforeEach(() => setup());

        it('deploys with the first settlement, fixes its terms, and adds every later one', async () => {
            await runJob(0n, 60n * FOG);
            const epoch = await p.epoch(0n);
            let e = await epoch.getEpochState();
            const providerCode = (await Provider.fromInit(p.hub.address, p.hub.address, null)).init!.code;
            expect(e.terms).toEqual({
                $$type: 'EpochTerms',
                provider: {
                    $$type: 'CodeId',
                    hash: BigInt('0x' + providerCode.hash().toString('hex')),
                    depth: BigInt(providerCode.depth()),
                },
                end: BigInt(end()),
                closeDelay: p.params.closeDelay,
                length: p.params.epochLength,
                emissionBase: p.params.emissionBase,
                emissionRatioPpm: p.params.emissionRatioPpm,
                emissionCap: p.params.emissionCap,
            });
            expect([e.burned, e.slashed, e.units, e.closed]).toEqual([60n * FOG, 0n, 60n * FOG, false]);
            // the epoch exists now: the hub adds the next job without StateInit and terms
            const r = await runJob(1n, 40n * FOG, liar);
            expect(r.transactions).toHaveTransaction({
                from: p.hub.address,
                to: epoch.address,
                op: OP.EpochAdd,
                deploy: false,
                success: true,
            });
            e = await epoch.getEpochState();
            expect([e.burned, e.slashed, e.units]).toEqual([100n * FOG, p.params.collateral, 100n * FOG]);
        });

        it("records a settlement that reaches the hub after a later epoch's again with StateInit and terms", async () => {
            await runJob(0n, 60n * FOG);
            // Job 1 settles in epoch 0, but its job_closed is still in flight when epoch 1's first job closes.
            const { job, last, result } = await runUntilLastReveal(1n, 40n * FOG, [hashOf('ok'), hashOf('ok'), hashOf('ok')]);
            const it = await p.blockchain.sendMessageIter(
                internal({
                    from: last.address,
                    to: job.address,
                    value: toNano('0.05'),
                    body: beginCell()
                        .store(storeReveal({ $$type: 'Reveal', queryId: 0n, resultHash: result, salt: 7n }))
                        .endCell(),
                }),
                { allowParallel: true },
            );
            const jobId = BigInt('0x' + job.address.hash.toString('hex'));
            for (let step = await it.next(); !step.done && step.value.address !== jobId; step = await it.next());
            p.blockchain.now = end() + 1;
            const r = await runJob(2n, 30n * FOG);
            expect(r.transactions).toHaveTransaction({
                from: p.hub.address,
                to: (await p.epoch(1n)).address,
                op: OP.EpochRecord,
                deploy: true,
            });
            const rest: BlockchainTransaction[] = [];
            for (let step = await it.next(); !step.done; step = await it.next()) rest.push(step.value);
            expect(rest).toHaveTransaction({ from: p.hub.address, to: (await p.epoch(0n)).address, op: OP.EpochRecord, success: true });
            expect((await (await p.epoch(0n)).getEpochState()).burned).toBe(100n * FOG);
            expect((await (await p.epoch(1n)).getEpochState()).burned).toBe(30n * FOG);
        });

        it('refuses anyone but the hub', async () => {
            await runJob(0n, 60n * FOG);
            const epoch = await p.epoch(0n);
            const before = await epoch.getEpochState();
            const r = await epoch.send(
                requester.getSender(),
                { value: toNano('0.1') },
                {
                    $$type: 'EpochRecord',
                    burned: 1_000_000n * FOG,
                    slashed: 0n,
                    units: 1n,
                    holds: 0n,
                    excessTo: requester.address,
                    terms: before.terms,
                },
            );
            expect(r.transactions).toHaveTransaction({ to: epoch.address, success: false, exitCode: EP['Only the hub'] });
            const add = await epoch.send(
                requester.getSender(),
                { value: toNano('0.1') },
                {
                    $$type: 'EpochAdd',
                    burned: 1_000_000n * FOG,
                    slashed: 0n,
                    units: 1n,
                    holds: 0n,
                    excessTo: requester.address,
                },
            );
            expect(add.transactions).toHaveTransaction({ to: epoch.address, success: false, exitCode: EP['Only the hub'] });
            expect(await epoch.getEpochState()).toEqual(before);
        });

        it('refuses an epoch_add to an epoch that has no record', async () => {
            const bare = await Epoch.fromInit(p.hub.address, 7n, null);
            const r = await p.blockchain.sendMessage(
                internal({
                    from: p.hub.address,
                    to: bare.address,
                    value: toNano('0.1'),
                    stateInit: bare.init!,
                    body: beginCell()
                        .store(
                            storeEpochAdd({
                                $$type: 'EpochAdd',
                                burned: 1n,
                                slashed: 0n,
                                units: 1n,
                                holds: 0n,
                                excessTo: requester.address,
                            }),
                        )
                        .endCell(),
                }),
            );
            expect(r.transactions).toHaveTransaction({ to: bare.address, success: false, exitCode: EP['Epoch not recorded'] });
        });
    });

    describe('close_epoch', () => {
        it("refuses before the epoch's end plus its close delay, and closes from that second on", async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt() - 1;
            const early = await close();
            expect(early.transactions).toHaveTransaction({
                to: (await p.epoch(0n)).address,
                success: false,
                exitCode: EP['Epoch is not over'],
            });
            expect((await (await p.epoch(0n)).getEpochState()).closed).toBe(false);
            p.blockchain.now = closeAt();
            expect(allSucceeded(await close())).toBe(true);
            expect((await (await p.epoch(0n)).getEpochState()).closed).toBe(true);
        });

        it('fixes the emission at base + burned * ratio / 1e6 under the cap, and returns the rest', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            await runJob(1n, 7n * FOG + 3n, liar);
            p.blockchain.now = closeAt();
            const r = await close();
            const epoch = await p.epoch(0n);
            expect(r.transactions).toHaveTransaction({ from: epoch.address, to: requester.address, op: OP.Excesses });
            const e = await epoch.getEpochState();
            const burned = 67n * FOG + 3n;
            const expected = p.params.emissionBase + (burned * p.params.emissionRatioPpm) / Ppm;
            expect(expected).toBeLessThan(p.params.emissionCap);
            expect([e.closed, e.burned, e.emission, e.minted]).toEqual([true, burned, expected, 0n]);
            const events = r.externals.map((x) => loadEpochClosedEvent(x.body.beginParse()));
            expect(events.map((v) => [v.epoch, v.burned, v.units, v.emission])).toEqual([[0n, burned, e.units, expected]]);
        });

        it('caps the emission at emissionCap', async () => {
            await setup({ emissionBase: 1n * FOG, emissionRatioPpm: 500_000n, emissionCap: 5n * FOG });
            await runJob(0n, 60n * FOG);
            expect(p.params.emissionBase + (60n * FOG * p.params.emissionRatioPpm) / Ppm).toBeGreaterThan(p.params.emissionCap);
            p.blockchain.now = closeAt();
            await close();
            expect((await (await p.epoch(0n)).getEpochState()).emission).toBe(5n * FOG);
        });

        it('refuses to close a closed epoch', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt();
            await close();
            const before = await (await p.epoch(0n)).getEpochState();
            p.blockchain.now = closeAt() + 86_400;
            const r = await close(workers[0]);
            expect(r.transactions).toHaveTransaction({ to: (await p.epoch(0n)).address, success: false, exitCode: EP['Epoch is closed'] });
            expect(await (await p.epoch(0n)).getEpochState()).toEqual(before);
        });
    });

    describe('holds (a sharded post owes the epoch a report)', () => {
        /** What the hub sends for a sharded post's hold (+1) or the report that releases it (−1). */
        const hold = async (holds: bigint) =>
            p.blockchain.sendMessage(
                internal({
                    from: p.hub.address,
                    to: (await p.epoch(0n)).address,
                    value: toNano('0.05'),
                    body: beginCell()
                        .store(
                            storeEpochAdd({ $$type: 'EpochAdd', burned: 0n, slashed: 0n, units: 0n, holds, excessTo: requester.address }),
                        )
                        .endCell(),
                }),
            );

        it('refuses to close while held, and bounces a claim back to its provider with its units; closes once released', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            const epoch = await p.epoch(0n);
            expect(allSucceeded(await hold(1n))).toBe(true);
            expect(allSucceeded(await hold(1n))).toBe(true);
            expect((await epoch.getEpochState()).holds).toBe(2n);
            p.blockchain.now = closeAt();
            const before = await epoch.getEpochState();
            const r = await close();
            expect(r.transactions).toHaveTransaction({
                to: epoch.address,
                success: false,
                exitCode: EP['Sharded reports are outstanding'],
            });
            const provider = await p.providerOf(workers[0].address);
            const units = (await provider.getProviderState()).curUnits;
            const claim = await claimRewards(workers[0]);
            expect(claim.transactions).toHaveTransaction({
                to: epoch.address,
                success: false,
                exitCode: EP['Sharded reports are outstanding'],
            });
            expect(claim.transactions).toHaveTransaction({
                from: epoch.address,
                to: provider.address,
                inMessageBounced: true,
                success: true,
            });
            expect((await provider.getProviderState()).curUnits).toBe(units);
            expect(await epoch.getEpochState()).toEqual(before);
            expect(allSucceeded(await hold(-1n))).toBe(true);
            expect((await close()).transactions).toHaveTransaction({
                to: epoch.address,
                success: false,
                exitCode: EP['Sharded reports are outstanding'],
            });
            expect(allSucceeded(await hold(-1n))).toBe(true);
            expect(allSucceeded(await close())).toBe(true);
            const e = await epoch.getEpochState();
            expect([e.holds, e.closed]).toEqual([0n, true]);
            expect(allSucceeded(await claimRewards(workers[0]))).toBe(true);
            expect((await provider.getProviderState()).curUnits).toBe(0n);
        });

        it('counts a hold that reaches a closed epoch and its release: it holds nothing there', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt();
            expect(allSucceeded(await close())).toBe(true);
            const epoch = await p.epoch(0n);
            expect(allSucceeded(await hold(1n))).toBe(true);
            expect(await epoch.getEpochState()).toMatchObject({ holds: 1n, closed: true });
            expect(allSucceeded(await claimRewards(workers[0]))).toBe(true);
            expect(allSucceeded(await hold(-1n))).toBe(true);
            expect((await epoch.getEpochState()).holds).toBe(0n);
        });

        it('waits for holds one epoch at most: from its end plus its length it closes with what it has', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            const epoch = await p.epoch(0n);
            expect(allSucceeded(await hold(1n))).toBe(true);
            const terms = (await epoch.getEpochState()).terms;
            p.blockchain.now = Number(terms.end + terms.length) - 1;
            expect((await close()).transactions).toHaveTransaction({
                to: epoch.address,
                success: false,
                exitCode: EP['Sharded reports are outstanding'],
            });
            p.blockchain.now = Number(terms.end + terms.length);
            expect(allSucceeded(await close())).toBe(true);
            expect(await epoch.getEpochState()).toMatchObject({ holds: 1n, closed: true });
        });

        it('takes a release without its hold as 0 and keeps the report it came with (records are not bounceable)', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            const epoch = await p.epoch(0n);
            const before = await epoch.getEpochState();
            const r = await p.blockchain.sendMessage(
                internal({
                    from: p.hub.address,
                    to: epoch.address,
                    value: toNano('0.05'),
                    body: beginCell()
                        .store(
                            storeEpochAdd({
                                $$type: 'EpochAdd',
                                burned: 5n * FOG,
                                slashed: 0n,
                                units: 5n * FOG,
                                holds: -1n,
                                excessTo: requester.address,
                            }),
                        )
                        .endCell(),
                }),
            );
            expect(allSucceeded(r)).toBe(true);
            expect(await epoch.getEpochState()).toMatchObject({
                holds: 0n,
                burned: before.burned + 5n * FOG,
                units: before.units + 5n * FOG,
            });
        });
    });

    describe('epoch_claim', () => {
        it("refuses a treasury posing as the owner's provider", async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt();
            const epoch = await p.epoch(0n);
            const r = await epoch.send(
                workers[0].getSender(),
                { value: toNano('0.5') },
                { $$type: 'EpochClaim', epoch: 0n, units: 60n * FOG, owner: workers[0].address },
            );
            expect(r.transactions).toHaveTransaction({ to: epoch.address, success: false, exitCode: EP["Only the owner's provider"] });
            const e = await epoch.getEpochState();
            expect([e.closed, e.minted, e.claimedUnits]).toEqual([false, 0n, 0n]);
        });

        it("refuses a provider's claim before the epoch is over", async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt() - 1;
            const epoch = await p.epoch(0n);
            const r = await claimRewards(workers[0]);
            expect(r.transactions).toHaveTransaction({ to: epoch.address, success: false, exitCode: EP['Epoch is not over'] });
            expect((await epoch.getEpochState()).minted).toBe(0n);
        });

        it('pays two winners their shares, closing the epoch on the first claim; the sum never exceeds the emission', async () => {
            // An odd emission, so each half rounds down.
            await setup({ emissionBase: 10_000n * FOG + 1n });
            await runJob(0n, 50n * FOG, liar);
            p.blockchain.now = closeAt();
            const epoch = await p.epoch(0n);
            const supply = (await p.token.getGetJettonData()).totalSupply;
            const paid: bigint[] = [];
            for (const w of workers.slice(0, 2)) {
                const before = await p.balanceOf(w.address);
                const r = await claimRewards(w);
                expect(allSucceeded(r)).toBe(true);
                expect(r.transactions).toHaveTransaction({ from: epoch.address, to: p.hub.address, op: OP.MintReward });
                paid.push((await p.balanceOf(w.address)) - before);
            }
            const e = await epoch.getEpochState();
            expect(e.closed).toBe(true);
            expect(e.emission % 2n).toBe(1n);
            expect(paid).toEqual([(e.emission * 25n * FOG) / e.units, (e.emission * 25n * FOG) / e.units]);
            expect(e.minted).toBe(paid[0] + paid[1]);
            expect(e.minted).toBeLessThanOrEqual(e.emission);
            expect(e.claimedUnits).toBe(e.units);
            expect((await p.token.getGetJettonData()).totalSupply).toBe(supply + e.minted);
            // The slashed worker earned nothing to claim.
            const liarClaim = await claimRewards(workers[2]);
            expect(liarClaim.transactions).toHaveTransaction({ success: false, exitCode: EP['Nothing to claim for this epoch'] });
        });

        it('lets a provider claim an epoch only once', async () => {
            await setup();
            await runJob(0n, 60n * FOG);
            p.blockchain.now = closeAt();
            expect(allSucceeded(await claimRewards(workers[0]))).toBe(true);
            const epoch = await p.epoch(0n);
            const after = await epoch.getEpochState();
            const balance = await p.balanceOf(workers[0].address);
            const again = await claimRewards(workers[0]);
            expect(again.transactions).toHaveTransaction({ success: false, exitCode: EP['Nothing to claim for this epoch'] });
            expect(again.transactions).not.toHaveTransaction({ to: epoch.address });
            expect(await epoch.getEpochState()).toEqual(after);
            expect(await p.balanceOf(workers[0].address)).toBe(balance);
        });
    });
});
