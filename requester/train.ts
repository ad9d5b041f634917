/**
 * `fog train`: data-parallel training on the network (docs/map-reduce.md, "Training"). Each round
 * is a map and a reduce: S shard jobs train the round's model on their slices of the data
 * (mlp-shard, or vae-shard for the sketch model), posted as one sharded post, and a reduce job
 * averages their models into the next one and measures it on held-out data (mlp-average or
 * vae-average). Every shard and every round's model is a verified job result; the final model is
 * bitwise the one `--check` computes here.
 *
 *   fog train --price 2 [--task digits|sketches] [--samples 6000] [--shards 4] [--rounds 3]
 *             [--epochs 2] [--hidden 32] [--rate 0.05] [--seed 1] [--held-out 10]
 *             [--latent 8] [--batch 16] [-k 3] [--out model.bin] [--check]
 *   (the defaults are digits'; --task sketches has its own: examples/train.ts, SKETCH_DEFAULTS)
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { actor, Common, commonOptions, out, Signing, signingOptions } from '../client/cli-common';
import { storageOf } from '../client/context';
import { frameParts, InputPart, inputsManifest } from '../client/inputs';
import { uint256ToHash } from '../client/storage';
import { describeOutcome } from '../client/jobs';
import { JobPhase, resultHashOf } from '../client/results';
import {
    defaultsOf,
    reduceParts,
    roundMeasures,
    shardParts,
    roundFuel,
    TASKS,
    trainHere,
    TrainingOptions,
    TrainingTask,
    trainingPlan,
    trainingPrograms,
} from '../examples/train';
import { resolveSubmit, SubmitFlags } from './config';
import { formatFuel, MFUEL } from '../client/compute/fuel';
import { checkRequester, checkWritable, follow, postingOptions, postJob } from './post';
import { followShards, postMap } from './map';
import { shardStatus } from '../client/map';

/** One round as `fog train` reports it and `<out>.json` records it. */
interface RoundRecord {
    round: number;
    map: string;
    shards: string[];
    reduce: string;
    model: string;
    /** digits: heldOutRight, heldOut, trainRight, trained; sketches: heldOutLoss, heldOut, trainLoss, trained. */
    [measure: string]: string | string[] | number;
    seconds: number;
}

/** How much more fuel than the first round's runs used the jobs are posted with (later rounds differ a little). */
const FUEL_MARGIN = 1.5;

