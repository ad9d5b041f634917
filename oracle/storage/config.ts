/**
 * Options of the storage node: one defaults object, validation with exact messages, and the
 * command line of `main.ts`.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_BLOB_BYTES } from '../../client/storage';
import { StorageConfigError } from '../../client/storage-errors';
import { jsonLine } from '../../client/cli-kit';

/** Defaults for `startStorageNode`; the command line listens on `cliPort` instead of any free port. */
export const storageDefaults = {
    host: '127.0.0.1',
    port: 0,
    cliPort: 7070,
    maxBlobBytes: DEFAULT_MAX_BLOB_BYTES,
} as const;

/** Options of `startStorageNode`. */
export interface StorageNodeOptions {
    /** Directory that holds the blobs (created if missing). */
    dir: string;
    /** Interface to listen on (default 127.0.0.1). */
    host?: string;
    /** TCP port; 0 picks any free one (the default). */
    port?: number;
    /** Largest blob accepted, in bytes (default 64 MiB). */
    maxBlobBytes?: number;
    /** When set, PUT and POST need `Authorization: Bearer <writeToken>`; reads stay public. */
    writeToken?: string;
    /** Receives one object per event (default: a JSON line on stdout). */
    log?: (event: object) => void;
}

/** `StorageNodeOptions` with defaults filled in and every value checked. */
export interface ResolvedStorageOptions {
    dir: string;
    host: string;
    port: number;
    maxBlobBytes: number;
    writeToken: string | undefined;
    log: (event: object) => void;
}

/** Fills in defaults and throws `StorageConfigError` on the first bad value. */
export function resolveStorageOptions(opts: StorageNodeOptions): ResolvedStorageOptions {
    const port = opts.port ?? storageDefaults.port;
    const maxBlobBytes = opts.maxBlobBytes ?? storageDefaults.maxBlobBytes;
    if (typeof opts.dir !== 'string' || opts.dir === '')
        throw new StorageConfigError('dir is required (the directory that holds the blobs)');
    if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new StorageConfigError(`port must be a whole number from 0 to 65535, got ${port}`);
    if (!Number.isSafeInteger(maxBlobBytes) || maxBlobBytes < 1) {
        throw new StorageConfigError(`maxBlobBytes must be a whole number of bytes ≥ 1, got ${maxBlobBytes}`);
    }
    if (opts.writeToken === '') throw new StorageConfigError('writeToken must not be empty (leave it unset for a node without auth)');
    return {
        dir: opts.dir,
        host: opts.host ?? storageDefaults.host,
        port,
        maxBlobBytes,
        writeToken: opts.writeToken,
        log: opts.log ?? ((event) => jsonLine(process.stdout, event)),
    };
}

/** Usage text of `main.ts`. */
export const storageUsage = `usage: node dist/oracle/storage/main.js --dir <path> [--host ${storageDefaults.host}] [--port ${storageDefaults.cliPort}] [--max-bytes ${storageDefaults.maxBlobBytes}] [--token T]
  --token may instead come from the environment as FOG_STORAGE_TOKEN (keeps it out of the process list)`;

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
        throw new StorageConfigError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return n;
}

function parseFlags(argv: string[]) {
    try {
        return parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                dir: { type: 'string' },
                host: { type: 'string' },
                port: { type: 'string' },
                'max-bytes': { type: 'string' },
                token: { type: 'string' },
                help: { type: 'boolean', short: 'h' },
            },
        });
    } catch (e) {
        // node:util's messages go on to suggest `--` tricks that do not apply here; keep the first sentence.
        throw new StorageConfigError(`${(e as Error).message.split('. ')[0]} (see --help)`);
    }
}

/** The parsed command line: node options, or a request for the usage text. */
export type StorageCommand = { help: true } | { help: false; options: StorageNodeOptions };

/** Parses `main.ts`'s arguments (without `node` and the script); throws `StorageConfigError`. */
export function parseStorageArgs(argv: string[], env: Record<string, string | undefined>): StorageCommand {
    const { values } = parseFlags(argv);
    if (values.help) return { help: true };
    if (values.dir === undefined || values.dir === '')
        throw new StorageConfigError('--dir is required (the directory that holds the blobs)');
    const token = values.token ?? (env.FOG_STORAGE_TOKEN || undefined);
    if (token === '') throw new StorageConfigError('--token must not be empty');
    return {
        help: false,
        options: {
            dir: values.dir,
            host: values.host ?? storageDefaults.host,
            port: values.port === undefined ? storageDefaults.cliPort : wholeNumber('--port', values.port, 0, 65535),
            maxBlobBytes:
                values['max-bytes'] === undefined
                    ? storageDefaults.maxBlobBytes
                    : wholeNumber('--max-bytes', values['max-bytes'], 1, Number.MAX_SAFE_INTEGER),
            writeToken: token,
        },
    };
}
