/**
 * Finding a post on the hub: the id the hub gave a requester's job or sharded post, or the reason
 * it refused it, from the hub's events after a mark. The requester's CLI and the blueprint scripts
 * both wait on a post this way.
 */
import { Address } from '@ton/core';
import type { TonClient } from '@ton/ton';
import { eventsOf, FogEvent } from './events';
import { RefusedPost } from '../wrappers/Hub';
import { refusalReason } from '../wrappers/refusal';
import { formatAmount } from '../wrappers/units';

const STRAY = 'the hub did not accept the job: the FOG was kept as a stray (too little TON forwarded)';

/**
 * What a hub event says about `requester`'s post of `count` jobs at `price` each (more than one:
 * a sharded post), if it is about it: the (first) job it opened, or why it did not (the hub's
 * refusal event names the reason; a stray has none to send).
 */
export function postAnswerOf(
    e: FogEvent,
    requester: Address,
    price: bigint,
    count = 1,
): { posted: bigint } | { refused: string } | undefined {
    const amount = price * BigInt(count);
    if (count === 1 && e.$$type === 'JobPostedEvent' && e.requester.equals(requester) && e.price === price) return { posted: e.id };
    if (count > 1 && e.$$type === 'ShardsPostedEvent' && e.requester.equals(requester) && e.price === price && Number(e.count) === count)
        return { posted: e.first };
    if (e.$$type === 'RefusedEvent' && e.to.equals(requester) && e.amount === amount && e.what === RefusedPost) {
        return {
            refused: `the hub refused the ${count > 1 ? 'post' : 'job'} and sent the ${formatAmount(amount)} back: ${refusalReason(e.reason)}`,
        };
    }
    if (e.$$type === 'StrayEvent' && e.from.equals(requester) && e.amount === amount) return { refused: STRAY };
    return undefined;
}

/** The hub's last transaction (its logical time), so that only what follows it answers a post. */
export async function hubMark(client: TonClient, hub: Address): Promise<bigint> {
    return BigInt((await client.getContractState(hub)).lastTransaction?.lt ?? '0');
}

/** The hub's events after logical time `since`, oldest first, paging back as far as needed. */
export async function hubEventsSince(client: TonClient, hub: Address, since: bigint): Promise<FogEvent[]> {
    const newestFirst: FogEvent[][] = [];
    let page = await client.getTransactions(hub, { limit: 30, archival: true });
    for (;;) {
        for (const tx of page) {
            if (tx.lt <= since) return newestFirst.reverse().flat();
            newestFirst.push(eventsOf(tx, hub));
        }
        if (page.length === 0) return newestFirst.reverse().flat();
        const last = page[page.length - 1];
        // a page asked from (lt, hash) starts with that transaction itself
        page = (
            await client.getTransactions(hub, {
                limit: 30,
                lt: last.lt.toString(),
                hash: last.hash().toString('base64'),
                archival: true,
            })
        ).filter((t) => t.lt < last.lt);
    }
}

/**
 * The id of the job (the first job of the `count` shards) `requester` posted after the hub's mark
 * `since`, or the hub's refusal as an error.
 */
export async function findPostedId(
    client: TonClient,
    hub: Address,
    requester: Address,
    price: bigint,
    since: bigint,
    timeoutMs: number,
    count = 1,
): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        for (const e of await hubEventsSince(client, hub, since)) {
            const answer = postAnswerOf(e, requester, price, count);
            if (answer && 'posted' in answer) return answer.posted;
            if (answer) throw new Error(answer.refused);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(
        `the ${count > 1 ? 'post' : 'job'} did not appear on the hub within ${timeoutMs / 1000} s (the post may not have been signed, or was refunded: check your FOG balance)`,
    );
}
