/**
 * What every CLI command and daemon starts from: the network file, a client for its endpoint, the
 * opened protocol, and (for commands that sign) the user's key file and wallet sender.
 */
import { TonClient } from '@ton/ton';
import { Address } from '@ton/core';
import { Fog } from './actions';
import { NetworkFile, readNetworkFile } from './addresses';
import { connect, describeError } from './chain';
import { WalletSender } from './sender';
import { readKeyFile } from './wallet';
import { StorageClient } from './storage';

export interface NetworkContext {
    file: NetworkFile;
    client: TonClient;
    fog: Fog;
}

/** Reads the network file (with `endpoint` overriding its endpoint) and connects. */
export function networkContext(networkFile: string, endpoint?: string): NetworkContext {
    const file = readNetworkFile(networkFile);
    if (endpoint) {
        try {
            new URL(endpoint);
        } catch {
            throw new Error(`--endpoint is not a URL: ${endpoint}`);
        }
        file.endpoint = endpoint;
    }
    const client = connect(file.endpoint, process.env.TONCENTER_API_KEY);
    return { file, client, fog: new Fog(client, { hub: file.hub, token: file.token }) };
}

/**
 * A client for the storage node at `url` (or the network file's), writing with the node's token
 * from FOG_STORAGE_TOKEN when it has one.
 */
export function storageOf(file: NetworkFile, url?: string): StorageClient {
    const base = url ?? file.storage;
    if (!base) throw new Error('no storage node: pass --storage <url> or add "storage" to the network file');
    return new StorageClient(base, { token: process.env.FOG_STORAGE_TOKEN || undefined });
}

/** A wallet sender for the key file at `keyPath` on the context's network. */
export async function signerOf(ctx: NetworkContext, keyPath: string): Promise<WalletSender> {
    const identity = await readKeyFile(keyPath, ctx.file.network);
    return new WalletSender(ctx.client, identity, {}, ctx.file.endpoint);
}

/** Asks the devnet's faucet for TON and/or FOG (nano); fails clearly anywhere but the devnet. */
export async function devnetFaucet(file: NetworkFile, to: Address, amounts: { ton?: bigint; fog?: bigint }): Promise<void> {
    if (!file.devnet) throw new Error(`the faucet exists only on the devnet; this network is ${file.network}`);
    let r: Response;
    try {
        r = await fetch(`${file.devnet}/devnet/faucet`, {
            method: 'POST',
            body: JSON.stringify({ address: to.toString(), ton: amounts.ton?.toString(), fog: amounts.fog?.toString() }),
        });
    } catch (e) {
        throw new Error(`devnet at ${file.devnet} is unreachable (${describeError((e as { cause?: unknown }).cause ?? e)})`, { cause: e });
    }
    if (!r.ok) throw new Error(`faucet refused: ${((await r.json().catch(() => ({}))) as { error?: string }).error ?? r.status}`);
}
