/**
 * The storage node's HTTP face. Blobs are content-addressed (sha256), so any node can hold any
 * blob and every reader can check what it got; see `client/storage.ts` for the other side. Job
 * results are blobs too, also indexed by their output hash (client/results.ts), the hash a job
 * settles on, so a requester holding only the on-chain result can fetch the bytes.
 *
 *   PUT  /blobs/<sha256>          store the body under its hash (201 new, 200 already stored)
 *   POST /blobs                   store the body, the node computes and returns the hash
 *   GET  /blobs/<sha256>          the bytes, re-verified against the hash on every read (HEAD: headers only)
 *   PUT  /results/<output hash>   store the body as a blob and index it by its output hash (201 newly
 *                                 indexed, 200 already); 400 if the body's output hash differs
 *   GET  /results/<output hash>   the bytes, re-verified against both hashes on every read (HEAD: headers only)
 *   GET  /health                  { ok, blobs, maxBlobBytes }
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { BlobStore, BlobWriter } from './blob-store';
import { resolveStorageOptions, ResolvedStorageOptions, StorageNodeOptions } from './config';
import { BlobTooLargeError, StorageConfigError } from '../../client/storage-errors';
import { isSha256Hex, sha256Hex } from '../../client/hash';
import { MAX_OUTPUT_BYTES, resultHashOf } from '../../client/results';

export type { StorageNodeOptions } from './config';

/** A running storage node. */
export interface StorageNode {
    /** Base URL, e.g. `http://127.0.0.1:7070` (blobs are at `<url>/blobs/<sha256>`). */
    url: string;
    /** The port actually bound (useful with `port: 0`). */
    port: number;
    /** Stops listening, lets requests in flight finish for up to 5 s, then drops them (their uploads are discarded). */
    close(): Promise<void>;
}

/** The upload went over `maxBlobBytes` while streaming (no usable Content-Length up front). */
class Overflow extends Error {}

/** The uploader disconnected before the body was complete. */
class ClientGone extends Error {
    constructor() {
        super('the client closed the connection mid-upload');
    }
}

/** Fields added to the request's log line as the request is handled. */
type Facts = Record<string, string | number | boolean | undefined>;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
}

/** How much of a refused body the node reads and throws away, at most, before hanging up. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 5_000;
/** How long `close()` waits for requests in flight. */
const CLOSE_GRACE_MS = 5_000;

/**
 * An error reply. When the request's body has not been (fully) read, the answer says
 * `Connection: close`: the node will not read a refused body to its end, so the connection cannot
 * carry another request. Hanging up at once would make the sender's next write fail with
 * EPIPE/ECONNRESET, and a reset can destroy the answer before the sender reads it; so the answer is
 * written, what keeps coming is discarded for a bounded while, and only then is the response ended,
 * which closes the connection.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    if (!hasBody || req.readableEnded || req.destroyed) return sendJson(res, status, body, headers);
    const text = JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        Connection: 'close',
        ...headers,
    });
    // Written now, ended later: the sender has the whole answer (Content-Length) while it is still sending.
    res.write(text);
    let discarded = 0;
    const hangUp = (): void => {
        clearTimeout(timer);
        req.off('data', onData);
        if (!res.writableEnded) res.end();
    };
    const onData = (chunk: Buffer): void => {
        discarded += chunk.length;
        if (discarded > LINGER_BYTES) hangUp();
    };
    const timer = setTimeout(hangUp, LINGER_MS).unref();
    req.on('data', onData);
    req.once('end', hangUp);
    req.once('close', () => clearTimeout(timer));
    req.resume();
}

/**
 * Feeds the request body into `writer`, one chunk at a time (the socket is paused while a chunk
 * is on its way to disk), and stops reading as soon as more than `limit` bytes have arrived.
 */
function receive(req: IncomingMessage, writer: BlobWriter, limit: number): Promise<void> {
    return new Promise((resolve, reject) => {
        let received = 0;
        let settled = false;
        let pending: Promise<void> = Promise.resolve();
        const stop = (error?: unknown): void => {
            if (settled) return;
            settled = true;
            req.off('data', onData);
            req.off('end', onEnd);
            req.off('close', onClose);
            req.off('error', onClose);
            if (error === undefined) return resolve();
            req.pause();
            // Reject once no write is in flight, so the caller can delete the temp file right away.
            void pending.catch(() => undefined).then(() => reject(error));
        };
        const onData = (chunk: Buffer): void => {
            received += chunk.length;
            if (received > limit) return stop(new Overflow());
            req.pause();
            pending = pending.then(() => writer.write(chunk));
            pending.then(() => settled || req.resume(), stop);
        };
        // 'end' can come while the last chunk is still being written.
        const onEnd = (): void => void pending.then(() => stop(), stop);
        // A closed request never ends, even one whose body had fully arrived (it is dropped unread).
        const onClose = (): void => {
            if (!req.readableEnded) stop(new ClientGone());
        };
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('close', onClose);
        req.once('error', onClose);
        // The client may have hung up while the temp file was being opened: its 'close' is past.
        if (req.destroyed) onClose();
    });
}

