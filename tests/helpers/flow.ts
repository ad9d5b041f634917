/**
 * A job's life on the HTTP devnet, driven only through real W5 wallets and client/actions: the
 * oracle tests use it to make the chain emit events.
 */
import { Address, toNano, Transaction } from '@ton/core';
import { TonClient } from '@ton/ton';
import { JobSpec } from '../../wrappers/Hub';
import { commitOf, hashOf } from '../../wrappers/commit';
import { WalletSender } from '../../client/sender';
import { eventsOf, FogEvent } from '../../client/events';
import { Devnet, FOG } from './devnet';
import { specOf } from '../../client/sandbox/protocol';

export const SALT = 7n;

/**
 * A funded wallet whose messages stay valid for a day: the tests move the devnet's clock
 * forward, and a W5 wallet refuses a message whose valid-until (signed from wall time) passed.
 */
export async function wallet(d: Devnet, ton = toNano('10'), fog = 0n): Promise<WalletSender> {
    const w = await d.funded(ton, fog);
    return new WalletSender(d.client, w.identity, { pollMs: 20, backoffMs: 20, validForSeconds: 86_400 }, d.endpoint);
}

/** A wallet that staked `amount` FOG (enough for a pass: it may post jobs and claim them) and keeps 100 FOG for job prices. */
export async function staker(d: Devnet, amount = 200n * FOG): Promise<WalletSender> {
    const w = await wallet(d, toNano('10'), amount + 100n * FOG);
    await w.send([await d.fog.stake(w.address, amount, 4, 4096)], true);
    return w;
}

/** Posts a job (price 10 FOG) and returns its id. */
export async function post(d: Devnet, requester: WalletSender, spec: Partial<JobSpec> = {}): Promise<bigint> {
    const id = (await d.fog.hub.getHubState()).nextJobId;
    await requester.send([await d.fog.post(requester.address, 10n * FOG, specOf(spec))], true);
    return id;
}

export const resultOf = (id: bigint) => hashOf(`result of job ${id}`);

export async function claim(d: Devnet, w: WalletSender, id: bigint): Promise<void> {
    await w.send([await d.fog.claim(w.address, id)], true);
}

export async function commit(d: Devnet, w: WalletSender, id: bigint, result = resultOf(id)): Promise<void> {
    await w.send([await d.fog.commit(id, commitOf(result, w.address, SALT))], true);
}

export async function reveal(d: Devnet, w: WalletSender, id: bigint, result = resultOf(id)): Promise<void> {
    await w.send([await d.fog.reveal(id, result, SALT)], true);
}

/** Moves the devnet's clock forward. */
export async function advance(d: Devnet, seconds: number): Promise<number> {
    const r = await fetch(`${d.url}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds }) });
    if (!r.ok) throw new Error(`advance: ${await r.text()}`);
    return ((await r.json()) as { now: number }).now;
}

/** Every transaction of `address`, oldest first, paged independently of the watcher. */
export async function history(client: TonClient, address: Address): Promise<Transaction[]> {
    const all: Transaction[] = [];
    let page = await client.getTransactions(address, { limit: 50 });
    while (page.length > 0) {
        all.push(...page);
        const last = page[page.length - 1];
        page = await client.getTransactions(address, { limit: 50, lt: last.lt.toString(), hash: last.hash().toString('base64') });
    }
    return all.reverse();
}

/** Every Fog event the given contracts emitted, read straight from their histories. */
export async function eventsOnChain(client: TonClient, addresses: Address[]): Promise<FogEvent[]> {
    const out: FogEvent[] = [];
    for (const a of addresses) for (const tx of await history(client, a)) out.push(...eventsOf(tx, a));
    return out;
}

/** The hub, every job posted so far, the providers of `owners` and epochs 0..`epochs`-1: all Fog contracts a test touched. */
export async function contracts(d: Devnet, owners: Address[], epochs = 0): Promise<Address[]> {
    const next = (await d.fog.hub.getHubState()).nextJobId;
    const out = [d.protocol.hub];
    for (let i = 0n; i < next; i++) out.push(await d.fog.hub.getJobAddress(i));
    for (const o of owners) out.push(await d.fog.hub.getProviderAddress(o));
    for (let n = 0n; n < BigInt(epochs); n++) out.push(await d.fog.hub.getEpochAddress(n));
    return out;
}
