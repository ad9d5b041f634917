/**
 * The worker's side of a job's dispute matches (docs/disputes.md, "The game"): when a job it
 * revealed for enters `disputing` and this worker is a party of the match under way, it opens with
 * its final state (from the metered V8 run where that can give it) and answers every bisection,
 * each move computed by the reference interpreter (client/dispute/game.ts) from the job's program
 * and input. The move owed follows from the
 * Dispute's on-chain state alone, so a daemon killed at any point finds it again after a restart;
 * a move sent twice is refused by the contract ("Not your turn", "Already opened") and costs only
 * its fees.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Address, Cell } from '@ton/core';
import { Party, rootsOf } from '../client/dispute/game';
import { liarOf } from '../client/dispute/liar';
import { ComputeJob } from '../client/compute/types';
import { DIST } from '../client/paths';

/** The Dispute's state as its `dispute_state` get-method shows it (the fields a party reads). */
export interface MatchState {
    match: bigint;
    a: Address | null;
    b: Address | null;
    phase: bigint;
    turn: bigint;
    start: bigint;
    length: bigint;
    parts: bigint;
    roots: Cell | null;
    finalA: bigint;
    finalB: bigint;
}

/** The Dispute contract's phases (contracts/dispute.tact). */
export const MATCH_PHASE = { new: 0n, opening: 1n, playing: 2n, over: 3n } as const;

/** A move this worker owes a match. */
export type MatchMove =
    { kind: 'open'; proof: Cell } | { kind: 'bisect'; choice: number; roots: Cell } | { kind: 'prove'; choice: number; proof: Cell };

/** Which side `me` plays in the match (1 a, 2 b), or 0 when it is not a party. */
export function sideOf(s: MatchState, me: Address): 0 | 1 | 2 {
    if (s.a?.equals(me)) return 1;
    if (s.b?.equals(me)) return 2;
    return 0;
}

/** The move `party` owes the match in state `s` as `me`, or undefined when it owes none (not a party, opened already, not its turn, over). */
export async function moveFor(party: Party, me: Address, s: MatchState): Promise<MatchMove | undefined> {
    const side = sideOf(s, me);
    if (side === 0) return undefined;
    if (s.phase === MATCH_PHASE.opening) {
        if ((side === 1 ? s.finalA : s.finalB) !== 0n) return undefined;
        return { kind: 'open', proof: (await party.open()).proof };
    }
    if (s.phase !== MATCH_PHASE.playing || Number(s.turn) !== side || s.roots === null) return undefined;
    return party.respond({ start: Number(s.start), length: Number(s.length), parts: Number(s.parts), roots: rootsOf(s.roots) });
}

/**
 * The parties this worker plays, one per disputed job, kept between ticks (each holds the
 * interpreter's checkpoints, so a next move replays only the segment in dispute). At most
 * `limit`: the oldest is dropped and rebuilt from the blobs when needed again.
 */
export class Parties {
    private readonly held = new Map<string, Party>();

    constructor(private readonly limit = 8) {}

    /**
     * The party of job `id` running `job` (loaded only when it is not held): honest, or for a demonstration liar the same faulty run
     * its revealed result came from (`liarFrom`: the step its fault strikes from, see
     * client/dispute/liar.ts).
     */
    async of(id: string, job: () => Promise<ComputeJob>, liarFrom?: number, honestResult?: bigint): Promise<Party> {
        let party = this.held.get(id);
        if (party === undefined) {
            const j = await job();
            // a liar rebuilt after a restart learns the honest result from the metered V8 run, not the interpreter
            party = liarFrom === undefined ? new Party(j) : liarOf(j, liarFrom, honestResult ?? (await new Party(j).openResult()));
            if (this.held.size >= this.limit) this.held.delete(this.held.keys().next().value!);
            this.held.set(id, party);
        }
        return party;
    }

    forget(id: string): void {
        this.held.delete(id);
    }

    holds(id: string): boolean {
        return this.held.has(id);
    }

    get size(): number {
        return this.held.size;
    }
}

// ─── the party thread (worker/party-host.ts) and what crosses to it ─────────────────────────────

/** A match's state as plain data: addresses as strings, the roots cell as a BOC. */
export type WireState = Omit<MatchState, 'a' | 'b' | 'roots'> & { a: string | null; b: string | null; roots: Uint8Array | null };
/** A move as plain data: its proof or roots cell as a BOC. */
export type WireMove = { kind: MatchMove['kind']; choice?: number; cell: Uint8Array };

export type HostRequest =
    | { seq: number; op: 'move'; id: string; job?: ComputeJob; liarFrom?: number; me: string; state: WireState }
    | { seq: number; op: 'lie'; id: string; job: ComputeJob; colluding: boolean; meHash: string; honest?: string }
    | { seq: number; op: 'forget'; id: string };

export type HostReply = {
    seq: number;
    error?: string;
    /** The thread does not hold the party and no job came with the request: send it again with the job. */
    needJob?: boolean;
    /** The parties the thread holds after this request. */
    held: number;
    move?: WireMove;
    lie?: { hash: string; from: number };
};

export function encodeState(s: MatchState): WireState {
    return { ...s, a: s.a?.toRawString() ?? null, b: s.b?.toRawString() ?? null, roots: s.roots?.toBoc() ?? null };
}

export function decodeState(s: WireState): MatchState {
    return {
        ...s,
        a: s.a === null ? null : Address.parse(s.a),
        b: s.b === null ? null : Address.parse(s.b),
        roots: s.roots === null ? null : Cell.fromBoc(Buffer.from(s.roots))[0],
    };
}

