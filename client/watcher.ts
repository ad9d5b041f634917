/**
 * The watcher: follows the hub and every live child (jobs, providers, epochs) through
 * `getTransactions`, with a durable per-contract (lt, hash) cursor, and hands each Fog event
 * exactly once to each subscriber, across restarts and kill -9.
 *
 * State lives in named sub-databases of the LMDB environment the caller opens:
 *   watcher-cursors   address → { lt, hash } of the last transaction processed
 *   watcher-followed  address → { kind, key } of every contract followed
 *   watcher-outbox    seq → encoded event, appended in the order processed
 *   watcher-subscribers  name → last seq delivered to that subscriber
 *   watcher-meta      'seq' → last seq assigned
 *
 * One transaction's events, its cursor and the children it reveals are written in one LMDB
 * transaction, so a restart re-fetches from the cursor and neither misses nor repeats (the
 * transaction hash is the idempotency key). Delivery runs a subscriber's synchronous handler
 * inside the LMDB transaction that advances its pointer: a handler that writes into the same
 * environment sees each event exactly once.
 *
 * Children are found in the hub's own transactions: a JobPostedEvent names its job; the hub's
 * outgoing ProviderStake (which deploys or tops up Provider(owner)) and EpochRecord (which
 * deploys or updates Epoch(n)) name the provider and the epoch. No getter is needed, and only
 * epochs that exist are followed. A job is dropped once it emitted JobFinalized or JobRejected.
 *
 * Scaling limit: every poll cycle makes at least one `getTransactions` call per followed address
 * (the hub, the live jobs, every provider that ever staked and every epoch that ever settled a
 * job), one after the other. With toncenter's rate limits (1 request/s without a key, ~10/s with
 * one) a cycle over N addresses takes N/rate seconds: fine for thousands of contracts, not for
 * millions. Beyond that, follow the hub's and jobs' shards through blocks (an indexer) instead.
 */
import { Address, Cell, Transaction } from '@ton/core';
import { TonClient } from '@ton/ton';
import type { Database, RootDatabase } from 'lmdb';
import { Hub, loadJettonTransferNotification, loadJobClosed, loadShardsClosed, loadShardsHold } from '../wrappers/Hub';
import { eventsOf, FogEvent } from './events';
import { decodeEvent, encodeEvent } from './event-codec';
import { jsonLine } from './cli-kit';
import { refusalReason, refusedWhat } from '../wrappers/refusal';

/** What kind of contract a followed address is, and its key (job id, owner, epoch number). */
export type FollowedKind = 'hub' | 'job' | 'provider' | 'epoch';

export interface Followed {
    kind: FollowedKind;
    key: string;
}

/** The last transaction processed on one address. */
export interface Cursor {
    lt: string;
    /** base64, as toncenter takes it */
    hash: string;
}

/** Receives each event once, synchronously, inside the LMDB transaction that records it as delivered. */
export type EventHandler = (event: FogEvent) => void;

export interface WatcherOptions {
    client: TonClient;
    /** An LMDB environment opened by the caller (with room for 5 named databases of the watcher's). */
    db: RootDatabase;
    hub: Address;
    /** Transactions per `getTransactions` call, 1..99 (default 50). */
    pageSize?: number;
    /** Pause between poll cycles in `start()` (default 1000 ms). */
    pollMs?: number;
    /** Longest pause after repeated failures (default 30 s). */
    maxBackoffMs?: number;
    /** Receives one object per notable event (default: a JSON line on stderr). */
    log?: (event: object) => void;
}

/** An address's history no longer contains its stored cursor (e.g. a devnet started afresh). */
export class CursorMismatchError extends Error {
    constructor(readonly data: { address: string; cursor: Cursor; found?: { lt: string; hash: string } }) {
        super(
            `the history of ${data.address} does not contain its cursor (lt ${data.cursor.lt}): the chain was reset or the endpoint lost history`,
        );
        this.name = 'CursorMismatchError';
    }
}

