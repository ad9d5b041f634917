/**
 * The keeper: pokes what the protocol leaves to "anyone". It finalizes jobs that can no longer
 * progress (unverified past the claim window, short of claims past it, or past the reveal
 * deadline), times out dispute matches whose party to move ran out of time (docs/disputes.md,
 * "Clocks"), has a sharded post's Shards report the closes it holds of an epoch that has ended
 * (before that epoch closes), and closes epochs once they ended, their close delay passed and no
 * sharded post still owes them a report (the epoch's holds, docs/protocol.md, "Sharded jobs").
 * Once an hour it also looks at the Librarian that publishes Job's code, and warns when its rent
 * runs low (client/library.ts).
 *
 * It learns the live jobs, known epochs and open sharded posts from the watcher: its handler keeps
 * three small LMDB tables (jobs leave when finalized or rejected; closed epochs are pruned after
 * two epochs; a post leaves once its shards have all closed, read from its Shards), in
 * the watcher's delivery transaction, so the tables never miss or double an event. A tick
 * (node-cron, or `tickOnce()`) reads the chain's clock from the endpoint, never the local one,
 * and sends each poke through one wallet, one at a time, confirmed at the destination. A poke in
 * flight or sent less than `retryMs` ago is not sent again; a refusal (someone else was first,
 * or the chain's clock disagrees) is logged and retried later, never fatal.
 */
import { Address } from '@ton/core';
import type { Database, RootDatabase } from 'lmdb';
import { schedule, ScheduledTask, validate } from 'node-cron';
import { blockingHolds, closableAt, Fog, holdsWords } from '../client/actions';
import { describeError } from '../client/chain';
import { JobPhase } from '../client/results';
import { Outgoing, SendError, WalletSender } from '../client/sender';
import { Epoch } from '../wrappers/Epoch';
import { Params } from '../wrappers/Hub';
import { FogEvent } from '../client/events';
import { Watcher } from '../client/watcher';
import { jsonLine } from '../client/cli-kit';
import { jobLibraryStatus } from '../client/library';
import { everySchedule, oracleDefaults } from './config';

export { closableAt, JobPhase };

/** A job that has not reached a terminal state, as the keeper knows it. */
export interface LiveJob {
    id: bigint;
    address: Address;
    phase: number;
    /** Replication; 0 when the keeper never saw the job posted. */
    k: number;
    claims: number;
    /** Chain time of the post; bounds the pass check (claim window from then). */
    postedAt: number;
    claimUntil: number;
    commitUntil: number;
    revealUntil: number;
}

/** An epoch some job settled in. */
export interface KnownEpoch {
    n: bigint;
    closed: boolean;
}

/** What one tick did. */
export interface TickReport {
    /** Chain time the tick used. */
    now: number;
    finalized: bigint[];
    /** Jobs whose dispute match this tick timed out. */
    timedOut: bigint[];
    closed: bigint[];
    /** Sharded posts (by first job id) whose Shards this tick had report an ended epoch. */
    flushed: bigint[];
    /** Pokes the chain or the endpoint refused (logged). */
    refused: number;
    /** Pokes due but in flight, or sent or held back (an epoch still held) less than `retryMs` ago. */
    skipped: number;
}

export interface KeeperOptions {
    watcher: Watcher;
    /** The network's contracts on one client (chain clock, parameters, message building). */
    fog: Fog;
    /** The LMDB environment the watcher uses (the tables must live in it for exactly-once). */
    db: RootDatabase;
    /** The one wallet every poke goes through. */
    sender: WalletSender;
    /** node-cron expression with seconds (default every 5 s: `*\/5 * * * * *`). */
    schedule?: string;
    /** Wait before poking the same item again while it stays live (default 60 s). */
    retryMs?: number;
    /** Runs before each send (e.g. a devnet faucet top-up). */
    beforeSend?: () => Promise<void>;
    /** Subscriber name at the watcher (default `keeper`). */
    name?: string;
    log?: (event: object) => void;
    /** Wall clock for the retry interval only (deadlines use the chain's clock). */
    clock?: () => number;
    /** Below this many days of the Librarian's rent, a tick logs `library_rent_low` (default 90). */
    libraryWarnDays?: number;
}

/** Options that make no sense. */
export class KeeperConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'KeeperConfigError';
    }
}

/** How the tables store a LiveJob and a KnownEpoch: bigints and addresses as strings. */
type JobRow = Omit<LiveJob, 'id' | 'address'> & { id: string; address: string };
type EpochRow = Omit<KnownEpoch, 'n'> & { n: string };
/** A sharded post whose shards have not all closed: its first job id and its count. */
interface ShardsRow {
    first: string;
    count: number;
    /** Chain time of the post. */
    seenAt: number;
}

