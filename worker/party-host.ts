/**
 * The thread the worker daemon plays its dispute matches in (worker/dispute.ts, `PartyThread`):
 * the reference interpreter runs here, for seconds to minutes on a long job, while the daemon's
 * own thread goes on polling, committing and revealing. It holds the parties (each with its
 * interpreter checkpoints) between moves; the daemon sends it the Dispute's state and gets the
 * move back, both as plain data (cells as BOC).
 */
import { parentPort } from 'node:worker_threads';
import { Address } from '@ton/core';
import { Party } from '../client/dispute/game';
import { describeError } from '../client/chain';
import { decodeState, encodeMove, HostReply, HostRequest, jobOf, moveFor, Parties } from './dispute';

const port = parentPort;
if (!port) throw new Error('worker/party-host.ts runs as a worker thread (PartyThread starts it)');

const parties = new Parties();

async function handle(m: HostRequest): Promise<Omit<HostReply, 'held'>> {
    switch (m.op) {
        case 'forget':
            parties.forget(m.id);
            return { seq: m.seq };
        case 'move': {
            if (!parties.holds(m.id) && m.job === undefined) return { seq: m.seq, needJob: true };
            const party = await parties.of(m.id, async () => jobOf(m.job!), m.liarFrom);
            const move = await moveFor(party, Address.parse(m.me), decodeState(m.state));
            return { seq: m.seq, move: move && encodeMove(move) };
        }
        case 'lie': {
            const job = jobOf(m.job);
            const honest = new Party(job);
            // the honest run's length from the compiled prover; its result from the worker's own
            // run, else from the metered V8 run
            const steps = honest.haltingStep();
            const result = m.honest !== undefined ? BigInt('0x' + m.honest) : await honest.openResult();
            // deep in the run, where the liar's run is the honest one up to its fault (the compiled
            // prover's, cheap) and the interpreter's share is short: in the last 256th, else the
            // last sixteenth, else (a run whose last steps change nothing a flip reaches) from the
            // middle. Colluders flip at the same step; a liar of its own a little later, by its address
            const mine = (span: number) => (m.colluding ? 0 : Number(BigInt('0x' + m.meHash) % BigInt(Math.max(1, Math.floor(span)))));
            const starts = [
                steps - Math.floor(steps / 256) + mine(steps / 512),
                steps - Math.floor(steps / 16) + mine(steps / 32),
                Math.floor(steps / 2) + mine(steps / 4),
            ];
            for (const [i, from] of starts.entries()) {
                try {
                    const liar = await parties.of(m.id, async () => job, from, result);
                    return { seq: m.seq, lie: { hash: liar.result().toString(16).padStart(64, '0'), from } };
                } catch (e) {
                    if (i === starts.length - 1) throw e;
                }
            }
            throw new Error('unreachable');
        }
    }
}

port.on('message', (m: HostRequest) => {
    handle(m).then(
        (reply) => port.postMessage({ ...reply, held: parties.size } satisfies HostReply),
        (e) => port.postMessage({ seq: m.seq, error: describeError(e), held: parties.size } satisfies HostReply),
    );
});
