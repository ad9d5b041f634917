/**
 * The worker daemon: discovers open jobs, claims those it can afford and wants, downloads the
 * program and input (hash-checked), runs the program in the compute pool, uploads the output,
 * commits, reveals at the right time, and claims its epoch rewards. Every step is journaled
 * before and after it is sent, so a kill -9 at any point resumes cleanly.
 */
import { randomBytes } from 'node:crypto';
import { Address, Cell } from '@ton/core';
import { closableAt, Fog, holdsWords } from '../client/actions';
import { Outgoing, SendError, WalletSender } from '../client/sender';
import { describeError } from '../client/chain';
import { commitOf } from '../wrappers/commit';
import { JobState } from '../wrappers/Job';
import { StageCommitted, StageRevealed } from '../wrappers/Hub';
import { sha256Hex, StorageClient, uint256ToHash } from '../client/storage';
import { FetchedBlobs, jobBlob, JobBlobs, jobInput } from './fetch';
import { initialRoot } from '../client/dispute/state';
import { MatchMove, PartyThread, sideOf } from './dispute';
import { jsonLine } from '../client/cli-kit';
import { ComputePool } from '../client/compute/pool';
import { fuelForJob, priceFor } from '../client/compute/fuel';
import { measureFuelRate } from '../client/compute/calibrate';
import { ComputeJob, isVerdict, RunResult } from '../client/compute/types';
import { FINAL_STAGES, JobEntry, Journal, KEEP_JOBS } from './journal';
import { failureHash, JobPhase, PhaseName, phaseName, underOutputCap } from '../client/results';
import { formatAmount, parseAmount } from '../wrappers/units';
import { workerDefaults } from './config';

export interface DaemonOptions {
    /** Largest memory a job may ask for, MiB. */
    memoryMb: number;
    /**
     * The most memory the runs in hand may ask for at once, MiB (each run asks for its job's memory
     * limit): a claimed job whose run would pass it waits for others to finish. Default: no bound
     * but the threads.
     */
    memoryTotalMb?: number;
    /** Largest fuel limit a job may state, Mfuel. */
    maxMfuel: number;
    /** Smallest job price worth claiming, nano FOG. */
    minPrice: bigint;
    /** Least pay per seat for each Mfuel of a job's limit, nano FOG (`priceFor`, client/compute/fuel.ts). */
    minPricePerMfuel: bigint;
    /**
     * This machine's fuel per second in the pool; measured with the calibration kernel
     * (client/compute/calibrate.ts) at the first tick when not given.
     */
    fuelRate?: number;
    /** How often the daemon looks at the chain, ms. */
    pollMs: number;
    /** Seconds before a deadline that the daemon no longer starts a step. */
    safetySeconds: number;
    /** When a fresh worker starts, how many recent jobs it looks back at. */
    lookback: number;
    /** Jobs the journal keeps; the oldest final ones beyond this are forgotten (default 10,000). */
    keepJobs?: number;
    /** Fetch job blobs from private and loopback addresses too (see worker/fetch.ts). */
    allowPrivateUris?: boolean;
    /**
     * A worker that lies, only for demonstrating disputes and slashing: it commits the result of
     * its run with one bit flipped halfway (client/dispute/liar.ts) and defends it in disputes.
     * Colluding liars flip the same bit, so they reveal the same wrong result; others flip one of
     * their own.
     */
    liar?: boolean;
    colluding?: boolean;
    log?: (event: object) => void;
}

/** The journal's note for a job that ended without a result for anyone (a done job notes the win or loss). */
const SETTLED_NOTES: Partial<Record<PhaseName, string>> = { failed: 'no quorum', expired: 'expired', rejected: 'rejected' };
const settledNote = (phase: number): string | undefined => {
    const name = phaseName(phase);
    return name === undefined ? undefined : (SETTLED_NOTES[name] ?? '');
};

/** The daemon's defaults, from `workerDefaults` (worker/config.ts). */
export const DAEMON_DEFAULTS: Omit<DaemonOptions, 'memoryMb'> = {
    maxMfuel: workerDefaults.maxMfuel,
    minPrice: parseAmount(workerDefaults.minPrice),
    minPricePerMfuel: parseAmount(workerDefaults.minPricePerMfuel),
    pollMs: workerDefaults.pollMs,
    safetySeconds: workerDefaults.safetySeconds,
    lookback: workerDefaults.lookback,
};

/**
 * How much slower than the calibration kernel a job may run per unit of fuel before a claim based
 * on the measured rate misses the commit window (docs/metering.md, "Fuel rate").
 */
export const RATE_MARGIN = 2;

/** How long the daemon waits before sending a dispute move the contract refused in the same position again, ms. */
const REFUSED_MOVE_WAIT_MS = 60_000;
/** Refused positions remembered at most (the oldest forgotten first). */
const REFUSED_MOVES_KEPT = 256;

/**
 * Messages in one wallet transaction at most: a tick's claims, commits and reveals go out
 * together (a W5 wallet takes up to 255), each followed to its job on its own.
 */