function declaredLength(req: IncomingMessage): number | undefined {
    const header = req.headers['content-length'];
    return header === undefined ? undefined : Number(header);
}

/** Requests whose log line is not written yet: `close` waits for them. */
interface InFlight {
    count: number;
    /** Called each time a request's line is written. */
    onDone?: () => void;
    /** Set by `close`: answers from then on carry `Connection: close`. */
    stopping?: boolean;
}

function createHandler(
    o: ResolvedStorageOptions,
    store: BlobStore,
    inFlight: InFlight,
): (req: IncomingMessage, res: ServerResponse) => void {
    const tokenDigest = o.writeToken === undefined ? undefined : sha256(o.writeToken);
    const limit = o.maxBlobBytes;

    /** Undefined when the write may go ahead, else why not. */
    const authProblem = (req: IncomingMessage): string | undefined => {
        if (!tokenDigest) return undefined;
        const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
        if (!match) return 'writes to this node need Authorization: Bearer <token>';
        // Comparing digests keeps the comparison constant-time whatever the lengths.
        return timingSafeEqual(sha256(match[1]), tokenDigest) ? undefined : 'wrong token';
    };

    const tooLarge = (req: IncomingMessage, res: ServerResponse, bytes: number | undefined, max: number, facts: Facts): void => {
        const error = new BlobTooLargeError('upload', bytes, max, req.url ?? '').message;
        facts.error = error;
        refuse(req, res, 413, { error, limit: max, bytes });
    };

    /**
     * Streams the body into a temp file and finishes it (returns the writer and the body's
     * sha256); undefined once the request is answered instead: over `max` bytes (413), or the
     * client gone.
     */
    const receiveBody = async (
        req: IncomingMessage,
        res: ServerResponse,
        max: number,
        facts: Facts,
    ): Promise<{ writer: BlobWriter; hash: string } | undefined> => {
        const declared = declaredLength(req);
        if (declared !== undefined && declared > max) return void tooLarge(req, res, declared, max, facts);
        const writer = await store.beginWrite();
        try {
            await receive(req, writer, max);
            return { writer, hash: await writer.finish() };
        } catch (e) {
            await writer.abort();
            if (e instanceof Overflow) return void tooLarge(req, res, undefined, max, facts);
            // Nobody is left to answer; the request's log line says `aborted`.
            if (e instanceof ClientGone) return undefined;
            throw e;
        }
    };

    const upload = async (req: IncomingMessage, res: ServerResponse, expected: string | undefined, facts: Facts): Promise<void> => {
        const body = await receiveBody(req, res, limit, facts);
        if (!body) return;
        const { writer, hash } = body;
        try {
            Object.assign(facts, { hash, bytes: writer.bytes });
            if (expected !== undefined && hash !== expected) {
                await writer.abort();
                facts.error = 'hash mismatch';
                return sendJson(res, 400, { error: `body hashes to ${hash}, not ${expected}`, expected, actual: hash });
            }
            const created = await writer.commit(hash);
            facts.created = created;
            const headers = { Location: `/blobs/${hash}`, ETag: `"${hash}"` };
            sendJson(res, created ? 201 : 200, { hash, bytes: writer.bytes, created }, headers);
        } catch (e) {
            await writer.abort();
            throw e;
        }
    };

    /** PUT /results/<expected>: the body must have output hash `expected`; stored as a blob, then indexed (a crash between leaves an unindexed blob). */
    const uploadResult = async (req: IncomingMessage, res: ServerResponse, expected: string, facts: Facts): Promise<void> => {
        // no longer output has an output hash
        const body = await receiveBody(req, res, Math.min(limit, MAX_OUTPUT_BYTES), facts);
        if (!body) return;
        const { writer, hash: blob } = body;
        try {
            Object.assign(facts, { hash: expected, blob, bytes: writer.bytes });
            const actual = resultHashOf(await fs.readFile(writer.tempPath));
            if (actual !== expected) {
                await writer.abort();
                facts.error = 'output hash mismatch';
                return sendJson(res, 400, { error: `body's output hash is ${actual}, not ${expected}`, expected, actual });
            }
            await writer.commit(blob);
            const created = await store.indexResult(expected, blob);
            facts.created = created;
            const headers = { Location: `/results/${expected}`, ETag: `"${expected}"` };
            sendJson(res, created ? 201 : 200, { hash: expected, blob, bytes: writer.bytes, created }, headers);
        } catch (e) {
            await writer.abort();
            throw e;
        }
    };

    /** Sets aside blob `hash`, whose bytes hash to `actual`, and answers 500. */
    const corrupt = async (res: ServerResponse, hash: string, actual: string, size: number, facts: Facts): Promise<void> => {
        const quarantined = await store.quarantine(hash);
        o.log({ event: 'blob_corrupt', hash, actual, size, quarantined });
        facts.error = 'corrupt';
        const error = `blob ${hash} is corrupted on this node (its bytes hash to ${actual}); it has been set aside, upload it again`;
        sendJson(res, 500, { error });
    };

    const immutable = (hash: string, size: number) => ({
        'Content-Type': 'application/octet-stream',
        'Content-Length': size,
        ETag: `"${hash}"`,
        'Cache-Control': 'public, max-age=31536000, immutable',
    });

    const serve = async (req: IncomingMessage, res: ServerResponse, hash: string, facts: Facts): Promise<void> => {
        const found = await store.check(hash);
        if (found.kind === 'missing') return sendJson(res, 404, { error: `blob ${hash} not found` });
        if (found.kind === 'corrupt') return corrupt(res, hash, found.actual, found.size, facts);
        facts.bytes = found.size;
        res.writeHead(200, immutable(hash, found.size));
        if (req.method === 'HEAD') return void res.end();
        try {
            await pipeline(store.read(hash), res);
        } catch (e) {
            facts.error = messageOf(e);
            res.destroy();
        }
    };

    /**
     * GET /results/<hash>: the indexed blob, read whole (at most MAX_OUTPUT_BYTES) and checked
     * against its sha256 and against the output hash before a byte is sent. An unknown hash, or an
     * entry whose blob is gone, is 404 (a fresh PUT stores both again); an entry that names other
     * bytes is dropped (500).
     */
    const serveResult = async (req: IncomingMessage, res: ServerResponse, hash: string, facts: Facts): Promise<void> => {
        const notFound = () => sendJson(res, 404, { error: `result ${hash} not found` });
        const blob = await store.resultOf(hash);
        if (blob === undefined) return notFound();
        facts.blob = blob;
        const bytes = await store.load(blob, MAX_OUTPUT_BYTES);
        if (bytes === undefined) return notFound();
        if (bytes !== 'too large') {
            const actual = sha256Hex(bytes);
            if (actual !== blob) return corrupt(res, blob, actual, bytes.length, facts);
        }
        if (bytes === 'too large' || resultHashOf(bytes) !== hash) {
            await store.dropResult(hash);
            o.log({ event: 'result_index_corrupt', hash, blob });
            facts.error = 'index corrupt';
            const error = `result ${hash} was indexed on this node as bytes of another output hash; the entry has been dropped, upload it again`;
            return sendJson(res, 500, { error });
        }
        facts.bytes = bytes.length;
        res.writeHead(200, immutable(hash, bytes.length));
        res.end(req.method === 'HEAD' ? undefined : bytes);
    };

    const route = async (req: IncomingMessage, res: ServerResponse, path: string, facts: Facts): Promise<void> => {
        const method = req.method ?? '';
        const read = method === 'GET' || method === 'HEAD';
        const notAllowed = (allow: string) =>
            refuse(req, res, 405, { error: `${method} is not allowed on ${path} (allowed: ${allow})` }, { Allow: allow });
        const unauthorized = (error: string) => refuse(req, res, 401, { error }, { 'WWW-Authenticate': 'Bearer' });
        const badHash = () => refuse(req, res, 400, { error: 'not a sha256 hex digest (64 lower-case hex characters)' });
        const badOutputHash = () => refuse(req, res, 400, { error: 'not an output hash (64 lower-case hex characters)' });

        if (path === '/health') {
            if (!read) return notAllowed('GET, HEAD');
            return sendJson(res, 200, { ok: true, blobs: store.count, maxBlobBytes: limit });
        }
        if (path === '/blobs') {
            if (method !== 'POST') return notAllowed('POST');
            const problem = authProblem(req);
            return problem ? unauthorized(problem) : upload(req, res, undefined, facts);
        }
        if (path.startsWith('/blobs/')) {
            const hash = path.slice('/blobs/'.length);
            if (method === 'PUT') {
                const problem = authProblem(req);
                if (problem) return unauthorized(problem);
                return isSha256Hex(hash) ? upload(req, res, hash, facts) : badHash();
            }
            if (!read) return notAllowed('GET, HEAD, PUT');
            return isSha256Hex(hash) ? serve(req, res, hash, facts) : badHash();
        }
        if (path.startsWith('/results/')) {
            // an output hash is a cell's representation hash: 256 bits, written as a sha256 is
            const hash = path.slice('/results/'.length);
            if (method === 'PUT') {
                const problem = authProblem(req);
                if (problem) return unauthorized(problem);
                return isSha256Hex(hash) ? uploadResult(req, res, hash, facts) : badOutputHash();
            }
            if (!read) return notAllowed('GET, HEAD, PUT');
            return isSha256Hex(hash) ? serveResult(req, res, hash, facts) : badOutputHash();
        }
        refuse(req, res, 404, { error: `no route ${method} ${path}` });
    };

    return (req: IncomingMessage, res: ServerResponse): void => {
        const started = Date.now();
        const path = (req.url ?? '/').split('?')[0];
        const facts: Facts = {};
        // 'finish' (answer handed to the OS) comes before the client can act on it, so the line is
        // logged even if the process stops right after; 'close' without 'finish' is a dropped answer.
        inFlight.count += 1;
        if (inFlight.stopping) res.setHeader('Connection', 'close');
        const logLine = (aborted: boolean) => () => {
            // The status is the one the client was sent, if any; `aborted` says the connection closed
            // before the answer was handed to the OS in full.
            const status = res.headersSent ? res.statusCode : undefined;
            o.log({
                event: 'request',
                method: req.method,
                path,
                status,
                aborted: aborted || undefined,
                ms: Date.now() - started,
                ...facts,
            });
            inFlight.count -= 1;
            inFlight.onDone?.();
        };
        res.once('finish', logLine(false));
        res.once('close', () => res.writableFinished || logLine(true)());
        route(req, res, path, facts).catch((e: unknown) => {
            o.log({ event: 'error', method: req.method, path, error: messageOf(e) });
            if (res.headersSent) res.destroy();
            else refuse(req, res, 500, { error: `storage node failed: ${messageOf(e)}` });
        });
    };
}

