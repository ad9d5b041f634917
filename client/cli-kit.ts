/**
 * What every daemon and command-line entry point shares: option parsing with exact messages,
 * one-line failures, JSON-line logs with a timestamp, and a clean stop on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { NetworkFile, readNetworkFile } from './addresses';

/** The environment a process reads its variables from (`process.env`, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A user's mistake on the command line: printed as one line, exit code 2. */
export class OptionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'OptionError';
    }
}

/** Parses `argv` strictly; unknown options and missing values become an OptionError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
    try {
        return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
    } catch (e) {
        // node:util goes on to suggest `--` tricks that do not apply here; keep the first sentence
        throw new OptionError(`${(e as Error).message.split('. ')[0]} (see --help)`);
    }
}

/** A required string option. */
export function required(value: string | boolean | undefined, flag: string): string {
    if (typeof value !== 'string' || value === '') throw new OptionError(`${flag} is required (see --help)`);
    return value;
}

/** The network file named by the required `--network-file`. */
export function networkOption(value: string | boolean | undefined): NetworkFile {
    const path = required(value, '--network-file');
    if (!existsSync(path)) throw new OptionError(`--network-file: no file at ${path}`);
    return readNetworkFile(path);
}

/** A whole number option in [min, max], or `fallback` when absent. */
export function wholeNumber(value: string | boolean | undefined, flag: string, min: number, max: number, fallback: number): number {
    if (value === undefined) return fallback;
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
        throw new OptionError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return n;
}

/** One JSON line on `stream` with a timestamp. */
export function jsonLine(stream: NodeJS.WritableStream, event: object): void {
    stream.write(`${JSON.stringify({ t: new Date().toISOString(), ...event })}\n`);
}

/** Runs `main`; a failure prints its message as one line on stderr and exits non-zero (2 for an OptionError). */
export function runMain(program: string, main: () => Promise<void>): void {
    main().catch((e: unknown) => {
        const err = e as Error;
        const text = err.message ?? String(e);
        process.stderr.write(`${program}: ${text}\n`);
        process.exit(e instanceof OptionError ? 2 : 1);
    });
}

/** Calls `stop` once on the first SIGINT or SIGTERM, then exits 0 (1 if stopping failed). */
export function onStopSignal(program: string, stop: (signal: NodeJS.Signals) => Promise<void>): void {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        stop(signal).then(
            () => process.exit(0),
            (e: unknown) => {
                process.stderr.write(`${program}: stopping failed: ${(e as Error).message ?? String(e)}\n`);
                process.exit(1);
            },
        );
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
}