export const BATCH_MAX = 64;

/** A message a tick queued, and what its outcome does. */
interface Pending {
    job: string;
    stage: string;
    message: Outgoing;
    /** Its destination took it. */
    landed: () => void;
    /** Its destination refused it: sending it again would be refused again. */
    refused: (e: SendError) => void;
    /** It may not have landed (the endpoint, the wallet, or no transaction seen in time): the next tick looks again. */
    failed?: () => void;
    /** Chain time after which it would be refused (its window's end): not sent past it. */
    until: number;
}

/** The program and input URIs of a job spec (two references holding string tails). */
export function urisOf(uris: Cell): { program: string; input: string } {
    const s = uris.beginParse();
    return { program: s.loadRef().beginParse().loadStringTail(), input: s.loadRef().beginParse().loadStringTail() };
}

/** Whether a send failed because a contract refused it (not the endpoint, not the wallet itself): doing it again would be refused again. */
function refusedOnChain(e: unknown, wallet: Address): boolean {
    return (
        e instanceof SendError &&
        e.data.exitCode !== undefined &&
        e.data.address !== undefined &&
        !Address.parse(e.data.address).equals(wallet)
    );
}

function mySlot(state: JobState, me: Address) {
    for (const slot of state.slots.values()) if (slot.worker.equals(me)) return slot;
    return undefined;
}

export class WorkerDaemon {
    private readonly running = new Map<string, Promise<void>>();
    /** The memory each run in `running` asked for, MiB. */
    private readonly runningMemory = new Map<string, number>();
    /** Claimed jobs whose run waits for memory (logged once each). */
    private readonly waitingForMemory = new Set<string>();
    /** Jobs whose claim this process sent (a restart forgets them, and claims again what did not land). */
    private readonly claimsSent = new Set<string>();
    /** What `consider` fetched, for `compute` (after a restart, fetched again). */
    private readonly fetched = new FetchedBlobs();
    /** The parties this worker plays in disputes, with their interpreter checkpoints, in a thread of their own. */
    private readonly parties = new PartyThread();
    /**
     * Work of the party thread under way or done, by job: the dispute move for a match's position
     * (null: none owed), or a demonstration liar's lie. A tick starts it and goes on; a later tick
     * sends what it gave. One entry per job in hand, dropped when the job settles.
     */
    private readonly moves = new Map<string, { position: string; move?: MatchMove | null; error?: string }>();
    private readonly lies = new Map<string, { lie?: { hash: string; from?: number }; error?: string }>();
    /** Dispute moves the contract refused, by job, match and position, with when: not sent again for a while. */
    private readonly refusedMoves = new Map<string, number>();
    /** The messages this tick has queued, sent together by `flush`. */
    private batch: Pending[] = [];
    /** Claims whose send failed this tick: sent again from the next one. */
    private readonly claimsToResend = new Set<string>();
    /** Epochs whose reward claim waits for a sharded report, logged once each; only the provider's two epochs are kept. */
    private readonly heldEpochs = new Set<bigint>();
    /** Collateral the claims in `batch` will lock, nano FOG: what the provider's free stake must cover besides. */
    private batchCollateral = 0n;
    private timer?: NodeJS.Timeout;
    /** The poll loop `start` runs (undefined when the daemon is ticked by hand, as tests do). */
    private loop?: () => Promise<void>;
    /** A move became ready while a tick ran: the next tick starts without waiting `pollMs`. */
    private wakeAsked = false;
    private rate?: number;
    private stopped = false;
    private ticking?: Promise<void>;
    private readonly log: (event: object) => void;
    private readonly me: Address;

    constructor(
        private readonly fog: Fog,
        private readonly sender: WalletSender,
        private readonly pool: ComputePool,
        private readonly journal: Journal,
        private readonly storage: StorageClient | undefined,
        private readonly opts: DaemonOptions,
    ) {
        this.log = opts.log ?? ((e) => jsonLine(process.stdout, e));
        this.me = sender.address;
    }

    /** Chain time, as the endpoint reports it. */
    chainNow(): Promise<number> {
        return this.fog.now();
    }

    start(): void {
        const loop = async () => {
            this.timer = undefined;
            if (this.stopped) return;
            this.ticking = this.tick().catch((e) => this.log({ event: 'tick_failed', error: describeError(e) }));
            await this.ticking;
            // a move that became ready during the tick is sent by the next one, at once
            const soon = this.wakeAsked;
            this.wakeAsked = false;
            if (!this.stopped) this.timer = setTimeout(() => void loop(), soon ? 0 : this.opts.pollMs);
        };
        this.loop = loop;
        void loop();
    }