interface Poke {
    at: number;
    inFlight: boolean;
}

const EPOCH_IS_CLOSED = (Epoch.errors as Record<string, number>)['Epoch is closed'];

const jobKey = (id: bigint) => id.toString().padStart(20, '0');

/** After a failed look at the Librarian, the keeper looks again this much later, ms. */
const LIBRARY_RETRY_MS = 5 * 60_000;

/** How long after a match's last move the keeper waits for its resolution to reach the job before asking for it again. */
export const RESOLUTION_GRACE_SECONDS = 60;

/** A Dispute's clocks, as its `dispute_state` shows them. */
export interface MatchClocks {
    phase: bigint;
    turn: bigint;
    since: bigint;
    clockA: bigint;
    clockB: bigint;
    finalA: bigint;
    finalB: bigint;
}

/** True if anyone may time out the match at chain time `now` (Dispute's DisputeTimeout rules): a party that has not opened, or the party to move, is past its clock. */
export function timeoutDue(s: MatchClocks, now: number): boolean {
    const late = now - Number(s.since);
    if (s.phase === 1n) return (s.finalA === 0n && late > Number(s.clockA)) || (s.finalB === 0n && late > Number(s.clockB));
    if (s.phase === 2n) return late > Number(s.turn === 1n ? s.clockA : s.clockB);
    return false;
}

/** True if anyone may finalize `job` at chain time `now` (Job's Finalize rules). */
export function finalizable(job: LiveJob, now: number, params: Params): boolean {
    if (job.phase === JobPhase.Verifying) return now > job.postedAt + Number(params.claimWindow);
    if (job.phase !== JobPhase.Open) return false;
    return (job.claims < job.k && now > job.claimUntil) || now > job.revealUntil;
}

export class Keeper {
    private readonly jobs: Database<JobRow, string>;
    private readonly epochs: Database<EpochRow, number>;
    private readonly groups: Database<ShardsRow, string>;
    private readonly pokes = new Map<string, Poke>();
    private readonly retryMs: number;
    private readonly cron: string;
    private readonly log: (event: object) => void;
    private readonly clock: () => number;
    private task: ScheduledTask | undefined;
    private ticking: Promise<unknown> = Promise.resolve();
    /** Wall-clock time of the last look at the Librarian (undefined: never). */
    private libraryCheckedAt: number | undefined;

    constructor(private readonly opts: KeeperOptions) {
        this.cron = opts.schedule ?? everySchedule(oracleDefaults.every);
        this.retryMs = opts.retryMs ?? oracleDefaults.retryMs;
        if (!validate(this.cron)) throw new KeeperConfigError(`schedule is not a cron expression: ${this.cron}`);
        if (!Number.isFinite(this.retryMs) || this.retryMs < 0)
            throw new KeeperConfigError(`retryMs must be a number of milliseconds ≥ 0, got ${opts.retryMs}`);
        this.log = opts.log ?? ((e) => jsonLine(process.stdout, e));
        this.clock = opts.clock ?? Date.now;
        this.jobs = opts.db.openDB<JobRow, string>('keeper-jobs', { encoding: 'json' });
        this.epochs = opts.db.openDB<EpochRow, number>('keeper-epochs', { encoding: 'json' });
        this.groups = opts.db.openDB<ShardsRow, string>('keeper-shards', { encoding: 'json' });
        opts.watcher.subscribe(opts.name ?? oracleDefaults.keeperName, (event) => this.record(event));
    }

    /** The live jobs, by id. */
    liveJobs(): LiveJob[] {
        return Array.from(this.jobs.getRange({}), ({ value: r }) => ({ ...r, id: BigInt(r.id), address: Address.parse(r.address) }));
    }

    /** The known epochs, by number. */
    knownEpochs(): KnownEpoch[] {
        return Array.from(this.epochs.getRange({}), ({ value }) => ({ n: BigInt(value.n), closed: value.closed }));
    }

    /** Runs `tickOnce` on the schedule until `stop()`; a tick still running makes the next one skip. */
    start(): void {
        if (this.task) return;
        this.task = schedule(
            this.cron,
            async () => {
                try {
                    await this.tickOnce();
                } catch (e) {
                    this.log({ event: 'tick_failed', error: describeError(e) });
                }
            },
            { noOverlap: true, name: 'fog-keeper' },
        );
    }

