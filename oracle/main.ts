/**
 * `node dist/oracle/main.js --network-file .fog/network.json --key .fog/keeper.key --data .fog/oracle [--every N] [--poll-ms N]`
 * (defaults and ranges: oracle/config.ts)
 *
 * The oracle daemon: the watcher following the network and the keeper poking jobs past their
 * deadlines and closing epochs, from one wallet. Creates the key file if it is missing (back it
 * up: it holds the keeper's TON). On the devnet it tops the wallet up from the faucet when low.
 * Logs one JSON line per event on stdout; stops cleanly on SIGINT/SIGTERM; a bad option prints
 * one line on stderr and exits non-zero.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { Fog } from '../client/actions';
import { NetworkFile } from '../client/addresses';
import { connect, describeError } from '../client/chain';
import { WalletSender } from '../client/sender';
import { devnetFaucet } from '../client/context';
import { Identity, newIdentity, readKeyFile, writeKeyFile } from '../client/wallet';
import { Keeper } from './keeper';
import { Watcher } from '../client/watcher';
import { jsonLine, onStopSignal, runMain } from '../client/cli-kit';
import { everySchedule, ORACLE_DB, oracleDefaults, oracleUsage, parseOracleArgs } from './config';

const PROGRAM = 'fog-oracle';

const log = (event: object) => jsonLine(process.stdout, event);

async function identity(path: string, network: NetworkFile['network']): Promise<Identity> {
    if (existsSync(path)) return readKeyFile(path, network);
    const id = await newIdentity(network);
    writeKeyFile(path, id);
    log({ event: 'key_created', path, address: id.wallet.address.toString({ testOnly: network !== 'mainnet' }) });
    return id;
}

/** The devnet faucet, when the wallet runs low (only on a network file that names a devnet). */
function topUp(network: NetworkFile, sender: WalletSender): () => Promise<void> {
    return async () => {
        const balance = await sender.balance();
        if (balance >= oracleDefaults.lowBalance) return;
        await devnetFaucet(network, sender.address, { ton: oracleDefaults.topUp });
        log({
            event: 'topped_up',
            address: sender.address.toString({ testOnly: true }),
            balance: balance.toString(),
            added: oracleDefaults.topUp.toString(),
        });
    };
}

async function main(): Promise<void> {
    const command = parseOracleArgs(process.argv.slice(2), process.env);
    if (command.help) {
        process.stdout.write(`${oracleUsage}\n`);
        return;
    }
    const { network, keyPath, data, every, pollMs, apiKey } = command.options;

    const client = connect(network.endpoint, apiKey);
    const id = await identity(keyPath, network.network);
    // The devnet's clock may be moved forward (tests, demos) while the wallet signs with wall
    // time: let its messages stay valid for a day there.
    const sender = new WalletSender(client, id, network.devnet ? { validForSeconds: 86_400 } : {}, network.endpoint);
    const beforeSend = network.devnet ? topUp(network, sender) : undefined;
    if (beforeSend) await beforeSend().catch((e: unknown) => log({ event: 'top_up_failed', error: describeError(e, network.endpoint) }));

    mkdirSync(data, { recursive: true });
    const db = open({ path: join(data, ORACLE_DB) });
    const watcher = new Watcher({ client, db, hub: network.hub, pollMs, log });
    const keeper = new Keeper({ watcher, fog: new Fog(client, network), db, sender, schedule: everySchedule(every), beforeSend, log });
    watcher.start();
    keeper.start();
    log({
        event: 'started',
        network: network.network,
        hub: network.hub.toString(),
        keeper: sender.address.toString({ testOnly: network.network !== 'mainnet' }),
        every,
        pollMs,
        data,
    });

    onStopSignal(PROGRAM, async (signal) => {
        await keeper.stop();
        await watcher.stop();
        await db.close();
        log({ event: 'stopped', signal });
    });
}

runMain(PROGRAM, main);
