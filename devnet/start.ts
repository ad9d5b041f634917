/**
 * `npm start`: the whole Fog network on this machine, as separate processes talking HTTP, exactly
 * as they would on mainnet: the devnet (toncenter API), a storage node, the keeper, N workers
 * (each with its own wallet, stake and pass, some of them lying if asked), and a requester who
 * submits demo jobs. Shows live progress and ends with a summary.
 *
 *   --workers N  --jobs N  --liars N  --majority  --colluding  --examples a,b  --train R  --samples N  --once  --json  --data <dir>  --network-file <path>
 *   (defaults and ranges: devnet/config.ts)
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { entry, Managed, runNode } from '../client/processes';
import { formatFuel, MFUEL } from '../client/compute/fuel';
import { startLocalNetwork } from './local-network';
import { hurryStalledLiars } from './hurry';
import { networkContext } from '../client/context';
import { Address } from '@ton/core';
import { parseStartArgs, startDefaults } from './config';
import { exampleNamed, heldOutDigits, mlpInferInput, mlpTrainInput, runExample } from '../examples/catalog';

/** Shards of each round of the demo's training run. */
const TRAIN_SHARDS = 4;

/**
 * The demo's training run: `fog train` over the network, R rounds of TRAIN_SHARDS shard jobs and a
 * reduce, checked against the same schedule trained here. Reports each round as it was verified.
 */
async function trainingRun(
    o: { train: number; samples: number; data: string },
    k: number,
    common: string[],
    say: (line: string) => void,
): Promise<{ ok: boolean; rounds: number; accuracy?: string; model?: string; local?: boolean; error?: string }> {
    say(
        `Training a digit classifier on the network: ${o.train} rounds of ${TRAIN_SHARDS} shards and a reduce (k=${k}), ${o.samples} digits…`,
    );
    const out = join(o.data, 'model.bin');
    try {
        const line = await runNode(entry.fog, [
            'train',
            ...common,
            '--rounds',
            String(o.train),
            '--samples',
            String(o.samples),
            '--shards',
            String(TRAIN_SHARDS),
            '--price',
            '2',
            '-k',
            String(k),
            '--out',
            out,
            '--check',
            '--json',
        ]);
        const r = JSON.parse(line.split('\n').pop()!) as {
            model: string;
            local: boolean;
            rounds: { round: number; map: string; reduce: string; model: string; heldOutRight: number; heldOut: number; seconds: number }[];
        };
        for (const x of r.rounds)
            say(
                `✔ round ${x.round}: shard jobs ${x.map}–${BigInt(x.map) + BigInt(TRAIN_SHARDS - 1)} and reduce job ${x.reduce} verified, model ${x.model.slice(0, 16)}…, ${((100 * x.heldOutRight) / x.heldOut).toFixed(1)}% right on ${x.heldOut} held-out digits (${x.seconds.toFixed(0)} s)`,
            );
        const last = r.rounds.at(-1)!;
        const accuracy = `${((100 * last.heldOutRight) / last.heldOut).toFixed(1)}%`;
        return { ok: r.local && r.rounds.length === o.train, rounds: r.rounds.length, accuracy, model: r.model, local: r.local };
    } catch (e) {
        say(`✘ training: ${(e as Error).message}`);
        // the rounds done before it stopped, as fog train recorded them
        let rounds = 0;
        try {
            rounds = (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { rounds: unknown[] }).rounds.length;
        } catch {
            // no record: it stopped before posting anything
        }
        return { ok: false, rounds, error: (e as Error).message };
    }
}

/**
 * Demo job `i`'s example and input. mlp-infer reads held-out digits with the model the network
 * trained in an earlier job (`model`), or with one trained here if there was none.
 */
