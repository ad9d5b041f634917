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
            const steps = honest.final().steps;
            // a liar of its own flips a bit a little later, somewhere in the run's third quarter
            const own = m.colluding ? 0 : Number(BigInt('0x' + m.meHash) % BigInt(Math.max(1, Math.floor(steps / 4))));
            const from = Math.floor(steps / 2) + own;
            const liar = await parties.of(m.id, async () => job, from, honest.result());
            return { seq: m.seq, lie: { hash: liar.result().toString(16).padStart(64, '0'), from } };
        }
    }
}

port.on('message', (m: HostRequest) => {
    handle(m).then(
        (reply) => port.postMessage({ ...reply, held: parties.size } satisfies HostReply),
        (e) => port.postMessage({ seq: m.seq, error: describeError(e), held: parties.size } satisfies HostReply),
    );
});