    /** Stops the schedule and waits for the tick in progress. */
    async stop(): Promise<void> {
        await this.task?.destroy();
        this.task = undefined;
        await this.ticking;
    }

    /** One pass: finalize every job and close every epoch that is due and not already poked. */
    tickOnce(): Promise<TickReport> {
        const run = this.tick();
        this.ticking = Promise.all([this.ticking, run.catch(() => undefined)]);
        return run;
    }

    private async tick(): Promise<TickReport> {
        const { fog } = this.opts;
        const now = await fog.now();
        const params = await fog.hub.getParams();
        const report: TickReport = { now, finalized: [], timedOut: [], closed: [], flushed: [], refused: 0, skipped: 0 };
        await this.checkLibrary();
        this.prune(now, params);
        for (const job of this.liveJobs()) {
            if (job.phase === JobPhase.Disputing) {
                await this.poke(`dispute:${job.id}`, report, () => this.disputeMessage(job.id, now), {
                    sent: () => report.timedOut.push(job.id),
                    context: { job: job.id.toString() },
                    events: ['dispute_poke_sent', 'dispute_poke_refused'],
                });
                continue;
            }
            if (!finalizable(job, now, params)) continue;
            await this.poke(`job:${job.id}`, report, () => this.finalizeMessage(job.id), {
                sent: () => report.finalized.push(job.id),
                context: { job: job.id.toString(), phase: job.phase },
                events: ['finalize_sent', 'finalize_refused'],
            });
        }
        // before the epochs: a report of an ended epoch must reach it before it closes
        for (const { value } of this.groups.getRange({})) {
            const first = BigInt(value.first);
            await this.poke(`shards:${first}`, report, () => this.flushMessage(first, now, params), {
                sent: () => report.flushed.push(first),
                context: { shards: first.toString() },
                events: ['shards_flush_sent', 'shards_flush_refused'],
            });
        }
        for (const epoch of this.knownEpochs()) {
            // a flush sent this tick is three messages from its epoch, a close one: it waits a tick
            if (report.flushed.length > 0) break;
            if (epoch.closed || now < closableAt(epoch.n, params)) continue;
            await this.poke(`epoch:${epoch.n}`, report, () => this.closeMessage(epoch.n), {
                sent: () => report.closed.push(epoch.n),
                context: { epoch: epoch.n.toString() },
                events: ['close_epoch_sent', 'close_epoch_refused'],
                refused: (e) => {
                    if (e instanceof SendError && e.data.exitCode === EPOCH_IS_CLOSED) this.markClosed(epoch.n);
                },
            });
        }
        return report;
    }

    /**
     * Once an hour: if the hub deploys jobs with a library cell, warns when the Librarian's
     * balance pays less than `libraryWarnDays` of the library's rent, or when the library is not
     * published (every job deployed would fail to run). Anyone may top the Librarian up with a
     * plain transfer (docs/operating.md, "Job's code as a library"). Never fatal.
     */
    private async checkLibrary(): Promise<void> {
        const at = this.clock();
        if (this.libraryCheckedAt !== undefined && at - this.libraryCheckedAt < oracleDefaults.libraryCheckMs) return;
        this.libraryCheckedAt = at;
        try {
            const s = await jobLibraryStatus(this.opts.fog);
            // no library, or another build's (whose Librarian this keeper cannot name): nothing to watch
            if (!s.library || s.state === 'unknown') return;
            const warnDays = this.opts.libraryWarnDays ?? oracleDefaults.libraryWarnDays;
            if (s.state !== 'published')
                this.log({
                    event: 'library_missing',
                    state: s.state,
                    librarian: s.librarian.toString(),
                    hash: s.hash,
                    why: "the hub deploys jobs with a library cell naming Job's code, and no published library answers it: jobs cannot run",
                });
            else if (s.daysLeft < warnDays)
                this.log({
                    event: 'library_rent_low',
                    librarian: s.librarian.toString(),
                    balance: s.balance.toString(),
                    daysLeft: Math.floor(s.daysLeft),
                    rentPerYear: s.rentPerYear.toString(),
                    why: `the Librarian's balance pays ${Math.floor(s.daysLeft)} more days of the library's rent: send it TON (a non-bounceable transfer)`,
                });
        } catch (e) {
            // looked at again in a few minutes, not every tick
            this.libraryCheckedAt = at - oracleDefaults.libraryCheckMs + LIBRARY_RETRY_MS;
            this.log({ event: 'library_check_failed', error: describeError(e) });
        }
    }

