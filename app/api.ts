/**
 * The app server's API (docs/app.md, "Creating a job"): the one thing the page cannot do alone is
 * put a job's program and input on the storage node and work out the job's spec (its initial root
 * needs the interpreter, which stays out of the page). Reads are public; a write needs a caller the
 * server can name: a Telegram user (initData), or a wallet that proves its address and holds a
 * live Contributor Pass (a key pair alone costs nothing; a pass costs a stake). Each caller, each
 * address it calls from, and the server as a whole are rate-limited:
 *
 *   GET  /api/challenge        { payload, tma }: what a wallet signs in its ton_proof (stateless,
 *                              expires), and whether this server checks Telegram initData
 *   POST /api/jobs             { example, text, k } → { spec (JobSpec BoC, base64), program, input, mfuel, memoryMb }
 *                              Authorization: `tma <initData>` (inside Telegram, checked with the bot token)
 *                                          or `ton-proof <base64url JSON>` (a wallet's ton_proof, any browser)
 *   GET  /api/results/<hash>   a job's verified output from the storage node (a meme's PNG as image/png)
 *
 * Every refusal is a 4xx with `{ error }` naming the problem; nothing is written before the caller
 * is known and within its rate.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Address, beginCell } from '@ton/core';
import { Fog, jobSpec } from '../client/actions';
import { connect } from '../client/chain';
import { BlobNotFoundError, StorageUnreachableError } from '../client/storage-errors';
import { readNetworkFile } from '../client/addresses';
import { DEFAULT_JOB_MFUEL } from '../client/compute/fuel';
import { isSha256Hex, sha256Hex } from '../client/hash';
import { MAX_OUTPUT_BYTES } from '../client/results';
import { StorageClient } from '../client/storage';
import { exampleNamed } from '../examples/catalog';
import { storeJobSpec } from '../wrappers/Hub';
import { challenge, checkChallenge, RateLimiter, validateInitData, verifyTonProof } from './auth';

/** The examples the create screen offers: each takes text as its input. */
export const CREATE_EXAMPLES = ['meme', 'upper'] as const;
/** The longest text a created job takes, bytes. */
export const MAX_TEXT_BYTES = 280;
/** The largest request body the API reads, bytes. */
const MAX_BODY_BYTES = 4096;
/** Memory a created job may use, MiB. */
const CREATE_MEMORY_MB = 256;

export interface ApiOptions {
    networkFile: string;
    /** The Telegram bot's token: without it `tma` authorizations are refused (the server cannot check them). */
    botToken?: string;
    /** The host (and port) the page is served from, as a wallet's ton_proof names it. */
    domain: () => string;
    /** Writes per caller per minute, and the burst (default 6 and 3); per address they come from (60, 30); for the whole server (120, 60). */
    rate?: { perMinute: number; burst: number };
    rateFromAddress?: { perMinute: number; burst: number };
    rateTotal?: { perMinute: number; burst: number };
    /** Whether a wallet holds a live Contributor Pass (default: asks the chain the network file names). */
    hasPass?: (address: Address) => Promise<boolean>;
    log?: (event: Record<string, unknown>) => void;
    /** Bearer token for the storage node's writes (FOG_STORAGE_TOKEN). */
    storageToken?: string;
    /** Seconds from the Unix epoch (tests move it). */
    now?: () => number;
    /**
     * The key that MACs the challenges wallets sign (FOG_APP_SECRET, at least 16 bytes): servers
     * sharing it accept each other's challenges, and a restart keeps them valid. Default: random
     * per process (a restart asks connected wallets for a new proof).
     */
    secret?: Buffer;
    /**
     * Reverse proxies in front of this server (--trust-proxy): the address a request comes from
     * is the one that many hops from the right of X-Forwarded-For (each proxy appends its
     * client's). 0 (default): the socket's peer, and the header is ignored (anyone can write it).
     */
    trustProxy?: number;
}

/**
 * The address a request comes from: the socket's peer, or with `hops` proxies in front, the entry
 * the outermost of them appended to X-Forwarded-For (entries further left are the client's own
 * words). A request that came around the proxies (too few entries) is keyed by its peer.
 */
export function clientAddress(req: IncomingMessage, hops = 0): string {
    const peer = req.socket.remoteAddress ?? '?';
    if (hops === 0) return peer;
    const header = req.headers['x-forwarded-for'];
    const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== '');
    return entries.length >= hops ? entries[entries.length - hops] : peer;
}

export class ApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
        readonly headers: Record<string, string> = {},
    ) {
        super(message);
    }
}

export interface Api {
    /** Handles a request whose path starts with `/api/`; throws ApiError for a refusal (an unexpected failure is logged and becomes a 500 that names nothing inside). */
    handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

/** The request's body, at most `limit` bytes (413 past it). */
async function bodyOf(req: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw new ApiError(413, `the body is over ${limit} bytes`);
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, value: unknown) {
    const bytes = Buffer.from(JSON.stringify(value));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length, 'cache-control': 'no-store' });
    res.end(bytes);
}