    /**
     * Runs the next tick now rather than at the end of the poll interval, when it waits for one:
     * a dispute move (or a lie) just worked out is sent without waiting out `pollMs` on the
     * match's clock.
     */
    private wake(): void {
        if (this.stopped || !this.loop) return;
        if (this.timer === undefined) {
            this.wakeAsked = true; // a tick is running: the loop starts the next one at once
            return;
        }
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.loop!(), 0);
    }

    /** Stops looking for work and waits for the current step; computations in flight are abandoned (they rerun after a restart). */
    async stop(): Promise<void> {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        await this.ticking;
        await this.parties.close();
    }

    /** One pass: new jobs, every job in hand, rewards. */
    async tick(): Promise<void> {
        for (const key of this.claimsToResend) this.claimsSent.delete(key);
        this.claimsToResend.clear();
        // what a tick that failed midway queued is not sent late: this tick queues what is still due
        this.batch = [];
        this.batchCollateral = 0n;
        const now = await this.chainNow();
        try {
            await this.discover(now);
        } finally {
            // the claims queued so far go out even when the scan stopped on an error
            await this.flush();
        }
        for (const entry of this.journal.active()) {
            if (this.stopped) break;
            try {
                await this.advance(entry, now);
            } catch (e) {
                this.log({ event: 'step_failed', job: entry.id, stage: entry.stage, error: describeError(e) });
            }
        }
        await this.flush();
        if (this.stopped) return;
        await this.claimRewards(now);
        const pruned = this.journal.prune(this.opts.keepJobs ?? KEEP_JOBS);
        if (pruned > 0) this.log({ event: 'journal_pruned', jobs: pruned });
    }

    /**
     * Sends the queued messages, BATCH_MAX to a wallet transaction, and hands each its outcome:
     * one transaction and one confirmation for a tick's claims, commits and reveals instead of one
     * each (on a chain with seconds to finality, eight shards' commits would otherwise take eight
     * round trips in a row).
     */
    private async flush(): Promise<void> {
        try {
            await this.flushChunks();
        } finally {
            this.batchCollateral = 0n;
        }
    }

    private async flushChunks(): Promise<void> {
        if (this.batch.length === 0) return;
        // the tick's reads and sends took time since it read the clock: what is now past its window stays
        const now = await this.chainNow();
        const late = this.batch.filter((p) => now + this.opts.safetySeconds > p.until);
        this.batch = this.batch.filter((p) => !late.includes(p));
        for (const p of late) {
            p.failed?.();
            this.log({ event: 'send_skipped', job: p.job, stage: p.stage, why: 'its window closed before the batch went out' });
        }
        // commits and reveals first: their jobs already hold this worker's collateral, and a wallet
        // short of TON for the whole batch sends them before any new claim (sendChunk)
        const urgency = (p: Pending) => (p.stage === 'claiming' ? 1 : 0);
        this.batch.sort((a, b) => urgency(a) - urgency(b));
        while (this.batch.length > 0) await this.sendChunk(this.batch.splice(0, BATCH_MAX));
    }

    /** Sends one chunk and hands each message its outcome; a chunk the wallet cannot pay for is sent in halves, as far as it can pay. */
    private async sendChunk(chunk: Pending[]): Promise<void> {
        let outcomes: (SendError | undefined)[];
        try {
            ({ outcomes } = await this.sender.sendEach(chunk.map((p) => p.message)));
        } catch (e) {
            if (e instanceof SendError && e.data.shortBy !== undefined && chunk.length > 1) {
                const half = Math.ceil(chunk.length / 2);
                await this.sendChunk(chunk.slice(0, half));
                await this.sendChunk(chunk.slice(half));
                return;
            }
            for (const p of chunk) {
                p.failed?.();
                this.log({ event: 'step_failed', job: p.job, stage: p.stage, error: describeError(e) });
            }
            return;
        }
        chunk.forEach((p, i) => {
            const e = outcomes[i];
            if (e === undefined) p.landed();
            else if (refusedOnChain(e, this.me)) p.refused(e);
            else {
                p.failed?.();
                this.log({ event: 'step_failed', job: p.job, stage: p.stage, error: describeError(e) });
            }
        });
    }

    private async discover(now: number): Promise<void> {
        const hub = await this.fog.hub.getHubState();
        let next = this.journal.nextJobId;
        if (next < 0n) next = hub.nextJobId > BigInt(this.opts.lookback) ? hub.nextJobId - BigInt(this.opts.lookback) : 0n;
        // a bounded number per pass: a worker far behind catches up over several passes
        const open: { id: bigint; address: Address; state: JobState; held: boolean }[] = [];
        for (let scanned = 0; next < hub.nextJobId && scanned < 20; scanned++) {
            const job = await this.fog.job(next);
            if (!(await this.fog.client.isContractDeployed(job.address))) break; // the post is still in flight
            const state = await job.getJobState();
            if (Number(state.phase) === JobPhase.Verifying) break; // the pass check is still in flight
            if (Number(state.phase) === JobPhase.Open) open.push({ id: next, address: job.address, state, held: false });
            next += 1n;
        }
        // the jobs whose program and input this worker's node already holds first (a map's shards
        // share their program; a training round's, their model): claims fill up in that order
        if (open.length > 1) for (const o of open) o.held = await this.holds(o.state);
        open.sort((a, b) => Number(b.held) - Number(a.held));
        for (const o of open) await this.consider(o.id, o.address, o.state, now);
        this.journal.nextJobId = next;
    }

    /** Whether this worker's storage node holds the job's program and input (for a composite input, its manifest). */
    private async holds(state: JobState): Promise<boolean> {
        if (!this.storage) return false;
        const hashes = [state.spec.programHash, state.spec.inputHash].map(uint256ToHash);
        return (await Promise.all(hashes.map((h) => this.storage!.has(h).catch(() => false)))).every(Boolean);
    }

    /** Claims the job if this worker wants it and can afford it. */
    private async consider(id: bigint, address: Address, state: JobState, now: number): Promise<void> {
        const skip = (why: string) => this.log({ event: 'job_skipped', job: id.toString(), why });
        if (this.journal.get(id)) return;
        if (state.claims >= state.spec.k) return skip('fully claimed');
        if (now + this.opts.safetySeconds > Number(state.claimUntil)) return skip('claim window closing');
        if (state.price < this.opts.minPrice) return skip(`price ${state.price} below the minimum ${this.opts.minPrice}`);
        const offered = Math.min(this.opts.memoryMb, this.opts.memoryTotalMb ?? Infinity);
        if (Number(state.spec.maxMemoryMb) > offered) return skip(`needs ${state.spec.maxMemoryMb} MiB, this worker offers ${offered}`);
        const mfuel = state.spec.maxMfuel;
        if (mfuel > BigInt(this.opts.maxMfuel)) return skip(`its fuel limit is ${mfuel} Mfuel, this worker allows ${this.opts.maxMfuel}`);
        const least = priceFor(this.opts.minPricePerMfuel, mfuel, state.spec.k);
        if (state.price < least)
            return skip(
                `price ${formatAmount(state.price)} is below ${formatAmount(least)}: ${formatAmount(this.opts.minPricePerMfuel)} per Mfuel for each of ${state.spec.k} seats`,
            );
        const fuel = fuelForJob(state.spec);
        const seconds = await this.secondsFor(fuel, Number(state.spec.maxMemoryMb));
        if (seconds > this.pool.options.wallSeconds)
            return skip(
                `its fuel limit may take ${Math.ceil(seconds)} s here, more than the wall-clock limit of ${this.pool.options.wallSeconds} s`,
            );
        if (now + this.opts.safetySeconds + seconds > Number(state.commitUntil))
            return skip(
                `its fuel limit may take ${Math.ceil(seconds)} s here (after the jobs in hand), and the commit window closes in ${Number(state.commitUntil) - now} s`,
            );
        const provider = await this.fog.stakedProviderOf(this.me);
        const p = await provider.getProviderState();
        if (p.free - this.batchCollateral < state.terms.collateral)
            return skip(
                `free stake ${p.free}${this.batchCollateral > 0n ? ` (less ${this.batchCollateral} for the claims being sent)` : ''} below the collateral ${state.terms.collateral}`,
            );
        // fetched before claiming: a job whose program or input cannot be had is not worth a collateral
        let blobs: JobBlobs;
        try {
            blobs = await this.blobs(state);
        } catch (e) {
            return skip(`cannot get its program or input: ${describeError(e)}`);
        }
        // nor one whose run does not start where the spec says: a dispute starts from that root
        // (docs/disputes.md, "The initial root"), so no honest worker could win one
        let root: string;
        try {
            root = initialRoot({ program: blobs.program, input: blobs.input, fuel, maxMemoryMb: Number(state.spec.maxMemoryMb) });
        } catch (e) {
            return skip(`its program cannot run: ${describeError(e)}`);
        }
        if (BigInt('0x' + root) !== state.spec.initialRoot)
            return skip(`its initial root is not the state its program and input start from (${root.slice(0, 16)}… here)`);
        this.fetched.put(id.toString(), blobs);
        this.journal.put({
            id: id.toString(),
            address: address.toString(),
            stage: 'claiming',
            claimUntil: Number(state.claimUntil),
            commitUntil: Number(state.commitUntil),
            revealUntil: Number(state.revealUntil),
            fuelLimit: fuel.toString(),
            memoryMb: Number(state.spec.maxMemoryMb),
            updatedAt: Date.now(),
        });
        await this.sendClaim(id, state);
    }

    /** This machine's fuel per second in the pool: given, or measured once. */
    private async fuelRate(): Promise<number> {
        if (this.rate === undefined) {
            this.rate = this.opts.fuelRate ?? (await measureFuelRate(this.pool)).fuelPerSecond;
            this.log({ event: 'fuel_rate', fuelPerSecond: Math.round(this.rate), measured: this.opts.fuelRate === undefined });
        }
        return this.rate;
    }

    /** Runs of `memoryMb` each that may go at once: the pool's threads, fewer if the memory bound says so. */
    private parallelRuns(memoryMb: number): number {
        const byMemory = this.opts.memoryTotalMb === undefined ? Infinity : Math.floor(this.opts.memoryTotalMb / Math.max(1, memoryMb));
        return Math.max(1, Math.min(this.pool.options.threads, byMemory));
    }

    /**
     * Wall-clock seconds, at worst, before a job of `fuel` asking for `memoryMb` would have its
     * result here: its own run and its share of the runs of the jobs in hand not yet computed,
     * spread over the runs that may go at once, at the measured rate divided by RATE_MARGIN.
     */
    private async secondsFor(fuel: bigint, memoryMb: number): Promise<number> {
        let backlog = 0n;
        let largest = memoryMb;
        for (const e of this.journal.active())
            if ((e.stage === 'claiming' || e.stage === 'claimed') && e.fuelLimit !== undefined) {
                backlog += BigInt(e.fuelLimit);
                largest = Math.max(largest, e.memoryMb ?? 0);
            }
        const ahead = Number(backlog) / this.parallelRuns(largest);
        return ((ahead + Number(fuel)) / (await this.fuelRate())) * RATE_MARGIN;
    }

    /**
     * Queues the claim of a journaled job (sent with the tick's batch). A claim this process has
     * not sent (it was killed between the journal and the send, or the send failed) is sent from
     * `advance` while the window is open and seats are free: the job refuses a second claim of
     * one provider, and the provider unlocks the collateral of a refused one, so a duplicate costs
     * only its fees.
     */
    private async sendClaim(id: bigint, state: JobState): Promise<void> {
        const key = id.toString();
        // built first: a read that fails here leaves the claim to be sent again
        const message = await this.fog.claim(this.me, id, state.terms.collateral);
        this.claimsSent.add(key);
        this.batchCollateral += state.terms.collateral;
        this.batch.push({
            job: key,
            stage: 'claiming',
            until: Number(state.claimUntil),
            message,
            landed: () => this.log({ event: 'claim_sent', job: key, price: state.price.toString(), k: Number(state.spec.k) }),
            // a contract's refusal (no free stake after a slash or an unstake, say) would only be
            // refused again, for a fee each tick: the job is lost. Anything else is tried again.
            refused: (e) => {
                this.end(id, 'lost', { note: `the claim was refused: ${describeError(e)}` });
                this.log({ event: 'claim_refused', job: key, error: describeError(e) });
            },
            // sent again from the next tick on, not this one's advance: the claim may yet land, and
            // the chain a moment behind would not show it
            failed: () => this.claimsToResend.add(key),
        });
    }

    /**
     * Records a final stage for job `id` and lets go of what the daemon holds for its dispute: its
     * party in the thread (with the interpreter's checkpoints), a move or a lie worked out. A job
     * that ends missed or lost (a liar that missed its commit window) would otherwise keep them
     * for the daemon's whole life.
     */
    private end(id: bigint | string, stage: 'missed' | 'lost' | 'settled', changes: Partial<JobEntry>): void {
        const key = id.toString();
        this.parties.forget(key);
        this.moves.delete(key);
        this.lies.delete(key);
        this.journal.update(id, stage, changes);
    }

    /** Moves one journaled job a step forward, reconciling with the chain first. */
    private async advance(read: JobEntry, now: number): Promise<void> {
        const id = BigInt(read.id);
        const job = await this.fog.job(id);
        const state = await job.getJobState();
        // a run that ended while the chain was read journaled its result: the entry read before is stale
        // (acting on it would run the job again, and its fresh salt would no longer match the commit)
        const entry = this.journal.get(id);
        if (!entry || FINAL_STAGES.includes(entry.stage)) return;
        const phase = Number(state.phase);
        const slot = mySlot(state, this.me);
        if (phase === JobPhase.Disputing) {
            // the reveals are in: a revealed slot plays its match, if it is one of its parties
            if (slot && slot.stage >= StageRevealed) {
                if (entry.stage !== 'revealed') this.journal.update(id, 'revealed');
                await this.playDispute(id, this.journal.get(id)!, state);
            }
            return;
        }
        if (phase !== JobPhase.Open && phase !== JobPhase.Verifying) {
            // a holder of the winning result that lost a match is slashed all the same
            const won =
                phase === JobPhase.Done &&
                entry.committedHash !== undefined &&
                uint256ToHash(state.result) === entry.committedHash &&
                !slot?.lost;
            const note =
                phase === JobPhase.Done ? (won ? 'won' : slot ? 'slashed, outvoted or out in a dispute' : 'not ours') : settledNote(phase);
            this.end(id, slot ? 'settled' : 'lost', { note });
            if (slot) this.journal.bump(won ? 'won' : 'not_won');
            this.log({ event: 'job_settled', job: entry.id, phase, note });
            return;
        }
        switch (entry.stage) {
            case 'claiming':
                if (slot) {
                    this.journal.update(id, 'claimed');
                    this.log({ event: 'claimed', job: entry.id });
                    this.compute(entry, state);
                } else if (state.claims >= state.spec.k || now > entry.claimUntil) {
                    this.end(id, 'lost', { note: 'the claim did not land' });
                    this.log({ event: 'claim_lost', job: entry.id });
                } else if (!this.claimsSent.has(entry.id) && now + this.opts.safetySeconds <= entry.claimUntil) {
                    this.log({ event: 'claim_resent', job: entry.id });
                    await this.sendClaim(id, state);
                }
                return;
            case 'claimed':
                if (now + this.opts.safetySeconds > entry.commitUntil) {
                    this.end(id, 'missed', { note: 'no result before the commit deadline' });
                    this.log({ event: 'missed', job: entry.id, step: 'commit' });
                    return;
                }
                this.compute(entry, state);
                return;
            case 'computed': {
                if (slot && slot.stage >= StageCommitted) {
                    // the commit landed before a restart
                    this.journal.update(id, 'committed');
                    return;
                }
                if (now + this.opts.safetySeconds > entry.commitUntil) {
                    this.end(id, 'missed', { note: 'commit deadline passed' });
                    return;
                }
                // a job settled by majority needs no defensible lie: a made-up hash, without an interpreter run;
                // a lie already journaled (its commit's send failed) is sent again, not computed again
                const lie = !this.opts.liar
                    ? undefined
                    : entry.committedHash !== undefined
                      ? { hash: entry.committedHash, from: entry.liarFrom }
                      : state.terms.allowance > 0n
                        ? this.lie(entry, state)
                        : { hash: sha256Hex(Buffer.from(`a lie about job ${entry.id}`)), from: undefined };
                if (this.opts.liar && lie === undefined) return; // the thread is still working it out
                const committedHash = lie?.hash ?? entry.resultHash!;
                // journaled first: a restart reveals exactly what was committed
                this.journal.update(id, 'computed', { committedHash, liarFrom: lie?.from });
                // refused (the window closed, say) or not seen: the next tick reads the chain again
                const notCommitted = (e: SendError) => this.log({ event: 'commit_refused', job: entry.id, error: describeError(e) });
                this.batch.push({
                    job: entry.id,
                    stage: 'computed',
                    until: entry.commitUntil,
                    message: await this.fog.commit(id, commitOf(BigInt('0x' + committedHash), this.me, BigInt('0x' + entry.salt!))),
                    landed: () => {
                        this.journal.update(id, 'committed');
                        this.log({ event: 'committed', job: entry.id });
                    },
                    refused: notCommitted,
                });
                return;
            }
            case 'committed': {
                if (slot && slot.stage >= StageRevealed) {
                    this.journal.update(id, 'revealed');
                    return;
                }
                // the chain, not the journal, says whether the commit landed: while the commit window
                // is open, a commit not on chain is sent again. Once it closed, the reveal is tried
                // all the same (an endpoint a block behind may not show a commit that landed late);
                // the job refuses it if there really was none, and that ends the job for this worker.
                if (
                    (!slot || slot.stage < StageCommitted) &&
                    now + this.opts.safetySeconds <= entry.commitUntil &&
                    state.commits < state.spec.k
                ) {
                    this.journal.update(id, 'computed');
                    this.log({ event: 'commit_resending', job: entry.id, why: 'the commit is not on chain' });
                    return;
                }
                const revealOpen = state.commits === state.spec.k || now > entry.commitUntil;
                if (!revealOpen) return;
                if (now + this.opts.safetySeconds > entry.revealUntil) {
                    this.end(id, 'missed', { note: 'reveal deadline passed' });
                    return;
                }
                this.batch.push({
                    job: entry.id,
                    stage: 'committed',
                    until: entry.revealUntil,
                    message: await this.fog.reveal(
                        id,
                        BigInt('0x' + (entry.committedHash ?? entry.resultHash!)),
                        BigInt('0x' + entry.salt!),
                    ),
                    landed: () => {
                        this.journal.update(id, 'revealed');
                        this.log({ event: 'revealed', job: entry.id });
                    },
                    refused: (e) => {
                        this.end(id, 'missed', { note: `the reveal was refused: ${describeError(e)}` });
                        this.log({ event: 'missed', job: entry.id, step: 'reveal', error: describeError(e) });
                    },
                });
                return;
            }
            case 'revealed':
                if (slot && slot.stage < StageRevealed && now + this.opts.safetySeconds <= entry.revealUntil) {
                    this.journal.update(id, 'committed');
                    this.log({ event: 'reveal_resending', job: entry.id, why: 'the reveal is not on chain' });
                }
                return; // else waiting for the settlement
            default:
                return;
        }
    }

    /**
     * Sends the move this worker owes job `id`'s dispute match, if any (worker/dispute.ts): the
     * Dispute's state says which, so after a restart the daemon finds the same move again.
     */
    private async playDispute(id: bigint, entry: JobEntry, state: JobState): Promise<void> {
        const dispute = await this.fog.dispute(id);
        const s = await dispute.getDisputeState();
        // not a party; or a liar whose made-up result no run proves, which has no move
        if (sideOf(s, this.me) === 0 || (this.opts.liar && entry.liarFrom === undefined)) return;
        // the same position refused a moment ago (out of time, or a proof the contract does not
        // accept) would be refused again: wait before paying for it once more
        // (everything a move depends on: whose turn, who opened, the roots on the table)
        const position = [
            entry.id,
            s.match,
            s.phase,
            s.turn,
            s.start,
            s.length,
            s.finalA !== 0n,
            s.finalB !== 0n,
            s.roots?.hash().toString('hex'),
        ].join(':');
        const refused = this.refusedMoves.get(position);
        if (refused !== undefined && Date.now() - refused < REFUSED_MOVE_WAIT_MS) return;
        const work = this.moves.get(entry.id);
        if (work?.position !== position) {
            // a new position: the party thread works out the move while this thread goes on
            const started: { position: string; move?: MatchMove | null; error?: string } = { position };
            this.moves.set(entry.id, started);
            this.parties
                .move(entry.id, () => this.computeJob(entry.id, state), entry.liarFrom, this.me, s)
                .then(
                    (move) => (started.move = move ?? null),
                    (e) => (started.error = describeError(e)),
                )
                .finally(() => this.wake());
            return;
        }
        if (work.error !== undefined) {
            // worked out again at the next tick
            this.moves.delete(entry.id);
            this.log({ event: 'dispute_move_failed', job: entry.id, match: Number(s.match), error: work.error });
            return;
        }
        const move = work.move;
        if (!move) return; // still being worked out, or none owed (or sent already) at this position
        work.move = null;
        const detail = { job: entry.id, match: Number(s.match), move: move.kind, ...(move.kind === 'open' ? {} : { choice: move.choice }) };
        try {
            await this.sender.send([await this.fog.disputeMove(id, move)], true);
        } catch (e) {
            if (!refusedOnChain(e, this.me)) {
                work.move = move; // not seen landing: sent again while the position stands
                throw e;
            }
            // another tick's move landed first, or the clock ran out: the state is read again later,
            // and the move sent again once the wait for a refused position has passed
            work.move = move;
            if (this.refusedMoves.size >= REFUSED_MOVES_KEPT) this.refusedMoves.delete(this.refusedMoves.keys().next().value!);
            this.refusedMoves.set(position, Date.now());
            this.log({ event: 'dispute_move_refused', ...detail, error: describeError(e) });
            return;
        }
        this.journal.update(id, 'revealed', { disputeMoves: (entry.disputeMoves ?? 0) + 1 });
        this.log({ event: 'dispute_move', ...detail });
    }

    /** The job as the reference interpreter runs it, from the blobs fetched for it (again after a restart). */
    private async computeJob(id: string, state: JobState): Promise<ComputeJob> {
        const { program, input } = this.fetched.take(id) ?? (await this.blobs(state));
        return { program, input, fuel: fuelForJob(state.spec), maxMemoryMb: Number(state.spec.maxMemoryMb) };
    }

    /**
     * A demonstration liar's wrong result in a job that can be disputed: its run on the reference
     * interpreter with one bit flipped from halfway (colluding liars all from the same step, others
     * from one of their own), which it can defend step by step; a made-up hash when no flip changes
     * the result. Worked out in the party thread: undefined until it is.
     */
    private lie(entry: JobEntry, state: JobState): { hash: string; from?: number } | undefined {
        const work = this.lies.get(entry.id);
        if (work === undefined) {
            const started: { lie?: { hash: string; from?: number }; error?: string } = {};
            this.lies.set(entry.id, started);
            this.computeJob(entry.id, state).then(
                (job) =>
                    this.parties
                        .lie(entry.id, job, !!this.opts.colluding, this.me, entry.resultHash)
                        .then(
                            (lie) => (started.lie = lie),
                            (e) => (started.error = describeError(e)),
                        )
                        .finally(() => this.wake()),
                // its program or input could not be had just now: tried again at the next tick
                (e) => {
                    this.lies.delete(entry.id);
                    this.log({ event: 'step_failed', job: entry.id, stage: 'computed', error: describeError(e) });
                },
            );
            return undefined;
        }
        if (work.error !== undefined) {
            this.log({ event: 'lie_undefended', job: entry.id, why: work.error });
            work.lie = { hash: sha256Hex(Buffer.from(`a lie about job ${entry.id}`)) };
            work.error = undefined;
        }
        return work.lie;
    }

    /**
     * The job's program and input as the program reads it (a composite input's parts fetched and
     * framed), hash-checked (from this worker's storage node when it has them).
     */
    private async blobs(state: JobState): Promise<JobBlobs> {
        const uris = urisOf(state.spec.uris);
        const source = { storage: this.storage, allowPrivate: this.opts.allowPrivateUris };
        const [program, input] = await Promise.all([
            jobBlob(uris.program, uint256ToHash(state.spec.programHash), source),
            jobInput(uris.input, uint256ToHash(state.spec.inputHash), source),
        ]);
        return { program, input };
    }

    /**
     * Runs the job's program in the pool (once at a time per job) and journals the result and a
     * fresh salt. A run whose memory would take the runs in hand past the memory bound waits for a
     * later tick (the advance of a claimed job calls this again).
     */
    private compute(entry: JobEntry, state: JobState): void {
        if (this.running.has(entry.id) || this.journal.get(entry.id)?.stage !== 'claimed') return;
        const memoryMb = Number(state.spec.maxMemoryMb);
        const inUse = [...this.runningMemory.values()].reduce((a, b) => a + b, 0);
        if (this.running.size > 0 && inUse + memoryMb > (this.opts.memoryTotalMb ?? Infinity)) {
            if (!this.waitingForMemory.has(entry.id)) {
                // only for logging once: forgetting is harmless, so it never grows past a bound
                if (this.waitingForMemory.size >= REFUSED_MOVES_KEPT) this.waitingForMemory.clear();
                this.waitingForMemory.add(entry.id);
                this.log({
                    event: 'compute_waiting',
                    job: entry.id,
                    why: `${inUse} MiB of runs in hand, ${memoryMb} more would pass ${this.opts.memoryTotalMb}`,
                });
            }
            return;
        }
        this.waitingForMemory.delete(entry.id);
        this.runningMemory.set(entry.id, memoryMb);
        const run = (async () => {
            const job = await this.computeJob(entry.id, state);
            const fuel = job.fuel;
            const ran: RunResult = await this.pool.run(job);
            if (this.stopped) return;
            if (!isVerdict(ran)) {
                if (ran.reason === 'cancelled') return;
                // this machine's own wall-clock limit, not the program's: another worker may finish
                // it within the same fuel, so a timeout is never committed (it would be outvoted)
                this.end(entry.id, 'missed', { note: `abandoned: ${ran.message}; not committed` });
                this.log({ event: 'compute_abandoned', job: entry.id, why: ran.message });
                return;
            }
            // an output over the protocol's cap has no output hash: it is the failure every honest worker commits
            const result = underOutputCap(ran);
            let resultHash: string;
            let outcome: string;
            if (result.status === 'ok') {
                if (!this.storage) throw new Error('no storage node configured to upload the result to');
                resultHash = await this.storage.putResult(result.output);
                outcome = 'ok';
                this.log({
                    event: 'computed',
                    job: entry.id,
                    bytes: result.output.length,
                    ms: Math.round(result.ms),
                    fuel: result.fuel.toString(),
                    limit: fuel.toString(),
                    result: resultHash,
                });
            } else {
                resultHash = failureHash(result.reason);
                outcome = `failed:${result.reason}`;
                this.log({
                    event: 'program_failed',
                    job: entry.id,
                    reason: result.reason,
                    message: result.message,
                    fuel: result.fuel.toString(),
                });
            }
            // a job that ended while it ran (its commit deadline passed) stays ended
            if (this.journal.get(entry.id)?.stage !== 'claimed') return;
            // the salt is durable before any commit can be sent with it
            this.journal.update(entry.id, 'computed', {
                resultHash,
                outcome,
                fuel: result.fuel.toString(),
                salt: randomBytes(32).toString('hex'),
            });
        })()
            .catch((e) => this.log({ event: 'compute_failed', job: entry.id, error: describeError(e) }))
            .finally(() => {
                this.running.delete(entry.id);
                this.runningMemory.delete(entry.id);
            });
        this.running.set(entry.id, run);
    }

    /** Claims the reward of every finished epoch in which this worker earned units. */
    private async claimRewards(now: number): Promise<void> {
        const provider = await this.fog.providerOf(this.me);
        if (!(await this.fog.client.isContractDeployed(provider.address))) return;
        const s = await provider.getProviderState();
        const params = await this.fog.hub.getParams();
        for (const held of this.heldEpochs) if (held !== s.prevEpoch && held !== s.curEpoch) this.heldEpochs.delete(held);
        for (const [epoch, units] of [
            [s.prevEpoch, s.prevUnits],
            [s.curEpoch, s.curUnits],
        ] as const) {
            if (units === 0n) continue;
            if (now <= closableAt(epoch, params)) continue;
            // a claim on an epoch a sharded post still owes a report would bounce (fees spent): wait for the keeper's flush
            const holds = await this.fog.epochHolds(epoch, now);
            if (holds > 0n) {
                if (!this.heldEpochs.has(epoch))
                    this.log({ event: 'reward_claim_waiting', epoch: Number(epoch), reason: holdsWords(holds) });
                this.heldEpochs.add(epoch);
                continue;
            }
            this.heldEpochs.delete(epoch);
            try {
                await this.sender.send([await this.fog.claimRewards(this.me, epoch)], true);
                this.journal.bump('reward_claims');
                this.log({ event: 'reward_claimed', epoch: Number(epoch), units: units.toString() });
            } catch (e) {
                this.log({ event: 'reward_claim_failed', epoch: Number(epoch), error: describeError(e) });
            }
        }
    }
}
