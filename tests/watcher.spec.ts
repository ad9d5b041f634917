/**
 * The watcher against the HTTP devnet: a job's whole life reaches every subscriber once, in
 * order per contract; a restart delivers only what is new; a kill -9 of the `watch.js` process
 * in mid-stream loses and repeats nothing.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, RootDatabase } from 'lmdb';
import { startDevnet, Devnet, FOG } from './helpers/devnet';
import { claim, commit, contracts, eventsOnChain, post, reveal, staker, wallet } from './helpers/flow';
import { DeliveryError, Watcher } from '../client/watcher';
import { FogEvent } from '../client/events';
import { WalletSender } from '../client/sender';
import { writeNetworkFile } from '../client/addresses';
import { WATCH_DB } from '../oracle/config';
import { eventJson } from '../client/event-codec';
import { RefusedPost, RefuseKOutOfRange } from '../wrappers/Hub';
import { refusalReason } from '../wrappers/refusal';
import { toNano } from '@ton/core';

const WATCH_JS = join(__dirname, '..', 'dist', 'oracle', 'watch.js');
const quiet = () => undefined;

/** Event kinds by emitting contract, in delivery order. */
function byContract(events: FogEvent[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const e of events) {
        const k = e.origin.address.toRawString();
        out.set(k, [...(out.get(k) ?? []), e.$$type]);
    }
    return out;
}

const ids = (events: FogEvent[]) => events.map((e) => e.origin.id);

