/**
 * The worker's journal: what it has decided and done for each job, in LMDB, written before and
 * after every send so that a kill -9 at any moment is safe. After a restart the daemon reads the
 * journal and the chain and carries on: it never commits twice (the salt is journaled before the
 * commit is sent) and never abandons a job it claimed.
 */
import { open, RootDatabase, Database } from 'lmdb';
import { workerDefaults } from './config';

/**
 * A job's stage in this worker's hands:
 * claiming → claimed → computed → committed → revealed → settled, or skipped / lost (a claim that
 * did not land) / missed (a deadline passed before the next step).
 */
export type Stage = 'claiming' | 'claimed' | 'computed' | 'committed' | 'revealed' | 'settled' | 'skipped' | 'lost' | 'missed';

export const FINAL_STAGES: readonly Stage[] = ['settled', 'skipped', 'lost', 'missed'];

export interface JobEntry {
    id: string;
    address: string;
    stage: Stage;
    claimUntil: number;
    commitUntil: number;
    revealUntil: number;
    /** The result hash (hex, client/results.ts): the output's output hash, or the failure marker's sha256 when the program failed. */
    resultHash?: string;
    /** What this worker committed (hex): its result hash, or a lie when demonstrating slashing. */
    committedHash?: string;
    /** The commit's salt (hex), journaled before the commit is sent. */
    salt?: string;
    /** `ok`, or `failed:<reason>` when the program failed and the failure marker was committed. */
    outcome?: string;
    /** The job's fuel limit (decimal), journaled with the claim. */
    fuelLimit?: string;
    /** The job's memory limit, MiB: what its run asks for. */
    memoryMb?: number;
    /** The fuel the run used (decimal). */
    fuel?: string;
    /** A demonstration liar's fault: the step its flipped bit strikes from (client/dispute/liar.ts), so it defends the result it committed. */
    liarFrom?: number;
    /** Dispute moves this worker sent for the job (docs/disputes.md). */
    disputeMoves?: number;
    note?: string;
    updatedAt: number;
}

/** Jobs a journal keeps by default; the oldest finished ones beyond it are pruned (see `prune`). */
export const KEEP_JOBS: number = workerDefaults.keepJobs;

export class Journal {
    private readonly jobs: Database<JobEntry, string>;
    /** The keys of jobs not yet final: what every tick walks, bounded by the worker's open claims. */
    private readonly open: Database<true, string>;
    private readonly meta: Database<string | number, string>;

    private constructor(private readonly root: RootDatabase) {
        this.jobs = root.openDB<JobEntry, string>({ name: 'jobs' });
        this.open = root.openDB<true, string>({ name: 'open' });
        this.meta = root.openDB<string | number, string>({ name: 'meta' });
        if (this.meta.get('openIndex') === undefined) {
            // a journal written before the index existed: build it once
            this.root.transactionSync(() => {
                for (const { key, value } of this.jobs.getRange()) if (!FINAL_STAGES.includes(value.stage)) this.open.putSync(key, true);
                this.meta.putSync('openIndex', 1);
            });
        }
    }

    /** Opens (or creates) the journal at `path`. */
    static open(path: string): Journal {
        return new Journal(open({ path, compression: false }));
    }

    private key(id: bigint | string): string {
        return BigInt(id).toString().padStart(20, '0');
    }

    get(id: bigint | string): JobEntry | undefined {
        return this.jobs.get(this.key(id));
    }

    /** Writes `entry` durably before returning. */
    put(entry: JobEntry): void {
        const key = this.key(entry.id);
        this.root.transactionSync(() => {
            this.jobs.putSync(key, { ...entry, updatedAt: Date.now() });
            if (FINAL_STAGES.includes(entry.stage)) this.open.removeSync(key);
            else this.open.putSync(key, true);
        });
    }

    /** Moves a job to `stage` with `changes`, durably. */
    update(id: bigint | string, stage: Stage, changes: Partial<JobEntry> = {}): JobEntry {
        const current = this.get(id);
        if (!current) throw new Error(`job ${id} is not in the journal`);
        const next = { ...current, ...changes, stage };
        this.put(next);
        return next;
    }

    /** Jobs not yet in a final stage, oldest first: read through the index, so history costs nothing. */
    active(): JobEntry[] {
        const out: JobEntry[] = [];
        for (const key of this.open.getKeys()) {
            const entry = this.jobs.get(key);
            if (entry) out.push(entry);
        }
        return out;
    }

    /** Jobs in the journal, final or not (from LMDB's own statistics: no scan). */
    get size(): number {
        return (this.jobs.getStats() as { entryCount: number }).entryCount;
    }

    /** The most recent `limit` jobs, newest first (for `status`). */
    recent(limit: number): JobEntry[] {
        const out: JobEntry[] = [];
        for (const { value } of this.jobs.getRange({ reverse: true, limit })) out.push(value);
        return out;
    }

    /**
     * Forgets the oldest final jobs until at most `keep` jobs remain (unfinished ones are never
     * forgotten), so the journal does not grow with history. Costs nothing while under `keep`, and
     * then about what it removes.
     */
    prune(keep: number = KEEP_JOBS): number {
        const excess = this.size - keep;
        let removed = 0;
        if (excess <= 0) return 0;
        this.root.transactionSync(() => {
            for (const { key, value } of this.jobs.getRange()) {
                if (removed === excess) break;
                if (!FINAL_STAGES.includes(value.stage)) continue;
                this.jobs.removeSync(key);
                removed += 1;
            }
        });
        return removed;
    }

    /** The next job id the daemon has not looked at yet. */
    get nextJobId(): bigint {
        const v = this.meta.get('nextJobId');
        return v === undefined ? -1n : BigInt(v);
    }

    set nextJobId(id: bigint) {
        this.meta.putSync('nextJobId', id.toString());
    }

    counter(name: string): number {
        return Number(this.meta.get(`count:${name}`) ?? 0);
    }

    bump(name: string, by = 1): void {
        this.meta.transactionSync(() => this.meta.putSync(`count:${name}`, this.counter(name) + by));
    }

    async close(): Promise<void> {
        await this.root.close();
    }
}
