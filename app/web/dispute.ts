/**
 * A job's dispute, move by move (loaded by the job page only when the job has had a match): each
 * match's two parties and the results they revealed, every open, split and proof in order with
 * its chain time, the outcome, and for the match under way whose move it is and the time left on
 * its clock. It reads the Dispute contract's transactions through client/dispute/history.ts.
 */
import type { Fog } from '../../client/actions';
import type { Address } from '@ton/core';
import { disputeHistory, type DisputeHistory, type MatchMoveRecord, type MatchRecord } from '../../client/dispute/history';
import { uint256ToHash } from '../../client/hash';
import type { PublicNetwork } from '../network';
import { addressLink, esc, utc } from './html';

const steps = (n: bigint) => n.toLocaleString('en-US');
const SIDE = { a: 'A', b: 'B' } as const;

function moveText(m: MatchMoveRecord, first: boolean): string {
    const who = SIDE[m.side];
    const other = SIDE[m.side === 'a' ? 'b' : 'a'];
    if (m.kind === 'open') return `${who} opened: it proved its final state, and that the state gives the result it revealed.`;
    if (m.kind === 'prove')
        return `${who} proved step ${steps(m.from)}: run from the state both agree on, it does not end where ${other} said. ${who} wins.`;
    const span = `steps ${steps(m.from)}–${steps(m.to)} into ${m.parts}`;
    return first
        ? `${who} disputed ${other}’s claim of the whole run and split ${span}, with its own states at the points.`
        : `${who} disputed part ${m.choice} of ${other}’s split: it split ${span}.`;
}

function matchHtml(m: MatchRecord, live: string, net: PublicNetwork): string {
    const party = (side: 'a' | 'b') => {
        const address = side === 'a' ? m.a : m.b;
        const result = side === 'a' ? m.resultA : m.resultB;
        return `<div><dt>${SIDE[side]}</dt><dd>${address ? addressLink(address, net, true) : '—'}${
            result === undefined ? '' : `<br><span class="mono">revealed ${esc(uint256ToHash(result))}</span>`
        }</dd></div>`;
    };
    const moves = m.moves
        .map((move) => {
            // the match's first split is of the whole run, [0, bound): told apart from the others by its span
            const text = moveText(move, move.kind === 'bisect' && move.from === 0n && move.to === m.bound);
            return `<li data-move="${move.kind}"><time>${esc(utc(move.time))}</time> ${esc(text)}</li>`;
        })
        .join('');
    const outcome = m.outcome
        ? `<p class="outcome" data-winner="${m.outcome.winner}">${
              m.outcome.winner === 'neither'
                  ? 'Neither party opened in time: neither wins.'
                  : `${SIDE[m.outcome.winner]} won, ${m.outcome.how === 'proof' ? 'by proof' : `when ${SIDE[m.outcome.winner === 'a' ? 'b' : 'a']}’s clock ran out`}.`
          }</p>`
        : live;
    return `
<section class="match" data-match="${m.match}">
<h4>Match ${m.match + 1}</h4>
<dl class="fields">${party('a')}${party('b')}${m.allowance === undefined ? '' : `<div><dt>Clock</dt><dd>${m.allowance} s each</dd></div>`}</dl>
${moves === '' ? '<p>No move yet.</p>' : `<ol class="moves">${moves}</ol>`}
${outcome}
</section>`;
}

/** Histories read, by Dispute address, with the last transaction they include: read again only when it changes. */
const histories = new Map<string, { lt: string; history: DisputeHistory }>();
/** Disputes whose history the page keeps (it shows one at a time). */
const KEPT_HISTORIES = 16;

async function historyOf(fog: Fog, address: Address): Promise<DisputeHistory> {
    const key = address.toRawString();
    const lt = (await fog.client.getContractState(address)).lastTransaction?.lt ?? '0';
    const known = histories.get(key);
    if (known?.lt === lt) return known.history;
    const history = await disputeHistory(fog.client, address);
    if (histories.size >= KEPT_HISTORIES) histories.clear();
    histories.set(key, { lt, history });
    return history;
}

/** The dispute section of job `id`'s page. */
export async function disputeSection(fog: Fog, id: bigint, net: PublicNetwork): Promise<string> {
    const dispute = await fog.dispute(id);
    const [history, state, now] = await Promise.all([historyOf(fog, dispute.address), dispute.getDisputeState(), fog.now()]);
    // the match under way: who is to move, and the time its clock has left
    let live = '';
    if (state.phase === 1n || state.phase === 2n) {
        const left = (clock: bigint) => Math.max(0, Number(clock) - (now - Number(state.since)));
        const waiting =
            state.phase === 1n
                ? (['a', 'b'] as const)
                      .filter((side) => (side === 'a' ? state.finalA : state.finalB) === 0n)
                      .map((side) => `${SIDE[side]} to open (${left(side === 'a' ? state.clockA : state.clockB)} s left)`)
                : [state.turn === 1n ? `A to move (${left(state.clockA)} s left)` : `B to move (${left(state.clockB)} s left)`];
        live = `<p class="outcome" data-winner="">Under way: ${esc(waiting.join(', '))}. A party whose clock runs out loses.</p>`;
    }
    const matches = history.matches.map((m) => matchHtml(m, m.match === Number(state.match) ? live : '', net)).join('');
    return `
<h3>Dispute</h3>
<p>Its workers revealed different results, so two of them at a time play a match: each proves the final state of its run, then in turns each disputes one part of the other’s split of the run’s steps and splits it again, down to a single step, which the chain checks. One honest worker is enough to win.</p>
${history.cut ? '<p class="muted">Older transactions are not shown: the first match may lack its start.</p>' : ''}
${matches || '<p>No match has started yet.</p>'}`;
}