    /**
     * The CloseEpoch message, or undefined if there is nothing to close: the epoch contract is
     * deployed by a job's settlement, and one that never was by the time the epoch ended never
     * will be (later settlements go to later epochs), so it is forgotten. Null while a sharded post
     * still owes the epoch a report (its holds): the epoch would refuse the close, so none is sent
     * until the Shards has reported (this keeper's flush, or anyone's); asked again after `retryMs`.
     */
    private async closeMessage(n: bigint): Promise<Outgoing | undefined | null> {
        const epoch = await this.opts.fog.epoch(n);
        const state = await this.opts.fog.client.getContractState(epoch.address);
        if (state.state !== 'active') {
            this.epochs.removeSync(Number(n));
            this.log({
                event: 'epoch_forgotten',
                epoch: n.toString(),
                reason: 'no job burned or slashed in it: it has no contract to close',
            });
            return undefined;
        }
        const s = await epoch.getEpochState();
        if (s.closed) {
            this.markClosed(n);
            return undefined;
        }
        const holds = blockingHolds(s, await this.opts.fog.now());
        if (holds > 0n) {
            this.log({
                event: 'close_epoch_held',
                epoch: n.toString(),
                holds: Number(holds),
                reason: `${holdsWords(holds)}: the epoch closes once every Shards holding it has reported (shards_flush), or an epoch after its end`,
            });
            return null;
        }
        return this.opts.fog.closeEpoch(n);
    }

    /**
     * The flush of sharded post `first`'s Shards when it holds closes of an epoch that has ended,
     * read from the Shards itself; a Shards whose shards have all closed (it reports the last and
     * is emptied) is forgotten.
     */
    private async flushMessage(first: bigint, now: number, params: Params): Promise<Outgoing | undefined> {
        const { fog } = this.opts;
        const shards = await fog.shards(first);
        if ((await fog.client.getContractState(shards.address)).state !== 'active') {
            // its deploy follows the post's event within seconds; a Shards still missing a minute on never comes
            const row = this.groups.get(first.toString());
            if (row === undefined || now > row.seenAt + 60) this.groups.removeSync(first.toString());
            return undefined;
        }
        const s = await shards.getShardsState();
        if (s.closed === s.count) {
            this.groups.removeSync(first.toString());
            return undefined;
        }
        if (!s.pending || now < Number(params.epochStart + (s.epoch + 1n) * params.epochLength)) return undefined;
        return fog.flushShards(first);
    }

    /**
     * The finalize of job `id`, unless the chain shows it final already: the index can be behind the
     * chain (a keeper restarted right after its finalize landed, before its watcher saw it), and a
     * finalize of a final job is only refused, for a fee.
     */
    private async finalizeMessage(id: bigint): Promise<Outgoing | undefined> {
        const { fog } = this.opts;
        const phase = Number((await (await fog.job(id)).getJobState()).phase);
        if (phase !== JobPhase.Open && phase !== JobPhase.Verifying) return undefined;
        return fog.finalize(id);
    }

    /**
     * What job `id`'s dispute needs from anyone at chain time `now`, read from the job and the
     * Dispute themselves: the timeout of a party out of time; or, when the Dispute is over with
     * the match the job still waits for (its resolution reached the job and failed there) and a
     * grace period has passed, a finalize, which has the job ask the Dispute for the outcome again.
     * Otherwise nothing: a timeout or finalize then is only refused, for a fee.
     */
    private async disputeMessage(id: bigint, now: number): Promise<Outgoing | undefined> {
        const { fog } = this.opts;
        const job = await (await fog.job(id)).getJobState();
        if (Number(job.phase) !== JobPhase.Disputing) return undefined;
        const s = await (await fog.dispute(id)).getDisputeState();
        if (timeoutDue(s, now)) return fog.disputeMove(id, { kind: 'timeout' });
        if (s.phase === 3n && s.match === job.matches && now > Number(s.since) + RESOLUTION_GRACE_SECONDS) return fog.finalize(id);
        return undefined;
    }