async function demoJob(
    i: number,
    model: Buffer | undefined,
    examples: readonly string[],
): Promise<{ example: string; input: Buffer; what: string }> {
    const example = examples[i % examples.length];
    const round = Math.floor(i / examples.length);
    switch (example) {
        case 'mlp-train':
            return {
                example,
                input: mlpTrainInput({ seed: round + 1 }),
                what: 'mlp-train: a 64-32-10 network on 1,500 handwritten digits',
            };
        case 'mlp-infer': {
            const digits = heldOutDigits(10);
            const input = mlpInferInput(model ?? (await runExample('mlp-train', mlpTrainInput())), digits.features);
            return {
                example,
                input,
                what: `mlp-infer: 10 held-out digits (truly ${digits.labels.join(' ')}), with the model ${model ? 'the network trained' : 'trained here'}`,
            };
        }
        case 'meme': {
            const prompt = round === 0 ? 'one does not simply | compute alone' : `meme ${round + 1} | still agreed by three`;
            return { example, input: Buffer.from(prompt), what: `meme: "${prompt}"` };
        }
        case 'matmul':
            return {
                example,
                input: Buffer.from(Uint32Array.of(96 + 8 * round).buffer),
                what: `matmul: ${96 + 8 * round}×${96 + 8 * round} f64`,
            };
        case 'upper': {
            const text = `Fog job ${i}: honest workers agree, liars pay.`;
            return { example, input: Buffer.from(text), what: `upper("${text}")` };
        }
        default: {
            const input = Buffer.alloc(1024, i);
            input.writeUInt32LE(2000 * (round + 1), 0);
            return { example, input, what: `fnv-rounds: 1 KiB × ${2000 * (round + 1)}` };
        }
    }
}

