/**
 * The Fog Telegram bot (grammY): read-only commands over the chain, /result sending a job's
 * verified output (a meme as a picture), and /post answering with a Tonkeeper link and button.
 * Rate limited per user (per chat for channel posts); commands addressed to another bot are left
 * alone; every mistake gets a plain answer.
 */
import { Bot, Context, InlineKeyboard, InputFile } from 'grammy';
import type { Message, UserFromGetMe } from 'grammy/types';
import { describeError } from '../client/chain';
import { Answer, Reader, ResultAnswer } from './reader';
import { botDefaults } from './config';

export const HELP = [
    '<b>Fog</b>: a compute network on TON. Commands:',
    '/network: providers, stake, jobs, epoch, burned and emitted FOG',
    '/job &lt;id&gt;: a job’s state and result',
    '/map &lt;id&gt;: a map’s shards: done, running, failed, refunded',
    '/result &lt;id&gt;: a finished job’s output (a meme as a picture), checked against the chain',
    '/provider &lt;address&gt;: stake, collateral, reputation, slashes',
    '/pass &lt;address&gt;: the Contributor Pass of an address',
    '/rewards &lt;address&gt;: unclaimed epoch rewards',
    '/epoch [n]: an epoch’s totals (the current one by default)',
    '/post &lt;your address&gt; &lt;price&gt; meme &lt;top | bottom&gt;: a link to post a meme job from your wallet, its picture drawn by the model the network trained (name a cat, ghost, heart, star, sun, moon, house or tree; seed:7 for another; style:art for abstract art) (or upper &lt;text&gt;)',
    '/refused &lt;address&gt;: why the hub last sent a stake or job post of this address back',
].join('\n');

export interface RateLimit {
    /** Commands per window per user (or per channel). */
    commands: number;
    windowMs: number;
    /** Users remembered at once (the oldest are forgotten first: memory stays bounded). */
    maxUsers: number;
}

/** From `botDefaults` (bot/config.ts). */
export const DEFAULT_RATE_LIMIT: RateLimit = { ...botDefaults.rateLimit };

export interface FogBotOptions {
    token: string;
    reader: Reader;
    /** Known bot identity: no getMe call (tests, console mode). */
    botInfo?: UserFromGetMe;
    rateLimit?: RateLimit;
    clock?: () => number;
    log?: (event: object) => void;
    /** The web app's https address: /start offers it as a Mini App button. */
    appUrl?: string;
}

/** Sliding-window counter per user, in a Map kept at most `maxUsers` long (insertion order = age). */
export class RateLimiter {
    private readonly seen = new Map<number, number[]>();
    constructor(
        private readonly limit: RateLimit,
        private readonly clock: () => number = Date.now,
    ) {}

    /** 0 if `user` may go on, else the milliseconds until it may. */
    wait(user: number): number {
        const now = this.clock();
        const recent = (this.seen.get(user) ?? []).filter((t) => now - t < this.limit.windowMs);
        this.seen.delete(user);
        if (recent.length >= this.limit.commands) {
            this.seen.set(user, recent);
            return this.limit.windowMs - (now - recent[0]);
        }
        recent.push(now);
        this.seen.set(user, recent);
        while (this.seen.size > this.limit.maxUsers) this.seen.delete(this.seen.keys().next().value!);
        return 0;
    }

    get users(): number {
        return this.seen.size;
    }
}

/** The bot a message's leading command is addressed to (`/cmd@name`), lower-cased, if it names one. */
function commandTarget(msg: Message | undefined): string | undefined {
    const command = msg?.entities?.find((e) => e.type === 'bot_command' && e.offset === 0);
    if (!command || msg?.text === undefined) return undefined;
    const at = msg.text.slice(0, command.length).indexOf('@');
    return at === -1 ? undefined : msg.text.slice(at + 1, command.length).toLowerCase();
}

export function createFogBot(o: FogBotOptions): Bot {
    const bot = new Bot(o.token, o.botInfo ? { botInfo: o.botInfo } : {});
    const limiter = new RateLimiter(o.rateLimit ?? DEFAULT_RATE_LIMIT, o.clock);
    const log = o.log ?? (() => undefined);
    const html = { parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true } };

    // In a group, `/cmd@other_bot` is another bot's: grammY's command() does not match it, but the
    // unknown-command answer below would, and the limiter would count it against the sender.
    bot.use(async (ctx, next) => {
        const target = commandTarget(ctx.message ?? ctx.channelPost);
        if (target !== undefined && target !== ctx.me.username.toLowerCase()) return;
        return next();
    });

    bot.use(async (ctx, next) => {
        const msg = ctx.message ?? ctx.channelPost;
        // A channel post has no `from`, and an anonymous group admin's `from` is one bot shared by
        // all of them: the chat that speaks is who is limited then.
        const user = msg?.sender_chat?.id ?? msg?.from?.id;
        if (user === undefined || !msg?.text?.startsWith('/')) return next();
        const wait = limiter.wait(user);
        if (wait > 0) {
            log({ event: 'rate_limited', user });
            await ctx.reply(`Slow down: try again in ${Math.ceil(wait / 1000)} s.`);
            return;
        }
        return next();
    });

    /** Runs a command; an Answer is the reply, a chain failure gets one friendly line. */
    const command = (name: string, run: (ctx: Context, arg: string) => Promise<ResultAnswer | { text: string; tonkeeper: string }>) =>
        bot.command(name, async (ctx) => {
            const arg = typeof ctx.match === 'string' ? ctx.match : '';
            try {
                const r = await run(ctx, arg);
                if (typeof r === 'string') await ctx.reply(r, html);
                else if ('photo' in r) await ctx.replyWithPhoto(new InputFile(r.photo, r.filename), { caption: r.caption });
                else await ctx.reply(r.text, { ...html, reply_markup: new InlineKeyboard().url('Sign in Tonkeeper', r.tonkeeper) });
            } catch (e) {
                if (e instanceof Answer) return void (await ctx.reply(e.message, html));
                log({ event: 'command_failed', command: name, error: describeError(e) });
                await ctx.reply(`Could not read the chain just now (${describeError(e).slice(0, 200)}). Try again in a moment.`);
            }
        });

    // /start opens the Mini App when the bot knows where it is served; the commands work either way
    bot.command('start', async (ctx) => {
        if (!o.appUrl) return void (await ctx.reply(HELP, html));
        await ctx.reply(`${HELP}\n\nOr open the app: explore the network and make a meme, signed in your wallet.`, {
            ...html,
            reply_markup: new InlineKeyboard().webApp('Open Fog', o.appUrl),
        });
    });
    command('help', async () => HELP);
    command('network', () => o.reader.network());
    command('job', (_, arg) => o.reader.job(arg));
    command('map', (_, arg) => o.reader.map(arg));
    command('provider', (_, arg) => o.reader.provider(arg));
    command('pass', (_, arg) => o.reader.pass(arg));
    command('rewards', (_, arg) => o.reader.rewards(arg));
    command('epoch', (_, arg) => o.reader.epoch(arg));
    command('result', (_, arg) => o.reader.result(arg));
    command('post', (_, arg) => o.reader.post(arg));
    command('refused', (_, arg) => o.reader.refused(arg));
    bot.on('message:text', async (ctx) => {
        await ctx.reply(
            ctx.message.text.startsWith('/')
                ? `I don’t know ${ctx.message.text.split(/\s/)[0].slice(0, 40)}. /help lists what I do.`
                : 'Send a command: /help lists them.',
        );
    });
    bot.catch((err) => log({ event: 'bot_error', error: describeError(err.error) }));
    return bot;
}