describe('watcher', () => {
    let d: Devnet;
    let dir: string;
    let db: RootDatabase;
    let requester: WalletSender;
    let workers: WalletSender[];
    const owners = () => [requester.address, ...workers.map((w) => w.address)];

    beforeAll(async () => {
        d = await startDevnet();
        dir = mkdtempSync(join(tmpdir(), 'fog-watcher-test-'));
        db = open({ path: join(dir, 'watcher.mdb') });
    });
    afterAll(async () => {
        await db.close();
        await d.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('delivers a job’s whole life to two subscribers, each event once and in order per contract', async () => {
        requester = await staker(d);
        workers = [await staker(d), await staker(d), await staker(d)];
        const id = await post(d, requester, { k: 3n, quorum: 2n });
        for (const w of workers) await claim(d, w, id);
        for (const w of workers) await commit(d, w, id);
        for (const w of workers) await reveal(d, w, id);

        // a small page forces the watcher to page back and re-fetch
        const watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, pageSize: 3, log: quiet });
        const a: FogEvent[] = [];
        const b: FogEvent[] = [];
        const seen = db.openDB<number, string>('test-seen', { encoding: 'json' });
        watcher.subscribe('a', (e) => {
            // a handler writing into the same environment: exactly once with the pointer
            seen.putSync(e.origin.id, (seen.get(e.origin.id) ?? 0) + 1);
            a.push(e);
        });
        watcher.subscribe('b', (e) => b.push(e));
        const found = await watcher.pollOnce();

        const provider = async (w: WalletSender) => (await d.fog.hub.getProviderAddress(w.address)).toRawString();
        const job = (await d.fog.hub.getJobAddress(id)).toRawString();
        const kinds = byContract(a);
        expect(kinds.get(d.protocol.hub.toRawString())).toEqual(['JobPostedEvent']);
        expect(kinds.get(await provider(requester))).toEqual(['StakedEvent']);
        for (const w of workers) expect(kinds.get(await provider(w))).toEqual(['StakedEvent', 'SettledEvent']);
        expect(kinds.get(job)).toEqual([
            'JobOpenedEvent',
            ...Array(3).fill('JobClaimedEvent'),
            ...Array(3).fill('CommittedEvent'),
            ...Array(3).fill('RevealedEvent'),
            'JobFinalizedEvent',
        ]);
        expect(kinds.size).toBe(6);
        expect(found).toBe(a.length);
        expect(new Set(ids(a)).size).toBe(a.length);
        expect(ids(b)).toEqual(ids(a));
        expect([...seen.getRange({})].every(({ value }) => value === 1)).toBe(true);
        expect(seen.getKeysCount()).toBe(a.length);
        // the same set the chain shows, read independently
        const onChain = await eventsOnChain(d.client, await contracts(d, owners()));
        expect(new Set(ids(a))).toEqual(new Set(ids(onChain)));
        // decoded faithfully: bigints, addresses
        const posted = a.find((e) => e.$$type === 'JobPostedEvent');
        expect(posted).toMatchObject({ id, price: 10n * FOG, k: 3n });
        expect(posted?.$$type === 'JobPostedEvent' && posted.requester.equals(requester.address)).toBe(true);

        // the finished job is dropped, the epoch it settled in is followed
        const followed = watcher.following();
        expect(followed.some((f) => f.address.toRawString() === job)).toBe(false);
        expect(followed.filter((f) => f.kind === 'provider')).toHaveLength(4);
        const finalized = a.find((e) => e.$$type === 'JobFinalizedEvent');
        const epoch = finalized?.$$type === 'JobFinalizedEvent' ? finalized.epoch : -1n;
        const epochs = followed.filter((f) => f.kind === 'epoch').map((f) => ({ ...f, address: f.address.toRawString() }));
        expect(epochs).toEqual([{ kind: 'epoch', key: epoch.toString(), address: (await d.fog.hub.getEpochAddress(epoch)).toRawString() }]);

        // nothing new: nothing delivered, and the outbox is empty once both passed
        expect(await watcher.pollOnce()).toBe(0);
        expect(a.length + b.length).toBe(2 * found);
        expect(watcher.backlog()).toBe(0);
    });

    it('after a restart delivers only what happened since; a failing handler gets its event again, once', async () => {
        await workers[0].send([await d.fog.unstake(workers[0].address, 50n * FOG)], true);
        const id = await post(d, requester, { k: 2n, quorum: 2n });
        await claim(d, workers[1], id);

        const watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, log: quiet });
        const a: FogEvent[] = [];
        const b: FogEvent[] = [];
        const c: FogEvent[] = [];
        let failOnce = true;
        watcher.subscribe('a', (e) => a.push(e));
        watcher.subscribe('b', (e) => b.push(e));
        // a new subscriber starts with what the outbox still holds (nothing: a and b consumed it)
        watcher.subscribe('c', (e) => {
            if (e.$$type === 'JobOpenedEvent' && failOnce) {
                failOnce = false;
                throw new Error('disk full');
            }
            c.push(e);
        });
        const error = await watcher.pollOnce().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DeliveryError);
        expect((error as DeliveryError).data.subscriber).toBe('c');

        expect(a.map((e) => e.$$type).sort()).toEqual(['JobClaimedEvent', 'JobOpenedEvent', 'JobPostedEvent', 'UnstakedEvent']);
        expect(ids(b)).toEqual(ids(a));
        expect(c.map((e) => e.$$type)).not.toContain('JobOpenedEvent');
        expect(watcher.backlog()).toBeGreaterThan(0);

        expect(await watcher.pollOnce()).toBe(0);
        expect(ids(c).sort()).toEqual(ids(a).sort());
        expect(ids(b)).toEqual(ids(a));
        expect(watcher.backlog()).toBe(0);
    });

    it('survives kill -9 of watch.js mid-stream: after a restart it has recorded every event on chain exactly once', async () => {
        expect(existsSync(WATCH_JS)).toBe(true); // built by `npx tsc -p .`
        const data = join(dir, 'watch');
        const networkFile = join(dir, 'network.json');
        writeNetworkFile(networkFile, {
            network: 'devnet',
            endpoint: d.endpoint,
            token: d.protocol.token,
            collection: d.protocol.collection,
            hub: d.protocol.hub,
            devnet: d.url,
        });
        const printed = new Set<string>();
        const children: ChildProcess[] = [];
        let stderr = '';
        const run = () => {
            const child = spawn(process.execPath, [WATCH_JS, '--network-file', networkFile, '--data', data, '--poll-ms', '20'], {
                stdio: ['ignore', 'pipe', 'pipe'],
            });
            children.push(child);
            child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            let buffer = '';
            child.stdout!.on('data', (chunk: Buffer) => {
                buffer += chunk.toString();
                const lines = buffer.split('\n');
                buffer = lines.pop()!;
                for (const line of lines) printed.add((JSON.parse(line) as { origin: { id: string } }).origin.id);
            });
            const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
                child.on('exit', (code, signal) => resolve({ code, signal })),
            );
            return { child, exited };
        };
        const until = async (cond: () => boolean, what: string, ms = 20_000) => {
            const deadline = Date.now() + ms;
            while (!cond()) {
                if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; watch.js said:\n${stderr.slice(-2000)}`);
                await new Promise((r) => setTimeout(r, 20));
            }
        };
        const more = async (stakers: number, jobs: number) => {
            const fresh: WalletSender[] = [];
            for (let i = 0; i < stakers; i++) fresh.push(await staker(d));
            workers.push(...fresh);
            for (let j = 0; j < jobs; j++) {
                const id = await post(d, requester, { k: 3n, quorum: 2n });
                for (const w of fresh.slice(0, 2)) await claim(d, w, id);
            }
        };

        try {
            await more(5, 3);
            const first = run();
            await until(() => printed.size > 0, 'the first event line');
            first.child.kill('SIGKILL');
            expect((await first.exited).signal).toBe('SIGKILL');

            await more(3, 2);
            const second = run();
            const expected = new Set(ids(await eventsOnChain(d.client, await contracts(d, owners(), 1))));
            await until(
                () => [...expected].every((id) => printed.has(id)),
                `every event on chain to be printed (missing ${[...expected].filter((id) => !printed.has(id)).length} of ${expected.size})`,
            );
            second.child.kill('SIGTERM');
            expect(await second.exited).toEqual({ code: 0, signal: null });

            const recorded = open({ path: join(data, WATCH_DB) });
            try {
                const events = recorded.openDB<string, string>('events', { encoding: 'string' });
                const stats = recorded.openDB<number, string>('watch-stats', { encoding: 'json' });
                expect(new Set(events.getKeys({}))).toEqual(expected);
                expect(stats.get('duplicates')).toBeUndefined();
            } finally {
                await recorded.close();
            }
        } finally {
            for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        }
    });

    it('delivers a refused post as a RefusedEvent and logs it with the reason in words', async () => {
        const w = await wallet(d, toNano('10'), 50n * FOG);
        await post(d, w, { k: 8n, quorum: 5n });
        const logs: Record<string, unknown>[] = [];
        const watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, log: (e) => logs.push(e as Record<string, unknown>) });
        const got: FogEvent[] = [];
        watcher.subscribe('refusals', (e) => got.push(e));
        await watcher.pollOnce();
        const refused = got.filter((e) => e.$$type === 'RefusedEvent');
        expect(refused).toHaveLength(1);
        const e = refused[0];
        if (e.$$type !== 'RefusedEvent') throw new Error('unreachable');
        expect([e.what, e.reason, e.amount]).toEqual([RefusedPost, RefuseKOutOfRange, 10n * FOG]);
        expect(e.to.equals(w.address) && e.origin.address.equals(d.protocol.hub)).toBe(true);
        const why = refusalReason(RefuseKOutOfRange);
        expect(why).toMatch(/^k \(the number of workers\) is 0 or above the maximum/);
        expect(logs.filter((l) => l.event === 'refused')).toEqual([
            {
                event: 'refused',
                what: 'job post',
                why,
                reason: Number(RefuseKOutOfRange),
                amount: (10n * FOG).toString(),
                to: w.address.toString(),
                id: e.origin.id,
            },
        ]);
        // fog-watch's line carries the words too
        expect(eventJson(e)).toMatchObject({ event: 'RefusedEvent', refused: 'job post', why, reason: String(RefuseKOutOfRange) });
    });
});
