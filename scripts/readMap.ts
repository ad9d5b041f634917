/**
 * npx blueprint run readMap <map id, or the id of any of its jobs> [network options]
 *
 * A map's status as the chain holds it (docs/map-reduce.md): its shards, how many are done (each
 * output verified on chain), running or disputing, failed on every worker, or refunded, and
 * which jobs are not done. A plain job is a map of one input. Nothing is signed.
 */
import type { NetworkProvider } from '@ton/blueprint';
import { arg, fogOf } from '../client/blueprint';
import { mapStatus } from '../client/map';
import { formatAmount, parseJobId } from '../wrappers/units';

export async function run(provider: NetworkProvider, args: string[]) {
    const id = parseJobId(await arg(provider, args, 0, 'Map id (or any of its jobs)'));
    const { fog } = fogOf();
    const m = await mapStatus(fog, id);
    const { first, ids } = m;
    const span = ids.length === 1 ? `job ${first}` : `jobs ${first}–${ids.at(-1)}`;
    if (m.pending) {
        provider.ui().write(`Map ${first}: ${ids.length} shards, ${span}, waiting for its requester's pass check; no job is open yet.`);
        return;
    }
    const s0 = m.states[0];
    const lines = [
        `Map ${first}: ${ids.length} ${ids.length === 1 ? 'shard (a plain job)' : 'shards'}, ${span}, ${formatAmount(s0.price)} each, k=${s0.spec.k}, requester ${s0.requester.toString()}`,
        m.line,
    ];
    const { not } = m;
    if (not.running.length) lines.push(`running: ${not.running.join(', ')}`);
    if (not['program-failed'].length) lines.push(`the program failed on every worker: ${not['program-failed'].join(', ')}`);
    if (not.refunded.length) lines.push(`refunded (no quorum, expired or rejected; repost them alone): ${not.refunded.join(', ')}`);
    if (m.counts.done === ids.length)
        lines.push(`every shard is done: fog job shards ${first} --out-dir map-${first} downloads the outputs, checked`);
    provider.ui().write(lines.join('\n'));
}
