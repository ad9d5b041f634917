import type { Address } from '@ton/core';
import { friendlyAddress, type PublicNetwork } from '../network';

/** Text made safe to put inside HTML: every page of the app builds its markup from strings. */
export function esc(value: unknown): string {
    return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A chain time (Unix seconds) as the pages write it: `2026-12-06 20:14:23 UTC`. */
export function utc(seconds: bigint | number): string {
    return new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** An address, linked to its provider page when it is a worker's. */
export function addressLink(a: Address, net: PublicNetwork, asProvider = false): string {
    const text = friendlyAddress(a, net.network);
    return asProvider ? `<a class="mono" href="#/provider/${esc(text)}">${esc(text)}</a>` : `<span class="mono">${esc(text)}</span>`;
}
