/**
 * Options of the oracle's processes: `main.ts` (watcher + keeper) and `watch.ts` (watcher alone).
 * One defaults object, one parse-and-validate step per command line with exact messages (the
 * flag, its range, the value given), and the usage texts built from the defaults.
 */
import { toNano } from '@ton/core';
import { NetworkFile } from '../client/addresses';
import { Env, networkOption, parseOptions, required, wholeNumber } from '../client/cli-kit';

/** Defaults of the oracle's processes and of the keeper. */
export const oracleDefaults = {
    /** `main --every`: seconds between keeper ticks. */
    every: 5,
    /** `main --poll-ms`: pause between watcher cycles. */
    pollMs: 1000,
    /** `watch --poll-ms`. */
    watchPollMs: 500,
    /** The keeper waits this long before poking the same item again while it stays live. */
    retryMs: 60_000,
    /** The keeper's subscriber name at the watcher. */
    keeperName: 'keeper',
    /** On the devnet: below this balance the keeper's wallet asks the faucet for `topUp`. */
    lowBalance: toNano('1'),
    topUp: toNano('5'),
    /** The keeper reads the Librarian's balance this often, and warns below `libraryWarnDays` of rent. */
    libraryCheckMs: 3_600_000,
    libraryWarnDays: 90,
    /** The LMDB environment of `main.js` inside `--data`. */
    oracleDb: 'oracle.mdb',
    /** The LMDB environment of `watch.js` inside `--data`. */
    watchDb: 'watch.mdb',
} as const;

/** The range of each whole-number option. */
export const oracleLimits = {
    every: { min: 1, max: 59 },
    pollMs: { min: 10, max: 600_000 },
} as const;

/** The keeper's node-cron schedule (with seconds) for a tick every `every` seconds. */
export const everySchedule = (every: number) => `*/${every} * * * * *`;

/** The environment of `watch.js` (the watcher alone). */
export const WATCH_DB = oracleDefaults.watchDb;
/** The environment of `main.js` (watcher + keeper). */
export const ORACLE_DB = oracleDefaults.oracleDb;

export const oracleUsage = `usage: node dist/oracle/main.js --network-file <path> --key <path> --data <dir> [--every ${oracleDefaults.every}] [--poll-ms ${oracleDefaults.pollMs}]
  --every     seconds between keeper ticks (${oracleLimits.every.min}..${oracleLimits.every.max})
  --poll-ms   pause between watcher cycles`;

export const watchUsage = `usage: node dist/oracle/watch.js --network-file <path> --data <dir> [--poll-ms ${oracleDefaults.watchPollMs}]`;

/** `main.js`'s options, checked. */
export interface OracleOptions {
    network: NetworkFile;
    /** The keeper's key file (created if missing). */
    keyPath: string;
    data: string;
    every: number;
    pollMs: number;
    /** TONCENTER_API_KEY, if set. */
    apiKey: string | undefined;
}

/** `watch.js`'s options, checked. */
export interface WatchOptions {
    network: NetworkFile;
    data: string;
    pollMs: number;
    apiKey: string | undefined;
}

export type Parsed<T> = { help: true } | { help: false; options: T };

/** Parses `main.js`'s arguments (without `node` and the script); throws an OptionError. */
export function parseOracleArgs(argv: string[], env: Env): Parsed<OracleOptions> {
    const args = parseOptions(argv, {
        'network-file': { type: 'string' },
        key: { type: 'string' },
        data: { type: 'string' },
        every: { type: 'string' },
        'poll-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    });
    if (args.help) return { help: true };
    const { every, pollMs } = oracleLimits;
    return {
        help: false,
        options: {
            network: networkOption(args['network-file']),
            keyPath: required(args.key, '--key'),
            data: required(args.data, '--data'),
            every: wholeNumber(args.every, '--every', every.min, every.max, oracleDefaults.every),
            pollMs: wholeNumber(args['poll-ms'], '--poll-ms', pollMs.min, pollMs.max, oracleDefaults.pollMs),
            apiKey: env.TONCENTER_API_KEY,
        },
    };
}

/** Parses `watch.js`'s arguments; throws an OptionError. */
export function parseWatchArgs(argv: string[], env: Env): Parsed<WatchOptions> {
    const args = parseOptions(argv, {
        'network-file': { type: 'string' },
        data: { type: 'string' },
        'poll-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    });
    if (args.help) return { help: true };
    const { pollMs } = oracleLimits;
    return {
        help: false,
        options: {
            network: networkOption(args['network-file']),
            data: required(args.data, '--data'),
            pollMs: wholeNumber(args['poll-ms'], '--poll-ms', pollMs.min, pollMs.max, oracleDefaults.watchPollMs),
            apiKey: env.TONCENTER_API_KEY,
        },
    };
}
