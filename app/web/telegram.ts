/**
 * Telegram's Web App API, from the `@twa-dev/sdk` package (its copy of telegram-web-app.js, served
 * in this bundle: nothing is loaded from telegram.org). Inside Telegram it gives the Mini App its
 * theme (the `--tg-theme-*` variables style.css reads), the back and main buttons, haptics and
 * sharing, and `initData`, which the server checks before it stores anything (app/auth.ts); in a
 * browser `initData` is empty and every call is a no-op.
 */
import WebApp from '@twa-dev/sdk';

export function telegram(): typeof WebApp {
    return WebApp;
}

/** Whether the page runs as a Mini App inside Telegram. */
export function inTelegram(): boolean {
    return WebApp.initData !== '';
}