/** What a created job's request says, checked. */
function parseJobRequest(body: Buffer): { example: (typeof CREATE_EXAMPLES)[number]; text: string; k: number } {
    let v: unknown;
    try {
        v = JSON.parse(body.toString('utf8'));
    } catch {
        throw new ApiError(400, 'the body is not JSON');
    }
    const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    if (!CREATE_EXAMPLES.includes(o.example as never))
        throw new ApiError(400, `example must be one of ${CREATE_EXAMPLES.join(', ')}; got ${JSON.stringify(o.example)}`);
    if (typeof o.text !== 'string' || o.text.trim() === '') throw new ApiError(400, 'text must be a non-empty string');
    if (Buffer.byteLength(o.text) > MAX_TEXT_BYTES) throw new ApiError(400, `text is over ${MAX_TEXT_BYTES} bytes`);
    if (!Number.isInteger(o.k) || (o.k as number) < 1 || (o.k as number) > 7)
        throw new ApiError(400, `k must be a whole number from 1 to 7`);
    return { example: o.example as (typeof CREATE_EXAMPLES)[number], text: o.text, k: o.k as number };
}

/** The ton_proof a page sends (base64url of JSON): the wallet's ton_addr item and its proof. */
interface ProofHeader {
    address: string;
    network: string;
    publicKey?: string;
    walletStateInit: string;
    proof: { timestamp: number; domain: { lengthBytes: number; value: string }; payload: string; signature: string };
}

