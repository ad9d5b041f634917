/** Text made safe to put inside HTML: every page of the app builds its markup from strings. */
export function esc(value: unknown): string {
    return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A chain time (Unix seconds) as the pages write it: `2026-12-06 20:14:23 UTC`. */
export function utc(seconds: bigint | number): string {
    return new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}
