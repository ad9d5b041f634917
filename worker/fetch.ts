/**
 * How a worker gets a job's program and input: by hash from its own storage node first (blobs
 * are content-addressed, so any node holding the bytes will do), otherwise from the URI the
 * requester put in the job, which is then mirrored to its own node.
 *
 * A job's URIs are chosen by whoever posts it, so a worker would otherwise send GET requests
 * wherever a stranger points it. URIs whose host is a loopback, private, link-local or
 * unspecified IP address (or `localhost`), or a name resolving to one, are refused unless they are
 * on the worker's own storage node, or the operator allows private addresses
 * (`--allow-private-uris`, for a LAN deployment); so is every redirect to one. Known limit: the
 * name is resolved again when connecting, so a DNS server that answers differently the second
 * time (rebinding) can still get through.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { fetchBlob, StorageClient } from '../client/storage';
import type { HashKind } from '../client/storage-errors';
import { frameParts, MAX_FRAMED_BYTES, parseManifest } from '../client/inputs';

/** A job's blob the worker will not or could not fetch; the worker then does not claim the job. */
export class UnfetchableBlobError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'UnfetchableBlobError';
    }
}

/** True for an IP literal or name that reaches this machine or a private network. */
export function isPrivateHost(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (host === 'localhost' || host.endsWith('.localhost')) return true;
    const v = isIP(host);
    if (v === 4) {
        const [a, b] = host.split('.').map(Number);
        return (
            a === 0 ||
            a === 10 ||
            a === 127 ||
            (a === 100 && b >= 64 && b < 128) ||
            (a === 169 && b === 254) ||
            (a === 172 && b >= 16 && b < 32) ||
            (a === 192 && b === 168)
        );
    }
    if (v === 6) {
        if (host === '::' || host === '::1') return true;
        // an IPv4 address inside an IPv6 one (mapped ::ffff:, compatible ::, NAT64 64:ff9b::), in
        // either notation (a URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1): the IPv4 address decides
        const inner = /^(?:::ffff:|::|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(host);
        if (inner) {
            if (inner[1]) return isPrivateHost(inner[1]);
            const [hi, lo] = [parseInt(inner[2], 16), parseInt(inner[3], 16)];
            return isPrivateHost(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
        }
        const first = parseInt(host.split(':')[0] || '0', 16);
        return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
    }
    return false;
}

export interface BlobSource {
    /** The worker's own storage node (checked first, and where fetched blobs are mirrored). */
    storage?: StorageClient;
    /** Fetch from private and loopback addresses too (a LAN deployment). */
    allowPrivate?: boolean;
    /** Resolves a host name to its addresses (default: the system resolver). */
    resolve?: (hostname: string) => Promise<string[]>;
}

const systemResolve = async (hostname: string) => (await lookup(hostname, { all: true })).map((a) => a.address);

/** Whether `url` is on the worker's own storage node. */
function isOwn(url: URL, storage: StorageClient | undefined): boolean {
    return storage !== undefined && new URL(storage.baseUrl).origin === url.origin;
}

/** Throws unless `url` is the worker's own node, private addresses are allowed, or its host is public. */
async function refusePrivate(url: URL, source: BlobSource): Promise<void> {
    if (isOwn(url, source.storage) || source.allowPrivate) return;
    const refuse = (why: string) => new UnfetchableBlobError(`refusing to fetch ${url.origin}: ${why}, not this worker's storage node`);
    if (isPrivateHost(url.hostname)) throw refuse('a private or loopback address');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) return;
    let addresses: string[];
    try {
        addresses = await (source.resolve ?? systemResolve)(host);
    } catch (e) {
        throw new UnfetchableBlobError(`cannot resolve ${host}: ${(e as Error).message}`);
    }
    const inside = addresses.find((a) => isPrivateHost(a));
    if (inside !== undefined) throw refuse(`${host} resolves to ${inside}, a private or loopback address`);
}

/**
 * The blob `hash` (hex sha256), or for `kind` 'result' the result of output hash `hash`, from the
 * worker's storage node or from `uri`, hash-checked either way; `limits` narrow the download's
 * time and size.
 */
export async function jobBlob(
    uri: string,
    hash: string,
    source: BlobSource,
    kind: HashKind = 'blob',
    limits: { timeoutMs?: number; maxBytes?: number } = {},
): Promise<Buffer> {
    const { storage } = source;
    const own = kind === 'blob' ? storage?.has(hash) : storage?.hasResult(hash);
    if (storage && (await own?.catch(() => false))) return kind === 'blob' ? storage.get(hash, limits) : storage.getResult(hash, limits);
    let url: URL;
    try {
        url = new URL(uri);
    } catch {
        throw new UnfetchableBlobError(`the job's URI is not a URL: ${JSON.stringify(uri.slice(0, 200))}`);
    }
    await refusePrivate(url, source);
    const bytes = await fetchBlob(uri, hash, { ...limits, beforeRedirect: (next) => refusePrivate(next, source) }, kind);
    // mirrored, so the compute step (and other workers sharing the node) read it by hash
    if (storage && !isOwn(url, storage)) await (kind === 'blob' ? storage.put(bytes) : storage.putResult(bytes)).catch(() => undefined);
    return bytes;
}

/** Parts of a composite input fetched at once. */
const PART_FETCHES = 8;

/**
 * The longest a composite input's parts may take to fetch, all of them together, ms: a stranger's
 * slow parts cannot hold the worker longer than this.
 */
export const COMPOSITE_FETCH_MS = 120_000;

/**
 * A job's input as its program reads it: the blob `hash` itself, or, for a composite input's
 * manifest (client/inputs.ts), its parts fetched by hash and framed, within COMPOSITE_FETCH_MS
 * and MAX_FRAMED_BYTES for all of them. Throws MalformedInputsError for an input that begins like
 * a manifest but is not one.
 */
export async function jobInput(uri: string, hash: string, source: BlobSource, budgetMs = COMPOSITE_FETCH_MS): Promise<Buffer> {
    const input = await jobBlob(uri, hash, source);
    const parts = parseManifest(input);
    if (parts === undefined) return input;
    const deadline = Date.now() + budgetMs;
    const got: Buffer[] = new Array<Buffer>(parts.length);
    let next = 0;
    let bytes = 4 + 4 * parts.length; // the framing
    let failed = false;
    const fetcher = async () => {
        while (next < parts.length && !failed) {
            const i = next++;
            const [timeoutMs, maxBytes] = [deadline - Date.now(), MAX_FRAMED_BYTES - bytes];
            try {
                if (timeoutMs <= 0)
                    throw new UnfetchableBlobError(`its composite input's parts took more than ${budgetMs / 1000} s to fetch`);
                if (maxBytes < 0)
                    throw new UnfetchableBlobError(`its composite input's parts come to more than ${MAX_FRAMED_BYTES} bytes framed`);
                got[i] = await jobBlob(parts[i].uri, parts[i].hash, source, parts[i].kind, { timeoutMs, maxBytes });
            } catch (e) {
                failed = true; // the other fetchers take no new part
                throw e;
            }
            bytes += got[i].length;
        }
    };
    await Promise.all(Array.from({ length: Math.min(PART_FETCHES, parts.length) }, fetcher));
    return frameParts(got);
}

/** A job's program and input. */
export interface JobBlobs {
    program: Buffer;
    input: Buffer;
}

const sizeOf = (b: JobBlobs) => b.program.length + b.input.length;

/**
 * Blobs fetched to decide on a claim, kept for the computation that follows so that a job's
 * program and input are fetched once. Bounded by entries and bytes: the oldest go first, and a
 * job that is not there is simply fetched again.
 */
export class FetchedBlobs {
    private readonly held = new Map<string, JobBlobs>();
    private bytes = 0;

    constructor(
        private readonly maxEntries = 16,
        private readonly maxBytes = 128 * 1024 * 1024,
    ) {}

    put(id: string, blobs: JobBlobs): void {
        this.take(id);
        const size = sizeOf(blobs);
        if (size > this.maxBytes) return;
        this.held.set(id, blobs);
        this.bytes += size;
        for (const [oldest, b] of this.held) {
            if (this.held.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
            this.held.delete(oldest);
            this.bytes -= sizeOf(b);
        }
    }

    /** The blobs of `id`, forgotten here once taken. */
    take(id: string): JobBlobs | undefined {
        const b = this.held.get(id);
        if (b) {
            this.held.delete(id);
            this.bytes -= sizeOf(b);
        }
        return b;
    }

    get size(): { entries: number; bytes: number } {
        return { entries: this.held.size, bytes: this.bytes };
    }
}
