/**
 * Who may write: the checks the web app's server makes before it takes an upload from the Mini
 * App. Reads stay public; a write needs a user the server can name, by one of two proofs:
 *
 * - Telegram `initData` (inside Telegram): a query string the Telegram client signs with an HMAC
 *   keyed by the bot's token (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app).
 *   `validateInitData` checks it; `signInitData` makes one (tests, the devnet's console bot).
 * - TON Connect `ton_proof` (any browser with a wallet): the wallet signs the app's domain, a
 *   timestamp and the server's challenge with the key its state init holds
 *   (ton-blockchain/ton-connect, requests-responses.md, "Address proof signature").
 *   `challenge`/`checkChallenge` issue and check that challenge without server state;
 *   `verifyTonProof` checks the proof.
 *
 * `RateLimiter` then caps how often each user (or IP) may write. Everything here is pure: the
 * clock comes in as an option, nothing touches the network or the chain.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Address, Cell, loadStateInit } from '@ton/core';
import { signVerify } from '@ton/crypto';
import { WalletContractV3R1, WalletContractV3R2, WalletContractV4, WalletContractV5Beta, WalletContractV5R1 } from '@ton/ton';

/** Why a proof was refused, in a few words (safe to send back to the client). */
export interface Refusal {
    ok: false;
    reason: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** How far ahead of our clock a signed timestamp may be: the signer's clock may run fast. */
const CLOCK_SKEW_SECONDS = 60;

// ---------------------------------------------------------------------------------------------
// Telegram initData

export interface TelegramUser {
    id: number;
    username?: string;
    firstName?: string;
}

export type InitDataResult = { ok: true; user?: TelegramUser; authDate: number; queryId?: string } | Refusal;

export interface InitDataOptions {
    /** How old `auth_date` may be (default 86400: a day, as a Mini App session lasts). */
    maxAgeSeconds?: number;
    /** Unix seconds (default the clock). */
    now?: number;
}

/** Real initData is well under a kilobyte or two; the cap bounds the work an unsigned request costs. */
const MAX_INIT_DATA_CHARS = 16 * 1024;

/** `application/x-www-form-urlencoded` decoding, as URLSearchParams does it, but strict: bad escapes throw. */
const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));

/** The fields of a query string, or why it is not one. A field given twice is refused: which copy was signed? */
function parseQuery(text: string): Map<string, string> | string {
    const fields = new Map<string, string>();
    for (const part of text.split('&')) {
        const eq = part.indexOf('=');
        if (eq <= 0) return 'not a query string';
        let key: string, value: string;
        try {
            key = formDecode(part.slice(0, eq));
            value = formDecode(part.slice(eq + 1));
        } catch {
            return 'not a query string';
        }
        if (fields.has(key)) return 'duplicate field';
        fields.set(key, value);
    }
    return fields;
}

/** Telegram's data-check-string: every field but `hash`, as `key=value`, sorted by key, joined by `\n`. */
function dataCheckString(fields: Iterable<[string, string]>): string {
    return [...fields]
        .filter(([key]) => key !== 'hash')
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => `${key}=${value}`)
        .join('\n');
}

/** HMAC_SHA256(key = HMAC_SHA256(key = "WebAppData", bot token), data-check-string). */
function initDataHash(checkString: string, botToken: string): Buffer {
    const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
    return createHmac('sha256', secret).update(checkString).digest();
}

/**
 * Checks a Mini App's `Telegram.WebApp.initData` against the bot's token, as Telegram documents
 * it, and that it is fresh: `auth_date` no older than `maxAgeSeconds` and at most a minute ahead.
 * Never trust `initDataUnsafe`; trust only what this returns.
 */
