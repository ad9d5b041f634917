/** Text made safe to put inside HTML: every page of the app builds its markup from strings. */
export function esc(value: unknown): string {
    return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
