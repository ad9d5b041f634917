/**
 * The worker's journal: what it has decided and done for each job, in LMDB, written before and
 * after every send so that a kill -9 at any moment is safe. After a restart the daemon reads the
 * journal and the chain and carries on: it never commits twice (the salt is journaled before the
 * commit is sent) and never abandons a job it claimed.
 */
import { open, RootDatabase, Database } from 'lmdb';

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
    /** sha256 of the output (hex), or of the failure marker when the program failed. */
    resultHash?: string;
    /** What this worker committed (hex): its result hash, or a lie when demonstrating slashing. */
    committedHash?: string;
    /** The commit's salt (hex), journaled before the commit is sent. */
    salt?: string;
    /** `ok`, or `failed:<reason>` when the program failed and the failure marker was committed. */
    outcome?: string;
    note?: string;
    updatedAt: number;
}

export class Journal {
    private readonly jobs: Database<JobEntry, string>;
    private readonly meta: Database<string | number, string>;

    private constructor(private readonly root: RootDatabase) {
        this.jobs = root.openDB<JobEntry, string>({ name: 'jobs' });
        this.meta = root.openDB<string | number, string>({ name: 'meta' });
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
        this.jobs.transactionSync(() => {
            this.jobs.putSync(this.key(entry.id), { ...entry, updatedAt: Date.now() });
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

    /** Jobs not yet in a final stage, oldest first. Bounded by the worker's own open claims. */
    active(): JobEntry[] {
        const out: JobEntry[] = [];
        for (const { value } of this.jobs.getRange()) if (!FINAL_STAGES.includes(value.stage)) out.push(value);
        return out;
    }

    /** The most recent `limit` jobs, newest first (for `status`). */
    recent(limit: number): JobEntry[] {
        const out: JobEntry[] = [];
        for (const { value } of this.jobs.getRange({ reverse: true, limit })) out.push(value);
        return out;
    }

    /** Forgets final jobs beyond the newest `keep`, so the journal does not grow with history. */
    prune(keep: number): number {
        let seen = 0;
        let removed = 0;
        this.jobs.transactionSync(() => {
            for (const { key, value } of this.jobs.getRange({ reverse: true })) {
                seen += 1;
                if (seen > keep && FINAL_STAGES.includes(value.stage)) {
                    this.jobs.removeSync(key);
                    removed += 1;
                }
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
