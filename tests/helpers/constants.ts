import { readFileSync } from 'fs';
import { join } from 'path';

/**
 * The integer constants of contracts/constants.tact, read from the source itself so that tests
 * check the contracts' own numbers and no copy can drift from them.
 */
export function tactConstants(): Record<string, bigint> {
    const source = readFileSync(join(__dirname, '..', '..', 'contracts', 'constants.tact'), 'utf-8');
    const out: Record<string, bigint> = {};
    for (const m of source.matchAll(/^const (\w+): Int = (?:ton\("([\d.]+)"\)|(0x[\da-fA-F_]+|[\d_]+));/gm)) {
        if (m[2] !== undefined) {
            const [whole, frac = ''] = m[2].split('.');
            out[m[1]] = BigInt(whole) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
        } else {
            out[m[1]] = BigInt(m[3].replace(/_/g, ''));
        }
    }
    return out;
}
