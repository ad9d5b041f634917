/**
 * `npm run bot`: the Fog Telegram bot against any network file.
 *
 *   BOT_TOKEN=… npm run bot [-- --network-file .fog/network.json --data .fog/bot]
 *   npm run bot -- --console        (try every command in the terminal, no Telegram)
 *
 * It follows the network with a watcher (LMDB under --data) for the totals of /network, and reads
 * everything else from the chain when asked. Logs are JSON lines on stderr; Ctrl-C stops it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { open as openLmdb } from 'lmdb';
import { Fog } from '../client/actions';
import { readNetworkFile } from '../client/addresses';
import { connect, describeError } from '../client/chain';
import { storageOf } from '../client/context';
import { NetworkIndex } from '../client/network-index';
import { Watcher } from '../client/watcher';
import { jsonLine } from '../client/cli-kit';
import { createFogBot, DEFAULT_RATE_LIMIT } from './bot';
import { botDefaults, botUsage, parseBotArgs } from './config';
import { captureApi, CONSOLE_BOT, photoOf, replyOf, textUpdate } from './console';
import { Reader, TEXT_EXAMPLES } from './reader';
import { exampleNamed } from '../examples/catalog';

let quiet = false;
/** JSON lines on stderr; in console mode only failures, so they do not drown the conversation. */
const log = (event: object) => {
    if (quiet && !/error|failed/.test(String((event as { event?: string }).event))) return;
    jsonLine(process.stderr, event);
};

async function main(): Promise<void> {
    const command = parseBotArgs(process.argv.slice(2), process.env);
    if (command.help) {
        process.stdout.write(`${botUsage}\n`);
        return;
    }
    const values = command.options;
    quiet = values.console;
    const { token } = values;
    const file = readNetworkFile(values.networkFile);
    const client = connect(file.endpoint, values.apiKey);
    const fog = new Fog(client, file);
    mkdirSync(values.data, { recursive: true });
    const db = openLmdb({ path: join(values.data, botDefaults.db) });
    const watcher = new Watcher({ client, db, hub: file.hub, pollMs: values.pollMs, log });
    const index = new NetworkIndex(db, watcher);
    const storage = file.storage ? storageOf(file) : undefined;
    // the shipped programs /post offers by name, on the bot's storage node
    const programs: Record<string, string> = {};
    for (const name of TEXT_EXAMPLES) {
        const path = exampleNamed(name).program;
        if (!storage || !existsSync(path)) continue;
        const hash = await storage
            .put(readFileSync(path))
            .catch((e: unknown) => void log({ event: 'program_upload_failed', program: name, error: describeError(e) }));
        if (hash) programs[name] = hash;
    }
    const reader = new Reader(fog, file, () => index.read(), { storage, programs, refusals: (a) => index.lastRefusal(a) });
    await watcher.pollOnce().catch((e: unknown) => log({ event: 'watcher_error', error: describeError(e) }));
    watcher.start();

    // one person at a terminal is not a crowd to protect the endpoint from
    const rateLimit = values.console ? { ...DEFAULT_RATE_LIMIT, commands: botDefaults.consoleCommands } : DEFAULT_RATE_LIMIT;
    const bot = createFogBot({
        token: token || 'console',
        reader,
        botInfo: values.console ? CONSOLE_BOT : undefined,
        rateLimit,
        log,
        appUrl: values.appUrl,
    });
    const stop = async () => {
        if (!values.console) await bot.stop();
        await watcher.stop();
        await db.close();
        process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());

    if (values.console) {
        captureApi(bot, (call) => {
            const photo = photoOf(call);
            if (photo) {
                const saved = join(values.data, photo.filename);
                writeFileSync(saved, photo.bytes);
                process.stdout.write(
                    `[picture ${photo.filename}, ${photo.bytes.length.toLocaleString('en-US')} bytes, saved as ${saved}]\n${photo.caption}\n`,
                );
                return;
            }
            const reply = replyOf(call);
            if (!reply) return;
            process.stdout.write(`${reply.text}\n${reply.buttons.map((b) => `[${b.text}] ${b.url ?? ''}\n`).join('')}`);
        });
        await bot.init();
        process.stdout.write(`Fog bot on ${file.network} (console). Type /help; Ctrl-D or Ctrl-C to quit.\n`);
        const lines = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
        const prompt = () => process.stdin.isTTY && process.stdout.write('> ');
        prompt();
        for await (const line of lines) {
            if (line.trim() !== '') await bot.handleUpdate(textUpdate(line.trim()));
            prompt();
        }
        await stop();
        return;
    }
    log({ event: 'bot_starting', network: file.network, hub: file.hub.toString() });
    await bot.start({ onStart: (me) => void log({ event: 'bot_started', username: me.username }) });
}

main().catch((e: unknown) => {
    process.stderr.write(`fog-bot: ${describeError(e)}\n`);
    process.exit(1);
});