export function encodeMove(m: MatchMove): WireMove {
    return m.kind === 'open'
        ? { kind: 'open', cell: m.proof.toBoc() }
        : { kind: m.kind, choice: m.choice, cell: (m.kind === 'bisect' ? m.roots : m.proof).toBoc() };
}

export function decodeMove(m: WireMove): MatchMove {
    const cell = Cell.fromBoc(Buffer.from(m.cell))[0];
    if (m.kind === 'open') return { kind: 'open', proof: cell };
    return m.kind === 'bisect' ? { kind: 'bisect', choice: m.choice!, roots: cell } : { kind: 'prove', choice: m.choice!, proof: cell };
}

/** A job as it arrives in the thread (structured clone keeps its bytes and its bigint). */
export function jobOf(job: ComputeJob): ComputeJob {
    return { ...job, program: new Uint8Array(job.program), input: new Uint8Array(job.input) };
}

/** How long the party thread waits for work before it ends, ms. */
export const PARTY_THREAD_IDLE_MS = 60_000;

/**
 * The daemon's parties, played in a thread of their own (worker/party-host.ts): each move is
 * the reference interpreter's work, seconds to minutes on a long job, which would otherwise stop
 * the daemon's polls, commits and reveals for as long. The thread starts with the first dispute
 * and again after it failed; a request in flight when it fails is refused with the reason.
 */
export class PartyThread {
    private worker?: Worker;
    private seq = 0;
    /** The requests of the thread now running, by sequence number (a thread that fails rejects its own). */
    private waiting = new Map<number, { resolve: (r: HostReply) => void; reject: (e: Error) => void }>();
    private idle?: NodeJS.Timeout;
    private closed = false;

    /**
     * `idleMs`: a thread that holds no party (every match it played is over) and has nothing to
     * do this long ends; one that holds a party stays, whatever the opponent's pace, since its
     * checkpoints are what keeps each move a replay of the segment in dispute.
     */
    constructor(private readonly idleMs = PARTY_THREAD_IDLE_MS) {}

    private thread(): Worker {
        if (this.worker) return this.worker;
        const host = join(DIST, 'worker', 'party-host.js');
        if (!existsSync(host)) throw new Error(`compiled party thread not found at ${host}: run npm run build`);
        const worker = new Worker(host);
        const waiting = new Map<number, { resolve: (r: HostReply) => void; reject: (e: Error) => void }>();
        const fail = (e: Error) => {
            if (this.worker === worker) this.worker = undefined;
            for (const w of waiting.values()) w.reject(e);
            waiting.clear();
        };
        worker.on('message', (r: HostReply) => {
            const w = waiting.get(r.seq);
            waiting.delete(r.seq);
            clearTimeout(this.idle);
            if (waiting.size === 0 && r.held === 0 && worker === this.worker)
                this.idle = setTimeout(() => void this.end(worker), this.idleMs).unref();
            if (!w) return;
            if (r.error !== undefined) w.reject(new Error(r.error));
            else w.resolve(r);
        });
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`the dispute thread exited (code ${code})`)));
        // the daemon's process may end while the thread waits for work
        worker.unref();
        this.worker = worker;
        this.waiting = waiting;
        return worker;
    }

    private ask(request: HostRequest extends infer R ? (R extends unknown ? Omit<R, 'seq'> : never) : never): Promise<HostReply> {
        if (this.closed) return Promise.reject(new Error('the daemon stopped: its dispute thread is closed'));
        const seq = ++this.seq;
        clearTimeout(this.idle);
        return new Promise((resolve, reject) => {
            try {
                const worker = this.thread();
                this.waiting.set(seq, { resolve, reject });
                worker.postMessage({ ...request, seq });
            } catch (e) {
                this.waiting.delete(seq);
                reject(e as Error);
            }
        });
    }

    /** The move `me` owes the match in state `s` of job `id` (its party built from `job()` when the thread does not hold it). */
    async move(
        id: string,
        job: () => Promise<ComputeJob>,
        liarFrom: number | undefined,
        me: Address,
        s: MatchState,
    ): Promise<MatchMove | undefined> {
        const base = { op: 'move' as const, id, liarFrom, me: me.toRawString(), state: encodeState(s) };
        let reply = await this.ask(base);
        if (reply.needJob) reply = await this.ask({ ...base, job: await job() });
        return reply.move && decodeMove(reply.move);
    }

    /** A demonstration liar's result for job `id` and the step its fault strikes from (the thread keeps the liar's party). */
    /** `honest`: the result hash (hex) the worker's own run gave, if it has one, which spares the thread a run. */
    async lie(id: string, job: ComputeJob, colluding: boolean, me: Address, honest?: string): Promise<{ hash: string; from: number }> {
        return (await this.ask({ op: 'lie', id, job, colluding, meHash: me.hash.toString('hex'), honest })).lie!;
    }

    forget(id: string): void {
        if (this.worker) void this.ask({ op: 'forget', id }).catch(() => undefined);
    }

    /** Ends the thread for good (the daemon stops): work asked for after this is refused. */
    async close(): Promise<void> {
        this.closed = true;
        if (this.worker) await this.end(this.worker);
    }

    /** Ends `worker` if it is still the running thread. */
    private async end(worker: Worker): Promise<void> {
        if (this.worker !== worker) return;
        clearTimeout(this.idle);
        this.worker = undefined;
        await worker.terminate();
    }
}
