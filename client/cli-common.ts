/**
 * What Fog's command-line tools share: the common options, output as text or JSON, the signer
 * from the key file, waiting for the chain, and one-line errors with a non-zero exit.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { Command, Option } from 'commander';
import { DEFAULT_ADDRESSES_FILE } from './addresses';
import { describeError } from './chain';
import { NetworkContext, networkContext, signerOf } from './context';
import { terminalQr, transferLinks } from './deeplink';
import { Outgoing } from './sender';
import { readKeyFile } from './wallet';
import { formatAmount } from '../wrappers/units';

export interface Common {
    home: string;
    networkFile: string;
    endpoint?: string;
    json?: boolean;
}

/** Defaults of the common options; the environment variable of each comes before its default. */
export const commonDefaults = {
    home: join(homedir(), '.fog'),
    networkFile: DEFAULT_ADDRESSES_FILE,
    /** How long a command signed here waits for a message's effect on chain, ms. */
    waitMs: 30_000,
} as const;

/** The environment variables behind the common options (commander reads them, after the flag and before the default). */
export const commonEnv = { home: 'FOG_HOME', networkFile: 'FOG_NETWORK_FILE' } as const;

export const keyPath = (o: Common) => join(o.home, 'wallet.key');

/** Prints `human`, or `data` as one JSON line with --json. */
export function out(o: Common, human: string, data: object): void {
    process.stdout.write(o.json ? JSON.stringify(data, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n' : human + '\n');
}

/** Adds --home, --network-file, --endpoint and --json to a command. */
export function commonOptions(cmd: Command): Command {
    return cmd
        .addOption(
            new Option('--home <dir>', 'where your key (wallet.key) and journal live').env(commonEnv.home).default(commonDefaults.home),
        )
        .addOption(
            new Option('--network-file <path>', 'the network file (written by the devnet, or by hand for testnet/mainnet)')
                .env(commonEnv.networkFile)
                .default(commonDefaults.networkFile),
        )
        .option('--endpoint <url>', 'toncenter v2 JSON-RPC endpoint (overrides the network file)')
        .option('--json', 'print JSON instead of text');
}

/** The network and the user's wallet sender. */
export async function signer(o: Common) {
    const ctx = networkContext(o.networkFile, o.endpoint);
    return { ctx, sender: await signerOf(ctx, keyPath(o)) };
}

/** Options of a command that can be signed here or in the user's own wallet. */
export interface Signing {
    deeplink?: boolean;
    from?: string;
}

/**
 * Adds --deeplink and --from to a command that sends a message (`flag` names --from otherwise, for
 * a command whose --from means something else; `actor` is then given it as `from`).
 */
export function signingOptions(cmd: Command, flag = '--from'): Command {
    return cmd
        .option('--deeplink', 'sign in your own wallet: print a ton:// and a Tonkeeper link with a QR code instead of signing here')
        .option(`${flag} <address>`, 'with --deeplink: the wallet that signs (default: the one in --home)');
}

/** How long a command waits for the user to sign a deep link in their wallet. */
export const SIGNING_TIMEOUT_MS = 10 * 60_000;

/** Who acts: the key in --home signing here, or the user's own wallet through a deep link. */
export interface Actor {
    ctx: NetworkContext;
    address: Address;
    /** True when the user signs in their wallet (effects then take as long as the user does). */
    viaLink: boolean;
    /** How long to wait for a message's effect on chain. */
    waitMs: number;
    /** Signs and sends `message` here and waits for it to land, or prints it as links for the user's wallet. */
    send(message: Outgoing, what: string): Promise<void>;
}

/** The actor for a command with `signingOptions` (`flag`: the name its signing wallet's option has there). */
export async function actor(o: Common & Signing, flag = '--from'): Promise<Actor> {
    if (o.from !== undefined && !o.deeplink) throw new Error(`${flag} goes with --deeplink (without it, the key in --home signs)`);
    if (!o.deeplink) {
        const { ctx, sender } = await signer(o);
        return {
            ctx,
            address: sender.address,
            viaLink: false,
            waitMs: commonDefaults.waitMs,
            send: async (m) => void (await sender.send([m], true)),
        };
    }
    const ctx = networkContext(o.networkFile, o.endpoint);
    let address: Address;
    if (o.from !== undefined) {
        try {
            address = Address.parse(o.from);
        } catch {
            throw new Error(`${flag} is not a TON address: ${o.from}`);
        }
    } else {
        if (!existsSync(keyPath(o))) throw new Error(`--deeplink needs the signing wallet: pass ${flag} <your wallet address>`);
        address = (await readKeyFile(keyPath(o), ctx.file.network)).wallet.address;
    }
    return {
        ctx,
        address,
        viaLink: true,
        waitMs: SIGNING_TIMEOUT_MS,
        async send(message, what) {
            const links = transferLinks(message, ctx.file.network);
            if (o.json) {
                process.stdout.write(JSON.stringify({ sign: links, action: what, amount: message.value.toString() }) + '\n');
                return;
            }
            process.stderr.write(
                `Open this in your wallet to ${what} (it sends ${formatAmount(message.value, 'TON')} for fees; unspent TON comes back):\n` +
                    `${await terminalQr(links.tonkeeper)}\n  ${links.ton}\n  ${links.tonkeeper}\nWaiting for it to land on chain…\n`,
            );
        },
    };
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
        // a command that printed its answer but ends unsuccessfully (fog job submit --estimate of a failing program) sets exitCode
        return Number(process.exitCode ?? 0);
    } catch (e) {
        const err = e as { code?: string };
        if (err.code?.startsWith('commander.')) return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 1;
        process.stderr.write(`${cli.name()}: ${describeError(e)}\n`);
        return 1;
    }
}
