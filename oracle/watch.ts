/**
 * `node dist/oracle/watch.js --network-file <path> --data <dir> [--poll-ms 500]`: follows a Fog
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
import { jsonLine, networkOption, onStopSignal, parseOptions, required, runMain, wholeNumber } from '../client/cli-kit';
import { WATCH_DB } from './paths';

const PROGRAM = 'fog-watch';
const USAGE = 'usage: node dist/oracle/watch.js --network-file <path> --data <dir> [--poll-ms 500]';

async function main(): Promise<void> {
    const args = parseOptions(process.argv.slice(2), {
        'network-file': { type: 'string' },
        data: { type: 'string' },
        'poll-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
    });
    if (args.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const network = networkOption(args['network-file']);
    const data = required(args.data, '--data');
    const pollMs = wholeNumber(args['poll-ms'], '--poll-ms', 10, 600_000, 500);
    mkdirSync(data, { recursive: true });

    const log = (event: object) => jsonLine(process.stderr, event);
    const db = open({ path: join(data, WATCH_DB) });
    const events = db.openDB<string, string>('events', { encoding: 'string' });
    const stats = db.openDB<number, string>('watch-stats', { encoding: 'json' });
    const watcher = new Watcher({ client: connect(network.endpoint, process.env.TONCENTER_API_KEY), db, hub: network.hub, pollMs, log });
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
