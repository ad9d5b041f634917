/**
 * Options of the Telegram bot (`bot/main.ts`): one defaults object, and one parse-and-validate
 * step that reads the command line and the environment (BOT_TOKEN, FOG_NETWORK_FILE,
 * TONCENTER_API_KEY) with exact messages.
 */
import { DEFAULT_ADDRESSES_FILE } from '../client/addresses';
import { Env, OptionError, parseOptions, wholeNumber } from '../client/cli-kit';

/** Defaults of the bot. */
export const botDefaults = {
    /** `--network-file`, after FOG_NETWORK_FILE. */
    networkFile: DEFAULT_ADDRESSES_FILE,
    /** `--data`: the watcher's LMDB environment (`bot.mdb`) and saved console pictures. */
    data: '.fog/bot',
    db: 'bot.mdb',
    /** `--poll-ms`: pause between watcher cycles. */
    pollMs: 2000,
    /** Commands per window per user (or channel), and users remembered at once. */
    rateLimit: { commands: 8, windowMs: 30_000, maxUsers: 10_000 },
    /** In --console mode one person types: the per-user limit is this instead. */
    consoleCommands: 1_000,
} as const;

/** The range of `--poll-ms`. */
export const botLimits = { pollMs: { min: 10, max: 600_000 } } as const;

export const botUsage = `usage: BOT_TOKEN=… npm run bot [-- --network-file <path> --data <dir> --poll-ms ${botDefaults.pollMs} --app-url <https url>]
       npm run bot -- --console
  --app-url (or FOG_APP_URL): the web app's public https address; /start offers it as a Mini App`;

/** The bot's options, checked. */
export interface BotOptions {
    networkFile: string;
    data: string;
    pollMs: number;
    /** Try every command in the terminal instead of Telegram. */
    console: boolean;
    /** BOT_TOKEN (undefined in console mode when unset). */
    token: string | undefined;
    /** TONCENTER_API_KEY, if set. */
    apiKey: string | undefined;
    /** The web app's public address (`--app-url`, FOG_APP_URL): /start offers it as a Mini App. */
    appUrl: string | undefined;
}

/** Parses the bot's arguments (without `node` and the script) and environment; throws an OptionError. */
export function parseBotArgs(argv: string[], env: Env): { help: true } | { help: false; options: BotOptions } {
    const values = parseOptions(argv, {
        'network-file': { type: 'string' },
        data: { type: 'string' },
        console: { type: 'boolean', default: false },
        'poll-ms': { type: 'string' },
        'app-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
    });
    if (values.help) return { help: true };
    const token = env.BOT_TOKEN || undefined;
    if (!values.console && !token) throw new OptionError('set BOT_TOKEN (from @BotFather), or try it with --console');
    const appUrl = values['app-url'] ?? (env.FOG_APP_URL || undefined);
    // Telegram opens a Mini App only from an https address
    if (appUrl !== undefined && !/^https:\/\/[^\s/]+/.test(appUrl))
        throw new OptionError(`--app-url must be the web app's https address (Telegram opens Mini Apps only over https), got ${appUrl}`);
    return {
        help: false,
        options: {
            networkFile: values['network-file'] ?? env.FOG_NETWORK_FILE ?? botDefaults.networkFile,
            data: values.data ?? botDefaults.data,
            pollMs: wholeNumber(values['poll-ms'], '--poll-ms', botLimits.pollMs.min, botLimits.pollMs.max, botDefaults.pollMs),
            console: values.console,
            token,
            apiKey: env.TONCENTER_API_KEY,
            appUrl,
        },
    };
}
