/**
 * `npm run train:meme`: retrains the meme model on the network, in one command (docs/memes.md,
 * "Training it on Fog"). It brings up a local network as `npm start` does (devnet, storage node, keeper,
 * workers each with its own wallet, stake and pass), runs `fog train --task sketches --check` on it
 * (SKETCH_DEFAULTS: every shard and every round's model a verified job, k workers each, and the
 * final model checked bitwise against the same schedule trained here), then ships the result:
 * examples/data/meme-model.bin and its record meme-model.bin.json (the options, every round's job
 * ids and model hash), the meme example rebuilt with the new decoder, and docs/memes/ (the quality
 * figures and the grid) measured afresh. Nothing is replaced unless every step passed and the new
 * model meets the quality bar (examples/memes.ts, QUALITY_BAR).
 *
 *   node dist/devnet/train-meme.js [--workers 2] [-k 2] [--data <dir>]
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { entry, Managed, startNode } from '../client/processes';
import { ROOT } from '../client/paths';
import { startLocalNetwork } from './local-network';
import { MEME_MODEL_FILE, MEME_RECORD_FILE } from '../examples/data/sketches';
import { measureMemes, qualityProblems, qualityTable, writeMemeDocs } from '../examples/memes';

/**
 * Takes `file` for this process (its pid inside), so that two runs never share a data folder;
 * throws if a live process holds it. Returns what releases it.
 */
function lock(file: string): () => void {
    for (;;) {
        try {
            const fd = openSync(file, 'wx');
            writeSync(fd, String(process.pid));
            return () => rmSync(file, { force: true });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
            const pid = Number(readFileSync(file, 'utf-8'));
            let alive = false;
            try {
                alive = Number.isInteger(pid) && pid > 0 && process.kill(pid, 0);
            } catch {
                // no such process: the lock was left by a run that was killed
            }
            if (alive) throw new Error(`another run (pid ${pid}) is using this data folder; wait for it, or give --data`, { cause: e });
            rmSync(file, { force: true });
        }
    }
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            workers: { type: 'string', default: '2' },
            k: { type: 'string', short: 'k', default: '2' },
            data: { type: 'string', default: join(ROOT, '.fog', 'train-meme') },
        },
        strict: true,
    });
    const [workers, k] = [Number(values.workers), Number(values.k)];
    if (!Number.isInteger(workers) || workers < 1 || workers > 8) throw new Error(`--workers must be 1 to 8, got ${values.workers}`);
    if (!Number.isInteger(k) || k < 1 || k > workers) throw new Error(`-k must be 1 to --workers (${workers}), got ${values.k}`);
    const data = resolve(values.data!);
    const release = lock(`${data}.lock`);
    process.once('exit', release);
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    const say = (line: string) => process.stderr.write(line + '\n');
    const running: Managed[] = [];
    const stopAll = () => Promise.all([...running].reverse().map((m) => m.stop()));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().then(() => process.exit(130)));
    try {
        say(`Starting a local network: devnet, storage node, keeper and ${workers} workers…`);
        const net = await startLocalNetwork({
            data,
            networkFile: join(data, 'network.json'),
            workers,
            // every process's lines, for a look when something fails
            onLine: (name, line) => appendFileSync(join(data, 'network.log'), `[${name}] ${line}\n`),
            onProcess: (m) => running.push(m),
        });
        const out = join(data, 'meme-model.bin');
        say(`Training the meme model on the network (fog train --task sketches, k=${k})…`);
        const train = startNode(
            'fog train',
            entry.fog,
            ['train', ...net.common(net.requesterHome), '--task', 'sketches', '--price', '2', '-k', String(k), '--out', out, '--check'],
            (_, line) => say(`  ${line}`),
        );
        running.push(train);
        const code = await train.exited;
        if (code !== 0)
            throw new Error(
                `fog train exited with ${code}; the shipped model is unchanged (the processes' lines: ${join(data, 'network.log')})`,
            );
        await stopAll();
        // the meme is rebuilt with the new decoder and measured; below the bar, the old files come back
        const previous = [MEME_MODEL_FILE, MEME_RECORD_FILE].map((f) => (existsSync(f) ? readFileSync(f) : undefined));
        const rebuild = () => execFileSync(process.execPath, [join(ROOT, 'dist', 'examples', 'build.js')], { stdio: 'inherit' });
        copyFileSync(out, MEME_MODEL_FILE);
        copyFileSync(`${out}.json`, MEME_RECORD_FILE);
        say('Rebuilding the meme example with the new decoder and measuring it…');
        let measured;
        try {
            rebuild();
            measured = await measureMemes();
            const problems = qualityProblems(measured.quality);
            if (problems.length > 0) throw new Error(`the new model falls short: ${problems.join('; ')}`);
        } catch (e) {
            [MEME_MODEL_FILE, MEME_RECORD_FILE].forEach((f, i) =>
                previous[i] ? writeFileSync(f, previous[i]) : rmSync(f, { force: true }),
            );
            rebuild();
            throw new Error(`${(e as Error).message}; the shipped model is unchanged (the new one: ${out})`, { cause: e });
        }
        const { quality, grid } = measured;
        writeMemeDocs(quality, grid);
        process.stdout.write(
            `${qualityTable(quality)}\nmodel ${quality.model} → examples/data/meme-model.bin (record: meme-model.bin.json)\n`,
        );
    } finally {
        await stopAll();
    }
}

main().catch((e: Error) => {
    process.stderr.write(`train:meme: ${e.message}\n`);
    process.exit(1);
});
