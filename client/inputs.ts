/**
 * Composite inputs: a job input made of other blobs and results, named by hash, which the workers
 * fetch from storage themselves (docs/protocol.md, "Composite inputs"). A reduce job's input is
 * the outputs of a map's shards; a training round's shard input is the current model and a slice
 * of the data.
 *
 * What the job spec names (its input hash and URI) is the manifest: a short text,
 *
 *     fog-inputs 1
 *     result <output hash> <uri>
 *     blob <sha256> <uri>
 *
 * one line per part, in order, each ending in a newline. A worker that fetches an input which
 * begins with the manifest's first line reads it as a manifest: it fetches every part by its hash
 * (a result checked against its output hash, a blob against its sha256), and the program sees the
 * parts framed: their count as a u32 (little-endian), then each part's length as a u32 and its
 * bytes. An input that begins with that line but is not a manifest exactly as written here is
 * refused by every worker alike. The job's initial root is the state the framed bytes start from.
 */
import type { HashKind } from './storage-errors';

/** The manifest's first line (with its newline). */
export const INPUTS_HEADER = 'fog-inputs 1\n';

/** Most parts one composite input has. */
export const MAX_INPUT_PARTS = 1024;

/**
 * Most bytes the framed parts of a composite input come to, a rule of the network (every worker
 * refuses more alike): 64 MiB of parts and their framing.
 */
export const MAX_FRAMED_BYTES = 64 * 1024 * 1024 + 4 + 4 * MAX_INPUT_PARTS;

/**
 * One part of a composite input: what it is named by (a blob by its sha256, a result by its output
 * hash), that hash (hex), and where to fetch it.
 */
export interface InputPart {
    kind: HashKind;
    hash: string;
    uri: string;
}

/** An input that begins like a manifest but is not one; no worker runs a job with it. */
export class MalformedInputsError extends Error {
    constructor(why: string) {
        super(`a malformed composite input: ${why}`);
        this.name = 'MalformedInputsError';
    }
}

const HEADER = Buffer.from(INPUTS_HEADER, 'latin1');
const LINE = /^(blob|result) ([0-9a-f]{64}) (https?:\/\/[!-~]+)$/;

/** The manifest of `parts`, in order. Throws a RangeError for no parts, too many, or a part that cannot be written. */
export function inputsManifest(parts: readonly InputPart[]): Buffer {
    if (parts.length < 1 || parts.length > MAX_INPUT_PARTS)
        throw new RangeError(`a composite input has 1 to ${MAX_INPUT_PARTS} parts; got ${parts.length}`);
    const lines = parts.map((p, i) => {
        const line = `${p.kind} ${p.hash} ${p.uri}`;
        if (!LINE.test(line))
            throw new RangeError(
                `part ${i} cannot be written: a kind of blob or result, a lowercase hex hash and an http(s) URI without spaces`,
            );
        return line + '\n';
    });
    return Buffer.concat([HEADER, Buffer.from(lines.join(''), 'latin1')]);
}

/** Whether `input` is meant as a manifest: it begins with the manifest's first line. */
export function isManifest(input: Uint8Array): boolean {
    return input.length >= HEADER.length && Buffer.from(input.buffer, input.byteOffset, HEADER.length).equals(HEADER);
}

/**
 * The parts a manifest names, or undefined for an input that is not one (does not begin with the
 * manifest's first line). Throws MalformedInputsError for one that begins like a manifest but is
 * not exactly as `inputsManifest` writes it.
 */
export function parseManifest(input: Uint8Array): InputPart[] | undefined {
    if (!isManifest(input)) return undefined;
    const text = Buffer.from(input).subarray(HEADER.length).toString('latin1');
    if (!text.endsWith('\n')) throw new MalformedInputsError('it does not end with a newline');
    const lines = text.slice(0, -1).split('\n');
    if (lines.length > MAX_INPUT_PARTS) throw new MalformedInputsError(`${lines.length} parts, more than ${MAX_INPUT_PARTS}`);
    return lines.map((line, i) => {
        const m = LINE.exec(line);
        if (!m) throw new MalformedInputsError(`line ${i + 2} is not "blob|result <hex hash> <http(s) URI>"`);
        return { kind: m[1] as HashKind, hash: m[2], uri: m[3] };
    });
}

/** What the program of a composite input reads: the parts' count, then each part's length and bytes. */
export function frameParts(parts: readonly Uint8Array[]): Buffer {
    const size = 4 + parts.reduce((n, p) => n + 4 + p.length, 0);
    if (size > MAX_FRAMED_BYTES) throw new RangeError(`the parts come to ${size} bytes framed, over the ${MAX_FRAMED_BYTES}-byte limit`);
    const out = Buffer.alloc(size);
    out.writeUInt32LE(parts.length, 0);
    let at = 4;
    for (const p of parts) {
        out.writeUInt32LE(p.length, at);
        out.set(p, at + 4);
        at += 4 + p.length;
    }
    return out;
}

/** The parts of framed bytes (what a reducer written in TypeScript would read). Throws a RangeError if they are not framed parts. */
export function unframeParts(framed: Uint8Array): Buffer[] {
    const b = Buffer.from(framed.buffer, framed.byteOffset, framed.length);
    if (b.length < 4) throw new RangeError('framed parts start with their count (4 bytes)');
    const parts: Buffer[] = [];
    let at = 4;
    for (let i = b.readUInt32LE(0); i > 0; i--) {
        if (at + 4 > b.length) throw new RangeError(`part ${parts.length} has no length`);
        const n = b.readUInt32LE(at);
        if (at + 4 + n > b.length) throw new RangeError(`part ${parts.length} runs past the end`);
        parts.push(b.subarray(at + 4, at + 4 + n));
        at += 4 + n;
    }
    if (at !== b.length) throw new RangeError(`${b.length - at} bytes after the last part`);
    return parts;
}
