/**
 * The local TON Connect HTTP bridge (app/bridge.ts) over real HTTP: a plain node server mounts it
 * under /bridge as the app server does, and the tests talk to it with fetch and a small SSE reader.
 * The last block runs the TON Connect SDK the page uses (@tonconnect/sdk 3.4.1, as re-exported by
 * @tonconnect/ui) against it, with a wallet built from @tonconnect/protocol's SessionCrypto.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ClientRequest, createServer, IncomingMessage, request, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Address, beginCell } from '@ton/core';
import { Base64, hexToByteArray, SessionCrypto } from '@tonconnect/protocol';
import { TonConnect } from '@tonconnect/ui';
import { Bridge, BridgeOptionError, BridgeOptions, createBridge } from '../app/bridge';

/** A fresh client id: a party's X25519 public key in hex, as SessionCrypto makes it. */
const clientId = (): string => randomBytes(32).toString('hex');
/** Some base64 to send: the bridge forwards it without looking inside. */
const payload = (text: string): string => Buffer.from(text).toString('base64');

/** The app name of the wallet the end-to-end test plays. */
const TEST_WALLET = 'fog-test-wallet';

/**
 * The wallets list (github.com/ton-blockchain/wallets-list format) the SDK reads in the end-to-end
 * test: the test wallet, on this bridge. The SDK looks a connected wallet up in it by app name and
 * moves the session to the listed bridge when it differs, and without a list it would fetch
 * config.ton.org's.
 */
function walletsList(bridgeUrl: string): object[] {
    return [
        {
            name: 'Fog test wallet',
            app_name: TEST_WALLET,
            image: 'http://127.0.0.1/wallet.png',
            about_url: 'http://127.0.0.1/',
            universal_url: 'https://wallet.example/ton-connect',
            bridge: [{ type: 'sse', url: bridgeUrl }],
            platforms: ['linux'],
        },
    ];
}
interface Mounted {
    /** The bridge's URL, as a wallet's `bridge.url` would name it. */
    url: string;
    bridge: Bridge;
    close(): Promise<void>;
}

/** A node server on a free port that hands every path under /bridge to a new bridge. */
async function mount(options?: BridgeOptions): Promise<Mounted> {
    const bridge = createBridge(options);
    const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname === '/bridge' || url.pathname.startsWith('/bridge/')) {
            bridge.handle(req, res, url.pathname.slice('/bridge'.length), url.searchParams);
        } else if (url.pathname === '/wallets-v2.json') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(walletsList(`${origin}/bridge`)));
        } else {
            res.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url: `${origin}/bridge`,
        bridge,
        close: () => {
            bridge.close();
            server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}

/** Starts a bridge before the tests of the enclosing block and closes it after them. */
function useBridge(options?: BridgeOptions): () => Mounted {
    let mounted: Mounted | undefined;
    beforeAll(async () => {
        mounted = await mount(options);
    });
    afterAll(async () => mounted?.close());
    return () => mounted!;
}

/** Resolves once `check` holds, polling every few ms; fails after two seconds. */
async function until(check: () => boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 2000; !check();) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
    }
}

interface SseEvent {
    /** The `id:` field, '' when the event has none. */
    id: string;
    data: string;
}

interface BridgeEvent {
    id: string;
    from: string;
    message: string;
    trace_id?: string;
}

/** An SSE client over fetch's body stream: enough of the EventSource format for the bridge. */
class EventStream {
    private readonly events: SseEvent[] = [];
    private wake: (() => void) | undefined;
    private ended = false;

    private constructor(
        readonly response: Response,
        private readonly abort: AbortController,
    ) {
        void this.pump();
    }

    static async open(base: string, ids: string[], lastEventId?: string): Promise<EventStream> {
        const url = new URL(`${base}/events`);
        url.searchParams.set('client_id', ids.join(','));
        if (lastEventId !== undefined) url.searchParams.set('last_event_id', lastEventId);
        const abort = new AbortController();
        const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
        expect(response.status).toBe(200);
        return new EventStream(response, abort);
    }

