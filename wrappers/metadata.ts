import { beginCell, Builder, Cell, Dictionary, Slice } from '@ton/core';
import { sha256_sync } from '@ton/crypto';

/**
 * TEP-64 on-chain metadata: `0x00` then a dictionary keyed by sha256(field name) whose values
 * are references to `0x00 ++ text` in snake format (text continues in the first reference).
 */

const ONCHAIN_TAG = 0x00;
const SNAKE_TAG = 0x00;
/** Bytes in one cell: 1023 bits → 127 whole bytes. */
const CELL_BYTES = 127;

export function fieldKey(name: string): bigint {
    return BigInt('0x' + sha256_sync(name).toString('hex'));
}

function storeSnake(builder: Builder, data: Buffer, room: number): Builder {
    const head = data.subarray(0, room);
    builder.storeBuffer(head);
    const rest = data.subarray(room);
    if (rest.length > 0) {
        builder.storeRef(storeSnake(beginCell(), rest, CELL_BYTES).endCell());
    }
    return builder;
}

/** One TEP-64 snake text value (any length). */
export function snakeText(text: string): Cell {
    const builder = beginCell().storeUint(SNAKE_TAG, 8);
    return storeSnake(builder, Buffer.from(text, 'utf-8'), CELL_BYTES - 1).endCell();
}

function readSnake(slice: Slice): Buffer {
    const parts: Buffer[] = [];
    let s: Slice | null = slice;
    while (s) {
        parts.push(s.loadBuffer(s.remainingBits / 8));
        s = s.remainingRefs > 0 ? s.loadRef().beginParse() : null;
    }
    return Buffer.concat(parts);
}

/** Builds TEP-64 on-chain content from field names and their text values. */
export function buildOnchainContent(fields: Record<string, string>): Cell {
    const dict = Dictionary.empty(Dictionary.Keys.BigUint(256), Dictionary.Values.Cell());
    for (const [name, value] of Object.entries(fields)) {
        dict.set(fieldKey(name), snakeText(value));
    }
    return beginCell().storeUint(ONCHAIN_TAG, 8).storeDict(dict).endCell();
}

/**
 * Reads TEP-64 on-chain content back into text fields. Keys are hashes, so the caller names the
 * fields it wants; fields absent from the content are absent from the result.
 */
export function parseOnchainContent(content: Cell, names: readonly string[]): Record<string, string> {
    const slice = content.beginParse();
    const tag = slice.loadUint(8);
    if (tag !== ONCHAIN_TAG) {
        throw new Error(`Not on-chain TEP-64 content (tag 0x${tag.toString(16)})`);
    }
    const dict = slice.loadDict(Dictionary.Keys.BigUint(256), Dictionary.Values.Cell());
    const out: Record<string, string> = {};
    for (const name of names) {
        const value = dict.get(fieldKey(name));
        if (!value) continue;
        const s = value.beginParse();
        const valueTag = s.loadUint(8);
        if (valueTag !== SNAKE_TAG) {
            throw new Error(`Field ${name} is not snake text (tag 0x${valueTag.toString(16)})`);
        }
        out[name] = readSnake(s).toString('utf-8');
    }
    return out;
}

/** The FOG jetton's metadata. Decimals is 9, like TON. */
export interface JettonMetadata {
    name: string;
    symbol: string;
    description: string;
    image: string;
}

export const JETTON_FIELDS = ['name', 'symbol', 'decimals', 'description', 'image'] as const;
export const PASS_FIELDS = ['name', 'description', 'image', 'cores', 'memory_mb', 'issued_at', 'revoked_at'] as const;

export const FOG_METADATA: JettonMetadata = {
    name: 'Fog',
    symbol: 'FOG',
    description: 'Fog compute network token: paid for verified compute, burned on use, minted to honest workers.',
    image: 'https://fog.network/fog.png',
};

export function jettonContent(meta: JettonMetadata = FOG_METADATA): Cell {
    return buildOnchainContent({ ...meta, decimals: '9' });
}

export const PASS_COLLECTION_METADATA = {
    name: 'Fog Contributor Pass',
    description: 'Soulbound passes of Fog compute providers. Only pass holders may post jobs.',
    image: 'https://fog.network/pass.png',
};

export const PASS_ITEM_METADATA = {
    name: 'Fog Contributor Pass',
    description: 'Held by a Fog provider with stake: declared capacity, issue and revoke times.',
    image: 'https://fog.network/pass.png',
};