function listen(server: Server, host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) => {
            const why: Record<string, string> = {
                EADDRINUSE: `port ${port} on ${host} is already in use`,
                EACCES: `no permission to listen on port ${port} (ports below 1024 need privileges)`,
                EADDRNOTAVAIL: `${host} is not an address of this machine`,
                ENOTFOUND: `cannot resolve host ${host}`,
            };
            reject(new StorageConfigError(why[e.code ?? ''] ?? `cannot listen on ${host}:${port} (${e.code ?? e.message})`));
        });
        server.listen(port, host, () => resolve());
    });
}

/** Opens (or creates) the blob directory and serves it over HTTP. Rejects with `StorageConfigError` on a bad option. */
export async function startStorageNode(opts: StorageNodeOptions): Promise<StorageNode> {
    const o = resolveStorageOptions(opts);
    let store: BlobStore;
    try {
        store = await BlobStore.open(o.dir);
    } catch (e) {
        throw new StorageConfigError(`cannot use ${o.dir} as the blob directory (${(e as NodeJS.ErrnoException).code ?? messageOf(e)})`);
    }
    const inFlight: InFlight = { count: 0 };
    const server = createServer(createHandler(o, store, inFlight));
    await listen(server, o.host, o.port);
    const { port } = server.address() as AddressInfo;
    const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
    return {
        url,
        port,
        close: () =>
            new Promise<void>((resolve) => {
                // Node's server.close() also destroys every keep-alive connection it counts idle, and it
                // counts one idle once its answer was ended, even while the answer's bytes still wait to
                // be written: so the listener is closed only while no answer is in flight. Until then
                // the node keeps serving, each answer with `Connection: close`.
                inFlight.stopping = true;
                let listening = true;
                let closed = false;
                const stopListening = (): void => {
                    listening = false;
                    server.close(() => {
                        closed = true;
                        done();
                    });
                };
                const step = (): void => {
                    if (inFlight.count > 0) return;
                    if (listening) stopListening();
                    else server.closeIdleConnections();
                };
                const tick = setInterval(step, 20);
                const force = setTimeout(() => {
                    if (listening) stopListening();
                    server.closeAllConnections();
                }, CLOSE_GRACE_MS);
                const done = (): void => {
                    // closed, and every request's line written (the last 'close' can come after the server's)
                    if (!closed || inFlight.count > 0) return;
                    clearInterval(tick);
                    clearTimeout(force);
                    resolve();
                };
                inFlight.onDone = done;
                step();
            }),
    };
}
