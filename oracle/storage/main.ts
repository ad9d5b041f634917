/**
 * Runs a storage node:
 *   node dist/oracle/storage/main.js --dir <path> [--host 127.0.0.1] [--port 7070] [--max-bytes N] [--token T]
 * Logs one JSON line per event on stdout (with a timestamp `t`), starting with {"event":"listening","url":…}; stops
 * cleanly (exit 0) on SIGINT or SIGTERM; a bad option prints one line on stderr and exits 1.
 */
import { parseStorageArgs, storageUsage } from './config';
import { StorageError } from '../../client/storage-errors';
import { startStorageNode } from './server';
import { jsonLine } from '../../client/cli-kit';

const log = (event: object): void => jsonLine(process.stdout, event);

async function main(): Promise<void> {
    const command = parseStorageArgs(process.argv.slice(2), process.env);
    if (command.help) {
        process.stdout.write(`${storageUsage}\n`);
        return;
    }
    const { options } = command;
    const node = await startStorageNode({ ...options, log });
    log({
        event: 'listening',
        url: node.url,
        dir: options.dir,
        maxBlobBytes: options.maxBlobBytes,
        auth: options.writeToken !== undefined,
    });
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        log({ event: 'stopping', signal });
        node.close().then(
            () => process.exit(0),
            (e: unknown) => {
                process.stderr.write(`fog-storage: close failed: ${(e as Error).message}\n`);
                process.exit(1);
            },
        );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
    // A user's mistake gets its message only; anything else is a bug and keeps its stack.
    const text = e instanceof StorageError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`fog-storage: ${text}\n`);
    process.exit(1);
});
