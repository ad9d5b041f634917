/**
 * A TON Connect HTTP bridge (github.com/ton-blockchain/ton-connect, bridge.md) for the local
 * devnet, so that the page's `@tonconnect/sdk` and a wallet reach each other without a public
 * bridge. The app server mounts it under a prefix and hands it the rest of the path:
 *
 *   GET  /events?client_id=<hex>[,<hex>…][&last_event_id=<id>]      a Server-Sent Events stream
 *   POST /message?client_id=<from>&to=<hex>&ttl=<s>[&topic=…][&trace_id=…]   body: base64
 *
 * Each message reaches its recipient as one SSE event of the default type,
 * `id: <event id>\ndata: {"from":"<hex>","message":"<base64>"[,"trace_id":"…"]}\n\n`, and a
 * `data: heartbeat` event goes to every stream each `heartbeatMs`. The bridge never decrypts: the
 * parties seal every message with NaCl box end to end, and a client id is just the X25519 public
 * key a party listens under.
 *
 * Delivery follows the spec: a message goes at once to every open stream of its recipient and is
 * then gone; with none open it waits in the recipient's queue until a stream opens or its TTL
 * passes. A stream that opens onto queued messages is paced: they are written only while its unsent
 * buffer has room for them, the rest staying queued until the connection drains, and while it
 * catches up a new message for it waits in the queue behind the older ones.
 *
 * Memory follows the live traffic, never the history; every bound is an option:
 * - a message body is at most `maxMessageBytes` (a larger one gets 413);
 * - a recipient's queue holds at most `maxQueuedPerClient` messages (its oldest is dropped for a new
 *   one), and at most `maxClients` recipients have one (the least recently written queue is dropped);
 * - the bodies of all queued messages together take at most `maxQueuedBytes` (counted exactly, as
 *   bytes of base64): a new message evicts the oldest queued ones, whoever they are for, until it
 *   fits, and one larger than the whole budget that no stream takes at once is refused with 503;
 *   a message leaves the budget as soon as it leaves its queue (written to a stream, expired,
 *   dropped, evicted). Each queued message also carries some hundreds of bytes beside its body that
 *   the budget does not count (its ids, sender, trace id, bookkeeping), for at most
 *   `maxClients` × `maxQueuedPerClient` messages;
 * - a client id has at most `maxStreamsPerClient` open streams (a new one cuts the oldest off), and
 *   the bridge at most `maxStreams` (a new one beyond that gets 503), each listening on at most 10 ids;
 * - a stream found with more than `maxStreamBacklogBytes` unsent (its `writableLength`) when a
 *   message or heartbeat is due is closed, the message staying queued; so the bridge holds at most
 *   that plus one event (or heartbeat) unsent for each stream.
 * Expired messages are swept from the queues on every heartbeat. The optional request-source
 * verification (`request_source`, `/verify`, `/myip`) is not served: both parties run on the
 * developer's machine.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Defaults of `createBridge`. */
export const bridgeDefaults = {
    /** The spec asks every bridge to accept at least 300 s. */
    maxTtlSeconds: 300,
    heartbeatMs: 15_000,
    /** Bytes of the base64 body: far above a sendTransaction with a few messages. */
    maxMessageBytes: 64 * 1024,
    maxQueuedPerClient: 100,
    maxClients: 10_000,
    maxQueuedBytes: 64 * 1024 * 1024,
    /** A few tabs of one app, or a reconnect before the old stream is noticed gone. */
    maxStreamsPerClient: 4,
    maxStreams: 1000,
    maxStreamBacklogBytes: 256 * 1024,
} as const;