export function validateInitData(initData: string, botToken: string, o: InitDataOptions = {}): InitDataResult {
    const now = o.now ?? nowSeconds();
    const maxAge = o.maxAgeSeconds ?? 86_400;
    // An unset token must not make every initData signed with the empty key valid.
    if (typeof botToken !== 'string' || botToken.length === 0) return refuse('no bot token');
    if (typeof initData !== 'string' || initData.length === 0) return refuse('not a query string');
    if (initData.length > MAX_INIT_DATA_CHARS) return refuse('initData too long');
    const fields = parseQuery(initData);
    if (typeof fields === 'string') return refuse(fields);

    const hash = fields.get('hash');
    if (hash === undefined) return refuse('no hash');
    if (!/^[0-9a-f]{64}$/i.test(hash)) return refuse('hash is not 64 hex digits');
    if (!timingSafeEqual(Buffer.from(hash, 'hex'), initDataHash(dataCheckString(fields), botToken))) {
        return refuse('hash does not match');
    }

    const authDateText = fields.get('auth_date');
    if (authDateText === undefined) return refuse('no auth_date');
    if (!/^\d{1,15}$/.test(authDateText)) return refuse('auth_date is not a whole number');
    const authDate = Number(authDateText);
    if (now - authDate > maxAge) return refuse('auth_date too old');
    if (authDate - now > CLOCK_SKEW_SECONDS) return refuse('auth_date in the future');

    let user: TelegramUser | undefined;
    const userText = fields.get('user');
    if (userText !== undefined) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(userText);
        } catch {
            return refuse('user is not JSON');
        }
        if (typeof parsed !== 'object' || parsed === null) return refuse('user is not an object');
        const { id, username, first_name: firstName } = parsed as Record<string, unknown>;
        if (typeof id !== 'number' || !Number.isSafeInteger(id)) return refuse('user has no numeric id');
        user = { id };
        if (typeof username === 'string') user.username = username;
        if (typeof firstName === 'string') user.firstName = firstName;
    }
    const queryId = fields.get('query_id');
    return { ok: true, authDate, ...(user ? { user } : {}), ...(queryId !== undefined ? { queryId } : {}) };
}

/**
 * A valid initData for `fields` (objects such as `user` already JSON text), signed with the bot's
 * token as Telegram signs it; a `hash` among the fields is replaced. For tests and for the
 * devnet's own console bot, which plays Telegram's part.
 */
