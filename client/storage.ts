/**
 * Talking to storage nodes: `StorageClient` for a node you upload to, `fetchBlob` for any
 * http(s) URI read from chain. Blobs are named by their sha256; a job's result also by its output
 * hash (client/results.ts), the on-chain result, under `/results/`. Everything downloaded is
 * checked against the hash it was asked by before it is returned, so a node (or a URI) never has
 * to be trusted.
 */
import {
    BlobHashMismatchError,
    BlobNotFoundError,
    BlobTooLargeError,
    HashKind,
    InvalidBlobUriError,
    StorageAuthError,
    StorageConfigError,
    StorageHttpError,
    StorageUnreachableError,
} from './storage-errors';
import { normalizeHash, sha256Hex } from './hash';
import { MAX_OUTPUT_BYTES, resultHashOf } from './results';

export { hashToUint256, isSha256Hex, normalizeHash, sha256Hex, uint256ToHash } from './hash';

const DEFAULT_TIMEOUT_MS = 30_000;

/** The largest blob a storage node takes and a client downloads, unless configured otherwise: 64 MiB. */
export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** Options of a download. */
export interface FetchBlobOptions {
    /** Gives up (with `StorageUnreachableError`) after this long, body included. Default 30 s. Each try: a request whose connection was dropped is tried up to three times. */
    timeoutMs?: number;
    /** Refuses blobs larger than this, before reading them whole. Default 64 MiB. */
    maxBytes?: number;
    /**
     * Called with every URL the download is redirected to, before it is fetched; throwing stops
     * the download. Without it redirects are followed as `fetch` does.
     */
    beforeRedirect?: (url: URL) => Promise<void>;
}

/** Redirects a checked download follows at most. */
export const MAX_REDIRECTS = 5;

/** Options of a `StorageClient`. */
export interface StorageClientOptions extends FetchBlobOptions {
    /** The node's write token, sent as `Authorization: Bearer <token>` on uploads. */
    token?: string;
}

interface Request {
    url: string;
    method: 'GET' | 'HEAD' | 'PUT';
    timeoutMs: number;
    headers?: Record<string, string>;
    body?: Uint8Array;
    redirect?: 'follow' | 'manual';
}

