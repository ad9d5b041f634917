/**
 * npx blueprint run setParams <params.json> [network options] [wallet options]
 *
 * Changes the hub's parameters (admin only). The file holds the parameters to change, in the
 * format of deploy/config.json's "params"; the others keep their current values. Checked here by
 * the hub's own rules before anything is sent.
 */
import { readFileSync } from 'node:fs';
import type { NetworkProvider } from '@ton/blueprint';
import { beginCell, toNano } from '@ton/core';
import { arg, fogOf, send, waitUntil, walletOf } from '../client/blueprint';
import { applyParams } from '../wrappers/deployment';
import { storeSetParams } from '../wrappers/Hub';

export async function run(provider: NetworkProvider, args: string[]) {
    const path = await arg(provider, args, 0, 'File with the parameters to change');
    const { fog } = fogOf();
    const [current, hub] = await Promise.all([fog.hub.getParams(), fog.hub.getHubState()]);
    const admin = await walletOf(provider);
    if (!admin.equals(hub.admin))
        throw new Error(`only the hub's admin (${hub.admin.toString()}) may set parameters, not ${admin.toString()}`);
    let json: unknown;
    try {
        json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
        throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
    const next = applyParams(current, (json as { params?: unknown }).params ?? json, path, current);
    const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => k !== '$$type' && next[k] !== current[k]);
    if (changed.length === 0) return provider.ui().write('Nothing to change: the hub already has these parameters.');
    await send(provider, fog.client, {
        to: fog.addresses.hub,
        value: toNano('0.05'),
        body: beginCell()
            .store(storeSetParams({ $$type: 'SetParams', queryId: 0n, params: next }))
            .endCell(),
    });
    await waitUntil(
        provider,
        'the hub to apply the parameters',
        () => fog.hub.getParams(),
        (p) => changed.every((k) => p[k] === next[k]),
    );
    provider.ui().write(`Parameters set: ${changed.map((k) => `${k} ${current[k]} → ${next[k]}`).join(', ')}`);
}
