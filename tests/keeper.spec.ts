/**
 * The keeper against the HTTP devnet, fed by a real watcher: it finalizes jobs only once their
 * deadlines passed by the chain's clock, expires unclaimed ones with a refund, slashes
 * non-revealers through finalization, closes epochs after their close delay exactly once, and
 * treats a poke someone else beat as a logged refusal, not a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, RootDatabase } from 'lmdb';
import { startDevnet, Devnet, FOG } from './helpers/devnet';
import { advance, claim, commit, post, reveal, staker, wallet } from './helpers/flow';
import { shardsOf, specOf } from '../client/sandbox/protocol';
import { closableAt, JobPhase, Keeper, KeeperConfigError } from '../oracle/keeper';
import { Watcher } from '../client/watcher';
import { NetworkIndex } from '../client/network-index';
import { WalletSender } from '../client/sender';
import { jobLibraryStatus } from '../client/library';
import { beginCell } from '@ton/core';
import { storeFinalize } from '../wrappers/Hub';

describe('keeper', () => {
    let d: Devnet;
    let dir: string;
    let db: RootDatabase;
    let requester: WalletSender;
    let workers: WalletSender[];
    let watcher: Watcher;
    let keeper: Keeper;
    let index: NetworkIndex;
    const logged: { event: string }[] = [];
    const log = (e: object) => logged.push(e as { event: string });
    const phase = async (id: bigint) => Number((await (await d.fog.job(id)).getJobState()).phase);
    const chainNow = async () => (await d.client.getContractState(d.protocol.hub)).timestampt;
    let unclaimed: bigint;
    let silent: bigint;

    beforeAll(async () => {
        d = await startDevnet();
        dir = mkdtempSync(join(tmpdir(), 'fog-keeper-test-'));
        db = open({ path: join(dir, 'oracle.mdb') });
        requester = await staker(d);
        workers = [await staker(d), await staker(d), await staker(d)];
        watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, log });
        keeper = new Keeper({ watcher, fog: d.fog, db, sender: await wallet(d), retryMs: 0, log });
        index = new NetworkIndex(db, watcher);
    });
    afterAll(async () => {
        await keeper.stop();
        await watcher.stop();
        await db.close();
        await d.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('refuses a schedule that is not a cron expression', () => {
        expect(
            () =>
                new Keeper({
                    watcher,
                    fog: d.fog,
                    db,
                    sender: undefined as unknown as WalletSender,
                    schedule: 'every minute',
                    name: 'bad',
                }),
        ).toThrow(KeeperConfigError);
    });

    it('pokes nothing before a deadline', async () => {
        unclaimed = await post(d, requester, { k: 3n, quorum: 2n });
        silent = await post(d, requester, { k: 3n, quorum: 2n });
        for (const w of workers) await claim(d, w, silent);
        for (const w of workers) await commit(d, w, silent);
        await reveal(d, workers[0], silent); // the other two never reveal
        await watcher.pollOnce();

        expect(keeper.liveJobs().map((j) => [j.id, j.phase, j.claims])).toEqual([
            [unclaimed, JobPhase.Open, 0],
            [silent, JobPhase.Open, 3],
        ]);
        const report = await keeper.tickOnce();
        expect(Math.abs(report.now - (await chainNow()))).toBeLessThanOrEqual(1);
        expect(report).toMatchObject({ finalized: [], closed: [], refused: 0 });
        expect(await phase(unclaimed)).toBe(JobPhase.Open);
    });

    it('expires a job short of claims once its claim window passed on the chain’s clock, refunding the requester', async () => {
        const before = await d.fog.balanceOf(requester.address);
        await advance(d, 61); // the chain is now a minute ahead of this machine: only its clock counts
        const report = await keeper.tickOnce();
        expect(report.now).toBeGreaterThan(Date.now() / 1000 + 50);
        expect(report.finalized).toEqual([unclaimed]);
        expect(await phase(unclaimed)).toBe(JobPhase.Expired);
        expect(await d.fog.balanceOf(requester.address)).toBe(before + 10n * FOG);
        // the job whose workers committed is not due before its reveal deadline
        expect(await phase(silent)).toBe(JobPhase.Open);
        expect(logged.filter((e) => e.event === 'finalize_sent')).toHaveLength(1);

        await watcher.pollOnce();
        expect(keeper.liveJobs().map((j) => j.id)).toEqual([silent]);
    });

    it('finalizes past the reveal deadline: the non-revealers are slashed', async () => {
        const { revealUntil } = await (await d.fog.job(silent)).getJobState();
        await advance(d, Number(revealUntil) - (await chainNow()) + 1);
        const report = await keeper.tickOnce();
        expect(report.finalized).toEqual([silent]);
        expect(await phase(silent)).toBe(JobPhase.Failed); // one reveal of a quorum of two
        const slashes = await Promise.all(
            workers.map(async (w) => (await (await d.fog.providerOf(w.address)).getProviderState()).slashCount),
        );
        expect(slashes).toEqual([0n, 1n, 1n]);

        await watcher.pollOnce();
        expect(keeper.liveJobs()).toEqual([]);
        expect(keeper.knownEpochs()).toHaveLength(1);
    });

    it('closes an epoch once it ended and its close delay passed, and only once', async () => {
        const [{ n, closed }] = keeper.knownEpochs();
        expect(closed).toBe(false);
        const params = await d.fog.hub.getParams();
        const due = closableAt(n, params);
        expect((await keeper.tickOnce()).closed).toEqual([]);

        await advance(d, due - (await chainNow()) + 1);
        const report = await keeper.tickOnce();
        expect(report.closed).toEqual([n]);
        expect((await (await d.fog.epoch(n)).getEpochState()).closed).toBe(true);

        await watcher.pollOnce();
        expect(keeper.knownEpochs()).toEqual([{ n, closed: true }]);
        expect(await keeper.tickOnce()).toMatchObject({ closed: [], finalized: [], refused: 0 });
    });

    it('sends nothing for a job someone else finalized (the chain says so before its index does), and forgets it once the watcher reports it', async () => {
        const id = await post(d, requester, { k: 3n, quorum: 2n });
        await watcher.pollOnce();
        await advance(d, 61);
        const other = await wallet(d);
        await other.send([await d.fog.finalize(id)], true);

        const before = logged.length;
        const report = await keeper.tickOnce(); // the keeper's index has not heard of the finalization yet
        expect(report).toMatchObject({ finalized: [], refused: 0 });
        expect(logged.slice(before).filter((e) => e.event.startsWith('finalize'))).toEqual([]);
        // no second finalize reached the job: its history holds the other wallet's only
        const job = await d.fog.job(id);
        const op = beginCell()
            .store(storeFinalize({ $$type: 'Finalize', queryId: 0n }))
            .endCell()
            .beginParse()
            .preloadUint(32);
        const finalizes = (await d.client.getTransactions(job.address, { limit: 20 })).filter(
            (t) => t.inMessage?.info.type === 'internal' && t.inMessage.body.beginParse().preloadUint(32) === op,
        );
        expect(finalizes.map((t) => t.inMessage!.info.src?.toString())).toEqual([other.address.toString()]);

        await watcher.pollOnce();
        expect(keeper.liveJobs()).toEqual([]);
    });

    it('leaves the network index with every outcome counted once', async () => {
        const closed = await (await d.fog.epoch(0n)).getEpochState();
        expect(index.read()).toMatchObject({
            providers: 4,
            providersEver: 4,
            jobsPosted: 3,
            jobsDone: 0,
            jobsFailed: 1,
            jobsExpired: 2,
            jobsRejected: 0,
            burned: 0n,
            slashed: 20n * FOG,
            emitted: closed.emission,
            minted: 0n,
        });
        expect(await watcher.pollOnce()).toBe(0);
        expect(index.read().jobsExpired).toBe(2);
    });

    it('resumes from its tables after a restart and runs on its cron schedule', async () => {
        const id = await post(d, requester, { k: 2n, quorum: 2n });
        await watcher.pollOnce();
        await watcher.stop();
        // a new process: the same database, a new watcher and keeper, nothing re-read from the chain
        const again = new Watcher({ client: d.client, db, hub: d.protocol.hub, log });
        const restarted = new Keeper({ watcher: again, fog: d.fog, db, sender: await wallet(d), schedule: '* * * * * *', log });
        expect(restarted.liveJobs().map((j) => j.id)).toEqual([id]);

        await advance(d, 61);
        restarted.start();
        try {
            const deadline = Date.now() + 20_000;
            while ((await phase(id)) !== JobPhase.Expired) {
                if (Date.now() > deadline)
                    throw new Error(`the scheduled keeper did not expire job ${id}: ${JSON.stringify(logged.slice(-5))}`);
                await new Promise((r) => setTimeout(r, 200));
            }
        } finally {
            await restarted.stop();
        }
        await again.pollOnce();
        expect(restarted.liveJobs()).toEqual([]);
    });

    it("has a sharded post's Shards report an ended epoch's closes before that epoch closes, and forgets the post once its shards have all closed", async () => {
        const { first, w } = await heldPost();
        const shards = await d.fog.shards(first);
        const epoch = (await shards.getShardsState()).epoch;
        expect((await shards.getShardsState()).pending).toBe(true);
        // nothing to do before the epoch ends
        expect((await keeper.tickOnce()).flushed).toEqual([]);
        const params = await d.fog.hub.getParams();
        // the epoch ended and its close delay passed: the flush goes first, the close waits a tick
        await advance(d, closableAt(epoch, params) - (await chainNow()) + 1);
        const flushing = await keeper.tickOnce();
        expect([flushing.flushed, flushing.closed]).toEqual([[first], []]);
        expect((await shards.getShardsState()).pending).toBe(false);
        const recorded = await (await d.fog.epoch(epoch)).getEpochState();
        expect([recorded.closed, recorded.burned >= 10n * FOG]).toEqual([false, true]);
        await watcher.pollOnce();
        expect((await keeper.tickOnce()).closed).toContain(epoch);
        expect((await (await d.fog.epoch(epoch)).getEpochState()).closed).toBe(true);
        // once both shards have closed, the keeper forgets the post
        await reveal(d, w, first + 1n);
        await watcher.pollOnce();
        expect((await shards.getShardsState()).closed).toBe(2n);
        expect((await keeper.tickOnce()).flushed).toEqual([]);
        expect(logged.filter((e) => e.event === 'shards_flush_sent')).toHaveLength(1);
    });
    /** A sharded post of two long shards, the first settled: its Shards holds the epoch. */
    async function heldPost() {
        await watcher.pollOnce();
        const first = (await d.fog.hub.getHubState()).nextJobId;
        const long = { k: 1n, quorum: 1n, claimWindow: 80_000n, commitWindow: 80_000n, revealWindow: 80_000n };
        await requester.send([await d.fog.postShards(requester.address, 10n * FOG, specOf(long), shardsOf(2))], true);
        const [w] = workers;
        for (const id of [first, first + 1n]) {
            await claim(d, w, id);
            await commit(d, w, id);
        }
        await reveal(d, w, first);
        await watcher.pollOnce();
        const epoch = (await (await d.fog.shards(first)).getShardsState()).epoch;
        const state = async () => (await d.fog.epoch(epoch)).getEpochState();
        expect((await state()).holds).toBe(1n);
        return { first, epoch, state, w };
    }

    /** A keeper whose tables never had post `first` (it started after the post): it cannot flush it. */
    const forget = (first: bigint) => db.openDB('keeper-shards', { encoding: 'json' }).removeSync(first.toString());

    it('sends no close to an epoch a sharded post still holds, logging why, and closes it once the Shards has reported', async () => {
        const { first, epoch, state, w } = await heldPost();
        forget(first);
        const params = await d.fog.hub.getParams();
        await advance(d, closableAt(epoch, params) - (await chainNow()) + 1);
        const held = await keeper.tickOnce();
        expect([held.flushed, held.closed.includes(epoch), held.refused]).toEqual([[], false, 0]);
        expect(logged).toContainEqual(expect.objectContaining({ event: 'close_epoch_held', epoch: epoch.toString(), holds: 1 }));
        expect(logged).not.toContainEqual(expect.objectContaining({ event: 'close_epoch_refused', epoch: epoch.toString() }));
        expect((await state()).closed).toBe(false);
        // anyone's flush reports the sum and releases the hold: the next tick closes the epoch
        await requester.send([await d.fog.flushShards(first)], true);
        expect((await state()).holds).toBe(0n);
        expect((await keeper.tickOnce()).closed).toContain(epoch);
        expect((await state()).closed).toBe(true);
        await reveal(d, w, first + 1n);
    });

    it('closes an epoch held by a post nobody flushed once a whole epoch has passed since its end: it waits one epoch at most', async () => {
        const { first, epoch, state, w } = await heldPost();
        forget(first);
        const { terms } = await state();
        await advance(d, Number(terms.end + terms.length) - (await chainNow()) - 5);
        expect((await keeper.tickOnce()).closed.includes(epoch)).toBe(false);
        await advance(d, 6);
        expect((await keeper.tickOnce()).closed).toContain(epoch);
        expect(await state()).toMatchObject({ holds: 1n, closed: true });
        // the late report still lands (and releases what no longer holds anything)
        await requester.send([await d.fog.flushShards(first)], true);
        expect((await state()).holds).toBe(0n);
        await reveal(d, w, first + 1n);
    });

    it("warns when the Librarian publishing Job's code has less rent than it should, and not otherwise", async () => {
        const status = await jobLibraryStatus(d.fog);
        if (!status.library || status.state === 'unknown')
            throw new Error("the devnet deploys jobs with a library cell of this build's Job code");
        expect(status.state).toBe('published');
        // 100 TON at about 47 TON a year of masterchain rent
        expect(status.daysLeft).toBeGreaterThan(700);
        expect(status.daysLeft).toBeLessThan(800);
        expect(logged.filter((e) => e.event.startsWith('library_'))).toEqual([]);
        const watchful = new Keeper({ watcher, fog: d.fog, db, sender: await wallet(d), libraryWarnDays: 1000, name: 'watchful', log });
        await watchful.tickOnce();
        await watchful.tickOnce(); // once an hour, not every tick
        const warned = logged.filter((e) => e.event === 'library_rent_low') as unknown as { daysLeft: number; librarian: string }[];
        expect(warned).toHaveLength(1);
        expect(warned[0].daysLeft).toBe(Math.floor(status.daysLeft));
        expect(warned[0].librarian).toBe(status.librarian.toString());

        // the masterchain takes the rent at the account's next transaction: the days left count it already
        await advance(d, 365 * 86_400);
        const later = await jobLibraryStatus(d.fog);
        if (!later.library || later.state === 'unknown') throw new Error('unreachable');
        expect(later.daysLeft).toBeGreaterThan(status.daysLeft - 366);
        expect(later.daysLeft).toBeLessThan(status.daysLeft - 364);
        const due = new Keeper({
            watcher,
            fog: d.fog,
            db,
            sender: await wallet(d),
            libraryWarnDays: status.daysLeft - 300,
            name: 'due',
            log,
        });
        await due.tickOnce();
        expect(logged.filter((e) => e.event === 'library_rent_low')).toHaveLength(2);
    });
});