export function createApi(o: ApiOptions): Api {
    const secret = o.secret ?? randomBytes(32);
    const now = o.now ?? (() => Math.floor(Date.now() / 1000));
    const log = o.log ?? (() => undefined);
    const limiter = new RateLimiter({ ...(o.rate ?? { perMinute: 6, burst: 3 }), now });
    const fromAddress = new RateLimiter({ ...(o.rateFromAddress ?? { perMinute: 60, burst: 30 }), now });
    const total = new RateLimiter({ ...(o.rateTotal ?? { perMinute: 120, burst: 60 }), now });
    /** One client of the chain while the network file names the same endpoint and hub (a devnet deployed anew gets a new one). */
    let chain: { key: string; fog: Fog } | undefined;
    /** Pass answers, briefly: a yes for 5 minutes, a no for 30 s (a stake lands, a pass is minted). */
    const passes = new Map<string, { held: boolean; until: number }>();
    const hasPass =
        o.hasPass ??
        (async (address) => {
            const file = readNetworkFile(o.networkFile);
            const key = `${file.endpoint} ${file.hub.toRawString()}`;
            if (chain?.key !== key) chain = { key, fog: new Fog(connect(file.endpoint), file) };
            return chain.fog.hasLivePass(address);
        });
    const passHeld = async (address: Address): Promise<boolean> => {
        const known = passes.get(address.toRawString());
        if (known && known.until > now()) return known.held;
        let held: boolean;
        try {
            held = await hasPass(address);
        } catch (e) {
            log({ event: 'pass_check_failed', error: (e as Error).message });
            throw new ApiError(503, 'could not check the Contributor Pass: the chain did not answer; try again shortly', {
                'retry-after': '10',
            });
        }
        if (passes.size >= 10_000) passes.clear();
        passes.set(address.toRawString(), { held, until: now() + (held ? 300 : 30) });
        return held;
    };
    const take = (r: RateLimiter, key: string, what: string) => {
        const taken = r.take(key);
        if (!taken.ok)
            throw new ApiError(429, `too many jobs ${what}: try again in ${taken.retryAfterSeconds} s`, {
                'retry-after': String(taken.retryAfterSeconds),
            });
    };

    /** Who is asking, as a rate-limit key, or a 401 saying why not. */
    const caller = async (req: IncomingMessage): Promise<string> => {
        const header = req.headers.authorization ?? '';
        const [scheme, value] = [header.slice(0, header.indexOf(' ')).toLowerCase(), header.slice(header.indexOf(' ') + 1).trim()];
        if (header === '' || header.indexOf(' ') < 0)
            throw new ApiError(
                401,
                'writes need Authorization: tma <initData> (inside Telegram) or ton-proof <proof> (a connected wallet)',
            );
        if (scheme === 'tma') {
            if (!o.botToken) throw new ApiError(401, 'this server has no bot token, so it cannot check Telegram initData');
            const r = validateInitData(value, o.botToken, { now: now() });
            if (!r.ok) throw new ApiError(401, `Telegram initData refused: ${r.reason}`);
            return `tg:${r.user?.id ?? r.queryId ?? r.authDate}`;
        }
        if (scheme === 'ton-proof') {
            let p: ProofHeader;
            try {
                p = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as ProofHeader;
            } catch {
                throw new ApiError(401, 'ton_proof refused: not base64url JSON');
            }
            if (
                typeof p !== 'object' ||
                p === null ||
                typeof p.proof !== 'object' ||
                p.proof === null ||
                typeof p.proof.payload !== 'string'
            )
                throw new ApiError(401, 'ton_proof refused: no proof');
            if (!checkChallenge(p.proof.payload, secret, { now: now() }))
                throw new ApiError(401, 'ton_proof refused: its payload is not a live challenge of this server (GET /api/challenge)');
            const r = verifyTonProof(p, { domain: o.domain(), payload: p.proof.payload, now: now() });
            if (!r.ok) throw new ApiError(401, `ton_proof refused: ${r.reason}`);
            // anyone can make a key pair and sign; a pass is what costs: only its holders may store
            if (!(await passHeld(r.address)))
                throw new ApiError(403, 'this wallet holds no Contributor Pass: posting needs one (stake to get it)');
            return `wallet:${r.address.toRawString()}`;
        }
        throw new ApiError(401, `unknown authorization scheme "${scheme}": use tma or ton-proof`);
    };

    const storage = () => {
        const file = readNetworkFile(o.networkFile);
        if (!file.storage) throw new ApiError(503, 'the network file names no storage node');
        return new StorageClient(file.storage, { token: o.storageToken });
    };

    const createJob = async (req: IncomingMessage, res: ServerResponse) => {
        // the address a request comes from is limited before anything is checked; the caller, once
        // known; and the server as a whole only for callers it knows, so that no flood of strangers
        // locks out its users (behind a proxy, --trust-proxy names the client's address: docs/app.md)
        take(fromAddress, clientAddress(req, o.trustProxy), 'from this address');
        const who = await caller(req);
        const request = parseJobRequest(await bodyOf(req, MAX_BODY_BYTES));
        take(limiter, who, 'from you');
        take(total, '*', 'on this server just now');
        const program = await readFile(exampleNamed(request.example).program);
        const input = Buffer.from(request.text, 'utf8');
        const store = storage();
        let spec;
        try {
            spec = jobSpec({
                program,
                input,
                urlOf: (h) => store.urlOf(h),
                k: request.k,
                maxMfuel: DEFAULT_JOB_MFUEL,
                maxMemoryMb: CREATE_MEMORY_MB,
            });
        } catch (e) {
            // an input that reads as a composite input's manifest is the caller's to change; the rest is this server's
            if (e instanceof RangeError && /manifest/.test(e.message)) throw new ApiError(400, e.message);
            throw e;
        }
        try {
            await store.put(program);
            await store.put(input);
        } catch (e) {
            throw new ApiError(502, `the storage node did not take the job's blobs: ${(e as Error).message}`);
        }
        json(res, 200, {
            spec: beginCell().store(storeJobSpec(spec)).endCell().toBoc().toString('base64'),
            program: sha256Hex(program),
            input: sha256Hex(input),
            example: request.example,
            k: request.k,
            mfuel: DEFAULT_JOB_MFUEL,
            memoryMb: CREATE_MEMORY_MB,
        });
    };

    const result = async (res: ServerResponse, hash: string, head: boolean) => {
        if (!isSha256Hex(hash)) throw new ApiError(400, `not a result hash: ${hash}`);
        let bytes: Buffer;
        try {
            bytes = await storage().getResult(hash, { maxBytes: MAX_OUTPUT_BYTES });
        } catch (e) {
            if (e instanceof ApiError) throw e;
            if (e instanceof BlobNotFoundError) throw new ApiError(404, `no output ${hash} on the storage node (yet)`);
            if (e instanceof StorageUnreachableError) throw new ApiError(502, `the storage node did not answer: ${e.message}`);
            throw new ApiError(502, `the storage node's output ${hash} could not be checked: ${(e as Error).message}`);
        }
        const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        res.writeHead(200, {
            'content-type': png ? 'image/png' : 'application/octet-stream',
            'content-length': bytes.length,
            // content-addressed: the bytes under a hash never change
            'cache-control': 'public, max-age=31536000, immutable',
            'x-content-type-options': 'nosniff',
        });
        res.end(head ? undefined : bytes);
    };

    const route = async (req: IncomingMessage, res: ServerResponse, path: string) => {
        const method = req.method ?? 'GET';
        if (path === '/api/challenge') {
            if (method !== 'GET') throw new ApiError(405, `${method} /api/challenge: use GET`, { allow: 'GET' });
            return json(res, 200, { payload: challenge(secret, { now: now() }), tma: !!o.botToken });
        }
        if (path === '/api/jobs') {
            if (method !== 'POST') throw new ApiError(405, `${method} /api/jobs: use POST`, { allow: 'POST' });
            return createJob(req, res);
        }
        const m = /^\/api\/results\/([^/]*)$/.exec(path);
        if (m) {
            if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, `${method} ${path}: use GET`, { allow: 'GET, HEAD' });
            return result(res, m[1].toLowerCase(), method === 'HEAD');
        }
        throw new ApiError(404, `no API ${path}`);
    };
    return {
        async handle(req, res, path) {
            try {
                await route(req, res, path);
            } catch (e) {
                if (e instanceof ApiError) throw e;
                // a failure of this server's own (a missing build, an unreadable network file) is logged, not shown
                log({ event: 'api_failed', path, error: (e as Error).message });
                throw new ApiError(500, 'internal error: the server could not do this just now');
            }
        },
    };
}