function unreachable(url: string, e: unknown, timeoutMs: number): StorageUnreachableError {
    const err = e as { name?: string; message?: string; cause?: { name?: string; code?: string; message?: string } };
    const timedOut = err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError';
    const reason = timedOut ? `timed out after ${timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message ?? String(e));
    return new StorageUnreachableError(new URL(url).origin, reason);
}

/** A connection the other side closed or reset: on a reused keep-alive socket the server may have just timed it out. */
const RETRIABLE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

async function send(r: Request): Promise<Response> {
    // a request whose connection was dropped is sent again, twice at most. Every request here is
    // idempotent: reads change nothing, and a PUT stores bytes under their own hash (again: a no-op).
    // The usual cause is a keep-alive socket the server closed while this process's event loop was
    // busy (hashing a large output, say), so that the client's own idle timer could not retire it first.
    const tries = 3;
    for (let attempt = 1; ; attempt++) {
        try {
            return await fetch(r.url, {
                method: r.method,
                headers: r.headers,
                body: r.body,
                redirect: r.redirect,
                signal: AbortSignal.timeout(r.timeoutMs),
            });
        } catch (e) {
            const code = (e as { cause?: { code?: string } }).cause?.code;
            if (attempt < tries && code !== undefined && RETRIABLE.has(code)) {
                await new Promise((done) => setTimeout(done, 100 * attempt));
                continue;
            }
            throw unreachable(r.url, e, r.timeoutMs);
        }
    }
}

/** The server's JSON `error` if it sent one, else the status text. */
async function reasonOf(res: Response): Promise<{ reason: string; body: Record<string, unknown> }> {
    const text = await res.text().catch(() => '');
    try {
        const body = JSON.parse(text) as Record<string, unknown>;
        if (typeof body.error === 'string') return { reason: body.error, body };
    } catch {
        // not JSON: a proxy's or another server's error page
    }
    return { reason: text.trim().slice(0, 200) || res.statusText || 'no reason given', body: {} };
}

/** Reads the body up to `maxBytes`, failing early on an announced or actual overrun. */
async function readLimited(res: Response, url: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
    const announced = res.headers.get('content-length');
    if (announced !== null && Number(announced) > maxBytes) {
        await res.body?.cancel();
        throw new BlobTooLargeError('download', Number(announced), maxBytes, url);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (!res.body) return Buffer.alloc(0);
    const reader = res.body.getReader();
    try {
        for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            total += value.length;
            if (total > maxBytes) {
                await reader.cancel();
                throw new BlobTooLargeError('download', undefined, maxBytes, url);
            }
            chunks.push(value);
        }
    } catch (e) {
        if (e instanceof BlobTooLargeError) throw e;
        throw unreachable(url, e, timeoutMs);
    }
    return Buffer.concat(chunks, total);
}

/** How a download checks what it got: a blob by its sha256, a result by its output hash. */
const CHECKS: Record<HashKind, (bytes: Uint8Array) => string> = { blob: sha256Hex, result: resultHashOf };

/** GETs `url` and returns its bytes if, and only if, they hash to `hash` (as `kind` is hashed). */
async function download(url: string, hash: string, opts: FetchBlobOptions, kind: HashKind = 'blob'): Promise<Buffer> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let res = await send({ url, method: 'GET', timeoutMs, redirect: opts.beforeRedirect ? 'manual' : 'follow' });
    for (let hops = 0; opts.beforeRedirect && res.status >= 300 && res.status < 400 && res.headers.has('location'); hops++) {
        await res.body?.cancel();
        if (hops === MAX_REDIRECTS) throw new StorageHttpError(url, res.status, `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(res.headers.get('location')!, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new InvalidBlobUriError(next.href);
        await opts.beforeRedirect(next);
        url = next.href;
        res = await send({ url, method: 'GET', timeoutMs, redirect: 'manual' });
    }
    if (res.status === 404) {
        await res.body?.cancel();
        throw new BlobNotFoundError(hash, url, kind);
    }
    if (!res.ok) throw new StorageHttpError(url, res.status, (await reasonOf(res)).reason);
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BLOB_BYTES;
    // no output over the cap has an output hash: a longer body is refused as too large
    const bytes = await readLimited(res, url, kind === 'result' ? Math.min(maxBytes, MAX_OUTPUT_BYTES) : maxBytes, timeoutMs);
    const actual = CHECKS[kind](bytes);
    if (actual !== hash) throw new BlobHashMismatchError(hash, url, actual, kind);
    return bytes;
}

/**
 * Downloads blob `expectedHash` from any `http://` or `https://` URI (e.g. one stored in a job
 * spec) and checks its sha256, or for `kind` 'result' its output hash. Throws
 * `InvalidBlobUriError`, `InvalidHashError`, `StorageUnreachableError`, `BlobNotFoundError`,
 * `BlobTooLargeError`, `StorageHttpError` or `BlobHashMismatchError`.
 */
