/** Amounts as people type and read them: FOG and TON have 9 decimals. */

const DECIMALS = 9;

/** Parses "12", "0.5" or "1_000" into nano units; throws one clear line for anything else. */
export function parseAmount(text: string, unit = 'FOG'): bigint {
    const t = text.replace(/_/g, '').trim();
    const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(t);
    if (!m) throw new Error(`not an amount of ${unit}: ${JSON.stringify(text)} (use e.g. 100 or 0.5)`);
    return BigInt(m[1]) * 10n ** BigInt(DECIMALS) + BigInt((m[2] ?? '').padEnd(DECIMALS, '0'));
}

/** Formats nano units as a decimal with the unit: 1500000000n → "1.5 FOG". */
export function formatAmount(nano: bigint, unit = 'FOG'): string {
    const sign = nano < 0n ? '-' : '';
    const abs = nano < 0n ? -nano : nano;
    const whole = abs / 10n ** BigInt(DECIMALS);
    const frac = (abs % 10n ** BigInt(DECIMALS)).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
    return `${sign}${whole}${frac ? '.' + frac : ''} ${unit}`;
}

/** Parses a positive whole number option, e.g. `--cores 8`. */
export function parseCount(text: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max)
        throw new Error(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
    return n;
}

/** The largest job id: the hub's get-methods take a uint64. */
export const MAX_JOB_ID = 2n ** 64n - 1n;

/** Parses a job id as a user typed it; throws one clear line for anything else. */
export function parseJobId(text: string): bigint {
    if (!/^\d+$/.test(text)) throw new Error(`not a job id: ${JSON.stringify(text)} (a job id is a whole number from 0)`);
    const id = BigInt(text);
    // a larger id would fail at the hub's get-methods with a bare exit code
    if (id > MAX_JOB_ID) throw new Error(`job id ${text} is out of range: job ids are 0 to ${MAX_JOB_ID}`);
    return id;
}
