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
 *   fog train --resume [--out model.bin] [--check]
 *   (the defaults are digits'; --task sketches has its own: examples/train.ts, SKETCH_DEFAULTS)
 *
 * `<out>.json` records the run as it goes: the schedule and terms, every round done, and for the
 * round under way the hub's mark before its map and its reduce are sent and their ids once they
 * landed. `--resume` goes on with a run that stopped (killed, a network error, the machine off)
 * from that record: the rounds done are not posted again (the last one's model must be its
 * reduce's on-chain result), and a map or reduce the record names, or that the hub shows since its
 * mark, is followed, not posted again (docs/map-reduce.md, "Resumable").
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Address } from '@ton/core';
import { Command } from 'commander';
import { actor, Common, commonOptions, out, Signing, signingOptions } from '../client/cli-common';
import { storageOf } from '../client/context';
import { frameParts, InputPart, inputsManifest } from '../client/inputs';
import { uint256ToHash } from '../client/storage';
import { hashToUint256, sha256Hex } from '../client/hash';
import { describeOutcome } from '../client/jobs';
import { JobPhase, MAX_OUTPUT_BYTES, resultHashOf } from '../client/results';
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
import { hubEventsSince, hubMark, postAnswerOf } from '../client/posted';
import { JobState } from '../wrappers/Job';
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

/** `<out>.json`: the run's schedule and terms, its rounds done, and what the round under way has posted. */
interface TrainingRecord {
    options: TrainingOptions;
    jobPrice: string;
    k: number;
    quorum: number;
    mfuel: number;
    memory: number;
    /** The network's hub and the requester's wallet: a run resumes on the same, with the same. */
    hub: string;
    requester: string;
    /** The storage node the run's inputs name (their URIs are in the inputs, and so in their hashes). */
    storage: string;
    rounds: RoundRecord[];
    /**
     * The round under way (1-based): the hub's mark taken before its map and before its reduce were
     * sent (`mapSince`, `reduceSince`: logical times), and the map's first job and the reduce once
     * they landed.
     */
    pending?: Pending;
}

interface Pending {
    round: number;
    mapSince?: string;
    map?: string;
    reduceSince?: string;
    reduce?: string;
}

/** The flags a resumed run takes from its record instead, by their commander names. */
const SCHEDULE_FLAGS = ['task', 'samples', 'heldOut', 'shards', 'rounds', 'epochs', 'hidden', 'rate', 'seed', 'latent', 'batch'];
const TERMS_FLAGS = ['price', 'replicas', 'quorum', 'mfuel', 'memory', 'storage'];

/** Whether `x` is an address as a record writes one. */
function isAddress(x: unknown): boolean {
    try {
        return typeof x === 'string' && Address.parse(x) instanceof Address;
    } catch {
        return false;
    }
}

/** The record at `path`, checked enough to go on from; a clear error otherwise. */
export function readTrainingRecord(path: string): TrainingRecord {
    if (!existsSync(path)) throw new Error(`--resume: there is no ${path} (the record fog train writes beside --out)`);
    let r: TrainingRecord;
    try {
        r = JSON.parse(readFileSync(path, 'utf-8')) as TrainingRecord;
    } catch (e) {
        throw new Error(`--resume: ${path} is not a training record: ${(e as Error).message}`, { cause: e });
    }
    const whole = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n > 0;
    const ids = (v: unknown) => v === undefined || (typeof v === 'string' && /^\d+$/.test(v));
    if (
        typeof r !== 'object' ||
        r === null ||
        typeof r.options !== 'object' ||
        typeof r.jobPrice !== 'string' ||
        !/^\d+$/.test(r.jobPrice) ||
        ![r.k, r.quorum, r.mfuel, r.memory].every(whole) ||
        ![r.hub, r.requester].every(isAddress) ||
        typeof r.storage !== 'string' ||
        !Array.isArray(r.rounds) ||
        !r.rounds.every(
            (x, i) =>
                x?.round === i + 1 &&
                typeof x.model === 'string' &&
                /^[0-9a-f]{64}$/.test(x.model) &&
                typeof x.reduce === 'string' &&
                ids(x.reduce),
        ) ||
        (r.pending !== undefined &&
            (r.pending.round !== r.rounds.length + 1 ||
                ![r.pending.mapSince, r.pending.map, r.pending.reduceSince, r.pending.reduce].every(ids)))
    )
        throw new Error(`--resume: ${path} is not a record of a fog train run this version can go on with`);
    try {
        trainingPlan(r.options);
    } catch (e) {
        throw new Error(`--resume: ${path} holds a schedule that is not valid: ${(e as Error).message}`, { cause: e });
    }
    if (r.rounds.length > r.options.rounds || (r.rounds.length === r.options.rounds && r.pending !== undefined))
        throw new Error(`--resume: ${path} is not a record of a fog train run this version can go on with`);
    return r;
}

/**
 * Whether `<out>.json` records a run that --resume can go on with and that has paid for something
 * (a round done, or a post under way) without finishing; how far it got.
 */
function unfinishedRun(path: string): string | undefined {
    if (!existsSync(path)) return undefined;
    let r: TrainingRecord;
    try {
        r = readTrainingRecord(path);
    } catch {
        // not a record this version can resume (none, an earlier version's, or damaged): nothing it could go on with
        return undefined;
    }
    const paid = r.rounds.length > 0 || r.pending?.mapSince !== undefined || r.pending?.map !== undefined;
    return paid && r.rounds.length < r.options.rounds ? `${r.rounds.length} of ${r.options.rounds} rounds done` : undefined;
}

/**
 * Writes `text` to `path` whole or not at all: a temporary file written and flushed to disk, renamed
 * over it, and the rename flushed too (its folder), so that neither a kill nor a power cut leaves
 * half of one or loses one that was written.
 */
function writeWhole(path: string, text: string): void {
    const tmp = `${path}.tmp`;
    const flush = (file: string, flags: string, data?: string) => {
        const fd = openSync(file, flags);
        try {
            if (data !== undefined) writeFileSync(fd, data);
            fsyncSync(fd);
        } finally {
            closeSync(fd);
        }
    };
    flush(tmp, 'w', text);
    renameSync(tmp, path);
    try {
        flush(dirname(resolve(path)), 'r');
    } catch {
        // a platform that cannot open a folder to flush it (Windows): the rename is as durable as it makes it
    }
}

/** Throws unless job `id` (recorded as `what`) was posted with input `input`: a record that names another run's job. */
function requireInput(what: string, id: bigint, inputHash: bigint, input: Buffer): void {
    if (inputHash !== hashToUint256(sha256Hex(input)))
        throw new Error(
            `--resume: job ${id}, recorded as ${what}, was not posted with this run's input for it; the record is not this run's`,
        );
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
            resume?: boolean;
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
        .option(
            '--resume',
            'go on with the run recorded in <out>.json that stopped: its schedule and terms, from the round it was in (a map or reduce it had posted is followed, not posted again)',
        )
        .action(async (o: TrainFlags, cmd: Command) => {
            const resumed = o.resume ? readTrainingRecord(`${o.out}.json`) : undefined;
            const given = [...SCHEDULE_FLAGS, ...TERMS_FLAGS].filter((f) => cmd.getOptionValueSource(f) === 'cli');
            if (resumed !== undefined && given.length > 0)
                throw new Error(
                    `--resume takes the schedule and the terms from ${o.out}.json: drop ${given
                        .map((f) => '--' + f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()))
                        .join(', ')}`,
                );
            const { price, k, quorum, mfuel, memory } =
                resumed === undefined
                    ? resolveSubmit(o)
                    : {
                          price: BigInt(resumed.jobPrice),
                          k: resumed.k,
                          quorum: resumed.quorum,
                          mfuel: resumed.mfuel,
                          memory: resumed.memory,
                      };
            if (resumed !== undefined) {
                o.task = resumed.options.task ?? 'digits';
                o.storage = resumed.storage;
            }
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
            const options: TrainingOptions = resumed?.options ?? {
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
            const unfinished = resumed === undefined ? unfinishedRun(`${o.out}.json`) : undefined;
            if (unfinished !== undefined)
                throw new Error(
                    `${o.out}.json records a run that did not finish (${unfinished}): go on with it with --resume, or give another --out (or remove ${o.out}.json) to start a new one; nothing was posted`,
                );
            if (resumed !== undefined && resumed.rounds.length === options.rounds && existsSync(o.out)) {
                const there = readFileSync(o.out);
                if (there.length <= MAX_OUTPUT_BYTES && resultHashOf(there) === resumed.rounds.at(-1)!.model)
                    throw new Error(
                        `--resume: the run recorded in ${o.out}.json is finished (${options.rounds} of ${options.rounds} rounds) and ${o.out} holds its model; nothing to do`,
                    );
            }
            const print = !o.json;
            const say = (line: string) => print && process.stderr.write(line + '\n');
            // the fuel limit: measured here on the first round, with room for the rounds after it
            const fuel = await roundFuel(plan, memory);
            const needed = Math.ceil((Number(fuel.shard > fuel.reduce ? fuel.shard : fuel.reduce) * FUEL_MARGIN) / Number(MFUEL));
            if (mfuel !== undefined && mfuel < needed) {
                const room =
                    resumed === undefined
                        ? `--mfuel ${mfuel} leaves no room for later rounds; give at least ${needed}`
                        : `the record's limit, ${mfuel} Mfuel, leaves no room for the rounds left; start a new run with another --out (or with ${o.out}.json removed)`;
                throw new Error(
                    `a shard uses ${formatFuel(fuel.shard)} and a reduce ${formatFuel(fuel.reduce)} here: ${room}; nothing was posted`,
                );
            }
            const who = await actor(o);
            if (resumed !== undefined) {
                if (!Address.parse(resumed.hub).equals(who.ctx.file.hub))
                    throw new Error(
                        `--resume: ${o.out}.json is a run on the network whose hub is ${resumed.hub}, not on this one (${who.ctx.file.hub.toString()}): give that network's --network-file`,
                    );
                if (!Address.parse(resumed.requester).equals(who.address))
                    throw new Error(
                        `--resume: ${o.out}.json is a run of wallet ${resumed.requester}, not of ${who.address.toString()}: resume it with the wallet that posted it`,
                    );
            }
            const jobs = BigInt((options.rounds - (resumed?.rounds.length ?? 0)) * (options.shards + 1));
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
            const rounds: RoundRecord[] = resumed?.rounds ?? [];
            let pending = resumed?.pending;
            const { client, file } = who.ctx;
            /** Job `id`'s state, or undefined while it is not deployed (or not on this network). */
            const jobState = async (id: bigint): Promise<JobState | undefined> => {
                const job = await who.ctx.fog.job(id);
                return (await client.isContractDeployed(job.address)) ? job.getJobState() : undefined;
            };
            if (rounds.length > 0) {
                // the last round's model: the record's hash must be its reduce's on-chain result, and the bytes must hash to it
                const last = rounds.at(-1)!;
                const settled = await jobState(BigInt(last.reduce));
                if (settled === undefined || Number(settled.phase) !== JobPhase.Done || uint256ToHash(settled.result) !== last.model)
                    throw new Error(
                        `--resume: round ${last.round}'s model in ${o.out}.json is not the result its reduce (job ${last.reduce}) settled on; the record is not this network's`,
                    );
                const hash = last.model;
                model = { bytes: await storage.getResult(hash), part: { kind: 'result', hash, uri: storage.resultUrlOf(hash) } };
                say(
                    rounds.length < options.rounds
                        ? `resuming from round ${rounds.length + 1}/${options.rounds}: ${rounds.length} done, model ${hash.slice(0, 16)}…`
                        : `the run's ${rounds.length} rounds are done: writing its model ${hash.slice(0, 16)}…`,
                );
            }
            const record = () =>
                // whole or not at all: a kill, or the machine going off, never leaves half of one
                writeWhole(
                    `${o.out}.json`,
                    JSON.stringify(
                        {
                            options,
                            jobPrice: price!.toString(),
                            k,
                            quorum,
                            mfuel: terms.mfuel,
                            memory,
                            hub: who.ctx.file.hub.toString(),
                            requester: who.address.toString(),
                            storage: storage.baseUrl,
                            rounds,
                            pending,
                        },
                        null,
                        2,
                    ) + '\n',
                );
            // A post the record may name already: followed if so, posted again only if the hub refunded
            // it. Otherwise posted, with the hub's mark recorded before it is sent and its id once it
            // landed, so that a run stopped in between finds it among the hub's answers since the mark
            // by its input (the first job's, for a map).
            const postOrFollow = async <T>(p: {
                what: string;
                id?: string;
                since?: string;
                count: number;
                firstInput: Buffer;
                mark: (since: bigint) => void;
                landed: (id: bigint) => void;
                post: () => Promise<bigint>;
                follow: (id: bigint) => Promise<T>;
                check: (id: bigint, result: T) => void;
                refunded: (result: T) => string | undefined;
            }): Promise<{ id: bigint; result: T }> => {
                const want = hashToUint256(sha256Hex(p.firstInput));
                let id = p.id === undefined ? undefined : BigInt(p.id);
                if (id !== undefined) {
                    // a job already there is checked before it is followed
                    const state = await jobState(id);
                    if (state !== undefined) requireInput(p.what, id, state.spec.inputHash, p.firstInput);
                } else if (p.since !== undefined) {
                    const deadline = Date.now() + Math.max(who.waitMs, 60_000);
                    say(`${p.what}: looking on the hub for one sent before the run stopped…`);
                    search: for (;;) {
                        for (const e of await hubEventsSince(client, file.hub, BigInt(p.since))) {
                            const answer = postAnswerOf(e, who.address, price!, p.count);
                            if (answer === undefined || !('posted' in answer)) continue;
                            if ((await jobState(answer.posted))?.spec.inputHash !== want) continue;
                            id = answer.posted;
                            p.landed(id);
                            record();
                            break search;
                        }
                        if (Date.now() >= deadline) break;
                        await new Promise((r) => setTimeout(r, 1000));
                    }
                    if (id === undefined) say(`${p.what}: none landed since the run stopped`);
                }
                if (id !== undefined) {
                    say(`${p.what}: following job ${id}, posted before the run stopped`);
                    const result = await p.follow(id);
                    p.check(id, result);
                    const why = p.refunded(result);
                    if (why === undefined) return { id, result };
                    say(`${p.what}: ${why}; posting it again`);
                }
                p.mark(await hubMark(client, file.hub));
                record();
                id = await p.post();
                p.landed(id);
                record();
                return { id, result: await p.follow(id) };
            };
            // what a stop leaves: --resume posts a refunded job again, and stops again on a program that failed
            const stopped = (status: string) =>
                status === 'program-failed'
                    ? `${o.out}.json has the rounds done; the program fails on this input, so --resume would stop here again: start a new run with another --out, or with ${o.out}.json removed`
                    : `${o.out}.json has the rounds done: --resume goes on from here`;
            record(); // before anything is paid: the record can be written, and a failed round finds it
            for (let round = rounds.length; round < options.rounds; round++) {
                const started = Date.now();
                const posted = pending?.round === round + 1 ? pending : undefined;
                say(`round ${round + 1}/${options.rounds}: ${options.shards} shards`);
                const inputs: Buffer[] = [];
                const programInputs: Buffer[] = [];
                for (let shard = 0; shard < options.shards; shard++) {
                    const parts = shardParts(plan, round, shard, model.bytes);
                    inputs.push(inputsManifest([await blob(parts[0]), model.part, slices[shard]]));
                    programInputs.push(frameParts(parts));
                }
                const idsOf = (first: bigint) => Array.from({ length: options.shards }, (_, i) => first + BigInt(i));
                const mapped = await postOrFollow({
                    what: `round ${round + 1}'s map`,
                    id: posted?.map,
                    since: posted?.mapSince,
                    count: options.shards,
                    firstInput: inputs[0],
                    mark: (since) => (pending = { round: round + 1, mapSince: since.toString() }),
                    landed: (first) => (pending = { ...pending!, round: round + 1, map: first.toString() }),
                    post: () => postMap(who, { ...terms, program: programs.shard, inputs, programInputs }, print),
                    follow: (first) => followShards(who, first, idsOf(first), print),
                    check: (first, states) => {
                        for (const [i, id] of idsOf(first).entries())
                            requireInput(`round ${round + 1}'s shard ${i}`, id, states.get(id)!.spec.inputHash, inputs[i]);
                    },
                    refunded: (states) => {
                        const statuses = [...states.values()].map(shardStatus);
                        // a program that failed would fail again: the run stops on it below
                        if (statuses.includes('program-failed')) return undefined;
                        const id = [...states.keys()].find((id) => shardStatus(states.get(id)!) === 'refunded');
                        return id === undefined ? undefined : `job ${id} ended ${describeOutcome(states.get(id)!)}`;
                    },
                });
                const first = mapped.id;
                const states = mapped.result;
                const ids = idsOf(first);
                const outputs: Buffer[] = [];
                const results: InputPart[] = [];
                for (const [i, id] of ids.entries()) {
                    const s = states.get(id)!;
                    if (shardStatus(s) !== 'done')
                        throw new Error(
                            `round ${round + 1}: shard ${i} (job ${id}) ended ${describeOutcome(s)}; the training stops here (${stopped(shardStatus(s))})`,
                        );
                    const hash = uint256ToHash(s.result);
                    outputs.push(await storage.getResult(hash)); // checked against the on-chain result
                    results.push({ kind: 'result', hash, uri: storage.resultUrlOf(hash) });
                }
                const input = inputsManifest([heldOut, ...results]);
                const programInput = frameParts(reduceParts(plan, outputs));
                const reduced = await postOrFollow({
                    what: `round ${round + 1}'s reduce`,
                    // a reduce recorded for another map (reposted) is not this one's
                    id: posted?.map === first.toString() ? posted.reduce : undefined,
                    since: posted?.map === first.toString() ? posted.reduceSince : undefined,
                    count: 1,
                    firstInput: input,
                    mark: (since) => (pending = { round: round + 1, map: first.toString(), reduceSince: since.toString() }),
                    landed: (id) => (pending = { ...pending!, round: round + 1, map: first.toString(), reduce: id.toString() }),
                    post: () => postJob(who, { ...terms, program: programs.reduce, input, programInput }, print),
                    follow: (id) => follow(who.ctx, id, print, who),
                    check: (id, state) => requireInput(`round ${round + 1}'s reduce`, id, state.spec.inputHash, input),
                    refunded: (state) => (shardStatus(state) === 'refunded' ? `it ended ${describeOutcome(state)}` : undefined),
                });
                const reduce = reduced.id;
                const state = reduced.result;
                if (Number(state.phase) !== JobPhase.Done || shardStatus(state) !== 'done')
                    throw new Error(
                        `round ${round + 1}: the reduce (job ${reduce}) ended ${describeOutcome(state)}; the training stops here (${stopped(shardStatus(state))})`,
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
                pending = undefined;
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
