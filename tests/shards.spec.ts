/**
 * Sharded posts (docs/protocol.md, "Sharded jobs"): S jobs of one program over S inputs in one FOG
 * transfer, one pass check, and their closes reported to the hub added up by their Shards
 * contract. Each shard is a job like any other, settles alone, and a shard that fails or expires
 * is refunded alone, at once.
 */
import '@ton/test-utils';
import { Address, beginCell, Cell, ShardAccount, toNano, Transaction } from '@ton/core';
import { BlockchainSnapshot, internal, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import {
    GasHubNotify,
    GasHubShard,
    GasHubShardCheck,
    GasHubShards,
    GasJobCreate,
    GasShardsClosed,
    GasShardsCreate,
    GasShardsVerify,
    Hub,
    loadJobPostedEvent,
    loadRefusedEvent,
    loadShardsClosed,
    loadShardsHold,
    loadShardsPostedEvent,
    MaxShards,
    MaxUriCells,
    MinTonsForStorage,
    PhaseDone,
    PhaseExpired,
    PhaseOpen,
    RefuseMalformed,
    RefusePostTon,
    RefusePriceTooLow,
    RefuseShards,
    RefuseUrisTooLarge,
    storeJettonTransfer,
    storePostShardsPayload,
    storeShardsClosed,
    storeShardsHold,
} from '../wrappers/Hub';
import { Epoch } from '../wrappers/Epoch';
import { minimumAccepted } from '../client/sandbox/fixture';
import { postShardsPayload, shardList } from '../wrappers/protocol';
import { jobSpec, shardedSpec } from '../client/actions';
import { sha256Hex } from '../client/hash';
import { exampleNamed } from '../examples/catalog';
import { readFileSync } from 'node:fs';
import { hashOf } from '../wrappers/commit';
import { cellShape, computeGas } from '../wrappers/gas';
import { actorsOf, allSucceeded, FOG, GAS, Protocol, protocolFixture, shardsOf, specOf } from '../client/sandbox/protocol';

const OP = Hub.opcodes;
const PRICE = 10n * FOG;

describe('a sharded post', () => {
    let p: Protocol;
    let alice: SandboxContract<TreasuryContract>;
    let workers: SandboxContract<TreasuryContract>[];

    let start: BlockchainSnapshot;

    // deployed, funded and staked once; each test starts from that state (the emulator's snapshot)
    beforeAll(async () => {
        p = await protocolFixture();
        workers = await actorsOf(p, ['w1', 'w2', 'w3', 'alice'], 5_000n * FOG, p.params.minStake);
        alice = workers.pop()!;
        start = p.blockchain.snapshot();
    });
    beforeEach(() => p.blockchain.loadFrom(start));

    const eventsOf = <T>(r: SendMessageResult, op: number, load: (s: ReturnType<Cell['beginParse']>) => T): T[] =>
        r.externals.filter((e) => e.body.beginParse().preloadUint(32) === op).map((e) => load(e.body.beginParse()));
    const txsTo = (r: SendMessageResult, to: Address, op: number) =>
        r.transactions.filter((t) => {
            const body = t.inMessage?.body.beginParse();
            return t.inMessage?.info.dest?.toString() === to.toString() && body && body.remainingBits >= 32 && body.preloadUint(32) === op;
        });
    const supply = async () => (await p.token.getGetJettonData()).totalSupply;

    /** Runs job `id` with the first k workers all revealing the same result; returns the last reveal. */
    async function settle(id: bigint, k = 1): Promise<SendMessageResult> {
        const result = hashOf(`result of shard ${id}`);
        for (const w of workers.slice(0, k)) expect(allSucceeded(await p.claim(w, id))).toBe(true);
        for (const w of workers.slice(0, k)) expect(allSucceeded(await p.commit(w, id, result))).toBe(true);
        let last: SendMessageResult | undefined;
        for (const w of workers.slice(0, k)) last = await p.reveal(w, id, result);
        expect((await (await p.job(id)).getJobState()).phase).toBe(PhaseDone);
        return last!;
    }

    it('opens S jobs, each with its own input, from one transfer and one pass check', async () => {
        const shards = shardsOf(4);
        const r = await p.postShards(alice, PRICE, 4, { k: 1n, quorum: 1n });
        expect(allSucceeded(r)).toBe(true);
        const group = await p.shards(0n);
        // one request_owner for the whole post, from the Shards
        const requests = r.transactions.filter((t) => t.inMessage?.body.beginParse().preloadUint(32) === OP.RequestOwner);
        expect(requests).toHaveLength(1);
        expect(requests[0].inMessage!.info.src!.toString()).toBe(group.address.toString());
        // the events: a JobPostedEvent per shard and one ShardsPostedEvent
        const posted = eventsOf(r, OP.JobPostedEvent, loadJobPostedEvent);
        expect(posted.map((e) => e.id)).toEqual([0n, 1n, 2n, 3n]);
        expect(posted.every((e) => e.price === PRICE && e.requester.equals(alice.address) && e.k === 1n)).toBe(true);
        const [event] = eventsOf(r, OP.ShardsPostedEvent, loadShardsPostedEvent);
        expect([event.first, event.count, event.price, event.shards.equals(group.address), event.requester.equals(alice.address)]).toEqual([
            0n,
            4n,
            PRICE,
            true,
            true,
        ]);
        const hub = await p.hub.getHubState();
        expect([hub.nextJobId, hub.totalEscrow]).toEqual([4n, 4n * PRICE]);
        expect((await group.getShardsState()).verified).toBe(1n);
        for (const [i, shard] of shards.entries()) {
            const s = await (await p.job(BigInt(i))).getJobState();
            expect(s.phase).toBe(PhaseOpen);
            expect(s.group?.equals(group.address)).toBe(true);
            expect([s.spec.inputHash, s.spec.initialRoot, s.spec.programHash, s.spec.k]).toEqual([
                shard.inputHash,
                shard.initialRoot,
                hashOf('program'),
                1n,
            ]);
            const uris = s.spec.uris.beginParse();
            expect(uris.loadRef().beginParse().loadStringTail()).toBe('fog://program');
            expect(uris.loadRef().beginParse().loadStringTail()).toBe(`fog://input-${i}`);
        }
    });

    it('settles each shard alone and reports their burns and units to the hub once', async () => {
        await p.postShards(alice, PRICE, 4, { k: 3n, quorum: 2n });
        const before = await supply();
        const reports: SendMessageResult[] = [];
        for (let id = 0n; id < 4n; id++) reports.push(await settle(id, 3));
        // three closes only added up; the last close reports all four
        const hubReports = reports.map((r) => txsTo(r, p.hub.address, OP.ShardsClosed).length);
        expect(hubReports).toEqual([0, 0, 0, 1]);
        expect(reports.every((r) => txsTo(r, p.hub.address, OP.JobClosed).length === 0)).toBe(true);
        expect(reports.map((r) => txsTo(r, p.token.address, OP.JettonBurnNotification).length)).toEqual([0, 0, 0, 1]);
        expect(await supply()).toBe(before - 4n * PRICE);
        const hub = await p.hub.getHubState();
        expect(hub.totalEscrow).toBe(0n);
        const epoch = await (await p.epoch(0n)).getEpochState();
        // each shard's units are its price shared by its three winners, rounded down
        expect([epoch.burned, epoch.units, epoch.slashed]).toEqual([4n * PRICE, 4n * ((PRICE / 3n) * 3n), 0n]);
        // the Shards keeps nothing: its whole balance left with the last report
        expect((await p.blockchain.getContract((await p.shards(0n)).address)).balance).toBe(0n);
    });

    it('refunds a shard that expires at once and alone; the others settle later', async () => {
        await p.postShards(alice, PRICE, 3, { k: 1n, quorum: 1n });
        const result = hashOf('a result');
        for (const id of [0n, 1n]) await p.claim(workers[0], id);
        const fog = await p.balanceOf(alice.address);
        const before = await supply();
        p.blockchain.now! += Number(p.params.claimWindow) + 1;
        const expired = await p.finalize(workers[1], 2n);
        expect(allSucceeded(expired)).toBe(true);
        expect((await (await p.job(2n)).getJobState()).phase).toBe(PhaseExpired);
        // reported at once, alone: the price back, nothing burned
        expect(txsTo(expired, p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        expect(await p.balanceOf(alice.address)).toBe(fog + PRICE);
        expect(await supply()).toBe(before);
        expect((await p.hub.getHubState()).totalEscrow).toBe(2n * PRICE);
        for (const id of [0n, 1n]) await p.commit(workers[0], id, result);
        const first = await p.reveal(workers[0], 0n, result);
        const last = await p.reveal(workers[0], 1n, result);
        expect([txsTo(first, p.hub.address, OP.ShardsClosed).length, txsTo(last, p.hub.address, OP.ShardsClosed).length]).toEqual([0, 1]);
        expect(await supply()).toBe(before - 2n * PRICE);
        expect(await p.balanceOf(alice.address)).toBe(fog + PRICE);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    });

    it('reports at once a first close that is a refund, whatever the job spent: a claimed shard nobody revealed', async () => {
        await p.postShards(alice, PRICE, 3, { k: 1n, quorum: 1n });
        const fog = await p.balanceOf(alice.address);
        await p.claim(workers[0], 0n);
        await p.commit(workers[0], 0n, hashOf('never revealed'));
        p.blockchain.now = Number((await (await p.job(0n)).getJobState()).revealUntil) + 1;
        const r = await p.finalize(workers[1], 0n);
        expect(allSucceeded(r)).toBe(true);
        expect(txsTo(r, p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        // the price back at once, the worker's collateral slashed and burned
        expect(await p.balanceOf(alice.address)).toBe(fog + PRICE);
        expect((await (await p.shards(0n)).getShardsState()).closed).toBe(1n);
        expect((await p.hub.getHubState()).totalEscrow).toBe(2n * PRICE);
    });

    it('deploys no job for a requester without a pass and refunds the post in one transfer', async () => {
        const bob = await p.blockchain.treasury('bob');
        await p.fund(bob.address, 100n * FOG);
        const ton = (await p.blockchain.getContract(bob.address)).balance;
        const r = await p.postShards(bob, PRICE, 3, { k: 1n, quorum: 1n });
        // the request_owner to a pass that does not exist is the one transaction that fails: it bounces
        const pass = await p.passOf(bob.address);
        expect(r.transactions).toHaveTransaction({ to: pass.address, op: OP.RequestOwner, aborted: true });
        expect(allSucceeded({ ...r, transactions: r.transactions.filter((t) => !addressOf(t).equals(pass.address)) })).toBe(true);
        for (const id of [0n, 1n, 2n])
            expect((await p.blockchain.getContract((await p.job(id)).address)).accountState?.type).not.toBe('active');
        expect(txsTo(r, p.hub.address, OP.ShardsDeploy)).toHaveLength(0);
        expect(txsTo(r, p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        // a sum reported at once is never held
        expect(txsTo(r, p.hub.address, OP.ShardsHold)).toHaveLength(0);
        // one transfer back from the hub for the three prices, and the post's TON back but its fees
        const back = r.transactions.filter(
            (t) => t.inMessage?.info.src?.toString() === p.hub.address.toString() && opOf(t) === OP.JettonTransfer,
        );
        expect(back).toHaveLength(1);
        expect(await p.balanceOf(bob.address)).toBe(100n * FOG);
        expect(ton - (await p.blockchain.getContract(bob.address)).balance).toBeLessThan(toNano('0.05'));
        const hub = await p.hub.getHubState();
        expect([hub.totalEscrow, hub.nextJobId]).toEqual([0n, 3n]);
        expect(await p.balanceOf(p.hub.address)).toBe(hub.totalStaked);
    });

    it('refunds the whole post when the hub fails to deploy its jobs (shards_deploy bounces)', async () => {
        const fog = await p.balanceOf(alice.address);
        const wallet = await p.walletOf(alice.address);
        const list = shardList(shardsOf(2));
        const size = cellShape(list);
        const cost = await p.hub.getPostShardsCost(1n, 2n, BigInt(size.cells), BigInt(size.bits));
        const transfer = internal({
            from: alice.address,
            to: wallet.address,
            value: cost + toNano('0.2'),
            body: beginCell()
                .store(
                    storeJettonTransfer({
                        $$type: 'JettonTransfer',
                        queryId: 0n,
                        amount: 2n * PRICE,
                        destination: p.hub.address,
                        responseDestination: alice.address,
                        customPayload: null,
                        forwardTonAmount: cost + toNano('0.05'),
                        forwardPayload: beginCell()
                            .storeBit(1)
                            .storeRef(postShardsPayload(specOf({ k: 1n, quorum: 1n }), shardsOf(2)))
                            .endCell()
                            .beginParse(),
                    }),
                )
                .endCell(),
        });
        // the chain runs one transaction at a time; the hub's shards_deploy meets code that throws
        let kept: ShardAccount | undefined;
        let failed = false;
        for await (const tx of await p.blockchain.sendMessageIter(transfer)) {
            if (opOf(tx) === OP.OwnerInfo) {
                // the Shards has just sent shards_deploy: break the hub until it has run it
                const current = (await p.blockchain.getContract(p.hub.address)).account;
                const account = current.account!;
                const state = account.storage.state;
                if (state.type !== 'active') throw new Error('the hub is not active');
                kept = current;
                const code = beginCell().storeUint(0xffff, 16).endCell();
                await p.blockchain.setShardAccount(p.hub.address, {
                    ...current,
                    account: { ...account, storage: { ...account.storage, state: { type: 'active', state: { ...state.state, code } } } },
                });
            }
            if (opOf(tx) === OP.ShardsDeploy && kept) {
                failed = tx.description.type === 'generic' && tx.description.aborted;
                // the hub's failed transaction is done: its code back for the refund
                await p.blockchain.setShardAccount(p.hub.address, kept);
                kept = undefined;
            }
        }
        expect(failed).toBe(true);
        for (const id of [0n, 1n])
            expect((await p.blockchain.getContract((await p.job(id)).address)).accountState?.type).not.toBe('active');
        const group = await p.shards(0n);
        expect(await group.getShardsState()).toMatchObject({ verified: 2n, closed: 2n, pending: false });
        expect(await p.balanceOf(alice.address)).toBe(fog);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    });

    it("reports an epoch's closes when the epoch changes, and to anyone who asks once it has ended", async () => {
        await p.postShards(alice, PRICE, 4, { k: 1n, quorum: 1n, claimWindow: 80_000n, commitWindow: 80_000n, revealWindow: 80_000n });
        const group = await p.shards(0n);
        const flush = (by: SandboxContract<TreasuryContract>) =>
            group.send(by.getSender(), { value: toNano('0.05') }, { $$type: 'ShardsFlush', queryId: 0n });
        // every shard claimed and committed now; each revealed (and so settled) in its own epoch below
        const result = hashOf('a result');
        for (let id = 0n; id < 4n; id++) {
            await p.claim(workers[0], id);
            await p.commit(workers[0], id, result);
        }
        const reveal = (id: bigint) => p.reveal(workers[0], id, result);
        await reveal(0n);
        expect((await group.getShardsState()).pending).toBe(true);
        // not before the epoch ends, whoever asks
        const early = await flush(workers[2]);
        expect(early.transactions).toHaveTransaction({
            to: group.address,
            success: false,
            exitCode: Hub.errors['The epoch has not ended'],
        });
        p.blockchain.now = Number(p.params.epochStart + p.params.epochLength) + 1;
        const flushed = await flush(workers[2]);
        expect(txsTo(flushed, p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        expect((await (await p.epoch(0n)).getEpochState()).units).toBe(PRICE);
        // nothing left to report
        expect((await flush(workers[2])).transactions).toHaveTransaction({ to: group.address, exitCode: Hub.errors['Nothing to report'] });
        // a close in epoch 1, then one in epoch 2, which reports epoch 1's first
        expect(txsTo(await reveal(1n), p.hub.address, OP.ShardsClosed)).toHaveLength(0);
        p.blockchain.now = Number(p.params.epochStart + 2n * p.params.epochLength) + 1;
        expect(txsTo(await reveal(2n), p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        expect((await (await p.epoch(1n)).getEpochState()).units).toBe(PRICE);
        // the last close reports epoch 2's two
        expect(txsTo(await reveal(3n), p.hub.address, OP.ShardsClosed)).toHaveLength(1);
        expect((await (await p.epoch(2n)).getEpochState()).units).toBe(2n * PRICE);
        for (let id = 0n; id < 4n; id++) expect((await (await p.job(id)).getJobState()).phase).toBe(PhaseDone);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    });

    describe('holds: an epoch does not close while a sharded post owes it a report', () => {
        const LONG = { k: 1n, quorum: 1n, claimWindow: 80_000n, commitWindow: 80_000n, revealWindow: 80_000n };
        /** Chain time from which epoch `n` may close. */
        const closeAt = (n: bigint) => Number(p.params.epochStart + (n + 1n) * p.params.epochLength + p.params.closeDelay);
        const inEpoch = (n: bigint) => Number(p.params.epochStart + n * p.params.epochLength) + 1;
        const bodies = <T>(r: SendMessageResult, op: number, load: (s: ReturnType<Cell['beginParse']>) => T) =>
            txsTo(r, p.hub.address, op).map((t) => load(t.inMessage!.body.beginParse()));
        const holds = (r: SendMessageResult) => bodies(r, OP.ShardsHold, loadShardsHold).map((h) => [h.first, h.epoch]);
        const reports = (r: SendMessageResult) => bodies(r, OP.ShardsClosed, loadShardsClosed).map((c) => [c.epoch, c.units, c.held]);
        const epochState = async (n: bigint) => (await p.epoch(n)).getEpochState();
        const claimRewards = async (w: SandboxContract<TreasuryContract>, epoch: bigint) =>
            (await p.providerOf(w.address)).send(w.getSender(), { value: GAS }, { $$type: 'ClaimRewards', queryId: 0n, epoch });
        const flush = async (first: bigint) =>
            (await p.shards(first)).send(workers[2].getSender(), { value: toNano('0.05') }, { $$type: 'ShardsFlush', queryId: 0n });
        /** Claims, commits and reveals job `id` as its one worker (k = 1): the reveal settles it. */
        const win = async (w: SandboxContract<TreasuryContract>, id: bigint) => {
            expect(allSucceeded(await p.claim(w, id))).toBe(true);
            expect(allSucceeded(await p.commit(w, id, hashOf(`result ${id}`)))).toBe(true);
            const r = await p.reveal(w, id, hashOf(`result ${id}`));
            expect(allSucceeded(r)).toBe(true);
            return r;
        };

        it('refuses to close an epoch owed a held sum, bounces a claim back to its provider, and pays each provider its fair share once the sum is reported', async () => {
            const [a, b] = workers;
            // b earns 60 units in epoch 0 from a job posted alone: its units reach the epoch at once
            expect(allSucceeded(await p.post(alice, 60n * FOG, { k: 1n, quorum: 1n }))).toBe(true);
            await win(b, 0n);
            // a earns 10 units in epoch 0 from shard 1 of 2: not the last, so only added up, and held
            await p.postShards(alice, PRICE, 2, LONG);
            const r = await win(a, 1n);
            expect(holds(r)).toEqual([[1n, 0n]]);
            expect(reports(r)).toEqual([]);
            expect(await (await p.shards(1n)).getShardsState()).toMatchObject({ pending: true, held: true, epoch: 0n, units: PRICE });
            const epoch = await p.epoch(0n);
            const held = await epoch.getEpochState();
            expect([held.holds, held.units, held.closed]).toEqual([1n, 60n * FOG, false]);
            const provider = await p.providerOf(a.address);
            expect((await provider.getProviderState()).curUnits).toBe(PRICE);

            // past the close delay: the close and a claim (which would close it) are refused while held
            p.blockchain.now = closeAt(0n);
            const close = () => epoch.send(b.getSender(), { value: toNano('0.05') }, { $$type: 'CloseEpoch', queryId: 0n });
            expect((await close()).transactions).toHaveTransaction({
                to: epoch.address,
                success: false,
                exitCode: Epoch.errors['Sharded reports are outstanding'],
            });
            const fog = await p.balanceOf(a.address);
            const early = await claimRewards(a, 0n);
            expect(early.transactions).toHaveTransaction({
                from: provider.address,
                to: epoch.address,
                success: false,
                exitCode: Epoch.errors['Sharded reports are outstanding'],
            });
            expect(early.transactions).toHaveTransaction({
                from: epoch.address,
                to: provider.address,
                inMessageBounced: true,
                success: true,
            });
            expect((await provider.getProviderState()).curUnits).toBe(PRICE);
            expect(await p.balanceOf(a.address)).toBe(fog);
            expect(await epoch.getEpochState()).toEqual(held);

            // the flush (the keeper's) reports the sum and releases the hold; then the epoch closes
            const flushed = await flush(1n);
            expect(reports(flushed)).toEqual([[0n, PRICE, true]]);
            let e = await epoch.getEpochState();
            expect([e.holds, e.units, e.burned]).toEqual([0n, 60n * FOG + PRICE, 60n * FOG + PRICE]);
            expect(allSucceeded(await close())).toBe(true);
            e = await epoch.getEpochState();
            expect(e.closed).toBe(true);
            const paid: bigint[] = [];
            for (const [w, units] of [
                [a, PRICE],
                [b, 60n * FOG],
            ] as const) {
                const before = await p.balanceOf(w.address);
                expect(allSucceeded(await claimRewards(w, 0n))).toBe(true);
                paid.push((await p.balanceOf(w.address)) - before);
                expect(paid.at(-1)).toBe((e.emission * units) / e.units);
            }
            e = await epoch.getEpochState();
            expect(e.minted).toBe(paid[0] + paid[1]);
            expect(e.minted).toBeLessThanOrEqual(e.emission);
            expect(e.claimedUnits).toBe(e.units);
        });

        it('sends no hold for a sum reported at once: a refund, and the last close', async () => {
            await p.postShards(alice, PRICE, 2, { k: 1n, quorum: 1n });
            await p.claim(workers[0], 1n);
            await p.commit(workers[0], 1n, hashOf('a result'));
            p.blockchain.now! += Number(p.params.claimWindow) + 1;
            const expired = await p.finalize(workers[1], 0n);
            expect(allSucceeded(expired)).toBe(true);
            expect([holds(expired), reports(expired)]).toEqual([[], [[0n, 0n, false]]]);
            // nothing burned and nothing held: no epoch record at all
            expect((await p.blockchain.getContract((await p.epoch(0n)).address)).accountState?.type).not.toBe('active');
            const last = await p.reveal(workers[0], 1n, hashOf('a result'));
            expect(allSucceeded(last)).toBe(true);
            expect([holds(last), reports(last)]).toEqual([[], [[0n, PRICE, false]]]);
            expect([(await epochState(0n)).holds, (await epochState(0n)).units]).toEqual([0n, PRICE]);
        });

        it("releases a held sum's epoch when a close of the next epoch reports it, and holds the next epoch", async () => {
            await p.postShards(alice, PRICE, 4, LONG);
            for (let id = 0n; id < 4n; id++) {
                await p.claim(workers[0], id);
                await p.commit(workers[0], id, hashOf('r'));
            }
            expect(holds(await p.reveal(workers[0], 0n, hashOf('r')))).toEqual([[0n, 0n]]);
            // a second close of the same epoch adds to the held sum: no second hold
            const added = await p.reveal(workers[0], 1n, hashOf('r'));
            expect([holds(added), reports(added)]).toEqual([[], []]);
            expect((await epochState(0n)).holds).toBe(1n);
            p.blockchain.now = inEpoch(1n);
            const changed = await p.reveal(workers[0], 2n, hashOf('r'));
            expect(allSucceeded(changed)).toBe(true);
            expect([reports(changed), holds(changed)]).toEqual([[[0n, 2n * PRICE, true]], [[0n, 1n]]]);
            // the report of epoch 0 leaves the Shards before the hold of epoch 1
            const group = await p.shards(0n);
            const [close] = changed.transactions.filter((t) => addressOf(t).equals(group.address) && opOf(t) === OP.JobClosed);
            expect(close.outMessages.values().map((m) => m.body.beginParse().preloadUint(32))).toEqual([OP.ShardsClosed, OP.ShardsHold]);
            expect([(await epochState(0n)).holds, (await epochState(0n)).units]).toEqual([0n, 2n * PRICE]);
            expect([(await epochState(1n)).holds, (await epochState(1n)).units]).toEqual([1n, 0n]);
            expect(await group.getShardsState()).toMatchObject({ pending: true, held: true, epoch: 1n });
            const last = await p.reveal(workers[0], 3n, hashOf('r'));
            expect([reports(last), holds(last)]).toEqual([[[1n, 2n * PRICE, true]], []]);
            expect([(await epochState(1n)).holds, (await epochState(1n)).units]).toEqual([0n, 2n * PRICE]);
            expect((await p.blockchain.getContract(group.address)).balance).toBe(0n);
        });

        it('takes shards_hold only from Shards(first), with at least hold_value, whose whole chain it pays; a release reaches the epoch with nothing burned', async () => {
            await p.postShards(alice, PRICE, 2, LONG);
            const group = await p.shards(0n);
            const epoch = await p.epoch(0n);
            const value = await p.hub.getHoldValue();
            const hold = (from: Address, v: bigint) =>
                p.blockchain.sendMessage(
                    internal({
                        from,
                        to: p.hub.address,
                        value: v,
                        body: beginCell()
                            .store(storeShardsHold({ $$type: 'ShardsHold', first: 0n, epoch: 0n, requester: alice.address }))
                            .endCell(),
                    }),
                );
            const unrecorded = async () => expect((await p.blockchain.getContract(epoch.address)).accountState?.type).not.toBe('active');
            for (const from of [workers[2].address, await p.hub.getShardsAddress(5n)]) {
                const r = await hold(from, toNano('1'));
                expect(r.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: Hub.errors['Only the shards'] });
                await unrecorded();
            }
            const low = await hold(group.address, value - 1n);
            expect(low.transactions).toHaveTransaction({
                to: p.hub.address,
                success: false,
                exitCode: Hub.errors['Insufficient TON for a hold'],
            });
            await unrecorded();
            expect(await minimumAccepted(p.blockchain, p.hub.address, (v) => hold(group.address, v), 1n, toNano('1'))).toBe(value);
            // at exactly hold_value: the hub's record deploys the epoch, which keeps its storage reserve
            const r = await hold(group.address, value);
            expect(allSucceeded(r)).toBe(true);
            expect(r.transactions).toHaveTransaction({
                from: p.hub.address,
                to: epoch.address,
                op: OP.EpochRecord,
                deploy: true,
                success: true,
            });
            expect((await epoch.getEpochState()).holds).toBe(1n);
            expect((await p.blockchain.getContract(epoch.address)).balance).toBeGreaterThanOrEqual(MinTonsForStorage);
            // a held report reaches the epoch even with nothing to burn
            const release = await p.blockchain.sendMessage(
                internal({
                    from: group.address,
                    to: p.hub.address,
                    value: toNano('0.1'),
                    body: beginCell()
                        .store(
                            storeShardsClosed({
                                $$type: 'ShardsClosed',
                                first: 0n,
                                epoch: 0n,
                                burned: 0n,
                                refund: 0n,
                                slashed: 0n,
                                units: 0n,
                                held: true,
                                requester: alice.address,
                            }),
                        )
                        .endCell(),
                }),
            );
            expect(release.transactions).toHaveTransaction({ from: p.hub.address, to: epoch.address, op: OP.EpochAdd, success: true });
            expect((await epoch.getEpochState()).holds).toBe(0n);
        });
    });

    describe('refuses a post and sends its FOG back, saying why', () => {
        const expectRefused = async (r: SendMessageResult, reason: bigint, fog: bigint) => {
            expect(allSucceeded(r)).toBe(true);
            const events = r.externals
                .filter((e) => e.info.src.equals(p.hub.address) && e.body.beginParse().preloadUint(32) === OP.RefusedEvent)
                .map((e) => loadRefusedEvent(e.body.beginParse()));
            expect(events.map((e) => e.reason)).toEqual([reason]);
            expect(await p.balanceOf(alice.address)).toBe(fog);
            const hub = await p.hub.getHubState();
            expect([hub.nextJobId, hub.totalEscrow]).toEqual([0n, 0n]);
        };
        const raw = (count: number, shards: Cell, spec = specOf({ k: 1n, quorum: 1n })) =>
            beginCell()
                .store(
                    storePostShardsPayload({
                        $$type: 'PostShardsPayload',
                        count: BigInt(count),
                        spec: { ...spec, uris: beginCell().storeRef(beginCell().storeStringTail('fog://program')).endCell() },
                        shards,
                    }),
                )
                .endCell();

        it('no shards, or more than MaxShards', async () => {
            const fog = await p.balanceOf(alice.address);
            await expectRefused(await p.toHub(alice, PRICE, raw(0, shardList(shardsOf(1))), toNano('1')), RefuseShards, fog);
            const many = Number(MaxShards) + 1;
            const list = shardList(shardsOf(64));
            await expectRefused(await p.toHub(alice, PRICE * BigInt(many), raw(many, list), toNano('3')), RefuseShards, fog);
        });

        it('FOG that the shards do not share evenly, and a shard price below the minimum', async () => {
            const fog = await p.balanceOf(alice.address);
            await expectRefused(await p.postShards(alice, PRICE, 3, { k: 1n, quorum: 1n }, { amount: 3n * PRICE + 1n }), RefuseShards, fog);
            await expectRefused(await p.postShards(alice, p.params.minJobPrice - 1n, 3, { k: 1n, quorum: 1n }), RefusePriceTooLow, fog);
        });

        it('a list shorter than its count, and a spec without a program URI', async () => {
            const fog = await p.balanceOf(alice.address);
            await expectRefused(await p.toHub(alice, 3n * PRICE, raw(3, shardList(shardsOf(2))), toNano('1')), RefuseMalformed, fog);
            const bare = beginCell()
                .store(
                    storePostShardsPayload({
                        $$type: 'PostShardsPayload',
                        count: 1n,
                        spec: { ...specOf({ k: 1n, quorum: 1n }), uris: beginCell().endCell() },
                        shards: shardList(shardsOf(1)),
                    }),
                )
                .endCell();
            await expectRefused(await p.toHub(alice, PRICE, bare, toNano('1')), RefuseMalformed, fog);
        });

        it("a shard whose input URI, with the program's, passes MaxUriCells", async () => {
            const fog = await p.balanceOf(alice.address);
            const shards = shardsOf(3);
            // the program's URI and the root take 2 cells: an input URI of MaxUriCells - 2 cells fits, one more does not
            const snake = (n: number) =>
                beginCell()
                    .storeStringTail('i'.repeat(127 * n - 1))
                    .endCell();
            expect(cellShape(snake(Number(MaxUriCells) - 2)).cells).toBe(Number(MaxUriCells) - 2);
            shards[1] = { ...shards[1], inputUri: snake(Number(MaxUriCells) - 1) };
            await expectRefused(await p.postShards(alice, PRICE, 3, { k: 1n, quorum: 1n }, { shards }), RefuseUrisTooLarge, fog);
            shards[1] = { ...shards[1], inputUri: snake(Number(MaxUriCells) - 2) };
            expect(allSucceeded(await p.postShards(alice, PRICE, 3, { k: 1n, quorum: 1n }, { shards }))).toBe(true);
            expect((await p.hub.getHubState()).nextJobId).toBe(3n);
        });

        it('a program URI that leaves no room for an input, and a shard cell with more than its input and next', async () => {
            const fog = await p.balanceOf(alice.address);
            const snake = (n: number) =>
                beginCell()
                    .storeStringTail('p'.repeat(127 * n - 1))
                    .endCell();
            const wide = beginCell()
                .store(
                    storePostShardsPayload({
                        $$type: 'PostShardsPayload',
                        count: 1n,
                        spec: {
                            ...specOf({ k: 1n, quorum: 1n }),
                            uris: beginCell()
                                .storeRef(snake(Number(MaxUriCells)))
                                .endCell(),
                        },
                        shards: shardList(shardsOf(1)),
                    }),
                )
                .endCell();
            await expectRefused(await p.toHub(alice, PRICE, wide, toNano('1')), RefuseUrisTooLarge, fog);
            // a last shard with a third reference, and a shard with bits past its two hashes
            const [one] = shardsOf(1);
            const extra = beginCell()
                .storeUint(one.inputHash, 256)
                .storeUint(one.initialRoot, 256)
                .storeRef(one.inputUri)
                .storeRef(beginCell().storeUint(7, 8).endCell())
                .endCell();
            await expectRefused(await p.toHub(alice, PRICE, raw(1, extra), toNano('1')), RefuseMalformed, fog);
            const longer = beginCell()
                .storeUint(one.inputHash, 256)
                .storeUint(one.initialRoot, 256)
                .storeUint(1, 1)
                .storeRef(one.inputUri)
                .endCell();
            await expectRefused(await p.toHub(alice, PRICE, raw(1, longer), toNano('1')), RefuseMalformed, fog);
        });

        it('less TON than post_shards_cost', async () => {
            const fog = await p.balanceOf(alice.address);
            const list = shardList(shardsOf(4));
            const size = cellShape(list);
            const cost = await p.hub.getPostShardsCost(1n, 4n, BigInt(size.cells), BigInt(size.bits));
            await expectRefused(await p.postShards(alice, PRICE, 4, { k: 1n, quorum: 1n }, { forwardTon: cost - 1n }), RefusePostTon, fog);
            expect(allSucceeded(await p.postShards(alice, PRICE, 4, { k: 1n, quorum: 1n }, { forwardTon: cost }))).toBe(true);
        });
    });

    it('takes shards_deploy, shards_closed and a job close only from whom they must come', async () => {
        await p.postShards(alice, PRICE, 2, { k: 1n, quorum: 1n });
        const group = await p.shards(0n);
        const stranger = workers[2];
        const deploy = await p.hub.send(
            stranger.getSender(),
            { value: toNano('1') },
            {
                $$type: 'ShardsDeploy',
                first: 0n,
                count: 1n,
                price: PRICE,
                k: 1n,
                requester: stranger.address,
                shards: shardList(shardsOf(1)),
                template: beginCell().endCell(),
            },
        );
        expect(deploy.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: Hub.errors['Only the shards'] });
        const closed = await p.hub.send(
            stranger.getSender(),
            { value: toNano('1') },
            {
                $$type: 'ShardsClosed',
                first: 0n,
                epoch: 0n,
                burned: 0n,
                refund: PRICE,
                slashed: 0n,
                units: 0n,
                held: false,
                requester: stranger.address,
            },
        );
        expect(closed.transactions).toHaveTransaction({ to: p.hub.address, success: false, exitCode: Hub.errors['Only the shards'] });
        const close = await group.send(
            stranger.getSender(),
            { value: toNano('1') },
            {
                $$type: 'JobClosed',
                id: 0n,
                price: PRICE,
                slashed: 0n,
                units: 0n,
                epoch: 0n,
                burn: false,
                requester: stranger.address,
            },
        );
        expect(close.transactions).toHaveTransaction({ to: group.address, success: false });
        expect((await group.getShardsState()).closed).toBe(0n);
        expect((await p.hub.getHubState()).totalEscrow).toBe(2n * PRICE);
    });

    it('posts 64 shards within the gas limit, each handler within its bound', async () => {
        const r = await p.postShards(alice, PRICE, 64, { k: 1n, quorum: 1n });
        expect(allSucceeded(r)).toBe(true);
        expect((await p.hub.getHubState()).nextJobId).toBe(64n);
        const gasOf = (op: number, to?: Address) =>
            r.transactions.filter((t) => opOf(t) === op && (!to || addressOf(t).equals(to))).map((t) => computeGas(t));
        const [notify] = gasOf(OP.JettonTransferNotification, p.hub.address);
        const [deploy] = gasOf(OP.ShardsDeploy);
        expect(notify).toBeLessThanOrEqual(GasHubNotify + 64n * GasHubShardCheck);
        expect(deploy).toBeLessThanOrEqual(GasHubShards + 64n * GasHubShard);
        expect(gasOf(OP.ShardsCreate)[0]).toBeLessThanOrEqual(GasShardsCreate);
        expect(gasOf(OP.OwnerInfo)[0]).toBeLessThanOrEqual(GasShardsVerify);
        const creates = gasOf(OP.ShardCreate);
        expect(creates).toHaveLength(64);
        expect(creates.every((g) => g <= GasJobCreate)).toBe(true);
        for (const id of [0n, 63n]) expect((await (await p.job(id)).getJobState()).phase).toBe(PhaseOpen);
        // every close within GasShardsClosed, the last one's report included
        const result = hashOf('r');
        let most = 0n;
        for (let id = 0n; id < 64n; id++) {
            await p.claim(workers[0], id);
            await p.commit(workers[0], id, result);
            const last = await p.reveal(workers[0], id, result);
            for (const t of last.transactions) if (opOf(t) === OP.JobClosed) most = computeGas(t) > most ? computeGas(t) : most;
        }
        expect(most).toBeGreaterThan(0n);
        expect(most).toBeLessThanOrEqual(GasShardsClosed);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    }, 120_000);
});

describe('shardedSpec', () => {
    it("gives each shard its input's hash, initial root and URI, and every shard the program's spec", () => {
        const program = readFileSync(exampleNamed('upper').program);
        const inputs = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
        const urlOf = (h: string) => `http://storage.example/${h}`;
        const { spec, shards } = shardedSpec({ program, inputs, urlOf, k: 2 });
        expect(shards).toHaveLength(3);
        for (const [i, input] of inputs.entries()) {
            const alone = jobSpec({ program, input, urlOf, k: 2 });
            expect([shards[i].inputHash, shards[i].initialRoot]).toEqual([alone.inputHash, alone.initialRoot]);
            expect(shards[i].inputUri.beginParse().loadStringTail()).toBe(urlOf(sha256Hex(input)));
        }
        expect([spec.programHash, spec.k, spec.quorum]).toEqual([jobSpec({ program, input: inputs[0], urlOf, k: 2 }).programHash, 2n, 2n]);
        expect(() => shardedSpec({ program, inputs: [], urlOf })).toThrow(/1 to 64 inputs/);
        expect(() => shardedSpec({ program, inputs: Array.from({ length: 65 }, () => inputs[0]), urlOf })).toThrow(/1 to 64 inputs/);
    });
});

const opOf = (t: Transaction) => {
    const b = t.inMessage?.body.beginParse();
    return b && b.remainingBits >= 32 ? b.preloadUint(32) : -1;
};
const addressOf = (t: { address: bigint }) => Address.parseRaw('0:' + t.address.toString(16).padStart(64, '0'));
