/**
 * `node dist/oracle/main.js --network-file .fog/network.json --key .fog/keeper.key --data .fog/oracle [--every 5] [--poll-ms 1000]`
 *
 * The oracle daemon: the watcher following the network and the keeper poking jobs past their
 * deadlines and closing epochs, from one wallet. Creates the key file if it is missing (back it
 * up: it holds the keeper's TON). On the devnet it tops the wallet up from the faucet when low.
 * Logs one JSON line per event on stdout; stops cleanly on SIGINT/SIGTERM; a bad option prints
 * one line on stderr and exits non-zero.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { toNano } from '@ton/core';
import { open } from 'lmdb';
import { Fog } from '../client/actions';
import { NetworkFile } from '../client/addresses';
import { connect, describeError } from '../client/chain';
import { WalletSender } from '../client/sender';
import { devnetFaucet } from '../client/context';
import { Identity, newIdentity, readKeyFile, writeKeyFile } from '../client/wallet';
import { Keeper } from './keeper';
import { Watcher } from '../client/watcher';
import { jsonLine, networkOption, onStopSignal, parseOptions, required, runMain, wholeNumber } from '../client/cli-kit';
import { ORACLE_DB } from './paths';

const PROGRAM = 'fog-oracle';
const USAGE = `usage: node dist/oracle/main.js --network-file <path> --key <path> --data <dir> [--every 5] [--poll-ms 1000]
  --every     seconds between keeper ticks (1..59)
  --poll-ms   pause between watcher cycles`;

/** On the devnet: below this the keeper's wallet asks the faucet for `TOP_UP`. */
const LOW_BALANCE = toNano('1');
const TOP_UP = toNano('5');

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
        if (balance >= LOW_BALANCE) return;
        await devnetFaucet(network, sender.address, { ton: TOP_UP });
        log({ event: 'topped_up', address: sender.address.toString({ testOnly: true }), balance: balance.toString(), added: TOP_UP.toString() });
    };
}

async function main(): Promise<void> {
    const args = parseOptions(process.argv.slice(2), {
        'network-file': { type: 'string' },
        key: { type: 'string' },
        data: { type: 'string' },
        every: { type: 'string' },
        'poll-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    });
    if (args.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const network = networkOption(args['network-file']);
    const keyPath = required(args.key, '--key');
    const data = required(args.data, '--data');
    const every = wholeNumber(args.every, '--every', 1, 59, 5);
    const pollMs = wholeNumber(args['poll-ms'], '--poll-ms', 10, 600_000, 1000);

    const client = connect(network.endpoint, process.env.TONCENTER_API_KEY);
    const id = await identity(keyPath, network.network);
    // The devnet's clock may be moved forward (tests, demos) while the wallet signs with wall
    // time: let its messages stay valid for a day there.
    const sender = new WalletSender(client, id, network.devnet ? { validForSeconds: 86_400 } : {}, network.endpoint);
    const beforeSend = network.devnet ? topUp(network, sender) : undefined;
    if (beforeSend) await beforeSend().catch((e: unknown) => log({ event: 'top_up_failed', error: describeError(e, network.endpoint) }));

    mkdirSync(data, { recursive: true });
    const db = open({ path: join(data, ORACLE_DB) });
    const watcher = new Watcher({ client, db, hub: network.hub, pollMs, log });
    const keeper = new Keeper({ watcher, fog: new Fog(client, network), db, sender, schedule: `*/${every} * * * * *`, beforeSend, log });
    watcher.start();
    keeper.start();
    log({ event: 'started', network: network.network, hub: network.hub.toString(), keeper: sender.address.toString({ testOnly: network.network !== 'mainnet' }), every, pollMs, data });

    onStopSignal(PROGRAM, async (signal) => {
        await keeper.stop();
        await watcher.stop();
        await db.close();
        log({ event: 'stopped', signal });
    });
}

runMain(PROGRAM, main);
