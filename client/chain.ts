/**
 * Chain access for every off-chain part of Fog: a `TonClient` against any toncenter v2 endpoint
 * (mainnet, testnet or the local devnet), with contracts opened through a provider that reads
 * nested tuples (Tact structs) correctly.
 */
import { Address, Cell, Contract, ContractProvider, OpenedContract, openContract, StateInit, TupleItem, TupleReader } from '@ton/core';
import { TonClient } from '@ton/ton';

/** A TonClient for `endpoint` (e.g. `http://127.0.0.1:8081/jsonRPC`). */
export function connect(endpoint: string, apiKey?: string, timeoutMs = 15_000): TonClient {
    try {
        new URL(endpoint);
    } catch {
        throw new Error(`endpoint is not a URL: ${endpoint}`);
    }
    return new TonClient({ endpoint, apiKey, timeout: timeoutMs });
}

type Raw = bigint | Cell | null | Raw[] | undefined;

/**
 * TonClient turns the entries of a nested tuple into bare values (bigint, Cell, arrays), which the
 * generated wrappers cannot read; this turns them back into tuple items. A cell becomes a slice
 * (readable both as a cell and as an address); an empty list is tonlib's null.
 */
function itemOf(raw: Raw): TupleItem {
    if (raw === null || raw === undefined) return { type: 'null' };
    if (typeof raw === 'bigint') return { type: 'int', value: raw };
    if (raw instanceof Cell) return { type: 'slice', cell: raw };
    if (raw.length === 0) return { type: 'null' };
    return { type: 'tuple', items: raw.map(itemOf) };
}

function fixItem(item: TupleItem): TupleItem {
    if (item.type !== 'tuple') return item;
    const bare = (x: unknown): x is Raw => x === null || x === undefined || typeof x === 'bigint' || x instanceof Cell || Array.isArray(x);
    return { type: 'tuple', items: (item.items as unknown[]).map((x) => (bare(x) ? itemOf(x) : fixItem(x as TupleItem))) };
}

function fixedProvider(client: TonClient, address: Address, init: StateInit | null): ContractProvider {
    const base = client.provider(address, init);
    return {
        ...base,
        async get(name, args) {
            const r = await base.get(name, args);
            const items: TupleItem[] = [];
            while (r.stack.remaining > 0) items.push(fixItem(r.stack.pop()));
            return { stack: new TupleReader(items) };
        },
    };
}

/** Opens `contract` on `client` (like `client.open`, but struct getters work). */
export function open<T extends Contract>(client: TonClient, contract: T): OpenedContract<T> {
    return openContract(contract, (args) => fixedProvider(client, args.address, args.init ?? null));
}

/** The error text a toncenter endpoint returned, or the network failure, as one line. */
export function describeError(e: unknown, endpoint?: string): string {
    const err = e as { response?: { data?: { error?: unknown } }; code?: string; message?: string; config?: { url?: string } };
    if (err?.response?.data?.error) return String(err.response.data.error);
    if (
        err?.code === 'ECONNREFUSED' ||
        err?.code === 'ENOTFOUND' ||
        err?.code === 'ECONNRESET' ||
        err?.code === 'ETIMEDOUT' ||
        err?.code === 'ECONNABORTED'
    ) {
        // axios (under TonClient) names the URL it failed to reach
        return `${endpoint ?? err.config?.url ?? 'the endpoint'} is unreachable (${err.code})`;
    }
    return err?.message ?? String(e);
}

/** True for failures worth retrying (network, rate limit, server busy), false for a refusal. */
export function isTransient(e: unknown): boolean {
    const err = e as { response?: { status?: number }; code?: string };
    const status = err?.response?.status;
    if (status !== undefined) return status === 429 || status === 502 || status === 503 || status === 504;
    return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(err?.code ?? '');
}
