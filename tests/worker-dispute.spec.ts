/**
 * Worker daemons play a job's dispute matches on the HTTP devnet (docs/disputes.md): a liar that
 * defends a run with one flipped bit, alone or colluding with another, meets the honest worker
 * match by match; every move is a real wallet transaction, and the honest worker wins, whatever a
 * restart in the middle of a match forgets. The keeper times out a party that stops answering.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { open as openLmdb } from 'lmdb';
import { Devnet, FOG } from './helpers/devnet';
import { workerWorld } from './helpers/worker-world';
import { staker, wallet } from './helpers/flow';
import { jobSpec } from '../client/actions';
import { WalletSender } from '../client/sender';
import { DIST } from '../client/processes';
import { JobPhase, resultHashOf } from '../client/results';
import { StorageClient, uint256ToHash } from '../client/storage';
import { ComputePool } from '../client/compute/pool';
import { Journal } from '../worker/journal';
import { DAEMON_DEFAULTS, DaemonOptions, WorkerDaemon } from '../worker/daemon';
import { Keeper, timeoutDue } from '../oracle/keeper';
import { Watcher } from '../client/watcher';
import { MATCH_PHASE } from '../worker/dispute';
import { Party } from '../client/dispute/game';
import { Address } from '@ton/core';

const ALLOWANCE = 600;

describe('worker daemons in a dispute', () => {
    let d: Devnet;
    let dir: string;
    let store: StorageClient;
    let pool: ComputePool;
    let requester: WalletSender;
    let program: Buffer;
    const events: { event: string; job?: string; move?: string; worker?: string }[] = [];

    workerWorld('worker-dispute', (w) => ({ d, dir, store, pool, requester, program } = w), {
        params: { disputeAllowance: BigInt(ALLOWANCE) },
    });

    /** Every daemon made, stopped at the end (each may hold a dispute thread). */
    const made: WorkerDaemon[] = [];
    afterAll(async () => {
        for (const daemon of made) await daemon.stop();
    });

    /** A staked worker with a journal of its own; `daemon()` makes a new process's daemon over the same journal. */
    async function worker(name: string, options: Partial<DaemonOptions> = {}) {
        const sender = await staker(d);
        const journal = Journal.open(join(dir, `journal-${name}`));
        const daemon = () => {
            const fresh = new WorkerDaemon(d.fog, sender, pool, journal, store, {
                ...DAEMON_DEFAULTS,
                ...options,
                memoryMb: 1024,
                allowPrivateUris: true,
                safetySeconds: 0,
                log: (e) => events.push({ ...(e as { event: string }), worker: name }),
            });
            made.push(fresh);
            return fresh;
        };
        return { name, address: sender.address, journal, daemon };
    }

    /** Posts a job of the upper-case program (or `other`) over `input` for k workers. */
    async function post(input: string | Buffer, k: number, other?: { program: Buffer; maxMfuel: number }): Promise<bigint> {
        const id = (await d.fog.hub.getHubState()).nextJobId;
        await store.put(Buffer.from(input));
        if (other) await store.put(other.program);
        const spec = jobSpec({
            program: other?.program ?? program,
            input: Buffer.from(input),
            urlOf: (h) => store.urlOf(h),
            k,
            quorum: Math.floor(k / 2) + 1,
            maxMfuel: other?.maxMfuel ?? 10,
        });
        await requester.send([await d.fog.post(requester.address, 10n * FOG, spec)], true);
        return id;
    }

    /** The keeper, as the oracle runs it (it times out a party whose clock ran out), with its own database and wallet. */
    async function keeperOf(name: string) {
        const db = openLmdb({ path: join(dir, `keeper-${name}`) });
        const keeperWallet = await wallet(d);
        const watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, log: () => undefined });
        const keeper = new Keeper({ watcher, fog: d.fog, db, sender: keeperWallet, retryMs: 0, log: () => undefined });
        const stop = async () => {
            await keeper.stop();
            await watcher.stop();
            await db.close();
        };
        return { keeper, watcher, stop };
    }

    /** Moves the devnet's clock past any party's allowance. */
    const passAllowance = () => fetch(`${d.url}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds: ALLOWANCE + 2 + 1 }) });

    /**
     * Ticks the daemons (one after another, as separate processes would) until job `id` is final.
     * When a liar is left to prove the last step, which it cannot (the honest root at the step's end
     * is true), it loses on its clock, as documented: the chain's time is moved past its allowance
     * and the keeper times it out. Which side proves depends on who revealed first, which the
     * machine's load decides. Returns the phase and how many matches ended that way.
     */
    async function tickUntilFinal(
        id: bigint,
        daemons: WorkerDaemon[],
        liars: Address[],
        between?: (round: number) => Promise<void>,
        rounds = 200,
    ): Promise<{ phase: number; clockOuts: number }> {
        const k = await keeperOf(`final-${id}`);
        let clockOuts = 0;
        try {
            for (let round = 0; round < rounds; round++) {
                for (const daemon of daemons) await daemon.tick();
                const phase = Number((await (await d.fog.job(id)).getJobState()).phase);
                if (phase !== JobPhase.Open && phase !== JobPhase.Verifying && phase !== JobPhase.Disputing) return { phase, clockOuts };
                if (phase === JobPhase.Disputing) {
                    const s = await (await d.fog.dispute(id)).getDisputeState();
                    const mover = s.turn === 1n ? s.a : s.b;
                    // the liar to move with nothing but one-step segments left, or whose proof of one was refused
                    const last = events.filter((e) => e.job === id.toString()).at(-1);
                    const stuck = s.length <= s.parts || (last?.event === 'dispute_move_refused' && last.move === 'prove');
                    if (s.phase === MATCH_PHASE.playing && stuck && mover && liars.some((l) => l.equals(mover))) {
                        await passAllowance();
                        while ((await k.watcher.pollOnce()) > 0);
                        const report = await k.keeper.tickOnce();
                        expect(report.timedOut).toEqual([id]);
                        clockOuts++;
                    }
                }
                await between?.(round);
                await new Promise((r) => setTimeout(r, 50));
            }
        } finally {
            await k.stop();
        }
        const last = events.filter((e) => e.job === id.toString()).slice(-12);
        throw new Error(`job ${id} is not final after ${rounds} rounds; its last events: ${JSON.stringify(last)}`);
    }

    const movesOf = (name: string, id: bigint) =>
        events.filter((e) => e.worker === name && e.job === id.toString() && e.event === 'dispute_move');

    it('k = 2, one liar: the match is played move by move from the two wallets, and the honest result wins', async () => {
        const honest = await worker('honest-1');
        const liar = await worker('liar-1', { liar: true });
        const id = await post('one liar, one match', 2);
        const before = await Promise.all([honest, liar].map(async (w) => (await d.fog.stakedProviderOf(w.address)).getProviderState()));
        const honestDaemon = honest.daemon();
        expect((await tickUntilFinal(id, [honestDaemon, liar.daemon()], [liar.address])).phase).toBe(JobPhase.Done);
        await honestDaemon.tick();
        const state = await (await d.fog.job(id)).getJobState();
        expect(uint256ToHash(state.result)).toBe(resultHashOf(Buffer.from('ONE LIAR, ONE MATCH')));
        expect(state.matches).toBe(1n);
        // both opened, and the game went down to one step: more than the openings were played
        expect(movesOf('honest-1', id).length + movesOf('liar-1', id).length).toBeGreaterThan(2);
        const after = await Promise.all([honest, liar].map(async (w) => (await d.fog.stakedProviderOf(w.address)).getProviderState()));
        // the liar is slashed, and the honest worker's stake grows by half of it (the winners' bounty)
        expect(after[1].stake).toBeLessThan(before[1].stake);
        expect(after[0].stake - before[0].stake).toBe((before[1].stake - after[1].stake) / 2n);
        expect(honest.journal.get(id)).toMatchObject({ stage: 'settled', note: 'won', disputeMoves: expect.any(Number) });
    }, 240_000);

    it('k = 3, two colluding liars: two matches, and a restart of the honest daemon in the middle of each changes nothing', async () => {
        const honest = await worker('honest-2');
        const liars = [await worker('liar-2a', { liar: true, colluding: true }), await worker('liar-2b', { liar: true, colluding: true })];
        const id = await post('two colluding liars', 3);
        const daemons = [honest.daemon(), ...liars.map((l) => l.daemon())];
        let restarts = 0;
        let movesSeen = 0;
        const { phase } = await tickUntilFinal(
            id,
            daemons,
            liars.map((l) => l.address),
            async () => {
                // a new process after each move the honest daemon makes: its party and checkpoints are gone,
                // the chain says what to do. (Restarting every few rounds instead starved it on a loaded
                // machine: the new process had not worked its next move out before it was killed again.)
                const moves = movesOf('honest-2', id).length;
                if (moves > movesSeen) {
                    movesSeen = moves;
                    await daemons[0].stop();
                    daemons[0] = honest.daemon();
                    restarts++;
                }
            },
        );
        // at least an opening and one bisection in each of the two matches
        expect(restarts).toBeGreaterThanOrEqual(4);
        expect(phase).toBe(JobPhase.Done);
        const state = await (await d.fog.job(id)).getJobState();
        expect(uint256ToHash(state.result)).toBe(resultHashOf(Buffer.from('TWO COLLUDING LIARS')));
        // the liars revealed the same wrong result, and both lost a match
        const reveals = [...state.slots.values()].filter((s) => !s.worker.equals(honest.address));
        expect(reveals[0].hash).toBe(reveals[1].hash);
        expect(reveals.every((s) => s.lost)).toBe(true);
        expect(state.matches).toBe(2n);
    }, 300_000);

    it('the keeper times out a party that stops answering: an honest worker that goes offline loses, exactly as documented', async () => {
        const honest = await worker('honest-3');
        const liar = await worker('liar-3', { liar: true });
        const id = await post('an honest worker goes offline', 2);
        const honestDaemon = honest.daemon();
        const liarDaemon = liar.daemon();
        // both reveal, and each opens: then the honest worker's process stops for good
        for (let i = 0; i < 200 && movesOf('honest-3', id).length === 0; i++) {
            await honestDaemon.tick();
            await liarDaemon.tick();
            await new Promise((r) => setTimeout(r, 50));
        }
        expect(movesOf('honest-3', id)).toHaveLength(1);
        const { keeper, watcher, stop } = await keeperOf('offline');
        while ((await watcher.pollOnce()) > 0);
        const dispute = await d.fog.dispute(id);
        expect(timeoutDue(await dispute.getDisputeState(), await d.fog.now())).toBe(false);
        // the liar plays on until it waits for the honest worker; its clock passes
        for (let i = 0; i < 20; i++) await liarDaemon.tick();
        // each side's time: the base and a second per 5 million fuel of the job's limit (10 here), less what it spent
        const clocks = await dispute.getDisputeState();
        const left = Math.max(Number(clocks.clockA), Number(clocks.clockB));
        expect(left).toBeLessThanOrEqual(ALLOWANCE + 2);
        expect(left).toBeGreaterThan(ALLOWANCE - 60);
        await passAllowance();
        expect(timeoutDue(await dispute.getDisputeState(), await d.fog.now())).toBe(true);
        const report = await keeper.tickOnce();
        expect(report.timedOut).toEqual([id]);
        const state = await (await d.fog.job(id)).getJobState();
        expect(Number(state.phase)).toBe(JobPhase.Done);
        expect(uint256ToHash(state.result)).not.toBe(resultHashOf(Buffer.from('AN HONEST WORKER GOES OFFLINE')));
        await stop();
    }, 240_000);
    it('works a move out in a thread of its own: the daemon goes on polling while the interpreter replays a long run', async () => {
        const honest = await worker('honest-4');
        const liar = await worker('liar-4', { liar: true });
        // about 100 million steps: seconds of the reference interpreter for each side's opening (and the liar's lie)
        const rounds = Buffer.alloc(4);
        rounds.writeUInt32LE(6_000);
        const fnv = { program: readFileSync(join(DIST, 'examples', 'fnv-rounds.wasm')), maxMfuel: 200 };
        const id = await post(Buffer.concat([rounds, Buffer.alloc(1020, 7)]), 2, fnv);
        const daemons = [honest.daemon(), liar.daemon()];
        // the longest the event loop went without running a 10 ms timer
        let last = performance.now();
        let gap = 0;
        const timer = setInterval(() => {
            const now = performance.now();
            gap = Math.max(gap, now - last);
            last = now;
        }, 10);
        try {
            for (let i = 0; i < 600 && movesOf('honest-4', id).length === 0; i++) {
                for (const daemon of daemons) await daemon.tick();
                await new Promise((r) => setTimeout(r, 20));
            }
        } finally {
            clearInterval(timer);
            for (const daemon of daemons) await daemon.stop();
        }
        expect(movesOf('honest-4', id).map((m) => m.move)).toEqual(['open']);
        // The liar's lie (two runs) and each side's opening (one) ran in the threads. Had one run
        // on the daemon's event loop, a poll would have waited the whole run: one run here, on
        // this machine under its present load, is the yardstick (about 1.8 s unloaded).
        const input = Buffer.concat([rounds, Buffer.alloc(1020, 7)]);
        const began = performance.now();
        const steps = new Party({ program: fnv.program, input, fuel: 200_000_000n, maxMemoryMb: 64 }).final().steps;
        const oneRun = performance.now() - began;
        expect(steps).toBeGreaterThan(50_000_000);
        expect(gap).toBeLessThan(oneRun / 3);
    }, 120_000);
});
