/**
 * The addresses file: where a Fog network lives (endpoint and contract addresses). The devnet
 * writes it at start; every other process (workers, keeper, CLIs, bot) reads it, so they all
 * talk to the same network. For testnet or mainnet, write one by hand (docs/operating.md, "The
 * processes and the network file").
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Address } from '@ton/core';
import { Network } from './wallet';

export interface NetworkFile {
    network: Network;
    /** toncenter v2 JSON-RPC endpoint, e.g. https://testnet.toncenter.com/api/v2/jsonRPC */
    endpoint: string;
    token: Address;
    collection: Address;
    hub: Address;
    /** Storage node base URL that workers and requesters upload to, if the network has one. */
    storage?: string;
    /** The devnet's own base URL (faucet, clock), only on the devnet. */
    devnet?: string;
}

export const DEFAULT_ADDRESSES_FILE = '.fog/network.json';

function need(obj: Record<string, unknown>, key: string, path: string): string {
    const v = obj[key];
    if (typeof v !== 'string' || v === '') throw new Error(`${path}: "${key}" is missing`);
    return v;
}

function addr(obj: Record<string, unknown>, key: string, path: string): Address {
    const v = need(obj, key, path);
    try {
        return Address.parse(v);
    } catch {
        throw new Error(`${path}: "${key}" is not a TON address: ${v}`);
    }
}

/** Reads and validates an addresses file, with one clear error for whatever is wrong. */
export function readNetworkFile(path: string): NetworkFile {
    let raw: string;
    try {
        raw = readFileSync(path, 'utf-8');
    } catch {
        throw new Error(`no network file at ${path}: start the devnet (npm start) or write one for testnet/mainnet`);
    }
    let obj: Record<string, unknown>;
    try {
        obj = JSON.parse(raw);
    } catch {
        throw new Error(`${path} is not valid JSON`);
    }
    const network = need(obj, 'network', path);
    if (network !== 'devnet' && network !== 'testnet' && network !== 'mainnet')
        throw new Error(`${path}: "network" must be devnet, testnet or mainnet`);
    const endpoint = need(obj, 'endpoint', path);
    try {
        new URL(endpoint);
    } catch {
        throw new Error(`${path}: "endpoint" is not a URL: ${endpoint}`);
    }
    return {
        network,
        endpoint,
        token: addr(obj, 'token', path),
        collection: addr(obj, 'collection', path),
        hub: addr(obj, 'hub', path),
        storage: typeof obj.storage === 'string' ? obj.storage : undefined,
        devnet: typeof obj.devnet === 'string' ? obj.devnet : undefined,
    };
}

/** Writes an addresses file atomically (readers never see half of it). */
export function writeNetworkFile(path: string, file: NetworkFile): void {
    mkdirSync(dirname(path), { recursive: true });
    const testOnly = file.network !== 'mainnet';
    const json = {
        network: file.network,
        endpoint: file.endpoint,
        token: file.token.toString({ testOnly }),
        collection: file.collection.toString({ testOnly }),
        hub: file.hub.toString({ testOnly }),
        ...(file.storage ? { storage: file.storage } : {}),
        ...(file.devnet ? { devnet: file.devnet } : {}),
    };
    writeFileSync(path + '.tmp', JSON.stringify(json, null, 2) + '\n');
    renameSync(path + '.tmp', path);
}