    private async pump(): Promise<void> {
        const decoder = new TextDecoder();
        let buffer = '';
        try {
            for await (const chunk of this.response.body!) {
                buffer += decoder.decode(chunk as Uint8Array, { stream: true });
                for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
                    const event: SseEvent = { id: '', data: '' };
                    const data: string[] = [];
                    for (const line of buffer.slice(0, end).split('\n')) {
                        if (line.startsWith(':')) continue;
                        const colon = line.indexOf(':');
                        const field = colon < 0 ? line : line.slice(0, colon);
                        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
                        if (field === 'id') event.id = value;
                        else if (field === 'data') data.push(value);
                    }
                    event.data = data.join('\n');
                    this.events.push(event);
                    buffer = buffer.slice(end + 2);
                }
                this.wake?.();
            }
        } catch {
            // aborted by close(): the stream simply ends
        }
        this.ended = true;
        this.wake?.();
    }

    /** The next event, heartbeats included; fails if none comes within `ms` or the stream ends. */
    async next(ms = 2000): Promise<SseEvent> {
        const deadline = Date.now() + ms;
        while (this.events.length === 0) {
            if (this.ended) throw new Error('the event stream ended');
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no event within ${ms} ms`);
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
                this.wake = resolve;
                timer = setTimeout(resolve, left);
            });
            clearTimeout(timer);
            this.wake = undefined;
        }
        return this.events.shift()!;
    }

    /** The next bridge message (heartbeats skipped), parsed. */
    async message(ms = 2000): Promise<BridgeEvent> {
        for (;;) {
            const event = await this.next(ms);
            if (event.data === 'heartbeat') continue;
            expect(event.id).toMatch(/^\d+$/);
            return { id: event.id, ...(JSON.parse(event.data) as Omit<BridgeEvent, 'id'>) };
        }
    }

    /** Resolves when the server has ended the stream. */
    async end(): Promise<void> {
        await until(() => this.ended, 'the stream to end');
    }

    close(): void {
        this.abort.abort();
    }
}

/** `{ message: 'OK', statusCode: 200 }`, or `{ error, statusCode }` for a refusal. */
interface BridgeAnswer {
    message?: string;
    error?: string;
    statusCode?: number;
}

/** POSTs a message as the SDK does; answers the status and the JSON body. */
async function post(
    base: string,
    params: Record<string, string>,
    body: string,
): Promise<{ status: number; json: BridgeAnswer; cors: string | null }> {
    const url = new URL(`${base}/message`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url, { method: 'POST', body });
    return { status: res.status, json: (await res.json()) as BridgeAnswer, cors: res.headers.get('access-control-allow-origin') };
}

async function send(base: string, from: string, to: string, message: string, extra: Record<string, string> = {}): Promise<void> {
    const res = await post(base, { client_id: from, to, ttl: '300', ...extra }, message);
    expect(res).toEqual({ status: 200, json: { message: 'OK', statusCode: 200 }, cors: '*' });
}

/**
 * Asserts that nothing more is waiting for `stream`'s client: a marker posted now is the very next
 * message, so nothing earlier was still queued or in flight. No sleeping and hoping.
 */
async function expectNothingBefore(base: string, stream: EventStream, to: string): Promise<void> {
    const marker = payload(`marker ${clientId()}`);
    await send(base, clientId(), to, marker);
    expect((await stream.message()).message).toBe(marker);
}

describe('a message posted before its recipient listens', () => {
    const b = useBridge();

    it('is delivered when the recipient connects, with its sender and body, and then is gone', async () => {
        const [wallet, app] = [clientId(), clientId()];
        const message = payload('connect event');
        await send(b().url, wallet, app, message, { topic: 'sendTransaction' });
        expect(b().bridge.stats()).toMatchObject({ queues: 1, queued: 1 });

        const stream = await EventStream.open(b().url, [app]);
        expect(stream.response.headers.get('content-type')).toBe('text/event-stream');
        expect(stream.response.headers.get('cache-control')).toBe('no-cache');
        expect(stream.response.headers.get('access-control-allow-origin')).toBe('*');
        const got = await stream.message();
        expect(got).toEqual({ id: expect.stringMatching(/^\d+$/), from: wallet, message });
        // removed as soon as it was written to the recipient's stream
        expect(b().bridge.stats()).toMatchObject({ queues: 0, queued: 0 });
        stream.close();
        await until(() => b().bridge.stats().streams === 0, 'the closed stream to be dropped');

        // not again on a reconnect that names the last event id the client saw ...
        const again = await EventStream.open(b().url, [app], got.id);
        await expectNothingBefore(b().url, again, app);
        again.close();
        // ... nor on a fresh stream that names none
        const fresh = await EventStream.open(b().url, [app]);
        await expectNothingBefore(b().url, fresh, app);
        fresh.close();
    });

    it('reaches a reconnecting client after its last event id, in the order they were sent', async () => {
        const [wallet, app] = [clientId(), clientId()];
        const first = await EventStream.open(b().url, [app]);
        await send(b().url, wallet, app, payload('one'));
        const one = await first.message();
        first.close();
        await until(() => b().bridge.stats().streams === 0, 'the closed stream to be dropped');

        await send(b().url, wallet, app, payload('two'));
        await send(b().url, wallet, app, payload('three'), { trace_id: '0190e7a1-2b3c-7def-8123-456789abcdef' });
        const second = await EventStream.open(b().url, [app], one.id);
        const two = await second.message();
        const three = await second.message();
        expect([two.message, three.message]).toEqual([payload('two'), payload('three')]);
        expect(Number(two.id)).toBeGreaterThan(Number(one.id));
        expect(Number(three.id)).toBeGreaterThan(Number(two.id));
        // the SDK ties the wallet's answer to its request's trace through this field
        expect(three.trace_id).toBe('0190e7a1-2b3c-7def-8123-456789abcdef');
        expect(two.trace_id).toBeUndefined();
        second.close();
    });
});

describe('a message to a listening client', () => {
    const b = useBridge();

    it('arrives at once, on every open stream of the recipient', async () => {
        const [wallet, app] = [clientId(), clientId()];
        const tab1 = await EventStream.open(b().url, [app]);
        const tab2 = await EventStream.open(b().url, [app]);
        await send(b().url, wallet, app, payload('live'));
        expect(await tab1.message()).toMatchObject({ from: wallet, message: payload('live') });
        expect(await tab2.message()).toMatchObject({ from: wallet, message: payload('live') });
        // delivered, so not kept for later
        expect(b().bridge.stats().queued).toBe(0);
        tab1.close();
        tab2.close();
    });

    it('reaches a stream that listens on several ids, for each of them', async () => {
        const [wallet, app1, app2] = [clientId(), clientId(), clientId()];
        // one id already has a message waiting; the other gets one live
        await send(b().url, wallet, app1, payload('for app1'));
        const stream = await EventStream.open(b().url, [app1, app2.toUpperCase()]);
        expect(await stream.message()).toMatchObject({ from: wallet, message: payload('for app1') });
        await send(b().url, wallet, app2, payload('for app2'));
        expect(await stream.message()).toMatchObject({ from: wallet, message: payload('for app2') });
        stream.close();
    });

    it('is queued instead once the client has closed its socket', async () => {
        const [wallet, app] = [clientId(), clientId()];
        await until(() => b().bridge.stats().streams === 0, "the earlier tests' streams to be dropped");
        const gone = await EventStream.open(b().url, [app]);
        expect(b().bridge.stats().streams).toBe(1);
        gone.close();
        await until(() => b().bridge.stats().streams === 0, 'the closed stream to be dropped');
        await send(b().url, wallet, app, payload('kept'));
        expect(b().bridge.stats().queued).toBe(1);
        const back = await EventStream.open(b().url, [app]);
        expect(await back.message()).toMatchObject({ message: payload('kept') });
        back.close();
    });
});

describe('TTL', () => {
    let clock = 1_700_000_000_000;
    const b = useBridge({ now: () => clock });

    it('a message whose TTL has passed is never delivered; one still within it is', async () => {
        const [wallet, app] = [clientId(), clientId()];
        await send(b().url, wallet, app, payload('short'), { ttl: '2' });
        await send(b().url, wallet, app, payload('long'), { ttl: '3' });
        clock += 2000;
        const stream = await EventStream.open(b().url, [app]);
        expect((await stream.message()).message).toBe(payload('long'));
        // the expired one left its queue, and the byte budget, with the delivered one
        expect(b().bridge.stats()).toMatchObject({ queues: 0, queued: 0, queuedBytes: 0 });
        await expectNothingBefore(b().url, stream, app);
        stream.close();
    });
});

describe('bounds', () => {
    const b = useBridge({ maxQueuedPerClient: 3, maxClients: 2 });

    it('keeps only the newest maxQueuedPerClient messages for a recipient', async () => {
        const [wallet, app] = [clientId(), clientId()];
        for (let i = 1; i <= 5; i++) await send(b().url, wallet, app, payload(`m${i}`));
        expect(b().bridge.stats().queued).toBe(3);
        const stream = await EventStream.open(b().url, [app]);
        for (const i of [3, 4, 5]) expect((await stream.message()).message).toBe(payload(`m${i}`));
        await expectNothingBefore(b().url, stream, app);
        stream.close();
    });

    it('keeps at most maxClients queues, dropping the least recently written', async () => {
        const [wallet, app1, app2, app3] = [clientId(), clientId(), clientId(), clientId()];
        await send(b().url, wallet, app1, payload('to 1'));
        await send(b().url, wallet, app2, payload('to 2'));
        await send(b().url, wallet, app3, payload('to 3'));
        expect(b().bridge.stats().queues).toBe(2);
        const s1 = await EventStream.open(b().url, [app1]);
        await expectNothingBefore(b().url, s1, app1);
        s1.close();
        const s23 = await EventStream.open(b().url, [app2, app3]);
        expect((await s23.message()).message).toBe(payload('to 2'));
        expect((await s23.message()).message).toBe(payload('to 3'));
        s23.close();
    });
});

describe('refused requests', () => {
    const b = useBridge({ maxMessageBytes: 1024 });
    const [a, c] = [clientId(), clientId()];
    const ok = { client_id: a, to: c, ttl: '300' };

    it.each<[string, Record<string, string>, string, number, RegExp]>([
        ['no client_id', { to: c, ttl: '300' }, payload('x'), 400, /client_id is required/],
        ['a short client_id', { ...ok, client_id: 'abc123' }, payload('x'), 400, /client_id must be a 64-character hex/],
        ['a non-hex client_id', { ...ok, client_id: 'z'.repeat(64) }, payload('x'), 400, /client_id must be a 64-character hex/],
        ['no to', { client_id: a, ttl: '300' }, payload('x'), 400, /to is required/],
        ['two recipients', { ...ok, to: `${c},${a}` }, payload('x'), 400, /to must be a 64-character hex/],
        ['no ttl', { client_id: a, to: c }, payload('x'), 400, /ttl is required/],
        ['ttl 0', { ...ok, ttl: '0' }, payload('x'), 400, /ttl must be whole seconds from 1 to 300/],
        ['ttl 301', { ...ok, ttl: '301' }, payload('x'), 400, /ttl too high/],
        ['ttl x', { ...ok, ttl: 'x' }, payload('x'), 400, /ttl must be whole seconds/],
        ['ttl 1.5', { ...ok, ttl: '1.5' }, payload('x'), 400, /ttl must be whole seconds/],
        ['an empty body', ok, '', 400, /empty message/],
        ['a body that is not base64', ok, 'not base64!', 400, /not base64/],
        ['base64 without its padding', ok, 'aGk', 400, /not base64/],
        ['a body over maxMessageBytes', ok, 'A'.repeat(1028), 413, /larger than 1024 bytes/],
    ])('POST /message with %s', async (_what, params, body, status, reason) => {
        const res = await post(b().url, params, body);
        expect(res.status).toBe(status);
        expect(res.json).toEqual({ error: expect.stringMatching(reason), statusCode: status });
        expect(res.cors).toBe('*');
    });

    it('refuses a body over the limit sent in chunks, without a length up front', async () => {
        const url = new URL(`${b().url}/message?client_id=${a}&to=${c}&ttl=300`);
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = request(url, { method: 'POST' }, (res) => {
                let body = '';
                res.setEncoding('utf-8');
                res.on('data', (chunk: string) => (body += chunk));
                res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on('error', reject);
            for (let i = 0; i < 8; i++) req.write('A'.repeat(256));
            req.end();
        });
        expect(answer.status).toBe(413);
        expect(JSON.parse(answer.body)).toEqual({ error: 'message body is larger than 1024 bytes', statusCode: 413 });
    });

    it.each<[string, string, string, number, RegExp]>([
        ['GET /events without client_id', 'GET', '/events', 400, /client_id is required/],
        ['GET /events with a bad id', 'GET', `/events?client_id=${a},nope`, 400, /"nope"/],
        [
            'GET /events with 11 ids',
            'GET',
            `/events?client_id=${Array.from({ length: 11 }, clientId).join(',')}`,
            400,
            /at most 10 client ids/,
        ],
        ['GET /events with a bad last_event_id', 'GET', `/events?client_id=${a}&last_event_id=-1`, 400, /last_event_id must be a decimal/],
        ['an unknown path', 'GET', '/nope', 404, /no such bridge endpoint: \/nope/],
        ['GET /message', 'GET', '/message', 405, /GET is not served on \/message: use POST/],
        ['POST /events', 'POST', `/events?client_id=${a}`, 405, /POST is not served on \/events: use GET/],
        ['PUT /message', 'PUT', '/message', 405, /PUT is not served/],
    ])('%s', async (_what, method, path, status, reason) => {
        const res = await fetch(`${b().url}${path}`, { method });
        expect(res.status).toBe(status);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(await res.json()).toEqual({ error: expect.stringMatching(reason), statusCode: status });
    });

    it.each(['/events', '/message'])('answers a CORS preflight on %s', async (path) => {
        const res = await fetch(`${b().url}${path}`, {
            method: 'OPTIONS',
            headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
        expect(res.headers.get('access-control-allow-headers')).toBe('content-type');
    });

    it('keeps serving after all of that', async () => {
        const stream = await EventStream.open(b().url, [c]);
        await send(b().url, a, c, payload('still here'));
        expect(await stream.message()).toMatchObject({ from: a, message: payload('still here') });
        stream.close();
    });
});

/** A base64 body of exactly `bytes` bytes (a multiple of 4), all `letter`. */
const sized = (bytes: number, letter: string): string => letter.repeat(bytes);

describe('the byte budget of all queues', () => {
    const b = useBridge({ maxQueuedBytes: 1000, maxMessageBytes: 2000, maxQueuedPerClient: 2, maxClients: 3 });

    it('evicts the oldest queued messages, whoever they are for, to make room for a new one', async () => {
        const [wallet, app1, app2, app3] = [clientId(), clientId(), clientId(), clientId()];
        await send(b().url, wallet, app1, sized(400, 'A'));
        await send(b().url, wallet, app2, sized(200, 'B'));
        await send(b().url, wallet, app1, sized(200, 'C'));
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 2, queued: 3, queuedBytes: 800 });
        // 800 + 500 would pass 1000: the oldest (app1's A) goes, not app1's newer C
        await send(b().url, wallet, app3, sized(500, 'D'));
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 3, queued: 3, queuedBytes: 900 });
        // 900 + 100 is exactly the budget: nothing goes
        await send(b().url, wallet, app3, sized(100, 'E'));
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 3, queued: 4, queuedBytes: 1000 });
        // 1000 + 300: B and then C go, the oldest first, and app1's and app2's queues with them
        await send(b().url, wallet, app2, sized(300, 'F'));
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 2, queued: 3, queuedBytes: 900 });

        const s1 = await EventStream.open(b().url, [app1]);
        await expectNothingBefore(b().url, s1, app1);
        const s23 = await EventStream.open(b().url, [app2, app3]);
        expect((await s23.message()).message).toBe(sized(500, 'D'));
        expect((await s23.message()).message).toBe(sized(100, 'E'));
        expect((await s23.message()).message).toBe(sized(300, 'F'));
        // delivered: the budget is all free again
        expect(b().bridge.stats()).toEqual({ streams: 2, queues: 0, queued: 0, queuedBytes: 0 });
        s1.close();
        s23.close();
        await until(() => b().bridge.stats().streams === 0, 'the closed streams to be dropped');
    });

    it("counts off a recipient's dropped messages and a dropped queue", async () => {
        const [wallet, app, x, y, z] = [clientId(), clientId(), clientId(), clientId(), clientId()];
        for (const letter of ['A', 'B', 'C']) await send(b().url, wallet, app, sized(100, letter));
        // maxQueuedPerClient 2: A is gone
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 1, queued: 2, queuedBytes: 200 });
        for (const to of [x, y, z]) await send(b().url, wallet, to, sized(40, 'X'));
        // maxClients 3: app's queue, the least recently written, is gone with both its messages
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 3, queued: 3, queuedBytes: 120 });
        const stream = await EventStream.open(b().url, [app, x, y, z]);
        for (let i = 0; i < 3; i++) expect((await stream.message()).message).toBe(sized(40, 'X'));
        expect(b().bridge.stats()).toMatchObject({ queues: 0, queued: 0, queuedBytes: 0 });
        stream.close();
        await until(() => b().bridge.stats().streams === 0, 'the closed stream to be dropped');
    });

    it('refuses (503) a message larger than the whole budget that no stream takes, evicting nothing', async () => {
        const [wallet, app, listening] = [clientId(), clientId(), clientId()];
        await send(b().url, wallet, app, sized(100, 'A'));
        const big = sized(1200, 'B');
        const res = await post(b().url, { client_id: wallet, to: app, ttl: '300' }, big);
        expect(res).toEqual({
            status: 503,
            json: {
                error: expect.stringMatching(/message \(1200 bytes\) is larger than this bridge's whole queue \(1000 bytes\)/),
                statusCode: 503,
            },
            cors: '*',
        });
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 1, queued: 1, queuedBytes: 100 });
        // a recipient listening now takes it all the same: it is never queued
        const stream = await EventStream.open(b().url, [listening]);
        await send(b().url, wallet, listening, big);
        expect((await stream.message()).message).toBe(big);
        stream.close();
        const later = await EventStream.open(b().url, [app]);
        expect((await later.message()).message).toBe(sized(100, 'A'));
        expect(b().bridge.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
        later.close();
    });
});

describe('the byte budget and expiry', () => {
    let clock = 1_700_000_000_000;
    const b = useBridge({ now: () => clock, heartbeatMs: 20 });

    it('gets back the bytes of messages whose TTL passed when the queues are swept', async () => {
        const [wallet, app1, app2] = [clientId(), clientId(), clientId()];
        await send(b().url, wallet, app1, sized(300, 'A'), { ttl: '1' });
        await send(b().url, wallet, app2, sized(200, 'B'), { ttl: '5' });
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 2, queued: 2, queuedBytes: 500 });
        clock += 1000;
        await until(() => b().bridge.stats().queuedBytes === 200, "the sweep to drop app1's message");
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 1, queued: 1, queuedBytes: 200 });
        clock += 4000;
        await until(() => b().bridge.stats().queuedBytes === 0, "the sweep to drop app2's message");
        expect(b().bridge.stats()).toEqual({ streams: 0, queues: 0, queued: 0, queuedBytes: 0 });
    });
});

describe('the number of streams', () => {
    it('closes the oldest stream of a client id that already has maxStreamsPerClient', async () => {
        const events: Record<string, unknown>[] = [];
        const m = await mount({ maxStreamsPerClient: 2, log: (e) => events.push(e) });
        try {
            const [wallet, app, other] = [clientId(), clientId(), clientId()];
            const onOther = await EventStream.open(m.url, [other]);
            const s1 = await EventStream.open(m.url, [app]);
            const s2 = await EventStream.open(m.url, [app]);
            const s3 = await EventStream.open(m.url, [other, app]);
            await s1.end();
            expect(events).toEqual([{ event: 'bridge_stream_replaced', clients: [app], maxStreamsPerClient: 2 }]);
            // `other` has two now, which is allowed: onOther stays
            expect(m.bridge.stats().streams).toBe(3);
            await send(m.url, wallet, app, payload('to app'));
            expect(await s2.message()).toMatchObject({ message: payload('to app') });
            expect(await s3.message()).toMatchObject({ message: payload('to app') });
            await send(m.url, wallet, other, payload('to other'));
            expect(await onOther.message()).toMatchObject({ message: payload('to other') });
            expect(await s3.message()).toMatchObject({ message: payload('to other') });
            for (const s of [onOther, s2, s3]) s.close();
        } finally {
            await m.close();
        }
    });

    it('answers 503 beyond maxStreams, and opens streams again once one closes', async () => {
        const m = await mount({ maxStreams: 2, maxStreamsPerClient: 1 });
        try {
            const [x, y, z] = [clientId(), clientId(), clientId()];
            const onX = await EventStream.open(m.url, [x]);
            const onY = await EventStream.open(m.url, [y]);
            const refused = await fetch(`${m.url}/events?client_id=${z}`);
            expect(refused.status).toBe(503);
            expect(refused.headers.get('content-type')).toBe('application/json');
            expect(await refused.json()).toEqual({
                error: 'too many event streams open: this bridge serves at most 2',
                statusCode: 503,
            });
            // one more on x takes the place of x's older one rather than being refused
            const onX2 = await EventStream.open(m.url, [x]);
            await onX.end();
            expect(m.bridge.stats().streams).toBe(2);
            onY.close();
            await until(() => m.bridge.stats().streams === 1, 'the closed stream to be dropped');
            const onZ = await EventStream.open(m.url, [z]);
            await expectNothingBefore(m.url, onZ, z);
            onX2.close();
            onZ.close();
        } finally {
            await m.close();
        }
    });
});

/** Opens an event stream whose reader never reads: its response is paused as soon as it starts. */
function openStuck(base: string, id: string): Promise<ClientRequest> {
    return new Promise((resolve, reject) => {
        const req = request(`${base}/events?client_id=${id}`, (res) => {
            res.pause();
            res.on('error', () => undefined);
            resolve(req);
        });
        req.on('error', reject);
        req.end();
    });
}

/**
 * The response of an event stream whose connection sends nothing until the test says so: every
 * write stays counted in `writableLength`, as when the reader has stopped and the kernel's buffers
 * are full. It stands in for the ServerResponse of `bridge.handle`, so that the test decides when
 * the socket drains.
 */
class HeldResponse extends EventEmitter {
    readonly written: string[] = [];
    writableLength = 0;
    destroyed = false;
    writableEnded = false;
    headersSent = false;

    writeHead(): this {
        this.headersSent = true;
        return this;
    }
    flushHeaders = (): void => undefined;
    setHeader = (): void => undefined;
    write(chunk: string): boolean {
        this.written.push(chunk);
        this.writableLength += Buffer.byteLength(chunk);
        return this.writableLength < 16 * 1024;
    }
    end(): void {
        this.writableEnded = true;
    }
    destroy(): void {
        this.destroyed = true;
        this.emit('close');
    }
    /** The socket sends everything it holds, and says so. */
    drain(): void {
        this.writableLength = 0;
        this.emit('drain');
    }
    /** The bodies of the messages written since the last call, in order (heartbeats left out). */
    take(): string[] {
        const events = this.written.splice(0).filter((e) => e.startsWith('id: '));
        return events.map((e) => (JSON.parse(/^data: (.*)$/m.exec(e)![1]) as { message: string }).message);
    }
}

function openHeld(bridge: Bridge, ids: string[]): HeldResponse {
    const res = new HeldResponse();
    const req = Object.assign(new EventEmitter(), {
        method: 'GET',
        headers: {},
        socket: { setNoDelay: () => undefined, setTimeout: () => undefined },
    });
    bridge.handle(
        req as unknown as IncomingMessage,
        res as unknown as ServerResponse,
        '/events',
        new URLSearchParams({ client_id: ids.join(',') }),
    );
    return res;
}

describe('a stream that does not keep up', () => {
    it('is closed once its unsent buffer passes maxStreamBacklogBytes, the message that found it so staying queued', async () => {
        const events: Record<string, unknown>[] = [];
        const m = await mount({ maxStreamBacklogBytes: 64 * 1024, log: (e) => events.push(e) });
        try {
            const [wallet, app] = [clientId(), clientId()];
            const stuck = await openStuck(m.url, app);
            expect(m.bridge.stats().streams).toBe(1);
            // The kernel's socket buffers take the first few MB; past them the bridge's own buffer grows.
            const big = sized(60_000, 'A');
            for (let sent = 0; m.bridge.stats().streams > 0 && sent < 2000; sent++) await send(m.url, wallet, app, big);
            expect(m.bridge.stats()).toEqual({ streams: 0, queues: 1, queued: 1, queuedBytes: 60_000 });
            expect(events).toContainEqual(
                expect.objectContaining({ event: 'bridge_stream_stalled', clients: [app], maxStreamBacklogBytes: 65536 }),
            );
            const fresh = await EventStream.open(m.url, [app]);
            expect((await fresh.message()).message).toBe(big);
            expect(m.bridge.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
            fresh.close();
            stuck.destroy();
        } finally {
            await m.close();
        }
    });

    it('gets its queued messages only as its buffer drains, and new ones behind them', async () => {
        // Each event of a 400-byte body is 517 bytes: two fit under 1200.
        const m = await mount({ maxStreamBacklogBytes: 1200 });
        try {
            const [wallet, app] = [clientId(), clientId()];
            const bodies = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((letter) => sized(400, letter));
            for (const body of bodies.slice(0, 5)) await send(m.url, wallet, app, body);
            const held = openHeld(m.bridge, [app]);
            expect(held.take()).toEqual(bodies.slice(0, 2));
            expect(m.bridge.stats()).toEqual({ streams: 1, queues: 1, queued: 3, queuedBytes: 1200 });
            // a message posted now waits behind the three rather than overtaking them
            await send(m.url, wallet, app, bodies[5]);
            expect(held.take()).toEqual([]);
            expect(m.bridge.stats()).toMatchObject({ queued: 4, queuedBytes: 1600 });
            held.drain();
            expect(held.take()).toEqual(bodies.slice(2, 4));
            held.drain();
            expect(held.take()).toEqual(bodies.slice(4, 6));
            expect(m.bridge.stats()).toEqual({ streams: 1, queues: 0, queued: 0, queuedBytes: 0 });
            // nothing pending: a message goes straight out, though it takes the buffer past the limit ...
            await send(m.url, wallet, app, bodies[6]);
            expect(held.take()).toEqual([bodies[6]]);
            expect(held.writableLength).toBeGreaterThan(1200);
            // ... and the next finds the stream behind: it is closed and the message queued
            await send(m.url, wallet, app, bodies[7]);
            expect(held.destroyed).toBe(true);
            expect(held.take()).toEqual([]);
            expect(m.bridge.stats()).toEqual({ streams: 0, queues: 1, queued: 1, queuedBytes: 400 });
        } finally {
            await m.close();
        }
    });
});

describe('heartbeats and shutdown', () => {
    let mounted: Mounted;
    beforeAll(async () => {
        mounted = await mount({ heartbeatMs: 30 });
    });
    afterAll(() => mounted.close());

    it('sends `data: heartbeat` on every stream, then ends the streams and refuses requests on close()', async () => {
        const stream = await EventStream.open(mounted.url, [clientId()]);
        for (let i = 0; i < 2; i++) expect(await stream.next()).toEqual({ id: '', data: 'heartbeat' });
        mounted.bridge.close();
        await stream.end();
        expect(mounted.bridge.stats()).toEqual({ streams: 0, queues: 0, queued: 0, queuedBytes: 0 });
        const res = await post(mounted.url, { client_id: clientId(), to: clientId(), ttl: '300' }, payload('late'));
        expect(res).toMatchObject({ status: 503, json: { error: 'the bridge is closed', statusCode: 503 } });
    });
});

describe('options', () => {
    it.each<[BridgeOptions, string]>([
        [{ heartbeatMs: 0 }, 'heartbeatMs must be a whole number ≥ 1, got 0'],
        [{ maxTtlSeconds: 1.5 }, 'maxTtlSeconds must be a whole number ≥ 1, got 1.5'],
        [{ maxQueuedPerClient: -1 }, 'maxQueuedPerClient must be a whole number ≥ 1, got -1'],
        [{ maxQueuedBytes: 0 }, 'maxQueuedBytes must be a whole number ≥ 1, got 0'],
        [{ maxStreamsPerClient: 0 }, 'maxStreamsPerClient must be a whole number ≥ 1, got 0'],
        [{ maxStreams: 2.5 }, 'maxStreams must be a whole number ≥ 1, got 2.5'],
        [{ maxStreamBacklogBytes: 0 }, 'maxStreamBacklogBytes must be a whole number ≥ 1, got 0'],
    ])('refuses %p', (options, message) => {
        expect(() => createBridge(options)).toThrow(new BridgeOptionError(message));
    });
});

describe('with the TON Connect SDK', () => {
    const b = useBridge();

    it('carries a message sealed by one SessionCrypto and posted as the SDK posts it to the other', async () => {
        const [app, wallet] = [new SessionCrypto(), new SessionCrypto()];
        const stream = await EventStream.open(b().url, [wallet.sessionId]);
        const request = { method: 'sendTransaction', params: [JSON.stringify({ valid_until: 1, messages: [] })], id: '0' };
        // BridgeGateway.send: the sealed bytes as base64 text, ttl 300, the RPC method as topic
        const sealed = app.encrypt(JSON.stringify(request), hexToByteArray(wallet.sessionId));
        await send(b().url, app.sessionId, wallet.sessionId, Base64.encode(sealed), { topic: 'sendTransaction' });

        const got = await stream.message();
        expect(got.from).toBe(app.sessionId);
        const opened = wallet.decrypt(Base64.decode(got.message).toUint8Array(), hexToByteArray(got.from));
        expect(JSON.parse(opened)).toEqual(request);
        stream.close();
    });

    it('connects the SDK to a wallet, has a transaction signed and is disconnected, all through the bridge', async () => {
        // The SDK logs every message it handles at debug level; the test needs none of it.
        const quiet = jest.spyOn(console, 'debug').mockImplementation(() => undefined);
        const stored = new Map<string, string>();
        const connector = new TonConnect({
            manifestUrl: 'http://127.0.0.1/tonconnect-manifest.json',
            walletsListSource: b().url.replace(/\/bridge$/, '/wallets-v2.json'),
            storage: {
                setItem: async (k, v) => void stored.set(k, v),
                getItem: async (k) => stored.get(k) ?? null,
                removeItem: async (k) => void stored.delete(k),
            },
            // no telemetry to ton.org, no window to dispatch DOM events on, no focus to track
            analytics: { mode: 'off' },
            eventDispatcher: { dispatchEvent: async () => undefined, addEventListener: async () => () => undefined },
            disableAutoPauseConnection: true,
        });
        try {
            const connected = new Promise<void>((resolve, reject) => connector.onStatusChange((w) => w && resolve(), reject));
            const link = new URL(connector.connect({ universalLink: 'https://wallet.example/ton-connect', bridgeUrl: b().url }));
            // The wallet side: what it learns from the link, and its own session key.
            const appId = link.searchParams.get('id')!;
            expect(JSON.parse(link.searchParams.get('r')!)).toMatchObject({ manifestUrl: 'http://127.0.0.1/tonconnect-manifest.json' });
            const wallet = new SessionCrypto();
            const inbox = await EventStream.open(b().url, [wallet.sessionId]);
            const seal = (message: object) => Base64.encode(wallet.encrypt(JSON.stringify(message), hexToByteArray(appId)));
            const open = (e: BridgeEvent) => JSON.parse(wallet.decrypt(Base64.decode(e.message).toUint8Array(), hexToByteArray(e.from)));

            const account = new Address(0, randomBytes(32));
            await send(
                b().url,
                wallet.sessionId,
                appId,
                seal({
                    event: 'connect',
                    id: 1,
                    payload: {
                        items: [
                            {
                                name: 'ton_addr',
                                address: account.toRawString(),
                                network: '-3',
                                publicKey: randomBytes(32).toString('hex'),
                                walletStateInit: beginCell().endCell().toBoc().toString('base64'),
                            },
                        ],
                        device: {
                            platform: 'linux',
                            appName: TEST_WALLET,
                            appVersion: '0.1.0',
                            maxProtocolVersion: 2,
                            features: ['SendTransaction', { name: 'SendTransaction', maxMessages: 4 }],
                        },
                    },
                }),
            );
            await connected;
            expect(connector.account).toMatchObject({ address: account.toRawString(), chain: '-3' });

            const target = new Address(0, randomBytes(32)).toString({ testOnly: true });
            const signed = connector.sendTransaction({
                validUntil: Math.floor(Date.now() / 1000) + 60,
                messages: [{ address: target, amount: '1000' }],
            });
            const asked = await inbox.message();
            expect(asked.from).toBe(appId);
            const rpc = open(asked);
            expect(rpc).toMatchObject({ method: 'sendTransaction', id: '0' });
            expect(JSON.parse(rpc.params[0])).toMatchObject({ network: '-3', messages: [{ address: target, amount: '1000' }] });
            const boc = beginCell().storeUint(0xf09, 32).endCell().toBoc().toString('base64');
            await send(b().url, wallet.sessionId, appId, seal({ result: boc, id: rpc.id }));
            await expect(signed).resolves.toMatchObject({ boc });

            // The wallet ends the session. (Not `connector.disconnect()`: the SDK then waits 12 s for
            // an answer to its disconnect request on a stream it has already closed.)
            const disconnected = new Promise<void>((resolve) => connector.onStatusChange((w) => w === null && resolve()));
            await send(b().url, wallet.sessionId, appId, seal({ event: 'disconnect', id: 2, payload: {} }));
            await disconnected;
            expect(connector.connected).toBe(false);
            // the SDK closed its event stream: only the wallet's is left
            await until(() => b().bridge.stats().streams === 1, "the SDK's stream to close");
            inbox.close();
        } finally {
            connector.pauseConnection();
            quiet.mockRestore();
        }
    });
});