export interface BridgeOptions {
    /** The longest TTL a sender may ask for, in seconds (default 300); a longer one is refused. */
    maxTtlSeconds?: number;
    /** How often every open stream gets a heartbeat and the queues are swept, in ms (default 15000). */
    heartbeatMs?: number;
    /** The largest message body, in bytes of base64 (default 64 KiB); a larger one gets 413. */
    maxMessageBytes?: number;
    /** Messages kept for one recipient that has no open stream (default 100); the oldest go first. */
    maxQueuedPerClient?: number;
    /** Recipients with a queue (default 10000); the least recently written queue goes first. */
    maxClients?: number;
    /**
     * Bytes of the bodies of all queued messages together (default 64 MiB); the oldest queued
     * messages, whoever they are for, go first, and a message larger than this that no stream takes
     * at once gets 503.
     */
    maxQueuedBytes?: number;
    /** Open streams that listen on one client id (default 4); a new one closes the oldest. */
    maxStreamsPerClient?: number;
    /** Open streams in all (default 1000); a new one beyond them gets 503. */
    maxStreams?: number;
    /**
     * Bytes a stream may have unsent (default 256 KiB): one found past this when a message or
     * heartbeat is due is closed, and queued messages are written to it only while they fit.
     */
    maxStreamBacklogBytes?: number;
    /** The clock, in ms (default Date.now): tests move it to expire messages. */
    now?: () => number;
    /** Receives one object per dropped message, queue or stream (default: nowhere). */
    log?: (event: Record<string, unknown>) => void;
}

export interface BridgeStats {
    /** Open event streams. */
    streams: number;
    /** Recipients with a queue. */
    queues: number;
    /** Messages waiting in all queues (expired ones included until the next sweep). */
    queued: number;
    /** Bytes of the bodies of those messages: what `maxQueuedBytes` bounds. */
    queuedBytes: number;
}

export interface Bridge {
    /** Handles a request whose path (already stripped of the mount prefix, e.g. '/events' or '/message') belongs to the bridge; writes the whole response. */
    handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void;
    /** What the bridge holds now (for logs and tests). */
    stats(): BridgeStats;
    /** Ends every open event stream and stops the timers; later requests get 503. */
    close(): void;
}

/** A bad `BridgeOptions` value; the message names it. */
export class BridgeOptionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'BridgeOptionError';
    }
}

/** A refused request: its status and the reason sent back as `{ error, statusCode }`. */
class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

/** A client id is a 32-byte X25519 public key in hex, as the SDK's SessionCrypto writes it. */
const CLIENT_ID = /^[0-9a-fA-F]{64}$/;
/** Standard base64 with padding: what the SDK sends and what its `Base64.decode` (tweetnacl-util) accepts. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EVENT_ID = /^\d{1,16}$/;
/** The SDK listens under one id per bridge; ten leaves room for a wallet serving a few sessions. */
const MAX_IDS_PER_STREAM = 10;
const MAX_TRACE_ID = 128;

const CORS = { 'access-control-allow-origin': '*' };

interface Message {
    /** The event id: the SSE `id:` line, and what a reconnecting client sends as `last_event_id`. */
    id: number;
    from: string;
    /** The recipient: whose queue it waits in. */
    to: string;
    /** The base64 body as the sender posted it. */
    message: string;
    /** `Buffer.byteLength(message)`: what it takes of `maxQueuedBytes` while queued. */
    bytes: number;
    traceId: string | undefined;
    expiresAt: number;
}

interface Stream {
    res: ServerResponse;
    ids: string[];
    /** The `last_event_id` it opened with (-1 for none): queued messages up to it are not for it. */
    after: number;
    /** Still writing out what was queued for it: a new message waits in the queue behind that. */
    behind: boolean;
}

function wholeOption(name: string, value: number, min: number): number {
    if (!Number.isSafeInteger(value) || value < min) throw new BridgeOptionError(`${name} must be a whole number ≥ ${min}, got ${value}`);
    return value;
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { ...CORS, 'content-type': 'application/json', 'content-length': bytes.length, 'cache-control': 'no-cache' });
    res.end(bytes);
}

function clientIdParam(query: URLSearchParams, name: string): string {
    const raw = query.get(name);
    if (raw === null || raw === '') throw new HttpError(400, `${name} is required (a 64-character hex client id)`);
    if (!CLIENT_ID.test(raw))
        throw new HttpError(400, `${name} must be a 64-character hex client id, got ${JSON.stringify(raw.slice(0, 80))}`);
    return raw.toLowerCase();
}

