/**
 * The demo's clock for stalled liars (`npm start` with disputes on). A liar left to prove a false
 * step cannot, and holds its match for the rest of its time: the base allowance and a second per
 * 5 million fuel of the job's limit, up to half an hour of chain time for mlp-train. On a devnet
 * that time need not pass in real time: when the side to move in a match is a liar's wallet and its
 * match has not moved for `stallMs` of real time (`proveMs` once the bisection is down to single
 * steps, where the mover's only move is a proof, which a liar's false step never has), this moves
 * the devnet clock just past that side's time, and the keeper times it out. An honest side is
 * never hurried, so a slow honest computation never loses a match here; and since the jump moves
 * every job's clock, it waits while any recent job could lose time to it: one still open (its
 * claims, commits or reveals due in a window) or in its pass check, or a match where a side that
 * is not a liar is to move.
 */
import { Address } from '@ton/core';
import { Fog } from '../client/actions';
import { PhaseDisputing, PhaseOpen, PhaseVerifying } from '../wrappers/Hub';
import type { DisputeState } from '../wrappers/Dispute';

export interface Hurry {
    stop(): Promise<void>;
}

/** Jobs looked at each round: the most recent ones. */
const RECENT_JOBS = 32n;

export function hurryStalledLiars(o: {
    fog: Fog;
    liars: Address[];
    advance: (seconds: number) => Promise<void>;
    say: (line: string) => void;
    stallMs?: number;
    proveMs?: number;
    everyMs?: number;
}): Hurry {
    const stallMs = o.stallMs ?? 60_000;
    const proveMs = o.proveMs ?? 1_000;
    /** When each position (job, match, since, turn) was first seen waiting on a liar. */
    const waiting = new Map<string, number>();
    /** Jobs seen final: never looked at again. */
    const final = new Set<bigint>();
    /** When each job id the hub gave was first seen without its contract. */
    const missing = new Map<bigint, number>();
    let stopped = false;
    let warned = false;
    const liar = (side: Address | null) => side !== null && o.liars.some((l) => l.equals(side));
    const round = async () => {
        const next = (await o.fog.hub.getHubState()).nextJobId;
        /** Whether some job could lose time to a jump of the clock (see above). */
        let busy = false;
        const stalled: { id: bigint; s: DisputeState }[] = [];
        for (let id = next > RECENT_JOBS ? next - RECENT_JOBS : 0n; id < next; id++) {
            if (final.has(id)) continue;
            const job = await o.fog.job(id);
            // a job being deployed has no contract yet: its claim window opens when it lands (one
            // still missing after a minute was refused, with its sharded post: never coming)
            if (!(await o.fog.client.isContractDeployed(job.address))) {
                const since = missing.get(id) ?? Date.now();
                missing.set(id, since);
                if (Date.now() - since > 60_000) final.add(id);
                else busy = true;
                continue;
            }
            const phase = (await job.getJobState()).phase;
            if (phase !== PhaseDisputing && phase !== PhaseOpen && phase !== PhaseVerifying) final.add(id);
            if (phase === PhaseOpen || phase === PhaseVerifying) busy = true;
            if (phase !== PhaseDisputing) continue;
            const s = await (await o.fog.dispute(id)).getDisputeState();
            // a match under way (phase 2) waits on the side whose turn it is; one opening (phase 1) on
            // each side that has not opened; one between matches (0, 3) on its job's next step
            if (s.phase === 1n) {
                if ((s.finalA === 0n && !liar(s.a)) || (s.finalB === 0n && !liar(s.b))) busy = true;
                continue;
            }
            if (s.phase !== 2n) {
                busy = true;
                continue;
            }
            if (!liar(s.turn === 1n ? s.a : s.b)) {
                busy = true;
                continue;
            }
            stalled.push({ id, s });
        }
        for (const { id, s } of stalled) {
            const key = `${id}:${s.match}:${s.since}:${s.turn}`;
            const first = waiting.get(key) ?? Date.now();
            waiting.set(key, first);
            // every segment one step long: the mover's only move is a proof
            const proving = s.length <= s.parts;
            const wait = proving ? proveMs : stallMs;
            if (Date.now() - first < wait || busy) continue;
            waiting.delete(key);
            const left = Number(s.since) + Number(s.turn === 1n ? s.clockA : s.clockB) - (await o.fog.now()) + 1;
            if (left <= 0) continue;
            o.say(
                `  job ${id}, match ${s.match}: the liar has not moved for ${Math.round(wait / 1000)} s (${proving ? 'it cannot prove its false step' : 'it may not be able to go on'}); moving the devnet clock ${left} s on, past its time, for the keeper to time it out`,
            );
            await o.advance(left);
            // the other stalled matches are read again next round, at the new time
            break;
        }
        // positions left behind by a move are forgotten
        if (waiting.size > 1_000) waiting.clear();
    };
    const loop = (async () => {
        while (!stopped) {
            try {
                await round();
            } catch (e) {
                if (!warned) o.say(`  (the stalled-liar clock could not read the chain: ${(e as Error).message}; it keeps trying)`);
                warned = true;
            }
            await new Promise((r) => setTimeout(r, o.everyMs ?? 1_000));
        }
    })();
    return {
        stop: async () => {
            stopped = true;
            await loop;
        },
    };
}
