/**
 * `node dist/devnet/main.js`: the local devnet. Starts the emulator behind a toncenter v2 HTTP
 * API, deploys and wires Fog on first start (or reloads the saved chain), writes the network file
 * every other process reads, and saves its state on exit.
 *
 *   --port  --host  --data  --network-file  --speed (chain seconds per wall second)
 *   --allow-time-travel  --storage <url>  --fresh  --save-every  --start-behind
 *   (defaults and ranges: devnet/config.ts, `--help`)
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { DevnetChain } from './chain';
import { jsonLine } from '../client/cli-kit';
import { startDevnetServer } from './server';
import { checkSameBuild, deployProtocol, devnetParams, fogFaucet, ProtocolAddresses } from './protocol';
import { writeNetworkFile } from '../client/addresses';
import { devnetUsage, parseDevnetArgs } from './config';
import { newIdentity, readKeyFile, writeKeyFile } from '../client/wallet';

const FOG = 1_000_000_000n;
const log = (event: object) => jsonLine(process.stdout, event);

function fail(message: string): never {
    process.stderr.write(`fog-devnet: ${message}\n`);
    process.exit(1);
}

async function main() {
    let command;
    try {
        command = parseDevnetArgs(process.argv.slice(2));
    } catch (e) {
        fail((e as Error).message);
    }
    if (command.help) {
        process.stdout.write(devnetUsage);
        return;
    }
    const { options: o } = command;
    const { port, speed, startBehind, saveEvery } = o;

    const dataDir = o.data;
    if (o.fresh) rmSync(dataDir, { recursive: true, force: true });
    const keyPath = join(dataDir, 'admin.key');
    const protocolPath = join(dataDir, 'protocol.json');
    const reload = DevnetChain.hasState(dataDir) && existsSync(keyPath) && existsSync(protocolPath);
    const chain = await DevnetChain.open({ dataDir, speed, startAt: Math.floor(Date.now() / 1000) - startBehind });

    let admin;
    let protocol: ProtocolAddresses;
    if (reload) {
        admin = await readKeyFile(keyPath, 'devnet');
        const saved = JSON.parse(readFileSync(protocolPath, 'utf-8')) as Record<keyof ProtocolAddresses, string>;
        protocol = {
            token: Address.parse(saved.token),
            collection: Address.parse(saved.collection),
            hub: Address.parse(saved.hub),
            admin: Address.parse(saved.admin),
        };
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
        const params = { ...devnetParams(chain.now()), disputeAllowance: BigInt(o.disputeAllowance), commitWindow: BigInt(o.commitWindow) };
        protocol = await deployProtocol(chain, admin, params, 100_000_000n * FOG);
        writeFileSync(
            protocolPath,
            JSON.stringify(Object.fromEntries(Object.entries(protocol).map(([k, v]) => [k, (v as Address).toString()])), null, 2),
        );
        await chain.save();
        log({
            event: 'deployed',
            token: protocol.token.toString(),
            collection: protocol.collection.toString(),
            hub: protocol.hub.toString(),
        });
    }

    let server;
    try {
        server = await startDevnetServer(
            chain,
            {
                fogFaucet: (to, amount) => fogFaucet(chain, admin, protocol.token, to, amount),
                info: () => ({
                    token: protocol.token.toString(),
                    collection: protocol.collection.toString(),
                    hub: protocol.hub.toString(),
                    admin: protocol.admin.toString(),
                }),
            },
            { host: o.host, port, allowTimeTravel: o.allowTimeTravel, log },
        );
    } catch (e) {
        await chain.close();
        fail(`cannot listen on ${o.host}:${port}: ${(e as Error).message}`);
    }
    writeNetworkFile(o.networkFile, {
        network: 'devnet',
        endpoint: server.endpoint,
        token: protocol.token,
        collection: protocol.collection,
        hub: protocol.hub,
        storage: o.storage,
        devnet: server.url,
    });
    log({ event: 'ready', endpoint: server.endpoint, networkFile: o.networkFile, speed, now: chain.now() });

    const timer =
        saveEvery > 0
            ? setInterval(
                  () => void chain.save().catch((e) => log({ event: 'save_failed', error: (e as Error).message })),
                  saveEvery * 1000,
              )
            : undefined;
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