export function trainCommand(cli: Command): void {
    const d = defaultsOf('digits');
    const s = defaultsOf('sketches');
    const both = (name: keyof TrainingOptions) => ` (default ${String(d[name])}; sketches ${String(s[name])})`;
    type TrainFlags = Common &
        Signing &
        SubmitFlags & {
            task: string;
            samples?: string;
            heldOut?: string;
            shards?: string;
            rounds?: string;
            epochs?: string;
            hidden?: string;
            rate?: string;
            seed?: string;
            latent?: string;
            batch?: string;
            storage?: string;
            out: string;
            check?: boolean;
        };
    postingOptions(
        signingOptions(
            commonOptions(
                cli
                    .command('train')
                    .description(
                        'train a model on the network (a digit classifier, or the sketch model memes are drawn with): each round a map of shard jobs trains on slices of the data and a reduce job averages them',
                    ),
            ),
        ),
        'what each job pays (each round posts --shards jobs and one reduce)',
    )
        .option('--task <task>', `what to train: ${TASKS.join(' or ')} (the meme model, docs/memes.md)`, 'digits')
        .option('--samples <n>', 'samples generated for the run (training and held out)' + both('samples'))
        .option('--held-out <percent>', 'held out from training: what each round is measured on' + both('heldOutPercent'))
        .option('--shards <S>', 'shard jobs per round, each on its own slice (1 to 64)' + both('shards'))
        .option('--rounds <R>', 'rounds of shards and reduce' + both('rounds'))
        .option('--epochs <n>', 'passes over its slice each shard makes per round' + both('epochs'))
        .option('--hidden <n>', 'hidden units of the network' + both('hidden'))
        .option('--rate <r>', 'learning rate' + both('rate'))
        .option('--seed <n>', 'fixes the data, the initial weights and every shuffle' + both('seed'))
        .option('--latent <n>', `sketches: latent dimensions (default ${String(s.latent)})`)
        .option('--batch <n>', `sketches: samples per Adam step (default ${String(s.batch)})`)
        .option('--out <file>', 'where to write the final model (its rounds, jobs and hashes go to <file>.json)', 'model.bin')
        .option('--check', 'also train here on the same schedule and check that the models are bitwise the same')
        .action(async (o: TrainFlags) => {
            const { price, k, quorum, mfuel, memory } = resolveSubmit(o);
            if (!(TASKS as readonly string[]).includes(o.task))
                throw new Error(`--task must be ${TASKS.join(' or ')}, got ${JSON.stringify(o.task)}`);
            const task = o.task as TrainingTask;
            const defaults = defaultsOf(task);
            const number = (v: string | undefined, flag: string, fallback: number | undefined) => {
                if (v === undefined) return fallback!;
                const n = Number(v);
                if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n))
                    throw new Error(`${flag} must be a number, got ${JSON.stringify(v)}`);
                return n;
            };
            if (task === 'digits' && (o.latent !== undefined || o.batch !== undefined))
                throw new Error('--latent and --batch are for --task sketches');
            const options: TrainingOptions = {
                ...(task === 'sketches'
                    ? { task, latent: number(o.latent, '--latent', defaults.latent), batch: number(o.batch, '--batch', defaults.batch) }
                    : {}),
                samples: number(o.samples, '--samples', defaults.samples),
                heldOutPercent: number(o.heldOut, '--held-out', defaults.heldOutPercent),
                shards: number(o.shards, '--shards', defaults.shards),
                rounds: number(o.rounds, '--rounds', defaults.rounds),
                epochs: number(o.epochs, '--epochs', defaults.epochs),
                hidden: number(o.hidden, '--hidden', defaults.hidden),
                rate: number(o.rate, '--rate', defaults.rate),
                seed: number(o.seed, '--seed', defaults.seed),
            };
            let plan;
            try {
                plan = trainingPlan(options);
            } catch (e) {
                throw new Error(`${(e as Error).message}; nothing was posted`, { cause: e });
            }
            checkWritable(o.out, '; nothing was posted');
            const print = !o.json;
            const say = (line: string) => print && process.stderr.write(line + '\n');
            // the fuel limit: measured here on the first round, with room for the rounds after it
            const fuel = await roundFuel(plan, memory);
            const needed = Math.ceil((Number(fuel.shard > fuel.reduce ? fuel.shard : fuel.reduce) * FUEL_MARGIN) / Number(MFUEL));
            if (mfuel !== undefined && mfuel < needed)
                throw new Error(
                    `a shard uses ${formatFuel(fuel.shard)} and a reduce ${formatFuel(fuel.reduce)} here: --mfuel ${mfuel} leaves no room for later rounds; give at least ${needed}; nothing was posted`,
                );
            const who = await actor(o);
            const jobs = BigInt(options.rounds * (options.shards + 1));
            await checkRequester(who, price! * jobs);
            say(
                `a shard uses ${formatFuel(fuel.shard)} and a reduce ${formatFuel(fuel.reduce)}: posting with up to ${formatFuel(BigInt(mfuel ?? needed) * MFUEL)}`,
            );
            const storage = storageOf(who.ctx.file, o.storage);
            const programs = trainingPrograms(task);
            const terms = { price: price!, k, quorum, mfuel: mfuel ?? needed, memory, storage: o.storage };
            // the data once: every round's parts name it by hash
            const blob = async (bytes: Buffer): Promise<InputPart> => {
                const hash = await storage.put(bytes);
                return { kind: 'blob', hash, uri: storage.urlOf(hash) };
            };
            const slices = [];
            for (const slice of plan.slices) slices.push(await blob(slice));
            const heldOut = await blob(plan.heldOut);
            let model: { bytes: Buffer; part: InputPart } = { bytes: Buffer.alloc(0), part: await blob(Buffer.alloc(0)) };
            const rounds: RoundRecord[] = [];
            const record = () =>
                writeFileSync(`${o.out}.json`, JSON.stringify({ options, jobPrice: price!.toString(), k, rounds }, null, 2) + '\n');
            record(); // before anything is paid: the record can be written, and a failed round finds it
            for (let round = 0; round < options.rounds; round++) {
                const started = Date.now();
                say(`round ${round + 1}/${options.rounds}: ${options.shards} shards`);
                const inputs: Buffer[] = [];
                const programInputs: Buffer[] = [];
                for (let shard = 0; shard < options.shards; shard++) {
                    const parts = shardParts(plan, round, shard, model.bytes);
                    inputs.push(inputsManifest([await blob(parts[0]), model.part, slices[shard]]));
                    programInputs.push(frameParts(parts));
                }
                const first = await postMap(who, { ...terms, program: programs.shard, inputs, programInputs }, print);
                const ids = Array.from({ length: options.shards }, (_, i) => first + BigInt(i));
                const states = await followShards(who, first, ids, print);
                const outputs: Buffer[] = [];
                const results: InputPart[] = [];
                for (const [i, id] of ids.entries()) {
                    const s = states.get(id)!;
                    if (shardStatus(s) !== 'done')
                        throw new Error(
                            `round ${round + 1}: shard ${i} (job ${id}) ended ${describeOutcome(s)}; the training stops here (${o.out}.json has the rounds done)`,
                        );
                    const hash = uint256ToHash(s.result);
                    outputs.push(await storage.getResult(hash)); // checked against the on-chain result
                    results.push({ kind: 'result', hash, uri: storage.resultUrlOf(hash) });
                }
                const input = inputsManifest([heldOut, ...results]);
                const programInput = frameParts(reduceParts(plan, outputs));
                const reduce = await postJob(who, { ...terms, program: programs.reduce, input, programInput }, print);
                const state = await follow(who.ctx, reduce, print, who);
                if (Number(state.phase) !== JobPhase.Done || shardStatus(state) !== 'done')
                    throw new Error(
                        `round ${round + 1}: the reduce (job ${reduce}) ended ${describeOutcome(state)}; the training stops here (${o.out}.json has the rounds done)`,
                    );
                const hash = uint256ToHash(state.result);
                const bytes = await storage.getResult(hash);
                model = { bytes, part: { kind: 'result', hash, uri: storage.resultUrlOf(hash) } };
                const measured = roundMeasures(task, bytes);
                rounds.push({
                    round: round + 1,
                    map: first.toString(),
                    shards: ids.map(String),
                    shardResults: results.map((r) => r.hash),
                    reduce: reduce.toString(),
                    model: hash,
                    ...measured.measures,
                    seconds: (Date.now() - started) / 1000,
                });
                record();
                say(`round ${round + 1}/${options.rounds}: model ${hash.slice(0, 16)}… (job ${reduce}), ${measured.text}`);
            }
            writeFileSync(o.out, model.bytes);
            let local: boolean | undefined;
            if (o.check) {
                say('training here on the same schedule to check…');
                const here = await trainHere(plan);
                // every round's model, not only the last
                const differs = here.findIndex((m, i) => resultHashOf(m) !== rounds[i].model);
                if (differs !== -1)
                    throw new Error(`round ${differs + 1}'s model trained here differs from the network's (${o.out} holds the network's)`);
                local = true;
            }
            const last = rounds.at(-1)!;
            out(
                o,
                `trained in ${options.rounds} rounds: ${roundMeasures(task, model.bytes).text.replace(/ \(the shards.*$/, '')}; model ${last.model.slice(0, 16)}… → ${o.out} (rounds, jobs and hashes in ${o.out}.json)${local ? '\nbitwise the model a local run of the same schedule gives' : ''}`,
                { model: last.model, out: o.out, rounds, ...(local === undefined ? {} : { local }) },
            );
        });
}
