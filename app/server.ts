/**
 * Serves the web app (docs/app.md): the built page (`dist/app/web`, app/build.ts) and
 * `network.json`, the public part of the network file, read again on every request so that a
 * devnet deployed anew is picked up. Reads only: the page talks to the chain itself. `npm start`
 * runs it next to the devnet and prints its URL.
 *
 *   node dist/app/server.js [--network-file .fog/network.json] [--port 8090] [--host 127.0.0.1] [--dir dist/app/web]
 *
 * Anything but GET or HEAD is refused (405), a path that is not a file of the app 404, a path
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
    log?: (event: Record<string, unknown>) => void;
}

export interface AppServer {
    url: string;
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

export async function startAppServer(o: AppServerOptions): Promise<AppServer> {
    const dir = resolve(o.dir ?? APP_DIST);
    const log = o.log ?? (() => undefined);
    const handle = async (req: IncomingMessage, res: ServerResponse) => {
        const head = req.method === 'HEAD';
        if (req.method !== 'GET' && !head) {
            send(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served: the app is read-only here\n`, false, {
                allow: 'GET, HEAD',
            });
            return;
        }
        const path = (req.url ?? '/').split('?')[0];
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
    return {
        url: `http://${o.host ?? '127.0.0.1'}:${port}/`,
        server,
        close: () =>
            new Promise((done) => {
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
    return { networkFile: v['network-file']!, port, host: v.host!, dir: v.dir };
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
            line({ event: 'ready', url: s.url });
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