/** The body as text, refusing (413) past `limit` bytes without buffering more than that. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const tooLarge = () => new HttpError(413, `message body is larger than ${limit} bytes`);
        const declared = Number(req.headers['content-length']);
        if (declared > limit) {
            // Whatever is still on its way is read and dropped by node once the answer is out, so the
            // connection stays usable for the sender's next message.
            reject(tooLarge());
            return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        req.on('data', (chunk: Buffer) => {
            if (done) return;
            size += chunk.length;
            if (size > limit) {
                done = true;
                chunks.length = 0;
                reject(tooLarge());
                return;
            }
            chunks.push(chunk);
        });
        req.on('end', () => {
            if (done) return;
            done = true;
            resolve(Buffer.concat(chunks).toString('utf-8'));
        });
        // A sender that goes away midway leaves no message to store; its answer goes nowhere anyway.
        const cutOff = (why: string) => {
            if (done) return;
            done = true;
            reject(new HttpError(400, `the message body was cut off: ${why}`));
        };
        req.on('error', (e) => cutOff(e.message));
        req.on('close', () => cutOff('the connection closed'));
    });
}

export function createBridge(o: BridgeOptions = {}): Bridge {
    const maxTtlSeconds = wholeOption('maxTtlSeconds', o.maxTtlSeconds ?? bridgeDefaults.maxTtlSeconds, 1);
    const heartbeatMs = wholeOption('heartbeatMs', o.heartbeatMs ?? bridgeDefaults.heartbeatMs, 1);
    const maxMessageBytes = wholeOption('maxMessageBytes', o.maxMessageBytes ?? bridgeDefaults.maxMessageBytes, 1);
    const maxQueuedPerClient = wholeOption('maxQueuedPerClient', o.maxQueuedPerClient ?? bridgeDefaults.maxQueuedPerClient, 1);
    const maxClients = wholeOption('maxClients', o.maxClients ?? bridgeDefaults.maxClients, 1);
    const maxQueuedBytes = wholeOption('maxQueuedBytes', o.maxQueuedBytes ?? bridgeDefaults.maxQueuedBytes, 1);
    const maxStreamsPerClient = wholeOption('maxStreamsPerClient', o.maxStreamsPerClient ?? bridgeDefaults.maxStreamsPerClient, 1);
    const maxStreams = wholeOption('maxStreams', o.maxStreams ?? bridgeDefaults.maxStreams, 1);
    const maxStreamBacklogBytes = wholeOption('maxStreamBacklogBytes', o.maxStreamBacklogBytes ?? bridgeDefaults.maxStreamBacklogBytes, 1);
    const now = o.now ?? Date.now;
    const log = o.log ?? (() => undefined);

    // Insertion order is recency: a queue is moved to the end whenever a message joins it, so the
    // first one is the one to drop when there are too many. Each queue is in event-id order.
    const queues = new Map<string, Message[]>();
    // Every queued message, oldest first (insertion order is event-id order), and their bytes: what
    // the byte budget evicts from and what it bounds.
    const queued = new Set<Message>();
    let queuedBytes = 0;
    const subscribers = new Map<string, Set<Stream>>();
    const streams = new Set<Stream>();
    // Event ids start from the clock rather than 0: the SDK keeps the last id it saw across page
    // loads and asks for later ones only, so ids from a restarted bridge must not start below it.
    let lastEventId = Math.max(0, Math.floor(now())) * 1000;
    let closed = false;

    const eventOf = (m: Message): string => {
        const data: Record<string, string> = { from: m.from, message: m.message };
        // The SDK reads `trace_id` from the event to tie a wallet's answer to the request's trace.
        if (m.traceId !== undefined) data.trace_id = m.traceId;
        return `id: ${m.id}\ndata: ${JSON.stringify(data)}\n\n`;
    };

    const drop = (s: Stream): void => {
        if (!streams.delete(s)) return;
        for (const id of s.ids) {
            const set = subscribers.get(id);
            set?.delete(s);
            if (set?.size === 0) subscribers.delete(id);
        }
    };

    /** Cuts a stream off, dropping whatever it has not sent yet. */
    const cut = (s: Stream): void => {
        drop(s);
        s.res.destroy();
    };

    /** Whether a stream can be written to now; one that has stopped reading or fallen behind is closed. */
    const writable = (s: Stream): boolean => {
        if (s.res.destroyed || s.res.writableEnded) {
            drop(s);
            return false;
        }
        if (s.res.writableLength > maxStreamBacklogBytes) {
            // Its client reconnects; what comes meanwhile is queued.
            log({ event: 'bridge_stream_stalled', clients: s.ids, backlog: s.res.writableLength, maxStreamBacklogBytes });
            cut(s);
            return false;
        }
        return true;
    };

    /** Takes a message out of the budget (it has left its queue). */
    const forget = (m: Message): void => {
        if (queued.delete(m)) queuedBytes -= m.bytes;
    };

    /** Takes a message out of its queue, and the queue out of the map once it is empty. */
    const unqueue = (m: Message): void => {
        const queue = queues.get(m.to);
        if (queue) {
            const at = queue.indexOf(m);
            if (at >= 0) queue.splice(at, 1);
            if (queue.length === 0) queues.delete(m.to);
        }
        forget(m);
    };

    /** Drops the expired messages of one recipient's queue. */
    const expire = (id: string, t: number): void => {
        const queue = queues.get(id);
        if (!queue || queue.every((m) => m.expiresAt > t)) return;
        const live: Message[] = [];
        for (const m of queue) {
            if (m.expiresAt > t) live.push(m);
            else forget(m);
        }
        // Set on an existing key keeps the queue's place in the recency order.
        if (live.length === 0) queues.delete(id);
        else queues.set(id, live);
    };

    const sweep = (): void => {
        const t = now();
        for (const id of [...queues.keys()]) expire(id, t);
    };

    /** Queues a message that fits the budget: its recipient's oldest, then the oldest of anyone's, make room. */
    const enqueue = (m: Message): void => {
        const own = queues.get(m.to);
        while (own && own.length >= maxQueuedPerClient) {
            const gone = own[0];
            unqueue(gone);
            log({ event: 'bridge_message_dropped', client: m.to, id: gone.id, maxQueuedPerClient });
        }
        for (const oldest of queued) {
            if (queuedBytes + m.bytes <= maxQueuedBytes) break;
            unqueue(oldest);
            log({ event: 'bridge_message_evicted', client: oldest.to, id: oldest.id, bytes: oldest.bytes, maxQueuedBytes });
        }
        let queue = queues.get(m.to);
        if (queue) {
            queues.delete(m.to);
        } else {
            if (queues.size >= maxClients) sweep();
            if (queues.size >= maxClients) {
                const [oldest, dropped] = queues.entries().next().value as [string, Message[]];
                queues.delete(oldest);
                for (const gone of dropped) forget(gone);
                log({ event: 'bridge_queue_evicted', client: oldest, messages: dropped.length, maxClients });
            }
            queue = [];
        }
        queue.push(m);
        queues.set(m.to, queue);
        queued.add(m);
        queuedBytes += m.bytes;
    };

    /** The oldest unexpired message queued for a stream that it has not seen, across its ids. */
    const nextFor = (s: Stream): Message | undefined => {
        let next: Message | undefined;
        for (const id of s.ids) {
            const m = queues.get(id)?.find((q) => q.id > s.after);
            if (m && (next === undefined || m.id < next.id)) next = m;
        }
        return next;
    };

    /**
     * Writes what is queued for a stream that is catching up, oldest first, while its unsent buffer
     * has room (an event goes to an empty buffer whatever its size); each message leaves its queue
     * as it is written. Runs when the stream opens, whenever its connection drains, and on every
     * heartbeat (a buffer under the socket's high-water mark drains without a 'drain' event).
     */
    const catchUp = (s: Stream): void => {
        if (!s.behind || !streams.has(s)) return;
        const t = now();
        for (const id of s.ids) expire(id, t);
        for (;;) {
            if (s.res.destroyed || s.res.writableEnded) {
                drop(s);
                return;
            }
            const m = nextFor(s);
            if (m === undefined) {
                s.behind = false;
                return;
            }
            const event = eventOf(m);
            const backlog = s.res.writableLength;
            if (backlog > 0 && backlog + Buffer.byteLength(event) > maxStreamBacklogBytes) return;
            s.res.write(event);
            unqueue(m);
        }
    };

    const tick = (): void => {
        // a stream catching up gets its messages instead: a heartbeat could push its buffer past the
        // limit and close it with messages already written to it, and so taken off their queues
        for (const s of [...streams]) if (!s.behind && writable(s)) s.res.write('data: heartbeat\n\n');
        sweep();
        for (const s of [...streams]) catchUp(s);
    };
    const timer = setInterval(tick, heartbeatMs);
    // The bridge lives inside the app server: its heartbeat must not keep a finished process alive.
    timer.unref();

    const openStream = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void => {
        const raw = query.get('client_id');
        if (raw === null || raw === '') throw new HttpError(400, 'client_id is required (64-character hex client ids, comma-separated)');
        const ids = [...new Set(raw.split(',').map((id) => id.trim()))];
        if (ids.length > MAX_IDS_PER_STREAM)
            throw new HttpError(400, `at most ${MAX_IDS_PER_STREAM} client ids per stream, got ${ids.length}`);
        for (const id of ids) {
            if (!CLIENT_ID.test(id))
                throw new HttpError(400, `client_id must be 64-character hex client ids, got ${JSON.stringify(id.slice(0, 80))}`);
        }
        const lowered = [...new Set(ids.map((id) => id.toLowerCase()))];
        // The SDK passes the last id it saw as a parameter; an EventSource reconnecting on its own
        // sends the standard header instead.
        const last = query.get('last_event_id') ?? req.headers['last-event-id'];
        if (last !== undefined && (typeof last !== 'string' || !EVENT_ID.test(last))) {
            throw new HttpError(400, `last_event_id must be a decimal event id, got ${JSON.stringify(String(last).slice(0, 80))}`);
        }
        const after = last === undefined ? -1 : Number(last);

        // The oldest streams of each id that already has maxStreamsPerClient make way for this one,
        // and do not count against maxStreams.
        const replaced = new Set<Stream>();
        for (const id of lowered) {
            const open = [...(subscribers.get(id) ?? [])].filter((s) => !replaced.has(s));
            for (let i = 0; i <= open.length - maxStreamsPerClient; i++) replaced.add(open[i]);
        }
        if (streams.size - replaced.size >= maxStreams) {
            log({ event: 'bridge_streams_full', clients: lowered, maxStreams });
            throw new HttpError(503, `too many event streams open: this bridge serves at most ${maxStreams}`);
        }
        for (const s of replaced) {
            log({ event: 'bridge_stream_replaced', clients: s.ids, maxStreamsPerClient });
            cut(s);
        }

        res.writeHead(200, { ...CORS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        // The SDK's EventSource counts as open only once the headers arrive; with nothing queued
        // they would otherwise wait for the first event.
        res.flushHeaders();
        req.socket.setNoDelay(true);
        // An event stream is long-lived by design: no idle timeout may cut it.
        req.socket.setTimeout(0);
        const stream: Stream = { res, ids: lowered, after, behind: true };
        streams.add(stream);
        for (const id of lowered) {
            let set = subscribers.get(id);
            if (!set) subscribers.set(id, (set = new Set()));
            set.add(stream);
        }
        res.on('close', () => drop(stream));
        res.on('error', () => drop(stream));
        res.on('drain', () => catchUp(stream));

        // Queued messages go out now, in event-id order across the ids, as far as the stream's buffer
        // takes them, and leave their queues. Those at or below `last_event_id` the client says it
        // has: they are not sent again.
        catchUp(stream);
    };

    const postMessage = async (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> => {
        const from = clientIdParam(query, 'client_id');
        const to = clientIdParam(query, 'to');
        const ttlRaw = query.get('ttl');
        if (ttlRaw === null || ttlRaw === '') throw new HttpError(400, `ttl is required (whole seconds from 1 to ${maxTtlSeconds})`);
        const ttl = /^\d{1,9}$/.test(ttlRaw) ? Number(ttlRaw) : NaN;
        if (!Number.isInteger(ttl) || ttl < 1) {
            throw new HttpError(400, `ttl must be whole seconds from 1 to ${maxTtlSeconds}, got ${JSON.stringify(ttlRaw.slice(0, 80))}`);
        }
        if (ttl > maxTtlSeconds) throw new HttpError(400, `ttl too high: ${ttl} s, this bridge keeps messages at most ${maxTtlSeconds} s`);
        const traceId = query.get('trace_id') ?? undefined;
        if (traceId !== undefined && traceId.length > MAX_TRACE_ID)
            throw new HttpError(400, `trace_id must be at most ${MAX_TRACE_ID} characters`);

        const body = (await readBody(req, maxMessageBytes)).trim();
        if (closed) throw new HttpError(503, 'the bridge is closed');
        if (body === '') throw new HttpError(400, 'empty message: the body must be the base64 of the encrypted message');
        if (!BASE64.test(body)) throw new HttpError(400, 'message body is not base64 (standard alphabet, with padding)');

        const m: Message = {
            id: ++lastEventId,
            from,
            to,
            message: body,
            bytes: Buffer.byteLength(body),
            traceId,
            expiresAt: now() + ttl * 1000,
        };
        // Written at once to every stream of the recipient that keeps up; queued if none took it, or
        // if one is still catching up on older messages (it gets this one after them).
        let delivered = false;
        let waiting = false;
        const open = subscribers.get(to);
        if (open) {
            const event = eventOf(m);
            for (const s of [...open]) {
                if (!writable(s)) continue;
                if (s.behind) {
                    waiting = true;
                } else {
                    s.res.write(event);
                    delivered = true;
                }
            }
        }
        if (!delivered || waiting) {
            if (m.bytes <= maxQueuedBytes) enqueue(m);
            else if (!delivered) {
                throw new HttpError(
                    503,
                    `no stream of the recipient takes it now and the message (${m.bytes} bytes) is larger than this bridge's whole queue (${maxQueuedBytes} bytes)`,
                );
            }
        }
        sendJson(res, 200, { message: 'OK', statusCode: 200 });
    };

    const fail = (res: ServerResponse, e: unknown): void => {
        const status = e instanceof HttpError ? e.status : 500;
        const message = e instanceof Error ? e.message : String(e);
        if (!(e instanceof HttpError)) log({ event: 'bridge_error', error: message });
        if (res.headersSent) res.destroy();
        else if (!res.destroyed) sendJson(res, status, { error: message, statusCode: status });
    };

    const handle = (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void => {
        // An upload cut off midway must not become an unhandled 'error' event in the server.
        req.on('error', () => undefined);
        try {
            if (closed) throw new HttpError(503, 'the bridge is closed');
            const route = path === '/events' ? 'GET' : path === '/message' ? 'POST' : undefined;
            if (route === undefined) throw new HttpError(404, `no such bridge endpoint: ${path} (there are /events and /message)`);
            if (req.method === 'OPTIONS') {
                res.writeHead(204, {
                    ...CORS,
                    'access-control-allow-methods': 'GET, POST, OPTIONS',
                    'access-control-allow-headers': 'content-type',
                    'access-control-max-age': '86400',
                });
                res.end();
                return;
            }
            if (req.method !== route) {
                res.setHeader('allow', `${route}, OPTIONS`);
                throw new HttpError(405, `${req.method} is not served on ${path}: use ${route}`);
            }
            if (route === 'GET') openStream(req, res, query);
            else postMessage(req, res, query).catch((e: unknown) => fail(res, e));
        } catch (e) {
            fail(res, e);
        }
    };

    return {
        handle,
        stats: () => ({ streams: streams.size, queues: queues.size, queued: queued.size, queuedBytes }),
        close: () => {
            closed = true;
            clearInterval(timer);
            for (const s of [...streams]) {
                drop(s);
                s.res.end();
            }
            queues.clear();
            queued.clear();
            queuedBytes = 0;
        },
    };
}