export async function fetchBlob(uri: string, expectedHash: string, opts: FetchBlobOptions = {}, kind: HashKind = 'blob'): Promise<Buffer> {
    let parsed: URL;
    try {
        parsed = new URL(uri);
    } catch {
        throw new InvalidBlobUriError(uri);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidBlobUriError(uri);
    return download(parsed.href, normalizeHash(expectedHash), opts, kind);
}

/** A client of one storage node (see `server.ts` for the HTTP API). */
export class StorageClient {
    /** The node's base URL without a trailing slash. */
    readonly baseUrl: string;
    private readonly opts: StorageClientOptions;

    /** @param baseUrl e.g. `http://127.0.0.1:7070` */
    constructor(baseUrl: string, opts: StorageClientOptions = {}) {
        let parsed: URL | undefined;
        try {
            parsed = new URL(baseUrl);
        } catch {
            parsed = undefined;
        }
        if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
            throw new StorageConfigError(`storage node URL must be http:// or https://, got ${JSON.stringify(baseUrl)}`);
        }
        this.baseUrl = baseUrl.replace(/\/+$/, '');
        this.opts = opts;
    }

    /** Where blob `hash` lives on this node; the URI to put in a job spec. */
    urlOf(hash: string): string {
        return `${this.baseUrl}/blobs/${normalizeHash(hash)}`;
    }

    /** Where the result of output hash `hash` lives on this node: what a requester holding the on-chain result asks for. */
    resultUrlOf(hash: string): string {
        return `${this.baseUrl}/results/${normalizeHash(hash)}`;
    }

    /** Uploads `bytes` under their sha256 and returns it (hex). Uploading a stored blob again is a no-op. */
    async put(bytes: Uint8Array): Promise<string> {
        const hash = sha256Hex(bytes);
        await this.upload(this.urlOf(hash), bytes);
        return hash;
    }

    /**
     * Uploads a program's output as a result: stored as a blob under its sha256 and indexed by its
     * output hash, which it returns (hex): the result a worker commits. Uploading it again is a
     * no-op. Throws a RangeError for an output over MAX_OUTPUT_BYTES, which has no output hash.
     */
    async putResult(output: Uint8Array): Promise<string> {
        const hash = resultHashOf(output);
        await this.upload(this.resultUrlOf(hash), output);
        return hash;
    }

    /** Downloads blob `hash` and checks it against the hash (`BlobHashMismatchError` if it differs); `opts` overrides the client's limits. */
    async get(hash: string, opts: FetchBlobOptions = {}): Promise<Buffer> {
        const canonical = normalizeHash(hash);
        return download(this.urlOf(canonical), canonical, { ...this.opts, ...opts });
    }

    /**
     * Downloads the result of output hash `hash` (a job's on-chain result) and checks the bytes
     * against it (`BlobHashMismatchError` of kind 'result' if they differ; `BlobNotFoundError` of
     * kind 'result' if the node has none); `opts` overrides the client's limits.
     */
    async getResult(hash: string, opts: FetchBlobOptions = {}): Promise<Buffer> {
        const canonical = normalizeHash(hash);
        return download(this.resultUrlOf(canonical), canonical, { ...this.opts, ...opts }, 'result');
    }

    /** True if the node holds blob `hash` and it passes the node's integrity check. */
    async has(hash: string): Promise<boolean> {
        return this.exists(this.urlOf(hash));
    }

    /** True if the node holds the result of output hash `hash` and it passes the node's integrity check. */
    async hasResult(hash: string): Promise<boolean> {
        return this.exists(this.resultUrlOf(hash));
    }

    private async exists(url: string): Promise<boolean> {
        const res = await send({ url, method: 'HEAD', timeoutMs: this.timeoutMs });
        if (res.status === 200) return true;
        if (res.status === 404) return false;
        // HEAD answers carry no body, so the status is all there is to report.
        throw new StorageHttpError(url, res.status, res.statusText || 'no reason given');
    }

    /** PUTs `bytes` to `url` with the write token, if any. */
    private async upload(url: string, bytes: Uint8Array): Promise<void> {
        const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
        if (this.opts.token !== undefined) headers.Authorization = `Bearer ${this.opts.token}`;
        const res = await send({ url, method: 'PUT', headers, body: bytes, timeoutMs: this.timeoutMs });
        if (res.status === 200 || res.status === 201) {
            await res.body?.cancel();
            return;
        }
        const { reason, body } = await reasonOf(res);
        if (res.status === 401) throw new StorageAuthError(url, this.opts.token !== undefined);
        if (res.status === 413 && typeof body.limit === 'number') throw new BlobTooLargeError('upload', bytes.length, body.limit, url);
        throw new StorageHttpError(url, res.status, reason);
    }

    private get timeoutMs(): number {
        return this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    }
}
