/**
 * Serves the web app (docs/app.md): the built page (`dist/app/web`, app/build.ts) and
 * `network.json`, the public part of the network file, read again on every request so that a
 * devnet deployed anew is picked up; the TON Connect manifest and wallets list the page's
 * `@tonconnect/ui` reads (served here, so nothing is fetched from elsewhere); the API that puts a
 * created job's blobs on the storage node (app/api.ts); and, on a devnet (`--bridge`), a TON
 * Connect bridge (app/bridge.ts) for wallets that sign for the devnet. The page talks to the chain
 * itself. `npm start` runs it next to the devnet and prints its URL.
 *
 *   node dist/app/server.js [--network-file .fog/network.json] [--port 8090] [--host 127.0.0.1] [--dir dist/app/web]
 *                           [--public-url <url>] [--bridge] [--trust-proxy <hops>]
 *                           (BOT_TOKEN, FOG_STORAGE_TOKEN and FOG_APP_SECRET from the environment)
 *
 * Pages are GET or HEAD only (405 otherwise), a path that is not a file of the app 404, a path
 * that tries to leave the folder or is not valid percent-encoding 400; the server stays up.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_ADDRESSES_FILE, readNetworkFile } from '../client/addresses';
import { OptionError } from '../client/cli-kit';
import { publicNetwork } from './network';
import { APP_DIST } from './paths';
import { ApiError, createApi } from './api';
import { createBridge } from './bridge';

const TYPES: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.png': 'image/png',
    '.svg': 'image/svg+xml',
    '.ico': 'image/x-icon',
};

export interface AppServerOptions {
    networkFile: string;
    port?: number;
    host?: string;
    /** The built app (default dist/app/web). */
    dir?: string;
    /** Where users reach the page (default this server's own URL): the TON Connect manifest's URL and the domain a ton_proof must name. */
    publicUrl?: string;
    /** Serve a TON Connect bridge at /bridge/ and list the devnet's wallet (a devnet: nothing signs for it but wallets pointed here). */
    bridge?: boolean;
    /** The Telegram bot's token, to check a Mini App's initData (BOT_TOKEN). */
    botToken?: string;
    /** The storage node's write token (FOG_STORAGE_TOKEN). */
    storageToken?: string;
    /** The key of the wallets' challenges (FOG_APP_SECRET; app/api.ts). */
    secret?: Buffer;
    /** Reverse proxies in front of the server, whose X-Forwarded-For names the client (app/api.ts). */
    trustProxy?: number;
    log?: (event: Record<string, unknown>) => void;
}

export interface AppServer {
    url: string;
    /** Where users reach the page: `publicUrl`, or `url`. */
    publicUrl: string;
    server: Server;
    close(): Promise<void>;
}

class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

/** The file under `dir` that `path` names, or an HttpError. */
function fileOf(dir: string, rawPath: string): string {
    let path: string;
    try {
        path = decodeURIComponent(rawPath);
    } catch {
        throw new HttpError(400, `not a valid path: ${rawPath}`);
    }
    if (path.includes('\0')) throw new HttpError(400, 'not a valid path');
    if (path === '/' || path === '') path = '/index.html';
    const full = normalize(join(dir, path));
    if (full !== dir && !full.startsWith(dir + sep)) throw new HttpError(400, `outside the app: ${path}`);
    return full;
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean, extra: Record<string, string> = {}) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, {
        'content-type': type,
        'content-length': bytes.length,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
        ...extra,
    });
    res.end(head ? undefined : bytes);
}

/**
 * The wallets `@tonconnect/ui` offers (the wallets-list format, github.com/ton-blockchain/wallets-list):
 * on a devnet only the devnet's own wallet, whose bridge is this server's; elsewhere the wallets
 * people use, each with its own bridge.
 */
function walletsList(origin: string, devnet: boolean) {
    const platforms = ['ios', 'android', 'macos', 'windows', 'linux', 'chrome', 'firefox', 'safari'];
    const features = [{ name: 'SendTransaction', maxMessages: 4 }];
    if (devnet)
        return [
            {
                app_name: 'fog-devnet',
                name: 'Fog devnet wallet',
                image: `${origin}/icon.png`,
                about_url: `${origin}/`,
                universal_url: `${origin}/wallet`,
                bridge: [{ type: 'sse', url: `${origin}/bridge` }],
                platforms,
                features,
            },
        ];
    // as @tonconnect/sdk's own fallback list names them, so the page needs no list from elsewhere
    return [
        {
            app_name: 'telegram-wallet',
            name: 'Wallet',
            image: 'https://wallet.tg/images/logo-288.png',
            about_url: 'https://wallet.tg/',
            universal_url: 'https://t.me/wallet?attach=wallet',
            bridge: [{ type: 'sse', url: 'https://walletbot.me/tonconnect-bridge/bridge' }],
            platforms,
            features,
        },
        {
            app_name: 'tonkeeper',
            name: 'Tonkeeper',
            image: 'https://tonkeeper.com/assets/tonconnect-icon.png',
            about_url: 'https://tonkeeper.com',
            universal_url: 'https://app.tonkeeper.com/ton-connect',
            deepLink: 'tonkeeper-tc://',
            bridge: [
                { type: 'sse', url: 'https://bridge.tonapi.io/bridge' },
                { type: 'js', key: 'tonkeeper' },
            ],
            platforms,
            features,
        },
        {
            app_name: 'mytonwallet',
            name: 'MyTonWallet',
            image: 'https://static.mytonwallet.io/icon-256.png',
            about_url: 'https://mytonwallet.io',
            universal_url: 'https://connect.mytonwallet.org',
            bridge: [
                { type: 'js', key: 'mytonwallet' },
                { type: 'sse', url: 'https://tonconnectbridge.mytonwallet.org/bridge/' },
            ],
            platforms,
            features,
        },
    ];
}