async function main() {
    const o = parseStartArgs(process.argv.slice(2));
    const say = (line: string) => {
        if (!o.json) process.stdout.write(line + '\n');
    };
    rmSync(o.data, { recursive: true, force: true });
    mkdirSync(o.data, { recursive: true });
    const nf = o.networkFile;
    const running: Managed[] = [];
    let shuttingDown = false;
    const shutdown = async () => {
        shuttingDown = true;
        await Promise.all([...running].reverse().map((m) => m.stop()));
    };
    process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
    process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));

    const logs = new Map<string, number>();
    const show = (name: string, line: string) => {
        // every process's output is kept in <data>/logs/<name>.log
        const file = join(o.data, 'logs', `${name.replace(/[^a-z0-9]+/gi, '-')}.log`);
        if (!logs.has(file)) {
            mkdirSync(join(o.data, 'logs'), { recursive: true });
            logs.set(file, openSync(file, 'a'));
        }
        writeSync(logs.get(file)!, line + '\n');
        if (o.json || shuttingDown) return;
        try {
            const e = JSON.parse(line) as Record<string, unknown>;
            const interesting = [
                'claimed',
                'committed',
                'revealed',
                'job_settled',
                'program_failed',
                'reward_claimed',
                'reward_claim_failed',
                'step_failed',
                'tick_failed',
                'dispute_move',
                'dispute_poke_sent',
            ];
            if (interesting.includes(String(e.event))) {
                const detail =
                    (e.job !== undefined ? `job ${e.job}` : e.epoch !== undefined ? `epoch ${e.epoch}` : '') +
                    (e.event === 'dispute_move'
                        ? ` match ${e.match}: ${e.move}${e.choice !== undefined ? ` segment ${e.choice}` : ''}`
                        : '');
                say(
                    `  [${name}] ${String(e.event).replace(/_/g, ' ')} ${detail}${e.note ? ` (${e.note})` : ''}${e.reason ? ` (${e.reason})` : ''}${e.error ? `: ${e.error}` : ''}`,
                );
            }
        } catch {
            // not a log line
        }
    };

    try {
        say(
            `Starting the storage node, the devnet, the keeper and ${o.workers} workers (${o.liars} lying${o.colluding ? ', colluding' : ''}), each with its own wallet, stake and pass; revealed results that differ are settled by ${o.disputes ? 'dispute matches' : 'majority vote (--majority)'}…`,
        );
        const net = await startLocalNetwork({
            data: o.data,
            networkFile: nf,
            workers: o.workers,
            liars: o.liars,
            colluding: o.colluding,
            disputeAllowance: o.disputes ? startDefaults.disputeAllowance : 0,
            commitWindow: o.disputes && o.liars > 0 ? startDefaults.liarCommitWindow : undefined,
            appPort: 0,
            onLine: show,
            onProcess: (m) => running.push(m),
        });
        say(
            `  devnet  ${net.endpoint}\n  storage ${net.storageUrl}\n  app     ${net.appUrl} (the explorer: open it in a browser)\n  network file ${nf}`,
        );
        const { homes, requesterHome, common, status } = net;
        const before = await Promise.all(homes.map(status));
        const requesterBefore = await status(requesterHome);
        const infoBefore = await net.info();

        // with disputes, a liar left to prove a false step stalls for its whole time: the devnet's clock skips it
        const hurry = o.disputes
            ? hurryStalledLiars({
                  fog: networkContext(nf).fog,
                  liars: before.slice(0, o.liars).map((s) => Address.parse(s.address)),
                  advance: (seconds) => net.advance(seconds),
                  say,
              })
            : undefined;
        const k = Math.min(3, o.workers);
        say(`Submitting ${o.jobs} jobs (k=${k})…`);
        const results: { id: number; what: string; verified: boolean; error?: string }[] = [];
        let model: Buffer | undefined;
        for (let i = 0; i < o.jobs; i++) {
            let job: Awaited<ReturnType<typeof demoJob>> = {
                example: o.examples[i % o.examples.length],
                input: Buffer.alloc(0),
                what: o.examples[i % o.examples.length],
            };
            try {
                job = await demoJob(i, model, o.examples);
                const inputFile = join(o.data, `input-${i}`);
                const outFile = join(o.data, `output-${i}${job.example === 'meme' ? '.png' : ''}`);
                writeFileSync(inputFile, job.input);
                const args = [...common(requesterHome), '--example', job.example, '--input', inputFile, '-k', String(k)];
                // the fuel the job needs, measured here: the run is deterministic, so the least limit
                // that holds it here holds it on every worker
                const estimate = JSON.parse(await runNode(entry.fog, ['job', 'submit', ...args, '--estimate', '--json'])) as {
                    fuel: string;
                    suggested: { mfuel: number };
                };
                const mfuel = String(estimate.suggested.mfuel);
                const line = await runNode(entry.fog, [
                    'job',
                    'submit',
                    ...args,
                    '--mfuel',
                    mfuel,
                    '--price',
                    '5',
                    '--out',
                    outFile,
                    '--json',
                ]);
                const r = JSON.parse(line.split('\n').pop()!) as { id: string; result: string };
                // the hash was checked against the chain by `fog job submit`; the bytes must be what
                // the program gives here, in this process
                const output = readFileSync(outFile);
                const verified = output.equals(await runExample(job.example, job.input));
                if (verified && job.example === 'mlp-train') model = output;
                const summary = exampleNamed(job.example).summary(output);
                results.push({ id: Number(r.id), what: job.what, verified });
                say(
                    `✔ job ${r.id} ${job.what}, ${formatFuel(estimate.fuel)} of a ${formatFuel(BigInt(mfuel) * MFUEL)} limit\n    ${summary}; result ${r.result.slice(0, 16)}… agreed on chain${verified ? ', the same bytes as a local run' : ' but NOT what the program gives here'} (${outFile})`,
                );
            } catch (e) {
                results.push({ id: -1, what: job.what, verified: false, error: (e as Error).message });
                say(`✘ ${job.what}: ${(e as Error).message}`);
            }
        }

        const training = o.train > 0 ? await trainingRun(o, k, common(requesterHome), say) : undefined;

        await hurry?.stop();
        // rewards: move the devnet clock past the epoch and its close delay; the workers claim on their own
        say('Advancing the devnet clock past the epoch so workers can claim rewards…');
        await net.advance(700);
        const deadline = Date.now() + 60_000;
        let after = await Promise.all(homes.map(status));
        // each honest worker that earned units waits until its minted reward has arrived
        const waiting = () =>
            after.some(
                (s, i) => i >= o.liars && s.provider && BigInt(s.provider.unitsTotal) > 0n && BigInt(s.fog) <= BigInt(before[i].fog),
            );
        while (Date.now() < deadline && waiting()) {
            await new Promise((r) => setTimeout(r, 1000));
            after = await Promise.all(homes.map(status));
        }
        const requesterAfter = await status(requesterHome);
        const infoAfter = await net.info();
        // the dispute matches the jobs played (each job's count), in this run's jobs
        const { fog } = networkContext(nf);
        const posted = (await fog.hub.getHubState()).nextJobId;
        let matches = 0;
        for (let id = 0n; id < posted; id++) {
            const job = await fog.job(id);
            if (await fog.client.isContractDeployed(job.address)) matches += Number((await job.getJobState()).matches);
        }

        const workers = homes.map((_, i) => ({
            worker: i + 1,
            liar: i < o.liars,
            rewardsFog: Number(BigInt(after[i].fog) - BigInt(before[i].fog)) / 1e9,
            slashes: Number(after[i].provider?.slashCount ?? 0),
            slashedFog: Number(BigInt(after[i].provider?.slashedTotal ?? '0')) / 1e9,
            reputation: Number(after[i].provider?.reputation ?? 0),
        }));
        const summary = {
            jobs: results.length,
            verified: results.filter((r) => r.verified).length,
            results,
            requester: {
                fogSpent: Number(BigInt(requesterBefore.fog) - BigInt(requesterAfter.fog)) / 1e9,
                tonSpent: Number(BigInt(requesterBefore.ton) - BigInt(requesterAfter.ton)) / 1e9,
            },
            network: {
                transactions: infoAfter.transactions - infoBefore.transactions,
                gas: Number(BigInt(infoAfter.gas) - BigInt(infoBefore.gas)),
                matches,
            },
            ...(training ? { training } : {}),
            workers,
        };
        const ok =
            summary.verified === summary.jobs &&
            (training === undefined || training.ok) &&
            workers.every((w) => !w.liar || (o.jobs === 0 && !training) || w.slashes > 0);
        if (o.json) process.stdout.write(JSON.stringify({ ok, ...summary }) + '\n');
        else {
            say(
                `\nSummary: ${summary.verified}/${summary.jobs} results verified; ${summary.network.transactions} transactions, ${summary.network.gas.toLocaleString('en-US')} gas; ${matches} dispute match${matches === 1 ? '' : 'es'} played.`,
            );
            if (training)
                say(
                    training.ok
                        ? `  training: ${training.rounds} rounds of ${TRAIN_SHARDS} shards and a reduce, every model verified on chain and bitwise a local run's; ${training.accuracy} on held-out digits`
                        : `  training: failed (${training.error})`,
                );
            say(
                `  requester spent ${summary.requester.fogSpent} FOG (burned as job prices) and ${summary.requester.tonSpent.toFixed(3)} TON in fees`,
            );
            for (const w of workers)
                say(
                    `  worker ${w.worker}${w.liar ? ' (liar)' : ''}: rewards ${w.rewardsFog} FOG, slashed ${w.slashes}× (${w.slashedFog} FOG), reputation ${w.reputation}`,
                );
        }
        if (o.once) {
            await shutdown();
            process.exit(ok ? 0 : 1);
        }
        say(
            `\nThe network keeps running. In another terminal, with the same network file:\n  node dist/requester/cli.js job submit --home ${requesterHome} --network-file ${nf} --example meme --input prompt.txt --out meme.png --price 5   (prompt.txt: "top text | bottom text")\n  node dist/worker/cli.js status --home ${homes[0]} --network-file ${nf}\nCtrl-C stops every process.`,
        );
    } catch (e) {
        process.stderr.write(`npm start: ${(e as Error).message}\n`);
        await shutdown();
        process.exit(1);
    }
}

void main().catch((e) => {
    process.stderr.write(`npm start: ${(e as Error).message}\n`);
    process.exit(1);
});
