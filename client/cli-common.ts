/**
 * What Fog's command-line tools share: the common options, output as text or JSON, the signer
 * from the key file, waiting for the chain, and one-line errors with a non-zero exit.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_ADDRESSES_FILE } from './addresses';
import { describeError } from './chain';
import { networkContext, signerOf } from './context';

export interface Common {
    home: string;
    networkFile: string;
    endpoint?: string;
    json?: boolean;
}

export const keyPath = (o: Common) => join(o.home, 'wallet.key');

/** Prints `human`, or `data` as one JSON line with --json. */
export function out(o: Common, human: string, data: object): void {
    process.stdout.write(o.json ? JSON.stringify(data, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n' : human + '\n');
}

/** Adds --home, --network-file, --endpoint and --json to a command. */
export function commonOptions(cmd: Command): Command {
    return cmd
        .addOption(new Option('--home <dir>', 'where your key (wallet.key) and journal live').env('FOG_HOME').default(join(homedir(), '.fog')))
        .addOption(new Option('--network-file <path>', 'the network file (written by the devnet, or by hand for testnet/mainnet)').env('FOG_NETWORK_FILE').default(DEFAULT_ADDRESSES_FILE))
        .option('--endpoint <url>', 'toncenter v2 JSON-RPC endpoint (overrides the network file)')
        .option('--json', 'print JSON instead of text');
}

/** The network and the user's wallet sender. */
export async function signer(o: Common) {
    const ctx = networkContext(o.networkFile, o.endpoint);
    return { ctx, sender: await signerOf(ctx, keyPath(o)) };
}

/** Polls `read` until `done` holds (the effects of a message arrive over several transactions). */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await read();
        if (done(v)) return v;
        if (Date.now() > deadline) throw new Error('timed out waiting for the chain');
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** Runs a commander program: 0 on success, 1 with one line on stderr for any failure. */
export async function runCli(cli: Command, argv: string[]): Promise<number> {
    cli.exitOverride();
    try {
        await cli.parseAsync(argv);
        return 0;
    } catch (e) {
        const err = e as { code?: string };
        if (err.code?.startsWith('commander.')) return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 1;
        process.stderr.write(`${cli.name()}: ${describeError(e)}\n`);
        return 1;
    }
}