/** Text made safe to put inside HTML. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Whether `host` is this machine only: then the server's own URL is where users reach it. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startAppServer(o: AppServerOptions): Promise<AppServer> {
    const dir = resolve(o.dir ?? APP_DIST);
    const host = o.host ?? '127.0.0.1';
    // listening beyond this machine, the server cannot know the address users reach it by (a proxy, a
    // domain): the TON Connect manifest names it and every wallet proof is checked against it
    if (!o.publicUrl && !LOOPBACK.has(host))
        throw new Error(`listening on ${host}, the server needs --public-url: the address users reach the page by`);
    const log = o.log ?? (() => undefined);
    let publicUrl = o.publicUrl ?? '';
    const origin = () => publicUrl.replace(/\/+$/, '');
    const api = createApi({
        networkFile: o.networkFile,
        botToken: o.botToken,
        storageToken: o.storageToken,
        secret: o.secret,
        trustProxy: o.trustProxy,
        domain: () => new URL(publicUrl).host,
        log,
    });
    const bridge = o.bridge ? createBridge() : undefined;
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
        const head = req.method === 'HEAD';
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        const [path, search] = q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
        if (bridge && (path === '/bridge' || path.startsWith('/bridge/'))) {
            bridge.handle(req, res, path.slice('/bridge'.length) || '/', new URLSearchParams(search));
            return;
        }
        if (path.startsWith('/api/')) {
            await api.handle(req, res, path);
            return;
        }
        if (req.method !== 'GET' && !head) {
            send(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served: the app is read-only here\n`, false, {
                allow: 'GET, HEAD',
            });
            return;
        }
        if (path === '/tonconnect-manifest.json') {
            const manifest = { url: origin(), name: 'Fog', iconUrl: `${origin()}/icon.png` };
            send(res, 200, TYPES['.json'], JSON.stringify(manifest), head, { 'access-control-allow-origin': '*' });
            return;
        }
        // the devnet wallet's link (its wallets-list entry): no wallet app reaches a devnet, so the
        // page says how to answer it from the terminal with a key of the network's
        if (bridge && path === '/wallet') {
            const link = `${origin()}${url}`;
            const quoted = `'${link.replace(/'/g, `'\\''`)}'`;
            const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Fog devnet wallet</title><link rel="stylesheet" href="style.css"></head><body><main><h1>Fog devnet wallet</h1>
<p>No wallet app reaches a devnet. Answer this connection from a terminal, with a key of this network (under <code>npm start</code>, the demo's requester is staked and funded: <code>--home .fog/local/requester</code>):</p>
<pre class="mono">npx fog connect ${escapeHtml(quoted)} --home .fog/local/requester</pre>
<p>It asks before signing each transaction the app sends (<code>--yes</code> signs them all).</p></main></body></html>`;
            send(res, 200, TYPES['.html'], html, head);
            return;
        }
        if (path === '/wallets.json') {
            send(res, 200, TYPES['.json'], JSON.stringify(walletsList(origin(), !!bridge)), head);
            return;
        }
        if (path === '/network.json') {
            let body: string;
            try {
                body = JSON.stringify(publicNetwork(readNetworkFile(o.networkFile)));
            } catch (e) {
                throw new HttpError(503, (e as Error).message);
            }
            send(res, 200, TYPES['.json'], body, head);
            return;
        }
        const file = fileOf(dir, path);
        let bytes: Buffer;
        try {
            bytes = await readFile(file);
        } catch {
            throw new HttpError(404, `no such page: ${path}`);
        }
        send(res, 200, TYPES[extname(file)] ?? 'application/octet-stream', bytes, head);
    };
    const server = createServer((req, res) => {
        handle(req, res).catch((e: Error) => {
            if (e instanceof ApiError) {
                if (e.status >= 500) log({ event: 'api_error', path: req.url, error: e.message });
                if (!res.headersSent)
                    send(res, e.status, TYPES['.json'], JSON.stringify({ error: e.message }), req.method === 'HEAD', e.headers);
                return;
            }
            const status = e instanceof HttpError ? e.status : 500;
            if (status >= 500) log({ event: 'http_error', path: req.url, error: e.message });
            if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${e.message}\n`, req.method === 'HEAD');
        });
    });
    await new Promise<void>((done, fail) => {
        server.once('error', fail);
        server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => done());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    publicUrl ||= url;
    return {
        url,
        publicUrl,
        server,
        close: () =>
            new Promise((done) => {
                bridge?.close();
                server.close(() => done());
                // keep-alive connections would hold the process (and the client's pool) open
                server.closeAllConnections();
            }),
    };
}

export const appServerUsage = `usage: node dist/app/server.js [options]
  --network-file ${DEFAULT_ADDRESSES_FILE}   the network whose public addresses the page reads
  --port 8090                          HTTP port (0: any free port; the "ready" line names it)
  --host 127.0.0.1                     interface to listen on
  --dir dist/app/web                   the built app (npm run build)
  --public-url <url>                   where users reach the page (default this server's URL): the
                                       TON Connect manifest's URL, the domain a wallet's proof names
  --bridge                             serve a TON Connect bridge at /bridge/ and offer the devnet's
                                       wallet (a devnet)
  --trust-proxy 0                      reverse proxies in front of this server: the API's per-address
                                       rate limit keys on the client X-Forwarded-For names that many
                                       hops from the right (0: the connection's peer; the header is ignored)
  BOT_TOKEN                            the Telegram bot's token: Mini App users' initData is checked with it
  FOG_STORAGE_TOKEN                    the storage node's write token, if it has one
  FOG_APP_SECRET                       hex, 16 bytes or more: the key of the challenges wallets sign, so
                                       that a restart or a second server accepts the proofs already given
`;

export function parseAppServerArgs(argv: string[]): AppServerOptions | 'help' {
    let v;
    try {
        v = parseArgs({
            args: argv,
            options: {
                'network-file': { type: 'string', default: DEFAULT_ADDRESSES_FILE },
                port: { type: 'string', default: '8090' },
                host: { type: 'string', default: '127.0.0.1' },
                dir: { type: 'string' },
                'public-url': { type: 'string' },
                bridge: { type: 'boolean', default: false },
                'trust-proxy': { type: 'string', default: '0' },
                help: { type: 'boolean', short: 'h', default: false },
            },
            strict: true,
        }).values;
    } catch (e) {
        throw new OptionError((e as Error).message);
    }
    if (v.help) return 'help';
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionError(`--port must be 0..65535, got ${v.port}`);
    if (v['public-url'] !== undefined) {
        let u: URL | undefined;
        try {
            u = new URL(v['public-url']);
        } catch {
            u = undefined;
        }
        if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
            throw new OptionError(`--public-url must be an http(s) URL, got ${v['public-url']}`);
    }
    const trustProxy = /^\d{1,2}$/.test(v['trust-proxy']!) ? Number(v['trust-proxy']) : NaN;
    if (!(trustProxy >= 0 && trustProxy <= 16))
        throw new OptionError(`--trust-proxy must be a whole number of proxies 0..16, got ${v['trust-proxy']}`);
    const secretHex = process.env.FOG_APP_SECRET || undefined;
    if (secretHex !== undefined && !/^([0-9a-fA-F]{2}){16,}$/.test(secretHex))
        throw new OptionError('FOG_APP_SECRET must be hex, 16 bytes (32 digits) or more');
    return {
        networkFile: v['network-file']!,
        port,
        host: v.host!,
        dir: v.dir,
        publicUrl: v['public-url'],
        bridge: v.bridge!,
        botToken: process.env.BOT_TOKEN || undefined,
        storageToken: process.env.FOG_STORAGE_TOKEN || undefined,
        secret: secretHex === undefined ? undefined : Buffer.from(secretHex, 'hex'),
        trustProxy,
    };
}

if (require.main === module) {
    let options: AppServerOptions | 'help';
    try {
        options = parseAppServerArgs(process.argv.slice(2));
    } catch (e) {
        console.error(`${(e as Error).message}\n\n${appServerUsage}`);
        process.exit(2);
    }
    if (options === 'help') {
        console.log(appServerUsage);
        process.exit(0);
    }
    const line = (e: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), ...e }));
    startAppServer({ ...options, log: line }).then(
        (s) => {
            line({ event: 'ready', url: s.url, publicUrl: s.publicUrl });
            const stop = () => void s.close().then(() => process.exit(0));
            process.once('SIGTERM', stop);
            process.once('SIGINT', stop);
        },
        (e: Error) => {
            console.error(`app server: ${e.message}`);
            process.exit(1);
        },
    );
}
