/**
 * Fog events to and from text, for storage (LMDB) and for logs.
 *
 * Storage uses tagged JSON: a value JSON cannot hold becomes a one-key object naming its type
 * (`{"$n":"…"}` bigint, `{"$a":"0:…"}` Address, `{"$c":"…"}` Cell as a base64 BoC, `{"$s":"…"}`
 * Slice, as the cell of its remaining bits and refs). Anything else (a Dictionary, a Buffer,
 * undefined) is refused with an EventCodecError rather than stored wrongly.
 */
import { Address, beginCell, Cell, Slice } from '@ton/core';
import { EVENT_KINDS, FogEvent } from './events';
import { refusalReason, refusedWhat } from '../wrappers/refusal';

/** A value could not be encoded or a stored text could not be decoded. */
export class EventCodecError extends Error {
    constructor(
        message: string,
        readonly data: { path?: string; eventId?: string } = {},
    ) {
        super(message);
        this.name = 'EventCodecError';
    }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const TAGS = ['$n', '$a', '$c', '$s'] as const;
type Tag = (typeof TAGS)[number];

const cellOfSlice = (s: Slice): Cell => beginCell().storeSlice(s.clone()).endCell();

function isPlainObject(v: object): v is Record<string, unknown> {
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

function encodeValue(v: unknown, path: string): Json {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new EventCodecError(`${path} is not a finite number`, { path });
        return v;
    }
    if (typeof v === 'bigint') return { $n: v.toString() };
    if (v instanceof Address) return { $a: v.toRawString() };
    if (v instanceof Cell) return { $c: v.toBoc({ idx: false }).toString('base64') };
    if (v instanceof Slice) return { $s: cellOfSlice(v).toBoc({ idx: false }).toString('base64') };
    if (Array.isArray(v)) return v.map((x, i) => encodeValue(x, `${path}[${i}]`));
    if (typeof v === 'object' && isPlainObject(v)) {
        const out: { [key: string]: Json } = {};
        for (const [k, x] of Object.entries(v)) {
            if ((TAGS as readonly string[]).includes(k))
                throw new EventCodecError(`${path}.${k}: a field may not be named like a type tag`, { path: `${path}.${k}` });
            out[k] = encodeValue(x, `${path}.${k}`);
        }
        return out;
    }
    throw new EventCodecError(
        `${path} has a type the event codec does not store (${v === undefined ? 'undefined' : ((v as object).constructor?.name ?? typeof v)})`,
        { path },
    );
}

function decodeValue(v: Json, path: string): unknown {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x, i) => decodeValue(x, `${path}[${i}]`));
    const keys = Object.keys(v);
    if (keys.length === 1 && (TAGS as readonly string[]).includes(keys[0])) {
        const tag = keys[0] as Tag;
        const raw = v[tag];
        if (typeof raw !== 'string') throw new EventCodecError(`${path}: ${tag} must hold a string`, { path });
        try {
            switch (tag) {
                case '$n':
                    return BigInt(raw);
                case '$a':
                    return Address.parseRaw(raw);
                case '$c':
                    return Cell.fromBase64(raw);
                case '$s':
                    return Cell.fromBase64(raw).beginParse();
            }
        } catch (e) {
            throw new EventCodecError(`${path}: bad ${tag} value: ${(e as Error).message}`, { path });
        }
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeValue(x, `${path}.${k}`);
    return out;
}

/** The event as storable text. */
export function encodeEvent(event: FogEvent): string {
    return JSON.stringify(encodeValue(event, 'event'));
}

/** The event stored by `encodeEvent`, with its bigints, addresses, cells and slices restored. */
export function decodeEvent(text: string): FogEvent {
    let json: Json;
    try {
        json = JSON.parse(text) as Json;
    } catch {
        throw new EventCodecError('stored event is not JSON');
    }
    const event = decodeValue(json, 'event') as Partial<FogEvent>;
    const origin = event?.origin;
    if (
        !event ||
        !EVENT_KINDS.includes(event.$$type as (typeof EVENT_KINDS)[number]) ||
        !origin ||
        typeof origin.id !== 'string' ||
        !(origin.address instanceof Address)
    ) {
        throw new EventCodecError('stored text is not a Fog event', { eventId: typeof origin?.id === 'string' ? origin.id : undefined });
    }
    return event as FogEvent;
}

function plain(v: unknown): unknown {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Address) return v.toString();
    if (v instanceof Cell) return v.toBoc({ idx: false }).toString('base64');
    if (v instanceof Slice) return cellOfSlice(v).toBoc({ idx: false }).toString('base64');
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

/**
 * The event for a log line: `{ event, ...fields, origin: { id, address, lt, time } }` (a
 * RefusedEvent adds `refused` and `why` in words), bigints as
 * decimal strings, addresses in user-friendly form, cells and slices as base64 BoCs. The origin
 * is nested because events have fields of their own named `id` (a job's) and the like.
 */
export function eventJson(event: FogEvent): Record<string, unknown> {
    const { $$type, origin, ...fields } = event;
    // a refusal's codes in words too, for whoever reads the line
    const words = event.$$type === 'RefusedEvent' ? { refused: refusedWhat(event.what), why: refusalReason(event.reason) } : {};
    return {
        event: $$type,
        ...(plain(fields) as object),
        ...words,
        origin: { id: origin.id, address: origin.address.toString(), lt: origin.lt.toString(), time: origin.time },
    };
}