/** A subscriber's handler threw; the event stays undelivered to it and is retried next cycle. */
export class DeliveryError extends Error {
    constructor(
        message: string,
        readonly data: { subscriber: string; seq: number; eventId: string },
        readonly cause: unknown,
    ) {
        super(message);
        this.name = 'DeliveryError';
    }
}

/** Options that make no sense. */
export class WatcherConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'WatcherConfigError';
    }
}

interface Anchor {
    lt: bigint;
    hash: Buffer;
    count: number;
}

interface Child {
    address: Address;
    followed: Followed;
}

const LIST_CHUNK = 100;
const GC_CHUNK = 1000;

const keyOf = (a: Address) => a.toRawString();
const opOf = (body: Cell): number | undefined => {
    const s = body.beginParse();
    return s.remainingBits >= 32 ? s.preloadUint(32) : undefined;
};

export class Watcher {
    private readonly client: TonClient;
    private readonly root: RootDatabase;
    private readonly hub: Address;
    private readonly pageSize: number;
    private readonly pollMs: number;
    private readonly maxBackoffMs: number;
    private readonly log: (event: object) => void;
    private readonly cursors: Database<Cursor, string>;
    private readonly followed: Database<Followed, string>;
    private readonly outbox: Database<string, number>;
    private readonly subscribers: Database<number, string>;
    private readonly meta: Database<number, string>;
    private readonly handlers = new Map<string, EventHandler>();
    private exclusive: Promise<unknown> = Promise.resolve();
    private loop: Promise<void> | undefined;
    private stopping = false;
    private wake: (() => void) | undefined;

