/**
 * The devnet's HTTP face: the toncenter v2 JSON-RPC methods that @ton/ton's `TonClient` calls, and
 * a few devnet-only routes (faucet, clock) under `/devnet/`.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Address, beginCell, Cell, external, storeMessage, Transaction } from '@ton/core';
import { DevnetChain, EmulatorFailure, RejectedMessage, UnacceptableMessage } from './chain';
import { parseStackArgs, stackResult, transactionJson } from './toncenter';

/** Devnet-only actions the server exposes besides the chain (the protocol's FOG faucet). */
export interface DevnetExtras {
    /** Transfers `amount` FOG (nano) to `to` from the devnet's genesis holder. */
    fogFaucet?(to: Address, amount: bigint): Promise<void>;
    /** What `GET /devnet/info` shows besides the clock (e.g. the protocol's addresses). */
    info?(): object;
}

export interface DevnetServerOptions {
    host?: string;
    port?: number;
    /** Allow `POST /devnet/advance` to move the clock forward (tests and demos). */
    allowTimeTravel?: boolean;
    /** Largest request body accepted, in bytes. */
    maxBodyBytes?: number;
    log?: (event: object) => void;
}

class BadRequest extends Error {}

/**
 * toncenter documents getTransactions' limit as 1..100 (the C++ ton-http-api answers 101 with 422),
 * and TonClient, paging from (lt, hash), asks for one more than its page and drops the first row
 * (the cursor itself): its largest page, 100, arrives as 101.
 */
const MAX_TX_PAGE = 100;

/** A JSON object (not null, not an array), or a BadRequest naming `what`. */
function object(v: unknown, what: string): Record<string, unknown> {
    if (v === undefined) return {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`${what} must be a JSON object`);
    return v as Record<string, unknown>;
}

/** An optional logical time: a whole number ≥ 0, as a JSON number or a decimal string. */
function ltParam(params: Record<string, unknown>, name: string): bigint | undefined {
    const v = params[name];
    if (v === undefined || v === null || v === '') return undefined;
    if ((typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)))
        return BigInt(v);
    throw new BadRequest(`parameter ${name} must be a whole number ≥ 0, got ${JSON.stringify(v)}`);
}

/** An optional BoC in base64 (one root cell), or a BadRequest naming the parameter. */
function cellParam(params: Record<string, unknown>, name: string, required: boolean): Cell | undefined {
    const v = params[name];
    if (!required && (v === undefined || v === null || v === '')) return undefined;
    if (typeof v !== 'string' || v === '') throw new BadRequest(`parameter ${name} is required (a base64 BoC)`);
    try {
        return Cell.fromBase64(v);
    } catch (e) {
        throw new BadRequest(`parameter ${name} is not a base64 BoC: ${(e as Error).message}`);
    }
}

/** What a failed request's log line shows of its parameters: each string cut to `KEEP` characters. */
const KEEP = 16_384;
function loggable(params: unknown): unknown {
    return JSON.parse(
        JSON.stringify(params ?? null, (_, v: unknown) =>
            typeof v === 'string' && v.length > KEEP ? `${v.slice(0, KEEP)}… (${v.length} characters)` : v,
        ),
    );
}

function str(params: Record<string, unknown>, name: string): string {
    const v = params[name];
    if (typeof v !== 'string' || v === '') throw new BadRequest(`parameter ${name} is required`);
    return v;
}

function addressParam(params: Record<string, unknown>, name = 'address'): Address {
    const v = str(params, name);
    try {
        return Address.parse(v);
    } catch {
        throw new BadRequest(`parameter ${name} is not a TON address: ${v}`);
    }
}

function hashParam(v: unknown): Buffer {
    if (typeof v !== 'string') throw new BadRequest(`parameter hash must be a string, got ${JSON.stringify(v)}`);
    const hex = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (hex.length !== 32) throw new BadRequest(`not a 32-byte hash: ${v}`);
    return hex;
}

