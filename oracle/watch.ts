/**
 * `node dist/oracle/watch.js --network-file <path> --data <dir> [--poll-ms N]`: follows a Fog
 * network and prints every event once, as one JSON line on stdout.
 *
 * Each delivered event is also recorded in the LMDB `events` database under `<dir>` (key: the
 * event id) inside the delivery transaction, so the record is exactly-once across kill -9; an
 * event delivered twice would be counted in `watch-stats` under `duplicates` (it never should).
 * The stdout line is written inside that transaction too: after a kill -9 between the line and
 * the commit, the line comes again. Logs go to stderr; exits 0 on SIGINT/SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { connect } from '../client/chain';
import { Watcher } from '../client/watcher';
import { encodeEvent, eventJson } from '../client/event-codec';
import { jsonLine, onStopSignal, runMain } from '../client/cli-kit';
import { parseWatchArgs, WATCH_DB, watchUsage } from './config';

const PROGRAM = 'fog-watch';

async function main(): Promise<void> {
    const command = parseWatchArgs(process.argv.slice(2), process.env);
    if (command.help) {
        process.stdout.write(`${watchUsage}\n`);
        return;
    }
    const { network, data, pollMs, apiKey } = command.options;
    mkdirSync(data, { recursive: true });

    const log = (event: object) => jsonLine(process.stderr, event);
    const db = open({ path: join(data, WATCH_DB) });
    const events = db.openDB<string, string>('events', { encoding: 'string' });
    const stats = db.openDB<number, string>('watch-stats', { encoding: 'json' });
    const watcher = new Watcher({ client: connect(network.endpoint, apiKey), db, hub: network.hub, pollMs, log });
    watcher.subscribe('watch', (event) => {
        if (events.get(event.origin.id) !== undefined) {
            stats.putSync('duplicates', (stats.get('duplicates') ?? 0) + 1);
            log({ event: 'duplicate', id: event.origin.id });
        }
        events.putSync(event.origin.id, encodeEvent(event));
        process.stdout.write(`${JSON.stringify(eventJson(event))}\n`);
    });
    watcher.start();
    log({ event: 'watching', hub: network.hub.toString(), endpoint: network.endpoint, data, pollMs });
    onStopSignal(PROGRAM, async (signal) => {
        await watcher.stop();
        await db.close();
        log({ event: 'stopped', signal });
    });
}

// the network file's own errors already say what is wrong in one line
runMain(PROGRAM, main);