    /**
     * Sends one poke unless one is in flight or recent; logs the outcome. `build` gives the message,
     * undefined when there is nothing to send, or null when it is not time yet (it logs why): then
     * the poke counts as recent and is built again after `retryMs`.
     */
    private async poke(
        key: string,
        report: TickReport,
        build: () => Promise<Outgoing | undefined | null>,
        on: { sent: () => void; context: object; events: [sent: string, refused: string]; refused?: (e: unknown) => void },
    ): Promise<void> {
        const last = this.pokes.get(key);
        if (last && (last.inFlight || this.clock() - last.at < this.retryMs)) {
            report.skipped += 1;
            return;
        }
        // marked before the first await: a concurrent tick sees it and skips
        this.pokes.set(key, { at: this.clock(), inFlight: true });
        try {
            const message = await build();
            // null: not yet, kept as recent (below); undefined: nothing to do, forgotten
            if (message === null) return;
            if (!message) {
                this.pokes.delete(key);
                return;
            }
            await this.opts.beforeSend?.();
            const sent = await this.opts.sender.send([message], true);
            on.sent();
            this.log({
                event: on.events[0],
                ...on.context,
                tx: sent.tx.hash().toString('hex'),
            });
        } catch (e) {
            report.refused += 1;
            on.refused?.(e);
            const data = e instanceof SendError ? e.data : {};
            this.log({
                event: on.events[1],
                ...on.context,
                error: describeError(e),
                ...data,
            });
        } finally {
            if (this.pokes.has(key)) this.pokes.set(key, { at: this.clock(), inFlight: false });
        }
    }

    /** Forgets pokes of items no longer live, and closed epochs two epochs past their close. */
    private prune(now: number, params: Params): void {
        for (const key of this.pokes.keys()) {
            const [kind, id] = key.split(':');
            const live =
                kind === 'epoch'
                    ? this.epochs.get(Number(id))?.closed === false
                    : kind === 'shards'
                      ? this.groups.get(id) !== undefined
                      : this.jobs.get(jobKey(BigInt(id))) !== undefined;
            if (!live && !this.pokes.get(key)!.inFlight) this.pokes.delete(key);
        }
        const horizon = 2 * Number(params.epochLength);
        for (const { key, value } of this.epochs.getRange({})) {
            if (value.closed && now > closableAt(BigInt(value.n), params) + horizon) this.epochs.removeSync(key);
        }
    }

    private markClosed(n: bigint): void {
        this.epochs.putSync(Number(n), { n: n.toString(), closed: true });
    }

    /** The watcher's handler: runs inside its delivery transaction, so it only touches LMDB. */
    private record(e: FogEvent): void {
        switch (e.$$type) {
            case 'JobPostedEvent':
                this.jobs.putSync(jobKey(e.id), {
                    id: e.id.toString(),
                    address: e.job.toString(),
                    phase: JobPhase.Verifying,
                    k: Number(e.k),
                    claims: 0,
                    postedAt: e.origin.time,
                    claimUntil: 0,
                    commitUntil: 0,
                    revealUntil: 0,
                });
                return;
            case 'JobOpenedEvent': {
                const row = this.jobs.get(jobKey(e.id)) ?? this.unknownJob(e.id, e.origin.address, e.origin.time);
                this.jobs.putSync(jobKey(e.id), {
                    ...row,
                    phase: JobPhase.Open,
                    claimUntil: Number(e.claimUntil),
                    commitUntil: Number(e.commitUntil),
                    revealUntil: Number(e.revealUntil),
                });
                return;
            }
            case 'JobClaimedEvent': {
                const row = this.jobs.get(jobKey(e.id));
                if (row) this.jobs.putSync(jobKey(e.id), { ...row, claims: Number(e.claims) });
                return;
            }
            case 'JobDisputedEvent': {
                // a job first seen in its dispute (the keeper subscribed late) is tracked from here
                const row = this.jobs.get(jobKey(e.id)) ?? this.unknownJob(e.id, e.origin.address, e.origin.time);
                this.jobs.putSync(jobKey(e.id), { ...row, phase: JobPhase.Disputing });
                return;
            }
            case 'JobFinalizedEvent':
                this.jobs.removeSync(jobKey(e.id));
                if (this.epochs.get(Number(e.epoch)) === undefined)
                    this.epochs.putSync(Number(e.epoch), { n: e.epoch.toString(), closed: false });
                return;
            case 'JobRejectedEvent':
                this.jobs.removeSync(jobKey(e.id));
                return;
            case 'EpochClosedEvent':
                this.markClosed(e.epoch);
                return;
            case 'ShardsPostedEvent':
                this.groups.putSync(e.first.toString(), { first: e.first.toString(), count: Number(e.count), seenAt: e.origin.time });
                return;
            default:
                return;
        }
    }

    /** A job first seen opening (the keeper subscribed after it was posted): k unknown, deadlines rule. */
    private unknownJob(id: bigint, address: Address, time: number): JobRow {
        return {
            id: id.toString(),
            address: address.toString(),
            phase: JobPhase.Open,
            k: 0,
            claims: 0,
            postedAt: time,
            claimUntil: 0,
            commitUntil: 0,
            revealUntil: 0,
        };
    }
}