export function signInitData(fields: Record<string, string>, botToken: string): string {
    if (botToken.length === 0) throw new RangeError('signInitData needs a bot token');
    const entries = Object.entries(fields).filter(([key]) => key !== 'hash');
    const hash = initDataHash(dataCheckString(entries), botToken).toString('hex');
    return [...entries, ['hash', hash]].map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

// ---------------------------------------------------------------------------------------------
// TON Connect ton_proof

/** What the wallet's `ton_addr` and `ton_proof` connect items carry, as the client forwards them. */
export interface TonProofRequest {
    /** Raw `0:<hex>`, as `ton_addr` gives it (a friendly address is accepted too). */
    address: string;
    /** The network's global id: '-239' mainnet, '-3' testnet. */
    network: string;
    /** Hex, from `ton_addr`: when given, it must be the key in the wallet's state init. */
    publicKey?: string;
    /** Base64 BoC of the wallet's StateInit, from `ton_addr`. */
    walletStateInit: string;
    proof: {
        /** Unix seconds of the signing (the spec's TypeScript says string, wallets send a number: both are taken). */
        timestamp: number | string;
        domain: { lengthBytes: number; value: string };
        payload: string;
        /** Base64 Ed25519 signature. */
        signature: string;
    };
}

export interface TonProofOptions {
    /** The app's host as the wallet saw it, e.g. "127.0.0.1:8090" (no scheme, no path). */
    domain: string;
    /** The challenge the server issued for this connection (see `challenge`). */
    payload: string;
    /** How old the proof's timestamp may be (default 900). */
    maxAgeSeconds?: number;
    /** Unix seconds (default the clock). */
    now?: number;
    /** When given, the network the wallet reports must be this one ('-239' or '-3'). */
    network?: string;
}

export type TonProofResult = { ok: true; address: Address; publicKey: Buffer; wallet: string } | Refusal;

/** A wallet contract whose key we can read from its data: `bitsBeforeKey` bits in comes the 256-bit key. */
interface WalletKind {
    name: string;
    codeHash: Buffer;
    bitsBeforeKey: number;
}

let walletKinds: WalletKind[] | undefined;

/**
 * The wallets a user can have, by code hash (built once, from @ton/ton's contracts with any key):
 * W5 (v5r1, today's default), its beta, v4r2 and v3r2/v3r1. Data layouts, in front of the key:
 * v5r1 is_signature_allowed:1 seqno:32 wallet_id:32; v5beta seqno:33 wallet_id:80;
 * v4r2 and v3 seqno:32 subwallet_id:32.
 */
function knownWallets(): WalletKind[] {
    if (walletKinds) return walletKinds;
    const publicKey = Buffer.alloc(32);
    const kind = (name: string, code: Cell, bitsBeforeKey: number): WalletKind => ({ name, codeHash: code.hash(), bitsBeforeKey });
    walletKinds = [
        kind('v5r1', WalletContractV5R1.create({ workchain: 0, publicKey }).init.code, 1 + 32 + 32),
        kind('v5beta', WalletContractV5Beta.create({ publicKey }).init.code, 33 + 80),
        kind('v4r2', WalletContractV4.create({ workchain: 0, publicKey }).init.code, 32 + 32),
        kind('v3r2', WalletContractV3R2.create({ workchain: 0, publicKey }).init.code, 32 + 32),
        kind('v3r1', WalletContractV3R1.create({ workchain: 0, publicKey }).init.code, 32 + 32),
    ];
    return walletKinds;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** Bytes of standard or URL-safe base64, or undefined when `text` is not base64. */
function fromBase64(text: unknown): Buffer | undefined {
    if (typeof text !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
    return Buffer.from(text, 'base64');
}

/** What a ton_proof signs: sha256(0xffff ++ "ton-connect" ++ sha256(message)), message as the spec lays it out. */
function tonProofHash(address: Address, domain: string, timestamp: number, payload: string): Buffer {
    const workchain = Buffer.alloc(4);
    workchain.writeInt32BE(address.workChain);
    const domainBytes = Buffer.from(domain, 'utf8');
    const domainLength = Buffer.alloc(4);
    domainLength.writeUInt32LE(domainBytes.length);
    const time = Buffer.alloc(8);
    time.writeBigUInt64LE(BigInt(timestamp));
    const message = Buffer.concat([
        Buffer.from('ton-proof-item-v2/', 'utf8'),
        workchain,
        address.hash,
        domainLength,
        domainBytes,
        time,
        Buffer.from(payload, 'utf8'),
    ]);
    return sha256(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from('ton-connect', 'utf8'), sha256(message)]));
}

/** The parts of an untrusted request that must be there, with the types they must have, or why not. */
function malformed(p: TonProofRequest): string | undefined {
    if (typeof p !== 'object' || p === null) return 'not a proof';
    if (typeof p.address !== 'string') return 'no address';
    if (typeof p.network !== 'string') return 'no network';
    if (p.publicKey !== undefined && typeof p.publicKey !== 'string') return 'publicKey is not a string';
    if (typeof p.walletStateInit !== 'string') return 'no walletStateInit';
    const proof = p.proof as Partial<TonProofRequest['proof']> | null;
    if (typeof proof !== 'object' || proof === null) return 'no proof';
    if (typeof proof.domain !== 'object' || proof.domain === null) return 'no domain';
    if (typeof proof.domain.value !== 'string' || typeof proof.domain.lengthBytes !== 'number') return 'no domain';
    if (typeof proof.payload !== 'string') return 'no payload';
    if (typeof proof.signature !== 'string') return 'no signature';
    return undefined;
}

/** The proof's timestamp as a whole number of seconds, or undefined. */
function timestampOf(t: unknown): number | undefined {
    const n = typeof t === 'string' && /^\d{1,15}$/.test(t) ? Number(t) : t;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Checks a TON Connect `ton_proof` the way the spec asks (steps 1, 3 and 4; the on-chain
 * `get_public_key` fallback of step 2 is not taken: a wallet whose code is not one of
 * `knownWallets` is refused): the domain and the challenge are ours, the timestamp is fresh, the
 * state init hashes to the address, the key in it is the one `ton_addr` claims, and the signature
 * is that key's.
 *
 * `o.payload` is the challenge; with a stateless one the caller first runs
 * `checkChallenge(p.proof.payload, secret)` and passes that payload. A proof can be replayed
 * until its challenge expires: answer it with a session of your own, not with a standing grant.
 */
export function verifyTonProof(p: TonProofRequest, o: TonProofOptions): TonProofResult {
    const now = o.now ?? nowSeconds();
    const maxAge = o.maxAgeSeconds ?? 900;
    const shape = malformed(p);
    if (shape) return refuse(shape);
    const { proof } = p;

    if (o.network !== undefined && p.network !== o.network) return refuse('network does not match');
    if (proof.domain.value !== o.domain) return refuse('domain does not match');
    if (proof.domain.lengthBytes !== Buffer.byteLength(o.domain, 'utf8')) return refuse('domain length does not match');
    if (proof.payload !== o.payload) return refuse('payload does not match');
    const timestamp = timestampOf(proof.timestamp);
    if (timestamp === undefined) return refuse('timestamp is not a whole number');
    if (now - timestamp > maxAge) return refuse('timestamp too old');
    if (timestamp - now > CLOCK_SKEW_SECONDS) return refuse('timestamp in the future');

    let address: Address;
    try {
        address = Address.parse(p.address);
    } catch {
        return refuse('address is not a TON address');
    }
    const signature = fromBase64(proof.signature);
    if (!signature || signature.length !== 64) return refuse('signature is not 64 bytes of base64');
    let claimedKey: Buffer | undefined;
    if (p.publicKey !== undefined) {
        if (!/^[0-9a-f]{64}$/i.test(p.publicKey)) return refuse('publicKey is not 32 bytes of hex');
        claimedKey = Buffer.from(p.publicKey, 'hex');
    }

    const boc = fromBase64(p.walletStateInit);
    if (!boc) return refuse('walletStateInit is not base64');
    let root: Cell;
    try {
        const roots = Cell.fromBoc(boc);
        if (roots.length !== 1) return refuse('walletStateInit is not one cell tree');
        root = roots[0];
    } catch {
        return refuse('walletStateInit is not a BoC');
    }
    // The address is the hash of the StateInit cell, so the BoC's root must hash to it exactly.
    if (!root.hash().equals(address.hash)) return refuse('walletStateInit does not hash to address');
    let code: Cell, data: Cell;
    try {
        const s = root.beginParse();
        const init = loadStateInit(s);
        if (!init.code || !init.data || s.remainingBits !== 0 || s.remainingRefs !== 0) return refuse('walletStateInit is not a wallet');
        code = init.code;
        data = init.data;
    } catch {
        return refuse('walletStateInit is not a StateInit');
    }

    const codeHash = code.hash();
    const wallet = knownWallets().find((w) => w.codeHash.equals(codeHash));
    if (!wallet) return refuse('unknown wallet code');
    let publicKey: Buffer;
    try {
        publicKey = data.beginParse().skip(wallet.bitsBeforeKey).loadBuffer(32);
    } catch {
        return refuse(`walletStateInit data is not a ${wallet.name} wallet's`);
    }
    if (claimedKey && !claimedKey.equals(publicKey)) return refuse("publicKey is not the wallet's");

    if (!signVerify(tonProofHash(address, o.domain, timestamp, proof.payload), signature, publicKey)) {
        return refuse('signature does not verify');
    }
    return { ok: true, address, publicKey, wallet: wallet.name };
}

// ---------------------------------------------------------------------------------------------
// Stateless challenges

/** Layout: nonce (16 bytes) ++ expiry (uint64 BE, unix seconds) ++ HMAC-SHA256 of the two: 112 hex digits. */
const NONCE_BYTES = 16;
const BODY_BYTES = NONCE_BYTES + 8;
const CHALLENGE_HEX = (BODY_BYTES + 32) * 2;
/** Keeps a MAC made for this purpose from being accepted for another one under the same secret. */
const CHALLENGE_TAG = 'fog/ton-proof-challenge/v1';

function challengeMac(secret: Buffer, body: Buffer): Buffer {
    return createHmac('sha256', secret).update(CHALLENGE_TAG).update(body).digest();
}

function checkSecret(secret: Buffer): void {
    if (!Buffer.isBuffer(secret) || secret.length < 16) throw new RangeError('the challenge secret must be at least 16 bytes');
}

/**
 * A challenge for `ton_proof` that the server need not remember: a random nonce and an expiry
 * (`ttlSeconds`, default 900), MACed with the server's secret; 112 hex digits.
 */
export function challenge(secret: Buffer, o: { now?: number; ttlSeconds?: number } = {}): string {
    checkSecret(secret);
    const ttl = o.ttlSeconds ?? 900;
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new RangeError(`ttlSeconds must be a positive whole number, got ${ttl}`);
    const body = Buffer.alloc(BODY_BYTES);
    randomBytes(NONCE_BYTES).copy(body);
    body.writeBigUInt64BE(BigInt(Math.floor(o.now ?? nowSeconds()) + ttl), NONCE_BYTES);
    return Buffer.concat([body, challengeMac(secret, body)]).toString('hex');
}

/** Whether `payload` is a challenge this secret issued and it has not expired. */
export function checkChallenge(payload: string, secret: Buffer, o: { now?: number } = {}): boolean {
    checkSecret(secret);
    if (typeof payload !== 'string' || payload.length !== CHALLENGE_HEX || !/^[0-9a-f]+$/.test(payload)) return false;
    const bytes = Buffer.from(payload, 'hex');
    const body = bytes.subarray(0, BODY_BYTES);
    if (!timingSafeEqual(bytes.subarray(BODY_BYTES), challengeMac(secret, body))) return false;
    return (o.now ?? nowSeconds()) < Number(body.readBigUInt64BE(NONCE_BYTES));
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

export interface RateLimiterOptions {
    /** Tokens each key gets back per minute. */
    perMinute: number;
    /** The most a key may take at once: the bucket's size (a new key starts full). */
    burst: number;
    /** The most keys remembered (default 10000). */
    maxKeys?: number;
    /** The clock, in seconds (fractions allowed; default the wall clock). */
    now?: () => number;
}

interface Bucket {
    tokens: number;
    at: number;
}

/** Float rounding must not cost a caller a token it has earned. */
const EPSILON = 1e-9;

/**
 * A token bucket per key (a Telegram user id, a wallet address, an IP). Memory stays under
 * `maxKeys`: when full, it forgets the buckets that have refilled (a full bucket is the same as
 * none), and if too few have, the least recently used, a tenth of them at a time, so that a
 * flood of new keys costs constant time per call. A key forgotten that way starts afresh: under
 * a flood of more distinct keys than `maxKeys`, a limit can leak, never memory.
 */
export class RateLimiter {
    private readonly buckets = new Map<string, Bucket>(); // iteration order: least recently used first
    private readonly rate: number; // tokens per second
    private readonly burst: number;
    private readonly maxKeys: number;
    private readonly now: () => number;

    constructor(o: RateLimiterOptions) {
        if (!(typeof o.perMinute === 'number' && Number.isFinite(o.perMinute) && o.perMinute > 0)) {
            throw new RangeError(`perMinute must be a positive number, got ${o.perMinute}`);
        }
        if (!Number.isSafeInteger(o.burst) || o.burst < 1)
            throw new RangeError(`burst must be a whole number of at least 1, got ${o.burst}`);
        const maxKeys = o.maxKeys ?? 10_000;
        if (!Number.isSafeInteger(maxKeys) || maxKeys < 1)
            throw new RangeError(`maxKeys must be a whole number of at least 1, got ${maxKeys}`);
        this.rate = o.perMinute / 60;
        this.burst = o.burst;
        this.maxKeys = maxKeys;
        this.now = o.now ?? (() => Date.now() / 1000);
    }

    /** How many keys are remembered now (at most maxKeys). */
    get size(): number {
        return this.buckets.size;
    }

    /** Takes one token from `key`'s bucket, or says how many seconds until one is there. */
    take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
        const t = this.now();
        let bucket = this.buckets.get(key);
        if (bucket) {
            this.buckets.delete(key);
            bucket.tokens = this.level(bucket, t);
            bucket.at = Math.max(bucket.at, t);
        } else {
            this.makeRoom(t);
            bucket = { tokens: this.burst, at: t };
        }
        this.buckets.set(key, bucket);
        if (bucket.tokens >= 1 - EPSILON) {
            bucket.tokens = Math.max(0, bucket.tokens - 1);
            return { ok: true };
        }
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate - EPSILON)) };
    }

    /** The tokens in `bucket` at time `t` (a clock that steps back refills nothing). */
    private level(bucket: Bucket, t: number): number {
        return Math.min(this.burst, bucket.tokens + Math.max(0, t - bucket.at) * this.rate);
    }

    private makeRoom(t: number): void {
        if (this.buckets.size < this.maxKeys) return;
        for (const [key, bucket] of this.buckets) if (this.level(bucket, t) >= this.burst - EPSILON) this.buckets.delete(key);
        const target = this.maxKeys - Math.max(1, Math.floor(this.maxKeys / 10));
        for (const key of this.buckets.keys()) {
            if (this.buckets.size <= target) break;
            this.buckets.delete(key);
        }
    }
}

function refuse(reason: string): Refusal {
    return { ok: false, reason };
}