    constructor(opts: WatcherOptions) {
        this.pageSize = opts.pageSize ?? 50;
        this.pollMs = opts.pollMs ?? 1000;
        this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
        // TonClient asks for one more than the page when it pages from a transaction; toncenter serves 100
        if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > 99)
            throw new WatcherConfigError(`pageSize must be a whole number from 1 to 99, got ${opts.pageSize}`);
        if (!Number.isFinite(this.pollMs) || this.pollMs < 0)
            throw new WatcherConfigError(`pollMs must be a number of milliseconds ≥ 0, got ${opts.pollMs}`);
        if (!Number.isFinite(this.maxBackoffMs) || this.maxBackoffMs < this.pollMs)
            throw new WatcherConfigError(`maxBackoffMs must be ≥ pollMs, got ${opts.maxBackoffMs}`);
        this.client = opts.client;
        this.root = opts.db;
        this.hub = opts.hub;
        this.log = opts.log ?? ((e) => jsonLine(process.stderr, e));
        this.cursors = this.root.openDB<Cursor, string>('watcher-cursors', { encoding: 'json' });
        this.followed = this.root.openDB<Followed, string>('watcher-followed', { encoding: 'json' });
        this.outbox = this.root.openDB<string, number>('watcher-outbox', { encoding: 'string' });
        this.subscribers = this.root.openDB<number, string>('watcher-subscribers', { encoding: 'json' });
        this.meta = this.root.openDB<number, string>('watcher-meta', { encoding: 'json' });
        if (this.followed.get(keyOf(this.hub)) === undefined) this.followed.putSync(keyOf(this.hub), { kind: 'hub', key: 'hub' });
    }

    /**
     * Delivers every event to `handler`, in order, each once, under `name` (its durable pointer).
     * A name seen before resumes where it stopped; a new name starts with the oldest event the
     * outbox still holds (all of them, unless other subscribers already consumed some).
     */
    subscribe(name: string, handler: EventHandler): void {
        if (typeof name !== 'string' || name === '') throw new WatcherConfigError('a subscriber needs a name');
        if (this.handlers.has(name)) throw new WatcherConfigError(`subscriber ${name} is already subscribed`);
        if (this.subscribers.get(name) === undefined) {
            const first = this.firstOutboxSeq();
            this.subscribers.putSync(name, first === undefined ? this.lastSeq() : first - 1);
        }
        this.handlers.set(name, handler);
    }

    /** Drops a subscriber for good: its pointer goes, and it no longer holds events in the outbox. */
    forget(name: string): void {
        this.handlers.delete(name);
        this.subscribers.removeSync(name);
    }

    /** Every followed contract (for inspection and tests). */
    following(): (Followed & { address: Address })[] {
        return Array.from(this.followed.getRange({}), ({ key, value }) => ({ address: Address.parseRaw(key), ...value }));
    }

    /** Events recorded but not yet delivered to every subscriber. */
    backlog(): number {
        return this.outbox.getKeysCount();
    }

    /**
     * One cycle: fetch every followed address's new transactions, record their events, then
     * deliver to the subscribers. Resolves to the number of new events found. Rejects (after
     * the other subscribers got theirs) if a handler threw; the event is retried next cycle.
     */
    pollOnce(): Promise<number> {
        const run = this.exclusive.then(() => this.cycle());
        this.exclusive = run.catch(() => undefined);
        return run;
    }

    /** Polls every `pollMs` until `stop()`; failures are logged as one JSON line and retried with backoff. */
    start(): void {
        if (this.loop) return;
        this.stopping = false;
        this.loop = (async () => {
            let delay = this.pollMs;
            while (!this.stopping) {
                try {
                    await this.pollOnce();
                    delay = this.pollMs;
                } catch (e) {
                    delay = Math.min(Math.max(delay * 2, 100), this.maxBackoffMs);
                    const err = e as Error & { data?: object };
                    this.log({
                        event: 'watcher_error',
                        error: err.message ?? String(e),
                        kind: err.name,
                        ...(err.data ?? {}),
                        retryInMs: delay,
                    });
                }
                if (this.stopping) break;
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, delay);
                    this.wake = () => {
                        clearTimeout(timer);
                        resolve();
                    };
                });
                this.wake = undefined;
            }
        })();
    }

    /** Stops the loop after the cycle in progress; resolves when it has stopped. */
    async stop(): Promise<void> {
        this.stopping = true;
        this.wake?.();
        await this.loop;
        this.loop = undefined;
        await this.exclusive;
    }

    private async cycle(): Promise<number> {
        const discovered: string[] = [];
        let found = await this.pollAddress(keyOf(this.hub), discovered);
        // every followed address, a chunk of keys at a time (children found meanwhile may come
        // up twice in one cycle; the cursor makes the second visit find nothing)
        let after: string | undefined;
        for (;;) {
            const keys: string[] = Array.from(
                this.followed.getKeys(
                    after === undefined ? { limit: LIST_CHUNK } : { start: after, exclusiveStart: true, limit: LIST_CHUNK },
                ),
            );
            if (keys.length === 0) break;
            for (const key of keys) if (key !== keyOf(this.hub)) found += await this.pollAddress(key, discovered);
            after = keys[keys.length - 1];
        }
        while (discovered.length > 0) found += await this.pollAddress(discovered.shift()!, discovered);
        const failures = this.deliver();
        this.collect();
        if (failures.length > 0) throw failures[0];
        return found;
    }

    /** Processes `key`'s transactions after its cursor, oldest first. */
    private async pollAddress(key: string, discovered: string[]): Promise<number> {
        const followed = this.followed.get(key);
        if (!followed) return 0;
        const address = Address.parseRaw(key);
        const cursor = this.cursors.get(key);
        const { anchors, oldest } = await this.scan(address, cursor);
        let found = 0;
        for (let i = anchors.length - 1; i >= 0; i--) {
            const page = i === anchors.length - 1 ? oldest : await this.refetch(address, anchors[i]);
            for (let j = page.length - 1; j >= 0; j--) {
                const r = this.apply(key, address, followed, page[j], discovered);
                found += r.events;
                if (r.unfollowed) return found;
            }
        }
        return found;
    }

    /**
     * Pages back from the newest transaction to the cursor. Keeps only the oldest page and the
     * first transaction of each newer page (re-fetched later), so memory stays one page deep
     * however long the watcher was away.
     */
    private async scan(address: Address, cursor: Cursor | undefined): Promise<{ anchors: Anchor[]; oldest: Transaction[] }> {
        const cursorLt = cursor ? BigInt(cursor.lt) : undefined;
        const anchors: Anchor[] = [];
        let oldest: Transaction[] = [];
        let from: Transaction | undefined;
        let reached = false;
        while (!reached) {
            const page = await this.client.getTransactions(address, {
                limit: this.pageSize,
                archival: true,
                ...(from ? { lt: from.lt.toString(), hash: from.hash().toString('base64') } : {}),
                // one below the cursor, so the cursor's own transaction comes back and is checked
                ...(cursorLt !== undefined && cursorLt > 1n ? { to_lt: (cursorLt - 1n).toString() } : {}),
            });
            const fresh: Transaction[] = [];
            for (const tx of page) {
                if (cursor && cursorLt !== undefined && tx.lt <= cursorLt) {
                    if (tx.lt !== cursorLt || tx.hash().toString('base64') !== cursor.hash) {
                        throw new CursorMismatchError({
                            address: address.toString(),
                            cursor,
                            found: { lt: tx.lt.toString(), hash: tx.hash().toString('base64') },
                        });
                    }
                    reached = true;
                    break;
                }
                fresh.push(tx);
            }
            if (fresh.length > 0) {
                anchors.push({ lt: fresh[0].lt, hash: fresh[0].hash(), count: fresh.length });
                oldest = fresh;
            }
            if (page.length === 0) break;
            from = page[page.length - 1];
        }
        if (cursor && !reached) throw new CursorMismatchError({ address: address.toString(), cursor });
        return { anchors, oldest };
    }

    /** The page that starts at `anchor` again (history does not change under a cursor). */
    private async refetch(address: Address, anchor: Anchor): Promise<Transaction[]> {
        const page = await this.client.getTransactions(address, {
            limit: anchor.count,
            lt: anchor.lt.toString(),
            hash: anchor.hash.toString('base64'),
            inclusive: true,
            archival: true,
        });
        if (page.length !== anchor.count || !page[0].hash().equals(anchor.hash)) {
            throw new CursorMismatchError({
                address: address.toString(),
                cursor: { lt: anchor.lt.toString(), hash: anchor.hash.toString('base64') },
            });
        }
        return page;
    }

    /** Records one transaction: its events, the new cursor and the children it reveals, atomically. */
    private apply(
        key: string,
        address: Address,
        followed: Followed,
        tx: Transaction,
        discovered: string[],
    ): { events: number; unfollowed: boolean } {
        const events = eventsOf(tx, address);
        const children = followed.kind === 'hub' ? childrenOf(tx, events) : [];
        const unfollowed =
            followed.kind === 'job' && events.some((e) => e.$$type === 'JobFinalizedEvent' || e.$$type === 'JobRejectedEvent');
        const encoded = events.map(encodeEvent);
        this.root.transactionSync(() => {
            let seq = this.lastSeq();
            for (const text of encoded) this.outbox.putSync(++seq, text);
            this.meta.putSync('seq', seq);
            if (unfollowed) {
                this.followed.removeSync(key);
                this.cursors.removeSync(key);
            } else {
                this.cursors.putSync(key, { lt: tx.lt.toString(), hash: tx.hash().toString('base64') });
            }
            for (const child of children) {
                const k = keyOf(child.address);
                if (this.followed.get(k) !== undefined) continue;
                this.followed.putSync(k, child.followed);
                discovered.push(k);
            }
        });
        for (const child of children)
            this.log({ event: 'following', kind: child.followed.kind, key: child.followed.key, address: child.address.toString() });
        // The hub sent FOG back: worth a line an operator reads, with the reason in words.
        for (const e of events) {
            if (e.$$type === 'RefusedEvent')
                this.log({
                    event: 'refused',
                    what: refusedWhat(e.what),
                    why: refusalReason(e.reason),
                    reason: Number(e.reason),
                    amount: e.amount.toString(),
                    to: e.to.toString(),
                    id: e.origin.id,
                });
        }
        return { events: events.length, unfollowed };
    }

    /** Hands every undelivered event to each subscriber of this process; returns the failures. */
    private deliver(): DeliveryError[] {
        const failures: DeliveryError[] = [];
        for (const [name, handler] of this.handlers) {
            let failed = false;
            while (!failed) {
                const pointer = this.subscribers.get(name) ?? 0;
                const batch = Array.from(this.outbox.getRange({ start: pointer + 1, limit: LIST_CHUNK }));
                if (batch.length === 0) break;
                for (const { key: seq, value } of batch) {
                    const event = decodeEvent(value);
                    try {
                        this.root.transactionSync(() => {
                            handler(event);
                            this.subscribers.putSync(name, seq);
                        });
                    } catch (e) {
                        const failure = new DeliveryError(
                            `subscriber ${name} failed on event ${event.origin.id}: ${(e as Error).message ?? String(e)}`,
                            { subscriber: name, seq, eventId: event.origin.id },
                            e,
                        );
                        this.log({ event: 'delivery_failed', subscriber: name, seq, eventId: event.origin.id, error: failure.message });
                        failures.push(failure);
                        failed = true;
                        break;
                    }
                }
            }
        }
        return failures;
    }

    /** Deletes the outbox entries every subscriber has passed (none while nobody subscribed). */
    private collect(): void {
        let min: number | undefined;
        for (const { value } of this.subscribers.getRange({})) min = min === undefined ? value : Math.min(min, value);
        if (min === undefined) return;
        for (;;) {
            const keys: number[] = Array.from(this.outbox.getKeys({ end: min, inclusiveEnd: true, limit: GC_CHUNK }));
            if (keys.length === 0) return;
            this.root.transactionSync(() => {
                for (const k of keys) this.outbox.removeSync(k);
            });
        }
    }

    private lastSeq(): number {
        return this.meta.get('seq') ?? 0;
    }

    private firstOutboxSeq(): number | undefined {
        for (const k of this.outbox.getKeys({ limit: 1 })) return k;
        return undefined;
    }
}

