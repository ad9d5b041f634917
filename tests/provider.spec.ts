import '@ton/test-utils';
import { beginCell, toNano } from '@ton/core';
import { BlockchainSnapshot, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { OutcomeWon, Provider, storeProviderPassMint, storeProviderPayout } from '../wrappers/Provider';
import { Job } from '../wrappers/Job';
import { Epoch } from '../wrappers/Epoch';
import { hashOf } from '../wrappers/commit';
import { deliverBounce, minimumAccepted, NOW } from '../client/sandbox/fixture';
import { allSucceeded, FOG, GAS, Protocol, protocolFixture } from '../client/sandbox/protocol';

const PROV = Provider.errors;
const OP = Provider.opcodes;

describe('Provider', () => {
    let p: Protocol;
    let alice: SandboxContract<TreasuryContract>;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;
    let provider: SandboxContract<Provider>;

    let start: BlockchainSnapshot;

    // deployed and funded once; each test starts from that state (the emulator's snapshot)
    beforeAll(async () => {
        // a network that settles differing reveals by majority vote (disputeAllowance 0): these tests
        // make their slashes by vote; tests/job-dispute.spec.ts settles the same by dispute
        p = await protocolFixture({ disputeAllowance: 0n });
        workers = [];
        for (const name of ['alice', 'w2', 'w3', 'requester']) {
            const w = await p.blockchain.treasury(name);
            await p.fund(w.address, 5_000n * FOG);
            workers.push(w);
        }
        [alice, , , requester] = workers;
        provider = await p.providerOf(alice.address);
        start = p.blockchain.snapshot();
    });
    beforeEach(() => p.blockchain.loadFrom(start));

    const state = () => provider.getProviderState();
    const send = (msg: Parameters<SandboxContract<Provider>['send']>[2], value = GAS, from = alice) =>
        provider.send(from.getSender(), { value }, msg);
    const unstake = (amount: bigint, from = alice) => send({ $$type: 'Unstake', queryId: 0n, amount }, GAS, from);
    const withdraw = (value = GAS, from = alice) => send({ $$type: 'WithdrawStake', queryId: 0n }, value, from);
    const claimRewards = (epoch: bigint, value = GAS, from = alice) => send({ $$type: 'ClaimRewards', queryId: 0n, epoch }, value, from);

    /** The requester and the three workers (alice first) stake minStake; the requester posts a k=3 job. */
    const openJob = async () => {
        for (const w of workers) expect(allSucceeded(await p.stake(w, p.params.minStake))).toBe(true);
        expect(allSucceeded(await p.post(requester, 60n * FOG))).toBe(true);
    };
    /** Runs the open job 0 to settlement; `results` are what the three workers reveal. */
    const settle = async (results = [hashOf('ok'), hashOf('ok'), hashOf('ok')]) => {
        const ws = workers.slice(0, 3);
        for (const w of ws) expect(allSucceeded(await p.claim(w, 0n))).toBe(true);
        for (const [i, w] of ws.entries()) await p.commit(w, 0n, results[i]);
        for (const [i, w] of ws.entries()) await p.reveal(w, 0n, results[i]);
    };

    describe('provider_stake', () => {
        it('adds each stake, keeps the declared capacity and asks for the pass once, on reaching minStake', async () => {
            await p.stake(alice, 600n * FOG, 4n, 2048n);
            let s = await state();
            expect([s.stake, s.cores, s.memoryMb, s.passHeld]).toEqual([600n * FOG, 4n, 2048n, false]);
            let r = await p.stake(alice, 400n * FOG, 16n, 4096n);
            expect(r.transactions).toHaveTransaction({ from: provider.address, to: p.hub.address, op: OP.ProviderPassMint, success: true });
            s = await state();
            expect([s.stake, s.cores, s.memoryMb, s.passHeld]).toEqual([1_000n * FOG, 16n, 4096n, true]);
            r = await p.stake(alice, 1n * FOG);
            expect(r.transactions).not.toHaveTransaction({ op: OP.ProviderPassMint });
            expect((await state()).stake).toBe(1_001n * FOG);
        });

        it('refuses anyone but the hub', async () => {
            await p.stake(alice, 10n * FOG);
            const code = { $$type: 'CodeId' as const, hash: 0n, depth: 0n };
            const r = await send({
                $$type: 'ProviderStake',
                queryId: 0n,
                amount: 1_000_000n * FOG,
                cores: 1n,
                memoryMb: 1n,
                minStake: 1n,
                unbondingPeriod: 0n,
                job: code,
                epoch: code,
            });
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Only the hub'] });
            expect((await state()).stake).toBe(10n * FOG);
        });

        it('asks for the pass again with the next stake when the hub bounces the pass mint', async () => {
            await p.stake(alice, p.params.minStake);
            const original = beginCell()
                .store(
                    storeProviderPassMint({ $$type: 'ProviderPassMint', queryId: 4n, owner: alice.address, cores: 8n, memoryMb: 16384n }),
                )
                .endCell();
            const r = await deliverBounce(p.blockchain, p.hub.address, provider.address, original, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ from: provider.address, to: alice.address, op: OP.Excesses });
            expect((await state()).passHeld).toBe(false);
            const again = await p.stake(alice, 1n * FOG);
            expect(again.transactions).toHaveTransaction({ from: provider.address, to: p.hub.address, op: OP.ProviderPassMint });
            expect((await state()).passHeld).toBe(true);
        });
    });

    describe('unstake', () => {
        beforeEach(async () => {
            await p.stake(alice, 500n * FOG);
        });

        it('moves free stake into unbonding and restarts the unbonding period', async () => {
            let r = await unstake(100n * FOG);
            expect(allSucceeded(r)).toBe(true);
            let s = await state();
            expect([s.stake, s.unbonding, s.unbondingUntil]).toEqual([400n * FOG, 100n * FOG, BigInt(NOW) + p.params.unbondingPeriod]);
            p.blockchain.now = NOW + 1_000;
            r = await unstake(400n * FOG);
            expect(allSucceeded(r)).toBe(true);
            s = await state();
            expect([s.stake, s.unbonding, s.unbondingUntil]).toEqual([0n, 500n * FOG, BigInt(NOW + 1_000) + p.params.unbondingPeriod]);
        });

        it('refuses anyone but the owner', async () => {
            const r = await unstake(100n * FOG, workers[1]);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV["Only the provider's owner"] });
            expect((await state()).unbonding).toBe(0n);
        });

        it('refuses zero and more than the free stake', async () => {
            for (const amount of [0n, 500n * FOG + 1n]) {
                const r = await unstake(amount);
                expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Not enough free stake'] });
            }
            expect((await state()).stake).toBe(500n * FOG);
        });

        it('refuses stake locked by an open claim', async () => {
            await openJob();
            await p.claim(alice, 0n);
            let s = await state();
            expect([s.stake, s.locked, s.openClaims]).toEqual([1_500n * FOG, p.params.collateral, 1n]);
            const r = await unstake(s.stake);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Not enough free stake'] });
            expect(allSucceeded(await unstake(s.stake - p.params.collateral))).toBe(true);
            s = await state();
            expect([s.stake, s.locked, s.free]).toEqual([p.params.collateral, p.params.collateral, 0n]);
        });
    });

    describe('withdraw_stake', () => {
        const unbonded = async (stake: bigint, amount: bigint) => {
            await p.stake(alice, stake);
            await unstake(amount);
            p.blockchain.now = NOW + Number(p.params.unbondingPeriod);
        };

        it('pays out and revokes the pass when the remaining stake is below minStake', async () => {
            await unbonded(1_000n * FOG, 400n * FOG);
            const before = await p.balanceOf(alice.address);
            const r = await withdraw();
            expect(allSucceeded(r)).toBe(true);
            expect(await p.balanceOf(alice.address)).toBe(before + 400n * FOG);
            const s = await state();
            expect([s.stake, s.unbonding, s.passHeld]).toEqual([600n * FOG, 0n, false]);
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(false);
        });

        it('pays out and keeps the pass when the remaining stake still covers minStake', async () => {
            await unbonded(1_500n * FOG, 400n * FOG);
            const before = await p.balanceOf(alice.address);
            const r = await withdraw();
            expect(allSucceeded(r)).toBe(true);
            expect(r.transactions).not.toHaveTransaction({ to: p.collection.address });
            expect(await p.balanceOf(alice.address)).toBe(before + 400n * FOG);
            expect((await state()).passHeld).toBe(true);
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(true);
        });

        it('refuses anyone but the owner', async () => {
            await unbonded(500n * FOG, 100n * FOG);
            const r = await withdraw(GAS, workers[1]);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV["Only the provider's owner"] });
            expect((await state()).unbonding).toBe(100n * FOG);
        });

        it('refuses when nothing is unbonding', async () => {
            await p.stake(alice, 500n * FOG);
            const r = await withdraw();
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Nothing to withdraw'] });
        });

        it('refuses one second before the unbonding period ends', async () => {
            await unbonded(500n * FOG, 100n * FOG);
            p.blockchain.now = NOW + Number(p.params.unbondingPeriod) - 1;
            const r = await withdraw();
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Still unbonding'] });
            expect((await state()).unbonding).toBe(100n * FOG);
        });

        it('accepts exactly the minimum value, at which the payout reaches the owner, and refuses one nanoton less', async () => {
            await unbonded(1_500n * FOG, 400n * FOG);
            const min = await minimumAccepted(p.blockchain, provider.address, (v) => withdraw(v), 1n, toNano('1'));
            const low = await withdraw(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: provider.address,
                success: false,
                exitCode: PROV['Insufficient TON for withdraw'],
            });
            const before = await p.balanceOf(alice.address);
            const r = await withdraw(min);
            expect(allSucceeded(r)).toBe(true);
            expect(await p.balanceOf(alice.address)).toBe(before + 400n * FOG);
            expect((await p.hub.getHubState()).strays).toBe(0n);
        });

        // Known defect: with a pass revoke in the chain, the minimum the provider accepts leaves the hub's
        // FOG transfer about 0.27 mTON short; the payout ends as strays in the hub instead of reaching the
        // owner. Flip to `it` once payoutCost covers the whole chain.
        it('at the minimum value, pays out in full even when the pass is revoked too', async () => {
            await unbonded(1_000n * FOG, 400n * FOG);
            const min = await minimumAccepted(p.blockchain, provider.address, (v) => withdraw(v), 1n, toNano('1'));
            const before = await p.balanceOf(alice.address);
            const r = await withdraw(min);
            expect(allSucceeded(r)).toBe(true);
            expect(await p.balanceOf(alice.address)).toBe(before + 400n * FOG);
            expect((await (await p.passOf(alice.address)).getPassState()).live).toBe(false);
        });

        it('makes the amount withdrawable again and restores the pass flag when the hub bounces the payout', async () => {
            await unbonded(1_000n * FOG, 400n * FOG);
            await withdraw();
            const original = beginCell()
                .store(
                    storeProviderPayout({
                        $$type: 'ProviderPayout',
                        queryId: 2n,
                        amount: 400n * FOG,
                        revokePass: true,
                        owner: alice.address,
                    }),
                )
                .endCell();
            const r = await deliverBounce(p.blockchain, p.hub.address, provider.address, original, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ from: provider.address, to: alice.address, op: OP.Excesses });
            const s = await state();
            expect([s.unbonding, s.passHeld]).toEqual([400n * FOG, true]);
        });
    });

    describe('claim_job', () => {
        it('locks the collateral and takes a slot in the job', async () => {
            await openJob();
            const r = await p.claim(alice, 0n);
            expect(r.transactions).toHaveTransaction({
                from: provider.address,
                to: (await p.job(0n)).address,
                op: OP.JobClaim,
                success: true,
            });
            const s = await state();
            expect([s.locked, s.openClaims, s.free]).toEqual([p.params.collateral, 1n, p.params.minStake - p.params.collateral]);
            expect((await (await p.job(0n)).getJobState()).claims).toBe(1n);
        });

        it('refuses anyone but the owner', async () => {
            await openJob();
            const r = await send({ $$type: 'ClaimJob', queryId: 0n, jobId: 0n, collateral: p.params.collateral }, GAS, workers[1]);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV["Only the provider's owner"] });
            expect((await state()).locked).toBe(0n);
        });

        it("refuses a claim before the hub's first stake, on a provider deployed from its bare StateInit", async () => {
            const bare = p.blockchain.openContract(await Provider.fromInit(p.hub.address, alice.address, null));
            expect(bare.address.equals(provider.address)).toBe(true);
            // The failed first message still deploys the account (its StateInit is valid), so the provider
            // exists without the state the hub's first stake creates.
            await bare.send(
                alice.getSender(),
                { value: GAS },
                { $$type: 'ClaimJob', queryId: 0n, jobId: 0n, collateral: p.params.collateral },
            );
            const r = await p.claim(alice, 0n);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Stake first'] });
            // No state until the hub's first stake: the get-method has nothing to report.
            await expect(state()).rejects.toThrow();
            await openJob();
            expect(allSucceeded(await p.claim(alice, 0n))).toBe(true);
            expect((await state()).locked).toBe(p.params.collateral);
        });

        it('refuses a provider whose whole stake was unstaked: zero stake is not enough free stake', async () => {
            await openJob();
            await unstake(p.params.minStake);
            const r = await p.claim(alice, 0n);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Not enough free stake'] });
        });

        it('refuses a stake smaller than the collateral', async () => {
            await p.stake(alice, p.params.collateral - 1n);
            const r = await p.claim(alice, 0n);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Not enough free stake'] });
            expect((await state()).locked).toBe(0n);
        });

        it('accepts exactly the minimum value, which carries the claim into the job, and refuses one nanoton less', async () => {
            await openJob();
            const min = await minimumAccepted(p.blockchain, provider.address, (v) => p.claim(alice, 0n, v), 1n, toNano('1'));
            const low = await p.claim(alice, 0n, min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: provider.address,
                success: false,
                exitCode: PROV['Insufficient TON for claim'],
            });
            const r = await p.claim(alice, 0n, min);
            expect(allSucceeded(r)).toBe(true);
            expect((await (await p.job(0n)).getJobState()).claims).toBe(1n);
            expect((await state()).openClaims).toBe(1n);
        });

        it('unlocks when the job refuses a second claim of the same job', async () => {
            await openJob();
            await p.claim(alice, 0n);
            const r = await p.claim(alice, 0n);
            const job = await p.job(0n);
            expect(r.transactions).toHaveTransaction({
                from: provider.address,
                to: job.address,
                success: false,
                exitCode: Job.errors['Already claimed'],
            });
            expect(r.transactions).toHaveTransaction({ from: job.address, to: provider.address, inMessageBounced: true, success: true });
            const s = await state();
            expect([s.locked, s.openClaims]).toEqual([p.params.collateral, 1n]);
        });

        it("unlocks when the claim locks another amount than the job's collateral", async () => {
            await openJob();
            const job = await p.job(0n);
            for (const collateral of [p.params.collateral - 1n, p.params.collateral + 1n]) {
                const r = await p.claim(alice, 0n, GAS, collateral);
                expect(r.transactions).toHaveTransaction({
                    from: provider.address,
                    to: job.address,
                    success: false,
                    exitCode: Job.errors["Collateral differs from the job's terms"],
                });
                expect(r.transactions).toHaveTransaction({
                    from: job.address,
                    to: provider.address,
                    inMessageBounced: true,
                    success: true,
                });
                const s = await state();
                expect([s.locked, s.openClaims]).toEqual([0n, 0n]);
            }
            expect((await job.getJobState()).claims).toBe(0n);
        });

        it('refuses a claim that locks nothing', async () => {
            await openJob();
            const r = await p.claim(alice, 0n, GAS, 0n);
            expect(r.transactions).toHaveTransaction({
                to: provider.address,
                success: false,
                exitCode: PROV['Collateral must be positive'],
            });
            expect((await (await p.job(0n)).getJobState()).claims).toBe(0n);
        });

        it('unlocks when the claimed job was never posted', async () => {
            await p.stake(alice, p.params.minStake);
            const r = await p.claim(alice, 42n);
            expect(r.transactions).toHaveTransaction({
                from: (await p.job(42n)).address,
                to: provider.address,
                inMessageBounced: true,
                success: true,
            });
            const s = await state();
            expect([s.locked, s.openClaims]).toEqual([0n, 0n]);
        });
    });

    describe('settle', () => {
        it('unlocks a winner and credits its units and reputation', async () => {
            await openJob();
            await settle();
            const s = await state();
            expect([s.locked, s.openClaims, s.reputation, s.curEpoch, s.curUnits, s.unitsTotal]).toEqual([
                0n,
                0n,
                1n,
                0n,
                20n * FOG,
                20n * FOG,
            ]);
        });

        it('slashes a worker that revealed another result', async () => {
            await openJob();
            await settle([hashOf('lie'), hashOf('ok'), hashOf('ok')]);
            const s = await state();
            expect([s.stake, s.locked, s.slashCount, s.slashedTotal, s.reputation, s.passHeld]).toEqual([
                p.params.minStake - p.params.collateral,
                0n,
                1n,
                p.params.collateral,
                -10n,
                false,
            ]);
        });

        it('refuses a treasury posing as the job', async () => {
            await openJob();
            await p.claim(alice, 0n);
            const before = await state();
            const r = await send(
                {
                    $$type: 'Settle',
                    jobId: 0n,
                    outcome: OutcomeWon,
                    collateral: p.params.collateral,
                    slashed: 0n,
                    units: 1_000_000n * FOG,
                    epoch: 0n,
                    bonus: 1_000_000n * FOG,
                },
                GAS,
                requester,
            );
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV['Only the job'] });
            const s = await state();
            expect([s.locked, s.curUnits, s.stake]).toEqual([p.params.collateral, 0n, before.stake]);
        });
    });

    describe('claim_rewards', () => {
        const over = () => {
            p.blockchain.now = NOW + Number(p.params.epochLength + p.params.closeDelay);
        };

        it('claims the share of a closed epoch and zeroes the units', async () => {
            await openJob();
            await settle();
            over();
            const before = await p.balanceOf(alice.address);
            const r = await claimRewards(0n);
            expect(allSucceeded(r)).toBe(true);
            const e = await (await p.epoch(0n)).getEpochState();
            expect(await p.balanceOf(alice.address)).toBe(before + e.emission / 3n);
            expect((await state()).curUnits).toBe(0n);
        });

        it('refuses anyone but the owner', async () => {
            await openJob();
            await settle();
            over();
            const r = await claimRewards(0n, GAS, requester);
            expect(r.transactions).toHaveTransaction({ to: provider.address, success: false, exitCode: PROV["Only the provider's owner"] });
            expect((await state()).curUnits).toBe(20n * FOG);
        });

        it('refuses an epoch with nothing to claim', async () => {
            await p.stake(alice, 10n * FOG);
            for (const epoch of [0n, 5n]) {
                const r = await claimRewards(epoch);
                expect(r.transactions).toHaveTransaction({
                    to: provider.address,
                    success: false,
                    exitCode: PROV['Nothing to claim for this epoch'],
                });
            }
        });

        it('makes the units claimable again when the epoch bounces a claim made too early', async () => {
            await openJob();
            await settle();
            const r = await claimRewards(0n);
            const epoch = await p.epoch(0n);
            expect(r.transactions).toHaveTransaction({
                from: provider.address,
                to: epoch.address,
                success: false,
                exitCode: Epoch.errors['Epoch is not over'],
            });
            expect(r.transactions).toHaveTransaction({ from: epoch.address, to: provider.address, inMessageBounced: true, success: true });
            expect((await state()).curUnits).toBe(20n * FOG);
            expect((await epoch.getEpochState()).closed).toBe(false);
            over();
            expect(allSucceeded(await claimRewards(0n))).toBe(true);
            expect((await state()).curUnits).toBe(0n);
        });

        it('accepts exactly the minimum value, which carries the claim to the mint, and refuses one nanoton less', async () => {
            await openJob();
            await settle();
            over();
            const min = await minimumAccepted(p.blockchain, provider.address, (v) => claimRewards(0n, v), 1n, toNano('1'));
            const low = await claimRewards(0n, min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: provider.address,
                success: false,
                exitCode: PROV['Insufficient TON for reward claim'],
            });
            const before = await p.balanceOf(alice.address);
            const r = await claimRewards(0n, min);
            expect(allSucceeded(r)).toBe(true);
            const e = await (await p.epoch(0n)).getEpochState();
            expect(await p.balanceOf(alice.address)).toBe(before + e.emission / 3n);
        });
    });
});
