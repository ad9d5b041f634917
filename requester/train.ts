/**
 * `fog train`: data-parallel training on the network (docs/map-reduce.md, "Training"). Each round
 * is a map and a reduce: S shard jobs train the round's model on their slices of the data
 * (mlp-shard), posted as one sharded post, and a reduce job averages their models into the next
 * one and measures it on held-out data (mlp-average). Every shard and every round's model is a
 * verified job result; the final model is bitwise the one `--check` computes here.
 *
 *   fog train --price 2 [--samples 6000] [--shards 4] [--rounds 3] [--epochs 2] [--hidden 32]
 *             [--rate 0.05] [--seed 1] [--held-out 10] [-k 3] [--out model.bin] [--check]
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
    reduceParts,
    roundAccuracy,
    shardParts,
    roundFuel,
    trainHere,
    TRAINING_DEFAULTS,
    TrainingOptions,
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
    heldOutRight: number;
    heldOut: number;
    trainRight: number;
    trained: number;
    seconds: number;
}

const percent = (right: number, of: number) => `${((100 * right) / of).toFixed(1)}%`;

/** How much more fuel than the first round's runs used the jobs are posted with (later rounds differ a little). */
const FUEL_MARGIN = 1.5;

export function trainCommand(cli: Command): void {
    const d = TRAINING_DEFAULTS;
    type TrainFlags = Common &
        Signing &
        SubmitFlags & {
            samples: string;
            heldOut: string;
            shards: string;
            rounds: string;
            epochs: string;
            hidden: string;
            rate: string;
            seed: string;
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
                        'train a digit classifier on the network: each round a map of shard jobs trains on slices of the data and a reduce job averages them',
                    ),
            ),
        ),
        'what each job pays (each round posts --shards jobs and one reduce)',
    )
        .option('--samples <n>', 'digits generated for the run (training and held out)', String(d.samples))
        .option('--held-out <percent>', 'held out from training: the accuracy each round reports', String(d.heldOutPercent))
        .option('--shards <S>', 'shard jobs per round, each on its own slice (1 to 64)', String(d.shards))
        .option('--rounds <R>', 'rounds of shards and reduce', String(d.rounds))
        .option('--epochs <n>', 'passes over its slice each shard makes per round', String(d.epochs))
        .option('--hidden <n>', 'hidden units of the network', String(d.hidden))
        .option('--rate <r>', 'learning rate', String(d.rate))
        .option('--seed <n>', 'fixes the data, the initial weights and every shuffle', String(d.seed))
        .option('--out <file>', 'where to write the final model (its rounds, jobs and hashes go to <file>.json)', 'model.bin')
        .option('--check', 'also train here on the same schedule and check that the models are bitwise the same')
        .action(async (o: TrainFlags) => {
            const { price, k, quorum, mfuel, memory } = resolveSubmit(o);
            const number = (v: string, flag: string) => {
                const n = Number(v);
                if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n))
                    throw new Error(`${flag} must be a number, got ${JSON.stringify(v)}`);
                return n;
            };
            const options: TrainingOptions = {
                samples: number(o.samples, '--samples'),
                heldOutPercent: number(o.heldOut, '--held-out'),
                shards: number(o.shards, '--shards'),
                rounds: number(o.rounds, '--rounds'),
                epochs: number(o.epochs, '--epochs'),
                hidden: number(o.hidden, '--hidden'),
                rate: number(o.rate, '--rate'),
                seed: number(o.seed, '--seed'),
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
            const programs = trainingPrograms();
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
                const a = roundAccuracy(bytes);
                rounds.push({
                    round: round + 1,
                    map: first.toString(),
                    shards: ids.map(String),
                    reduce: reduce.toString(),
                    model: hash,
                    ...a,
                    seconds: (Date.now() - started) / 1000,
                });
                record();
                say(
                    `round ${round + 1}/${options.rounds}: model ${hash.slice(0, 16)}… (job ${reduce}), ${percent(a.heldOutRight, a.heldOut)} right on ${a.heldOut} held-out digits (the shards' own models: ${percent(a.trainRight, a.trained)} on their ${a.trained})`,
                );
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
                `trained in ${options.rounds} rounds: ${percent(last.heldOutRight, last.heldOut)} right on ${last.heldOut} held-out digits; model ${last.model.slice(0, 16)}… → ${o.out} (rounds, jobs and hashes in ${o.out}.json)${local ? '\nbitwise the model a local run of the same schedule gives' : ''}`,
                { model: last.model, out: o.out, rounds, ...(local === undefined ? {} : { local }) },
            );
        });
}
