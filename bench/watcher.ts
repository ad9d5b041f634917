/**
 * Watcher catch-up: a watcher with a fresh LMDB environment (no cursor anywhere) against the
 * devnet that the end-to-end run left behind, polled until it has seen everything.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { open } from 'lmdb';
import { isTransient } from '../client/chain';
import { Watcher } from '../client/watcher';
import { RunningDevnet } from './devnet';

export interface WatcherFigures {
    events: number;
    /** Contracts it followed (hub, providers, jobs still open, epochs). */
    contracts: number;
    /** Poll cycles that found events (a last, empty one confirms it caught up). */
    cycles: number;
    seconds: number;
    eventsPerSecond: number;
    /** How much faster it read the history than the devnet wrote it: history seconds / catch-up seconds. */
    speedup: number;
}

const MAX_RETRIES = 5;

/** Catches a new watcher up with `d`'s whole history, which took `historySeconds` to make. */
export async function measureWatcher(d: RunningDevnet, dir: string, historySeconds: number): Promise<WatcherFigures> {
    const db = open({ path: join(dir, 'watcher.mdb') });
    try {
        const watcher = new Watcher({ client: d.fog.client, db, hub: d.file.hub, log: () => undefined });
        let events = 0;
        watcher.subscribe('bench', () => {
            events += 1;
        });
        let cycles = 0;
        let seconds = 0;
        const start = performance.now();
        for (let retries = 0; ;) {
            let found;
            try {
                found = await watcher.pollOnce();
            } catch (e) {
                // as the watcher's own loop does: a dropped connection is retried, from the cursors
                if (isTransient(e) && ++retries <= MAX_RETRIES) continue;
                throw e;
            }
            if (found === 0) break;
            cycles += 1;
            seconds = (performance.now() - start) / 1000;
        }
        if (events === 0) throw new Error('the watcher found no events on the devnet');
        return {
            events,
            contracts: watcher.following().length,
            cycles,
            seconds,
            eventsPerSecond: events / seconds,
            speedup: historySeconds / seconds,
        };
    } finally {
        await db.close();
    }
}
