/**
 * Options of `npm run bench` (`bench/main.ts`): the defaults, one parse step, the usage text
 * built from the defaults.
 */
import { dirname } from 'node:path';
import { DIST } from '../client/paths';
import { parseOptions } from '../client/cli-kit';
import { BenchMode } from './report';

/** Defaults of `npm run bench`. */
export const benchDefaults = {
    /** Where BENCHMARKS.md and BENCHMARKS.json go: the repository root. */
    out: dirname(DIST),
    mode: 'full' as BenchMode,
} as const;

export const benchUsage = `usage: node dist/bench/main.js [--short] [--out <dir>]
  --short        a small run (seconds, for the tests): figures too small to judge the goals by
  --out <dir>    where BENCHMARKS.md and BENCHMARKS.json go (default: the repository root)
`;

/** Parses `main.ts`'s arguments (without `node` and the script); throws an OptionError. */
export function parseBenchArgs(argv: string[]): { help: true } | { help: false; options: { mode: BenchMode; out: string } } {
    const args = parseOptions(argv, {
        short: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
    });
    if (args.help) return { help: true };
    return { help: false, options: { mode: args.short ? 'short' : benchDefaults.mode, out: args.out ?? benchDefaults.out } };
}
