/**
 * `network.json`, the one file the web app reads from its server (or a static folder) before it
 * talks to the chain: the public part of a network file. Nothing in it is secret: the endpoint,
 * the contracts' addresses and the storage node's URL are what every client of the network uses.
 */
import type { NetworkFile } from '../client/addresses';
import type { Network } from '../client/wallet';
import type { Address } from '@ton/core';

export interface PublicNetwork {
    network: Network;
    /** The toncenter v2 endpoint the page reads the chain from (it must answer browsers: CORS). */
    endpoint: string;
    hub: string;
    token: string;
    collection: string;
    storage?: string;
}

/** An address as users of `network` write it: bounceable, test-only off mainnet. */
export function friendlyAddress(a: Address, network: Network): string {
    return a.toString({ testOnly: network !== 'mainnet', bounceable: true });
}

export function publicNetwork(file: NetworkFile): PublicNetwork {
    const text = (a: Address) => friendlyAddress(a, file.network);
    return {
        network: file.network,
        endpoint: file.endpoint,
        hub: text(file.hub),
        token: text(file.token),
        collection: text(file.collection),
        ...(file.storage ? { storage: file.storage } : {}),
    };
}