/** The children a hub transaction reveals: the job it posted, the provider it staked into, the epoch it recorded into. */
function childrenOf(tx: Transaction, events: FogEvent[]): Child[] {
    const out: Child[] = [];
    for (const e of events) {
        if (e.$$type === 'JobPostedEvent') out.push({ address: e.job, followed: { kind: 'job', key: e.id.toString() } });
    }
    for (const msg of tx.outMessages.values()) {
        if (msg.info.type !== 'internal') continue;
        const op = opOf(msg.body);
        if (op === Hub.opcodes.ProviderStake) {
            out.push({ address: msg.info.dest, followed: { kind: 'provider', key: ownerOf(tx) ?? msg.info.dest.toString() } });
        } else if (op === Hub.opcodes.EpochRecord) {
            out.push({ address: msg.info.dest, followed: { kind: 'epoch', key: epochOf(tx) ?? msg.info.dest.toString() } });
        }
    }
    return out;
}

/** The staker: the sender named in the FOG transfer notification the hub was handling. */
function ownerOf(tx: Transaction): string | undefined {
    try {
        return tx.inMessage ? loadJettonTransferNotification(tx.inMessage.body.beginParse()).sender.toString() : undefined;
    } catch {
        return undefined;
    }
}

/** The epoch number of the job closure, sharded report or sharded hold the hub was handling. */
function epochOf(tx: Transaction): string | undefined {
    try {
        if (!tx.inMessage) return undefined;
        const body = tx.inMessage.body.beginParse();
        const op = opOf(tx.inMessage.body);
        const load = op === Hub.opcodes.ShardsClosed ? loadShardsClosed : op === Hub.opcodes.ShardsHold ? loadShardsHold : loadJobClosed;
        return load(body).epoch.toString();
    } catch {
        return undefined;
    }
}