const blockId = (seqno: number) => ({
    '@type': 'ton.blockIdExt',
    workchain: -1,
    shard: '-9223372036854775808',
    seqno,
    root_hash: Buffer.alloc(32, seqno % 256).toString('base64'),
    file_hash: Buffer.alloc(32, (seqno + 1) % 256).toString('base64'),
});

type Method = (params: Record<string, unknown>) => Promise<unknown>;

function methods(chain: DevnetChain): Map<string, Method> {
    // Clients poll the same newest transactions again and again; each is rendered once (the
    // chain's cache of recent transactions decides how long one stays).
    const rendered = new WeakMap<Transaction, object>();
    const json = (tx: Transaction) => {
        let out = rendered.get(tx);
        if (!out) rendered.set(tx, (out = transactionJson(tx)));
        return out;
    };
    /**
     * Accounts' code and data as BoCs in base64, by account, last transaction and balance: every
     * client polls `getAddressInformation` (a deploy check, a wallet's seqno), and serializing a
     * contract's cells was most of the devnet's own work under `npm start` (profiled: 17 s of 124).
     * An account's state changes only with a transaction, so a key that names it never goes stale.
     */
    const states = new Map<string, { code: string; data: string }>();
    const addressInformation = async (params: Record<string, unknown>) => {
        const address = addressParam(params);
        const a = await chain.account(address);
        const key = `${address.toRawString()}|${a.lastTransaction?.lt ?? 0n}|${a.balance}|${a.state}`;
        let boc = states.get(key);
        if (!boc) {
            boc = { code: a.code ? a.code.toBoc().toString('base64') : '', data: a.data ? a.data.toBoc().toString('base64') : '' };
            if (states.size >= 2_000) states.delete(states.keys().next().value!);
            states.set(key, boc);
        }
        return {
            '@type': 'raw.fullAccountState',
            balance: a.balance.toString(),
            extra_currencies: [],
            code: boc.code,
            data: boc.data,
            last_transaction_id: {
                '@type': 'internal.transactionId',
                lt: a.lastTransaction ? a.lastTransaction.lt.toString() : '0',
                hash: a.lastTransaction ? a.lastTransaction.hash.toString('base64') : Buffer.alloc(32).toString('base64'),
            },
            frozen_hash: '',
            sync_utime: chain.now(),
            block_id: blockId(chain.blockSeqno),
            state: a.state,
        };
    };
    const send = async (params: Record<string, unknown>) => {
        const r = await chain.sendBoc(Buffer.from(str(params, 'boc'), 'base64'));
        return { '@type': 'ok', hash: r.hash.toString('base64') };
    };
    // a Map, not an object: a method named `constructor` or `__proto__` is unknown, not Object's
    return new Map(
        Object.entries<Method>({
            getAddressInformation: addressInformation,
            getExtendedAddressInformation: addressInformation,
            getAddressBalance: async (params) => (await chain.account(addressParam(params))).balance.toString(),
            getAddressState: async (params) => (await chain.account(addressParam(params))).state,
            getMasterchainInfo: async () => ({
                '@type': 'blocks.masterchainInfo',
                last: blockId(chain.blockSeqno),
                init: blockId(0),
                state_root_hash: Buffer.alloc(32).toString('base64'),
            }),
            runGetMethod: async (params) => {
                const method = params.method;
                if (typeof method !== 'string' && typeof method !== 'number') throw new BadRequest('parameter method is required');
                let stack;
                try {
                    stack = parseStackArgs(params.stack);
                } catch (e) {
                    throw new BadRequest((e as Error).message);
                }
                const r = await chain.runGetMethod(addressParam(params), method, stack);
                return { '@type': 'smc.runResult', gas_used: Number(r.gasUsed), exit_code: r.exitCode, stack: stackResult(r.stack) };
            },
            sendBoc: send,
            sendBocReturnHash: send,
            getTransactions: async (params) => {
                const address = addressParam(params);
                const lt = ltParam(params, 'lt');
                const hash = params.hash === undefined || params.hash === null || params.hash === '' ? undefined : hashParam(params.hash);
                const toLt = ltParam(params, 'to_lt') || undefined;
                const max = lt !== undefined && hash ? MAX_TX_PAGE + 1 : MAX_TX_PAGE;
                const limit =
                    params.limit === undefined || params.limit === null
                        ? 10
                        : typeof params.limit === 'number' || typeof params.limit === 'string'
                          ? Number(params.limit)
                          : NaN;
                if (!Number.isInteger(limit) || limit < 1 || limit > max) {
                    throw new BadRequest(
                        `limit must be a whole number in 1..${MAX_TX_PAGE} (${MAX_TX_PAGE + 1} when paging from lt and hash), got ${JSON.stringify(params.limit)}`,
                    );
                }
                return chain.transactions(address, { limit, lt, hash, toLt }).map(json);
            },
            estimateFee: async (params) => {
                const address = addressParam(params);
                const body = cellParam(params, 'body', true)!;
                const code = cellParam(params, 'init_code', false);
                const data = cellParam(params, 'init_data', false);
                const msg = external({ to: address, body, init: code && data ? { code, data } : undefined });
                const fees = await chain.emulateFees(beginCell().store(storeMessage(msg)).endCell(), params.ignore_chksig !== false);
                return {
                    '@type': 'query.fees',
                    source_fees: {
                        '@type': 'fees',
                        in_fwd_fee: Number(fees.inFwd),
                        storage_fee: Number(fees.storage),
                        gas_fee: Number(fees.gas),
                        fwd_fee: Number(fees.fwd),
                    },
                    destination_fees: [],
                };
            },
        }),
    );
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
            size += c.length;
            if (size > limit) {
                reject(new BadRequest(`request body over ${limit} bytes`));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

/**
 * A failure's HTTP status. 4xx: the request was wrong and retrying it cannot help. 500: the chain
 * refused the message, or the emulator failed on it (the chain went back to its state before it):
 * toncenter's answer to a refused message, which clients do not retry. 503 (retry later) only for
 * what this devnet did not foresee.
 */
function status(e: unknown): number {
    if (e instanceof BadRequest || e instanceof UnacceptableMessage || e instanceof SyntaxError || e instanceof RangeError) return 400;
    if (e instanceof RejectedMessage || e instanceof EmulatorFailure) return 500;
    return 503;
}

/**
 * Headers that let a web page on another origin call the JSON-RPC endpoint, as toncenter lets it
 * (the web app, docs/app.md, reads the chain from the browser). Only the toncenter routes carry
 * them; the devnet's own routes (faucet, clock) refuse any request that names an origin.
 */
const CORS = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type, x-api-key',
    'access-control-max-age': '600',
};

function reply(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
    res.end(text);
}

/** Starts the devnet's HTTP server on `chain`. The toncenter endpoint is `<url>/jsonRPC`. */
export async function startDevnetServer(
    chain: DevnetChain,
    extras: DevnetExtras = {},
    opts: DevnetServerOptions = {},
): Promise<{ url: string; endpoint: string; server: Server; close(): Promise<void> }> {
    const table = methods(chain);
    const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    const log = opts.log ?? (() => undefined);

    const rpc = async (body: Buffer) => {
        let req: Record<string, unknown>;
        try {
            req = object(JSON.parse(body.toString('utf-8')), 'a JSON-RPC request');
        } catch (e) {
            return { status: 400, body: { ok: false, error: e instanceof BadRequest ? e.message : 'request is not JSON', code: 400 } };
        }
        const id = req.id ?? null;
        const fn = typeof req.method === 'string' ? table.get(req.method) : undefined;
        if (!fn)
            return { status: 404, body: { ok: false, error: `method not found: ${String(req.method)}`, code: 404, id, jsonrpc: '2.0' } };
        try {
            const params = req.params === null ? {} : object(req.params, 'params');
            const result = await fn(params);
            return { status: 200, body: { ok: true, result, id, jsonrpc: '2.0' } };
        } catch (e) {
            const code = status(e);
            if (e instanceof EmulatorFailure)
                log({
                    event: 'emulator_failed',
                    method: req.method,
                    params: loggable(req.params),
                    error: e.reason.message,
                    recovered: true,
                });
            else if (code === 503) log({ event: 'rpc_error', method: req.method, error: (e as Error).message });
            return { status: code, body: { ok: false, error: (e as Error).message, code, id, jsonrpc: '2.0' } };
        }
    };

    const devnet = async (path: string, body: Buffer): Promise<{ status: number; body: unknown }> => {
        const params = body.length ? object(JSON.parse(body.toString('utf-8')), 'the request body') : {};
        if (path === '/devnet/info') {
            // how long this process's event loop has been busy and idle: is the devnet ever waiting?
            const loop = performance.eventLoopUtilization();
            return {
                status: 200,
                body: {
                    now: chain.now(),
                    speed: chain.speed,
                    seqno: chain.blockSeqno,
                    ...chain.stats,
                    gas: chain.stats.gas.toString(),
                    loopActiveMs: loop.active,
                    loopIdleMs: loop.idle,
                    ...(extras.info?.() ?? {}),
                },
            };
        }
        if (path === '/devnet/faucet') {
            const to = addressParam(params);
            const ton = params.ton === undefined ? undefined : BigInt(String(params.ton));
            const fog = params.fog === undefined ? undefined : BigInt(String(params.fog));
            if (ton === undefined && fog === undefined) throw new BadRequest('give ton and/or fog, in nano units');
            if (ton !== undefined) await chain.faucet(to, ton);
            if (fog !== undefined) {
                if (!extras.fogFaucet) throw new BadRequest('this devnet has no FOG faucet');
                await extras.fogFaucet(to, fog);
            }
            return { status: 200, body: { ok: true } };
        }
        if (path === '/devnet/advance') {
            if (!opts.allowTimeTravel)
                return { status: 403, body: { ok: false, error: 'time travel is disabled (start the devnet with --allow-time-travel)' } };
            const seconds = Number(params.seconds);
            if (!Number.isInteger(seconds) || seconds < 0) throw new BadRequest('seconds must be a whole number ≥ 0');
            chain.advance(seconds);
            return { status: 200, body: { ok: true, now: chain.now() } };
        }
        return { status: 404, body: { ok: false, error: `no route ${path}` } };
    };

    const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        readBody(req, limit)
            .then(async (body) => {
                const toncenter = path === '/jsonRPC' || path === '/api/v2/jsonRPC';
                if (req.method === 'POST' && toncenter) {
                    const r = await rpc(body);
                    reply(res, r.status, r.body, CORS);
                } else if (req.method === 'OPTIONS' && toncenter) {
                    res.writeHead(204, CORS);
                    res.end();
                } else if (path.startsWith('/devnet/') && req.headers.origin !== undefined) {
                    // a web page's request (browsers name their origin): the faucet and the clock
                    // answer programs only, or any site open in a browser could drain or move them
                    reply(res, 403, { ok: false, error: 'the devnet routes do not answer web pages' });
                } else if (path.startsWith('/devnet/') && (req.method === 'POST' || req.method === 'GET')) {
                    const r = await devnet(path, body);
                    reply(res, r.status, r.body);
                } else {
                    reply(res, 404, { ok: false, error: `no route ${req.method} ${path}` });
                }
            })
            .catch((e: Error) => {
                if (e instanceof EmulatorFailure)
                    log({ event: 'emulator_failed', method: req.method, path, error: e.reason.message, recovered: true });
                else if (status(e) === 503) log({ event: 'http_error', method: req.method, path, error: e.message });
                const toncenter = path === '/jsonRPC' || path === '/api/v2/jsonRPC';
                if (!res.headersSent) reply(res, status(e), { ok: false, error: e.message }, toncenter ? CORS : {});
            });
    });
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    return {
        url,
        endpoint: `${url}/jsonRPC`,
        server,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
