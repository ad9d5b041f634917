import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { JobEntry, Journal, Stage } from '../worker/journal';

/**
 * The worker's journal keeps what a long-running daemon walks every tick bounded by its own open
 * jobs, not by every job it ever looked at, and forgets old finished jobs.
 */

const entry = (id: number, stage: Stage): JobEntry => ({
    id: String(id),
    address: `job ${id}`,
    stage,
    claimUntil: 1,
    commitUntil: 2,
    revealUntil: 3,
    updatedAt: 0,
});

describe('the worker journal', () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), 'fog-journal-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('walks only unfinished jobs, through restarts, as stages change', async () => {
        let j = Journal.open(dir);
        for (let id = 0; id < 2_000; id++) j.put(entry(id, id % 500 === 7 ? 'claimed' : 'skipped'));
        expect(j.active().map((e) => e.id)).toEqual(['7', '507', '1007', '1507']);
        j.update(507n, 'committed');
        j.update(1007n, 'settled', { note: 'won' });
        await j.close();
        j = Journal.open(dir);
        expect(j.active().map((e) => [e.id, e.stage])).toEqual([
            ['7', 'claimed'],
            ['507', 'committed'],
            ['1507', 'claimed'],
        ]);
        expect(j.get(1007n)).toMatchObject({ stage: 'settled', note: 'won' });
        expect(j.size).toBe(2_000);
        await j.close();
    });

    it('prunes the oldest finished jobs down to the limit and never an unfinished one', async () => {
        const j = Journal.open(dir);
        for (let id = 0; id < 300; id++) j.put(entry(id, id === 3 || id === 250 ? 'revealed' : 'settled'));
        expect(j.prune(1_000)).toBe(0);
        expect(j.prune(100)).toBe(200);
        expect(j.size).toBe(100);
        // the unfinished job 3 is still there, the oldest finished ones are gone, the newest kept
        expect(j.active().map((e) => e.id)).toEqual(['3', '250']);
        expect(j.get(4n)).toBeUndefined();
        expect(j.get(200n)).toBeUndefined();
        expect(j.get(201n)?.stage).toBe('settled');
        expect(j.get(299n)?.stage).toBe('settled');
        // unfinished jobs beyond the limit stay: the journal cannot forget work in hand
        expect(j.prune(1)).toBe(98);
        expect(j.active().map((e) => e.id)).toEqual(['3', '250']);
        expect(j.size).toBe(2);
        await j.close();
    });

    it('indexes a journal written before the index existed', async () => {
        // the old layout: jobs only, no index and no marker
        const root = open({ path: dir, compression: false });
        const jobs = root.openDB<JobEntry, string>({ name: 'jobs' });
        for (let id = 0; id < 50; id++) jobs.putSync(String(id).padStart(20, '0'), entry(id, id === 10 ? 'computed' : 'lost'));
        await root.close();
        const j = Journal.open(dir);
        expect(j.active().map((e) => e.id)).toEqual(['10']);
        j.update(10n, 'missed');
        expect(j.active()).toEqual([]);
        await j.close();
    });
});
