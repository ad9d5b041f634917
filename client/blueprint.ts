/**
 * What the blueprint scripts in scripts/ share. Blueprint chooses the network and the wallet
 * (`--testnet`/`--mainnet`/`--custom <endpoint>`, `--tonconnect`/`--deeplink`/`--mnemonic`); the
 * scripts read Fog's addresses from the network file (FOG_NETWORK_FILE, default
 * .fog/network.json), build every message with the same client code as the CLIs, send it through
 * blueprint's sender, and wait for its effect on chain (a wallet app may take a while).
 */
import type { NetworkProvider } from '@ton/blueprint';
import { Address } from '@ton/core';
import { TonClient } from '@ton/ton';
import { Fog } from './actions';
import { DEFAULT_ADDRESSES_FILE, NetworkFile, readNetworkFile } from './addresses';
import { Network } from './wallet';
import { connect } from './chain';
import { Outgoing } from './sender';
import { Env } from './cli-kit';

/** How long a script waits for a message's effect (a person may be signing in a wallet app). */
export const SCRIPT_WAIT_MS = 5 * 60_000;

/** Defaults of the blueprint scripts; each environment variable below comes before its default. */
export const blueprintDefaults = {
    /** FOG_NETWORK_FILE: the network file the scripts read (deployFog writes it). */
    networkFile: DEFAULT_ADDRESSES_FILE,
    /** deployFog's configuration file (its first argument). */
    deployConfig: 'deploy/config.json',
    /** postJob's replication k (its fourth argument). */
    postJobK: 3,
    /** stake's cores and memory in MiB (its second and third arguments). */
    stakeCores: 2,
    stakeMemoryMb: 4096,
    /** The toncenter endpoints of blueprint's networks when its provider does not name one. */
    endpoints: { mainnet: 'https://toncenter.com/api/v2/jsonRPC', testnet: 'https://testnet.toncenter.com/api/v2/jsonRPC' },
} as const;

/** What the scripts read from the environment (blueprint's own WALLET_* variables are blueprint's). */
export interface BlueprintSettings {
    /** FOG_NETWORK_FILE (an empty value counts as unset). */
    networkFile: string;
    /** FOG_NETWORK: devnet, testnet or mainnet, overriding what blueprint's network suggests. */
    network: Network | undefined;
    /** FOG_STORAGE: the storage node deployFog names in the network file. */
    storage: string | undefined;
    /** TONCENTER_API_KEY. */
    apiKey: string | undefined;
}

/** Reads the scripts' environment variables (a FOG_NETWORK that names no network is ignored, as before). */
export function blueprintSettings(env: Env = process.env): BlueprintSettings {
    const named = env.FOG_NETWORK;
    return {
        networkFile: env.FOG_NETWORK_FILE || blueprintDefaults.networkFile,
        network: named === 'devnet' || named === 'testnet' || named === 'mainnet' ? named : undefined,
        storage: env.FOG_STORAGE || undefined,
        apiKey: env.TONCENTER_API_KEY,
    };
}

export const networkFilePath = () => blueprintSettings().networkFile;

/** The toncenter v2 endpoint blueprint's provider talks to, or toncenter's for its network. */
export function endpointOf(provider: NetworkProvider): string {
    const api = provider.api();
    if (api instanceof TonClient) return api.parameters.endpoint;
    return provider.network() === 'mainnet' ? blueprintDefaults.endpoints.mainnet : blueprintDefaults.endpoints.testnet;
}

/** Fog's network name for blueprint's (a custom network counts as a testnet unless FOG_NETWORK names it). */
export function networkOf(provider: NetworkProvider): Network {
    const named = blueprintSettings().network;
    if (named) return named;
    return provider.network() === 'mainnet' ? 'mainnet' : 'testnet';
}

/** The devnet's base URL if `endpoint` is a Fog devnet (it answers /devnet/info), else undefined. */
export async function devnetBehind(endpoint: string): Promise<string | undefined> {
    const base = endpoint.replace(/\/(api\/v2\/)?jsonRPC\/?$/, '');
    try {
        const r = await fetch(`${base}/devnet/info`, { signal: AbortSignal.timeout(3000) });
        return r.ok ? base : undefined;
    } catch {
        return undefined;
    }
}

/** The network file and a client on its endpoint. */
export function fogOf(): { file: NetworkFile; fog: Fog } {
    const settings = blueprintSettings();
    const file = readNetworkFile(settings.networkFile);
    const fog = new Fog(connect(file.endpoint, settings.apiKey), file);
    return { file, fog };
}

/** The wallet blueprint signs with (asked for when the wallet option does not tell, as with --deeplink). */
export async function walletOf(provider: NetworkProvider): Promise<Address> {
    const known = provider.sender().address;
    if (known) return known;
    const typed = (await provider.ui().input('Your wallet address (the one that will sign)')).trim();
    try {
        return Address.parse(typed);
    } catch {
        throw new Error(`not a TON address: ${typed}`);
    }
}

/** A wallet's seqno (0 before its first message). */
async function seqnoOf(client: TonClient, wallet: Address): Promise<number> {
    if (!(await client.isContractDeployed(wallet))) return 0;
    return (await client.runMethod(wallet, 'seqno')).stack.readNumber();
}

/**
 * Sends one message through blueprint's wallet and waits until the wallet has sent it (its seqno
 * moved), so the next message gets the next seqno: blueprint's mnemonic wallet reads the seqno
 * afresh for each message and would otherwise reuse it.
 */
export async function send(provider: NetworkProvider, client: TonClient, m: Outgoing): Promise<void> {
    const wallet = provider.sender().address;
    const before = wallet ? await seqnoOf(client, wallet) : undefined;
    await provider.sender().send({ to: m.to, value: m.value, body: m.body, init: m.init, bounce: m.bounce ?? true });
    if (wallet && before !== undefined)
        await waitUntil(
            provider,
            'your wallet to send the message',
            () => seqnoOf(client, wallet),
            (n) => n > before,
        );
}

/** Polls `read` until `done` holds, telling the user what it waits for. */
export async function waitUntil<T>(
    provider: NetworkProvider,
    what: string,
    read: () => Promise<T>,
    done: (v: T) => boolean,
    timeoutMs = SCRIPT_WAIT_MS,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    provider.ui().setActionPrompt(`Waiting for ${what}…`);
    try {
        for (;;) {
            const v = await read().catch(() => undefined);
            if (v !== undefined && done(v)) return v;
            if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, 1000));
        }
    } finally {
        provider.ui().clearActionPrompt();
    }
}

/** An argument, or the answer to a prompt when it was left out. */
export async function arg(provider: NetworkProvider, args: string[], i: number, prompt: string, fallback?: string): Promise<string> {
    if (args[i] !== undefined && args[i] !== '') return args[i];
    if (fallback !== undefined) return fallback;
    return (await provider.ui().input(prompt)).trim();
}
