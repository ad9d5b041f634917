/**
 * `node dist/devnet/main.js`: the local devnet. Starts the emulator behind a toncenter v2 HTTP
 * API, deploys and wires Fog on first start (or reloads the saved chain), writes the network file
 * every other process reads, and saves its state on exit.
 *
 *   --port 8081  --host 127.0.0.1  --data .fog/devnet  --network-file .fog/network.json
 *   --speed 1 (chain seconds per wall second)  --allow-time-travel  --storage <url>  --fresh
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Address } from '@ton/core';
import { DevnetChain } from './chain';
import { jsonLine } from '../client/cli-kit';
import { startDevnetServer } from './server';
import { checkSameBuild, deployProtocol, devnetParams, fogFaucet, ProtocolAddresses } from './protocol';
import { DEFAULT_ADDRESSES_FILE, writeNetworkFile } from '../client/addresses';
import { newIdentity, readKeyFile, writeKeyFile } from '../client/wallet';

const FOG = 1_000_000_000n;
const log = (event: object) => jsonLine(process.stdout, event);

function fail(message: string): never {
    process.stderr.write(`fog-devnet: ${message}\n`);
    process.exit(1);
}

const USAGE = `usage: node dist/devnet/main.js [options]
  --port 8081               HTTP port (0: any free port; the "ready" log line names it)
  --host 127.0.0.1          interface to listen on
  --data .fog/devnet        chain state, transaction history and the admin key
  --network-file ${DEFAULT_ADDRESSES_FILE}
                            where to write the endpoint and contract addresses
  --speed 1                 chain seconds per wall-clock second
  --allow-time-travel       enable POST /devnet/advance (tests and demos)
  --storage <url>           a storage node to name in the network file
  --fresh                   forget the saved chain and deploy anew
  --save-every 30           seconds between state saves (0: only on exit)
  --start-behind 0          start the chain's clock this many seconds behind wall time, so it can
                            be moved forward while wallets signing with wall time still work
`;

async function main() {
    let args;
    try {
        args = parseArgs({
            options: {
                port: { type: 'string', default: '8081' },
                host: { type: 'string', default: '127.0.0.1' },
                data: { type: 'string', default: '.fog/devnet' },
                'network-file': { type: 'string', default: DEFAULT_ADDRESSES_FILE },
                speed: { type: 'string', default: '1' },
                'allow-time-travel': { type: 'boolean', default: false },
                storage: { type: 'string' },
                fresh: { type: 'boolean', default: false },
                'save-every': { type: 'string', default: '30' },
                'start-behind': { type: 'string', default: '0' },
                help: { type: 'boolean', short: 'h', default: false },
            },
            strict: true,
        }).values;
    } catch (e) {
        fail((e as Error).message);
    }
    if (args.help) {
        process.stdout.write(USAGE);
        return;
    }
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${args.port}`);
    const speed = Number(args.speed);
    if (!(speed > 0 && speed <= 100_000)) fail(`--speed must be a number in (0, 100000], got ${args.speed}`);
    const startBehind = Number(args['start-behind']);
    if (!Number.isInteger(startBehind) || startBehind < 0 || startBehind > 10 * 365 * 86_400) fail(`--start-behind must be a whole number of seconds ≥ 0, got ${args['start-behind']}`);
    const saveEvery = Number(args['save-every']);
    if (!(saveEvery >= 0)) fail(`--save-every must be a number of seconds ≥ 0, got ${args['save-every']}`);
    if (args.storage) {
        try {
            new URL(args.storage);
        } catch {
            fail(`--storage is not a URL: ${args.storage}`);
        }
    }

    const dataDir = args.data!;
    if (args.fresh) rmSync(dataDir, { recursive: true, force: true });
    const keyPath = join(dataDir, 'admin.key');
    const protocolPath = join(dataDir, 'protocol.json');
    const reload = DevnetChain.hasState(dataDir) && existsSync(keyPath) && existsSync(protocolPath);
    const chain = await DevnetChain.open({ dataDir, speed, startAt: Math.floor(Date.now() / 1000) - startBehind });

    let admin;
    let protocol: ProtocolAddresses;
    if (reload) {
        admin = await readKeyFile(keyPath, 'devnet');
        const saved = JSON.parse(readFileSync(protocolPath, 'utf-8')) as Record<keyof ProtocolAddresses, string>;
        protocol = { token: Address.parse(saved.token), collection: Address.parse(saved.collection), hub: Address.parse(saved.hub), admin: Address.parse(saved.admin) };
        try {
            await checkSameBuild(chain, protocol);
        } catch (e) {
            await chain.close();
            fail(`${dataDir}: ${(e as Error).message}`);
        }
        log({ event: 'reloaded', dataDir, now: chain.now() });
    } else {
        admin = await newIdentity('devnet');
        writeKeyFile(keyPath, admin);
        protocol = await deployProtocol(chain, admin, devnetParams(chain.now()), 100_000_000n * FOG);
        writeFileSync(protocolPath, JSON.stringify(Object.fromEntries(Object.entries(protocol).map(([k, v]) => [k, (v as Address).toString()])), null, 2));
        await chain.save();
        log({ event: 'deployed', token: protocol.token.toString(), collection: protocol.collection.toString(), hub: protocol.hub.toString() });
    }

    let server;
    try {
        server = await startDevnetServer(
            chain,
            {
                fogFaucet: (to, amount) => fogFaucet(chain, admin, protocol.token, to, amount),
                info: () => ({ token: protocol.token.toString(), collection: protocol.collection.toString(), hub: protocol.hub.toString(), admin: protocol.admin.toString() }),
            },
            { host: args.host, port, allowTimeTravel: args['allow-time-travel'], log },
        );
    } catch (e) {
        await chain.close();
        fail(`cannot listen on ${args.host}:${port}: ${(e as Error).message}`);
    }
    writeNetworkFile(args['network-file']!, {
        network: 'devnet',
        endpoint: server.endpoint,
        token: protocol.token,
        collection: protocol.collection,
        hub: protocol.hub,
        storage: args.storage,
        devnet: server.url,
    });
    log({ event: 'ready', endpoint: server.endpoint, networkFile: args['network-file'], speed, now: chain.now() });

    const timer = saveEvery > 0 ? setInterval(() => void chain.save().catch((e) => log({ event: 'save_failed', error: (e as Error).message })), saveEvery * 1000) : undefined;
    let stopping = false;
    const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        if (timer) clearInterval(timer);
        await server.close();
        await chain.save();
        await chain.close();
        log({ event: 'stopped', signal });
        process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => fail((e as Error).message));
