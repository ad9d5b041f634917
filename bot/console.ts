/**
 * The bot without Telegram: updates made from typed lines, and the Bot API calls the bot makes
 * caught by a grammY transformer and answered locally. Used by `npm run bot -- --console` and by
 * the tests.
 */
import { InputFile, type Bot } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';

export const CONSOLE_BOT: UserFromGetMe = {
    id: 1,
    is_bot: true,
    first_name: 'Fog',
    username: 'fog_network_bot',
    can_join_groups: false,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
};

/** One Bot API call the bot made. */
export interface ApiCall {
    method: string;
    payload: Record<string, unknown>;
}

/** A reply as a person would read it. */
export interface Reply {
    chat: number;
    text: string;
    /** Inline keyboard buttons: text and URL. */
    buttons: { text: string; url?: string }[];
}

/**
 * Routes every Bot API call of `bot` to `onCall` instead of Telegram. `sendMessage` is answered
 * with a plausible Message; other methods with `true`.
 */
export function captureApi(bot: Bot, onCall: (call: ApiCall) => void): void {
    let messageId = 0;
    bot.api.config.use(async (_prev, method, payload) => {
        const p = (payload ?? {}) as Record<string, unknown>;
        onCall({ method, payload: p });
        const result =
            method === 'sendMessage'
                ? { message_id: ++messageId, date: Math.floor(Date.now() / 1000), chat: { id: p.chat_id, type: 'private' }, text: p.text }
                : true;
        // the transformer's contract: an API response
        return { ok: true, result } as never;
    });
}

/** The picture a `sendPhoto` call carries, if it is one. */
export function photoOf(call: ApiCall): { filename: string; bytes: Buffer; caption: string } | undefined {
    if (call.method !== 'sendPhoto' || !(call.payload.photo instanceof InputFile)) return undefined;
    const file = call.payload.photo;
    const data = (file as unknown as { fileData: unknown }).fileData;
    if (!(data instanceof Uint8Array)) return undefined;
    return { filename: file.filename ?? 'photo', bytes: Buffer.from(data), caption: String(call.payload.caption ?? '') };
}

/** The reply a `sendMessage` call carries, with HTML turned into plain text. */
export function replyOf(call: ApiCall): Reply | undefined {
    if (call.method !== 'sendMessage') return undefined;
    const markup = call.payload.reply_markup as { inline_keyboard?: { text: string; url?: string }[][] } | undefined;
    return { chat: Number(call.payload.chat_id), text: plain(String(call.payload.text)), buttons: (markup?.inline_keyboard ?? []).flat() };
}

/** Telegram HTML as the reader sees it. */
export function plain(html: string): string {
    return html
        .replace(/<[^>]+>/g, '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
}

let nextUpdate = 1;

/** The fields Telegram sets on a text message: a leading `/command[@bot]` is a bot_command entity. */
function textMessage(id: number, text: string) {
    const command = /^\/\w+(@\w+)?/.exec(text);
    return {
        message_id: id,
        date: Math.floor(Date.now() / 1000),
        text,
        ...(command ? { entities: [{ type: 'bot_command' as const, offset: 0, length: command[0].length }] } : {}),
    };
}

/** A private-chat text message from user `user`, as Telegram would deliver it. */
export function textUpdate(text: string, user = 42): Update {
    const id = nextUpdate++;
    return {
        update_id: id,
        message: {
            ...textMessage(id, text),
            chat: { id: user, type: 'private', first_name: 'Tester' },
            from: { id: user, is_bot: false, first_name: 'Tester' },
        },
    } as Update;
}

/** A post in channel `channel` (a negative chat id) where the bot is an admin: no `from`, the channel is the sender. */
export function channelPostUpdate(text: string, channel: number): Update {
    const id = nextUpdate++;
    const chat = { id: channel, type: 'channel' as const, title: 'Fog news' };
    return { update_id: id, channel_post: { ...textMessage(id, text), chat, sender_chat: chat } } as Update;
}
