/**
 * Map and reduce (docs/map-reduce.md): `fog job map` posts one program over many inputs as one
 * sharded post, follows its shards and downloads every output, verified; `fog job shards` shows
 * (and with --wait follows) a map; `fog job reduce` posts a job whose input is a map's verified
 * outputs in shard order, as a composite input the workers fetch from storage by hash.
 *
 *   fog job map --program p.wasm --inputs <dir> --price 5 [-k 3] [--out-dir d]
 *   fog job map --example upper --split book.txt --shards 16 [--record line|<bytes>] --price 5
 *   fog job shards <map id> [--wait] [--out-dir d]
 *   fog job reduce --example concat --from <map id | ids like 12-27,40> --price 5 [--out f]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Actor, actor, Common, commonOptions, out, Signing, signingOptions } from '../client/cli-common';
import { NetworkContext, networkContext, storageOf } from '../client/context';
import { shardedSpec } from '../client/actions';
import { MAX_SHARDS } from '../wrappers/protocol';
import { JobState } from '../wrappers/Job';
import { formatAmount, parseCount, parseJobId } from '../wrappers/units';
import { sha256Hex, uint256ToHash } from '../client/storage';
import { failureOf, JobPhase } from '../client/results';
import { describeOutcome } from '../client/jobs';
import { frameParts, inputsManifest, MAX_FRAMED_BYTES, MAX_INPUT_PARTS } from '../client/inputs';
import { BlobTooLargeError } from '../client/storage-errors';
import { findPostedId, hubMark } from '../client/posted';
import { mapJobIds, mapProgress, ShardStatus, shardStatus } from '../client/map';
import { dirInputs, splitRecords } from '../client/map-inputs';
import { describeError } from '../client/chain';
import { formatFuel, fuelForJob } from '../client/compute/fuel';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { resolveSubmit, SubmitFlags } from './config';
import {
    checkLocally,
    checkRequester,
    checkWritable,
    followJobs,
    postingOptions,
    JobPost,
    postJob,
    readFile,
    requestOf,
    readJob,
    finishJob,
    noteWorkerLimit,
} from './post';

/** A map's inputs, in shard order, and where each came from. */
function mapInputs(o: { inputs?: string; split?: string; shards?: string; record: string }): { inputs: Buffer[]; from: string[] } {
    if ((o.inputs === undefined) === (o.split === undefined))
        throw new Error('give --inputs <dir> or --split <file> --shards <S> (one of them)');
    if (o.inputs !== undefined) {
        if (o.shards !== undefined) throw new Error('--shards goes with --split (with --inputs, each file is a shard)');
        return dirInputs(o.inputs);
    }
    if (o.shards === undefined) throw new Error('--split needs --shards <S>, the number of pieces');
    const count = parseCount(o.shards, '--shards', MAX_SHARDS);
    const record = o.record === 'line' ? 'line' : parseCount(o.record, '--record', 2 ** 30);
    const pieces = splitRecords(readFile(o.split!, 'input'), count, record);
    let at = 0;
    const from = pieces.map((p) => `${o.split}[${at}..${(at += p.length)})`);
    return { inputs: pieces, from };
}

/** How long to wait for a map's jobs to be deployed after its post, ms. */
const DEPLOY_WAIT_MS = 60_000;

/** Waits until every job of `ids` is deployed (a sharded post deploys them once its pass check answered). */
async function deployed(ctx: NetworkContext, first: bigint, ids: readonly bigint[]): Promise<void> {
    const deadline = Date.now() + DEPLOY_WAIT_MS;
    for (const id of ids) {
        const job = await ctx.fog.job(id);
        while (!(await ctx.client.isContractDeployed(job.address))) {
            const s = await (await ctx.fog.shards(first)).getShardsState().catch(() => undefined);
            if (s?.verified === 2n)
                throw new Error(`map ${first} was refunded whole: its requester held no live Contributor Pass; no shard ran`);
            if (Date.now() > deadline) throw new Error(`the jobs of map ${first} were not deployed within ${DEPLOY_WAIT_MS / 1000} s`);
            await new Promise((r) => setTimeout(r, 500));
        }
    }
}

/** One program over many inputs, as a map posts it. */
export interface MapPost extends Omit<JobPost, 'input' | 'programInput'> {
    inputs: readonly Buffer[];
    /** What the program reads, where an input is a composite input's manifest. */
    programInputs?: readonly Buffer[];
}

/**
 * Uploads the program and the inputs and posts them as one sharded post (one input: a plain job,
 * which costs less; docs/gas.md, "Sharded posts"); returns the map's id, its first job's.
 */
export async function postMap(who: Actor, p: MapPost, print: boolean): Promise<bigint> {
    const count = p.inputs.length;
    if (count === 1) return postJob(who, { ...p, input: p.inputs[0], programInput: p.programInputs?.[0] }, print);
    const { ctx, address: requester } = who;
    const storage = storageOf(ctx.file, p.storage);
    const { spec, shards } = shardedSpec({ ...requestOf(p, storage), inputs: p.inputs, programInputs: p.programInputs });
    await storage.put(p.program);
    for (const input of p.inputs) await storage.put(input);
    const message = await ctx.fog.postShards(requester, p.price, spec, shards);
    const since = await hubMark(ctx.client, ctx.file.hub);
    await who.send(message, `post ${count} shards (${formatAmount(p.price * BigInt(count))})`);
    const first = await findPostedId(ctx.client, ctx.file.hub, requester, p.price, since, Math.max(who.waitMs, 60_000), count);
    noteWorkerLimit(Number(spec.maxMfuel), print);
    if (print)
        process.stderr.write(
            `posted map ${first}: ${count} shards of program ${sha256Hex(p.program).slice(0, 12)}…, jobs ${first}–${first + BigInt(count - 1)}, k=${p.k}, quorum ${p.quorum}, up to ${formatFuel(fuelForJob(spec))}, ${formatAmount(p.price)} each\n`,
        );
    return first;
}

/**
 * Follows map `first`'s jobs `ids` to their ends, with a progress bar on a terminal (a line per
 * change otherwise) when `print`, finalizing any that can no longer progress; their final states.
 */
export async function followShards(who: Actor, first: bigint, ids: readonly bigint[], print: boolean): Promise<Map<bigint, JobState>> {
    await deployed(who.ctx, first, ids);
    const tty = print && process.stderr.isTTY;
    let last = '';
    const states = await followJobs(
        who.ctx,
        ids,
        who,
        (states) => {
            if (!print || states.size < ids.length) return;
            const { line } = mapProgress(first, [...states.values()]);
            if (line === last) return;
            last = line;
            process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
        },
        (_, line) => print && process.stderr.write(`${tty ? '\n' : ''}${line}\n`),
    );
    if (tty) process.stderr.write('\n');
    return states;
}

/** One shard of a map as `map.json` records it. */
interface ShardRecord {
    shard: number;
    job: string;
    status: ShardStatus;
    outcome: string;
    input: string;
    from?: string;
    result?: string;
    bytes?: number;
    out?: string;
}

/**
 * Follows map `first`'s jobs to their ends (a progress bar on a terminal, a line per change
 * otherwise), downloads every output into `outDir` (verified against its on-chain result), and
 * writes `map.json` there. Returns the shards as recorded.
 */
async function finishMap(
    who: Actor,
    first: bigint,
    ids: readonly bigint[],
    o: { json?: boolean; storage?: string },
    outDir: string,
    from?: readonly string[],
): Promise<ShardRecord[]> {
    const { ctx } = who;
    const states = await followShards(who, first, ids, !o.json);
    mkdirSync(outDir, { recursive: true });
    const storage = storageOf(ctx.file, o.storage);
    const width = String(ids.length - 1).length;
    const records: ShardRecord[] = [];
    for (const [i, id] of ids.entries()) {
        const s = states.get(id)!;
        const status = shardStatus(s);
        const r: ShardRecord = {
            shard: i,
            job: id.toString(),
            status,
            outcome: describeOutcome(s),
            input: uint256ToHash(s.spec.inputHash),
            ...(from ? { from: from[i] } : {}),
        };
        if (Number(s.phase) === JobPhase.Done) r.result = uint256ToHash(s.result);
        if (status === 'program-failed') r.outcome = `done: the program failed on every worker (${failureOf(r.result!)})`;
        if (status === 'done') {
            try {
                const bytes = await storage.getResult(r.result!); // checked against the on-chain result
                r.out = `shard-${String(i).padStart(width, '0')}.out`;
                r.bytes = bytes.length;
                writeFileSync(join(outDir, r.out), bytes);
            } catch (e) {
                // the other shards' outputs are still written and listed; `fog job shards <id> --wait` tries again
                r.outcome = `done, but its output could not be downloaded: ${describeError(e)}`;
            }
        }
        records.push(r);
    }
    writeFileSync(join(outDir, 'map.json'), JSON.stringify({ map: first.toString(), shards: records }, null, 2) + '\n');
    return records;
}

/** Prints a finished map's summary; exit code 1 if any shard gave no output here. */
function reportMap(o: Common, first: bigint, records: ShardRecord[], outDir: string): void {
    const missing = records.filter((r) => r.out === undefined);
    const bytes = records.reduce((n, r) => n + (r.bytes ?? 0), 0);
    const lines = [
        `map ${first}: ${records.length - missing.length} of ${records.length} shards done, ${bytes} bytes verified against their on-chain results → ${outDir}/ (map.json lists them)`,
        ...missing.map((r) => `  shard ${r.shard} (job ${r.job}): ${r.outcome}`),
    ];
    out(o, lines.join('\n'), { map: first.toString(), out: outDir, done: records.length - missing.length, shards: records });
    if (missing.length > 0) process.exitCode = 1;
}

/** The jobs `--from` names: a map's id, or job ids and ranges in order (`12-27,40`). */
async function fromJobs(ctx: NetworkContext, from: string): Promise<bigint[]> {
    from = from.trim();
    if (/^\d+$/.test(from)) return mapJobIds(ctx.fog, parseJobId(from));
    const ids: bigint[] = [];
    for (const item of from.split(',')) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(item.trim());
        if (!m) throw new Error(`--from takes a map's id or job ids and ranges like 12-27,40; not ${JSON.stringify(item)}`);
        const [a, b] = [parseJobId(m[1]), parseJobId(m[2] ?? m[1])];
        if (b < a || b - a >= 1024n) throw new Error(`--from: the range ${item} is backwards or longer than 1024 jobs`);
        for (let id = a; id <= b; id++) ids.push(id);
        if (ids.length > MAX_INPUT_PARTS) throw new Error(`--from names more than ${MAX_INPUT_PARTS} jobs, the most one reduce reads`);
    }
    return ids;
}

/** Refuses, before anything is paid, an output folder the outputs could not be written to; creates it if it is not there. */
function checkOutDir(dir: string | undefined, after = ''): void {
    if (dir !== undefined) {
        try {
            mkdirSync(dir, { recursive: true });
        } catch (e) {
            throw new Error(`cannot create --out-dir ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${after}`, {
                cause: e,
            });
        }
    }
    checkWritable(dir === undefined ? undefined : join(dir, 'map.json'), after);
}

type ProgramFlags = { program?: string; example?: string; memory: string };

/** The program a command names (--program or --example), checked against the ABI before anything is paid. */
function programOf(o: ProgramFlags, memory: number): { bytes: Buffer; example?: ReturnType<typeof exampleNamed> } {
    if ((o.program === undefined) === (o.example === undefined)) throw new Error('give --program <file> or --example <name> (one of them)');
    const example = o.example === undefined ? undefined : exampleNamed(o.example);
    const path = example?.program ?? o.program!;
    const bytes = readFile(path, 'program');
    checkLocally(bytes, path, memory);
    return { bytes, example };
}

export function mapCommands(job: Command): void {
    const exampleList = EXAMPLES.map((e) => e.name).join(', ');
    type MapFlags = Common &
        Signing &
        SubmitFlags &
        ProgramFlags & {
            inputs?: string;
            split?: string;
            shards?: string;
            record: string;
            storage?: string;
            outDir?: string;
            wait: boolean;
        };
    postingOptions(
        signingOptions(
            commonOptions(
                job.command('map').description('post one program over many inputs as one sharded post, and download every verified output'),
            ),
        ),
        'what each shard pays (burned on success)',
    )
        .option('--program <file>', 'the WebAssembly program')
        .option('--example <name>', `a shipped example program instead (${exampleList})`)
        .option('--inputs <dir>', `a shard per file of the directory, in name order (1 to ${MAX_SHARDS})`)
        .option('--split <file>', 'cut one file into --shards pieces at record boundaries')
        .option('--shards <S>', `with --split: how many pieces (1 to ${MAX_SHARDS})`)
        .option('--record <line|bytes>', 'with --split: a record is a line, or this many bytes', 'line')
        .option('--out-dir <dir>', 'where to write the outputs and map.json (default map-<id>)')
        .option('--no-wait', 'post and exit; `fog job shards <id> --wait` follows it later')
        .action(async (o: MapFlags) => {
            const { price, k, quorum, mfuel, memory } = resolveSubmit(o);
            if (o.outDir !== undefined && !o.wait)
                throw new Error('--out-dir goes with waiting: drop --no-wait, or give --out-dir to `fog job shards <id> --wait`');
            const { bytes: program } = programOf(o, memory);
            const { inputs, from } = mapInputs(o);
            if (o.wait) checkOutDir(o.outDir, '; nothing was posted');
            const who = await actor(o);
            const count = inputs.length;
            await checkRequester(who, price! * BigInt(count));
            const terms = { k, quorum, mfuel, memory, price: price!, storage: o.storage };
            const first = await postMap(who, { ...terms, program, inputs }, !o.json);
            if (!o.wait) return out(o, `map ${first}`, { map: first.toString(), shards: count });
            const ids = Array.from({ length: count }, (_, i) => first + BigInt(i));
            const outDir = o.outDir ?? `map-${first}`;
            reportMap(o, first, await finishMap(who, first, ids, o, outDir, from), outDir);
        });

    signingOptions(
        commonOptions(
            job
                .command('shards')
                .description('where a map’s shards stand; with --wait, follow them to the end and download every verified output')
                .argument('<map id>'),
        ),
    )
        .option('--wait', 'follow the shards to their ends (finalizing any that can no longer progress) and download the outputs')
        .option('--out-dir <dir>', 'with --wait: where to write the outputs and map.json (default map-<id>)')
        .option('--storage <url>', 'storage node (default: the network file’s)')
        .action(async (idText: string, o: Common & Signing & { wait?: boolean; outDir?: string; storage?: string }) => {
            const first = parseJobId(idText);
            if (o.outDir !== undefined && !o.wait) throw new Error('--out-dir goes with --wait');
            if (o.wait) {
                checkOutDir(o.outDir);
                const who = await actor(o);
                const ids = await mapJobIds(who.ctx.fog, first);
                const outDir = o.outDir ?? `map-${first}`;
                return reportMap(o, first, await finishMap(who, first, ids, o, outDir), outDir);
            }
            const ctx = networkContext(o.networkFile, o.endpoint);
            const ids = await mapJobIds(ctx.fog, first);
            await deployed(ctx, first, ids);
            const states = await Promise.all(ids.map((id) => readJob(ctx, id)));
            const { line, counts } = mapProgress(first, states);
            const shards = states.map((s, i) => ({
                shard: i,
                job: ids[i].toString(),
                status: shardStatus(s),
                outcome: describeOutcome(s),
                ...(Number(s.phase) === JobPhase.Done ? { result: uint256ToHash(s.result) } : {}),
            }));
            out(o, [line, ...shards.map((s) => `  shard ${s.shard} (job ${s.job}): ${s.outcome}`)].join('\n'), {
                map: first.toString(),
                ...counts,
                shards,
            });
        });

    postingOptions(
        signingOptions(
            commonOptions(
                job
                    .command('reduce')
                    .description('post a job whose input is a map’s verified outputs in shard order, and wait for its verified result'),
            ),
            '--signer',
        ),
    )
        .option('--program <file>', 'the reducer, a WebAssembly program reading framed parts (docs/map-reduce.md)')
        .option('--example <name>', `a shipped example program instead (concat joins the outputs; ${exampleList})`)
        .requiredOption('--from <map>', 'the map’s id, or job ids and ranges in order, like 12-27,40')
        .option('--out <file>', 'where to write the verified output (default job-<id>.out)')
        .option('--no-wait', 'post and exit without waiting for the result')
        .action(
            async (
                o: Common & { deeplink?: boolean; signer?: string } & SubmitFlags &
                    ProgramFlags & { from: string; storage?: string; out?: string; wait: boolean },
            ) => {
                const { price, k, quorum, mfuel, memory } = resolveSubmit(o);
                const { bytes: program, example } = programOf(o, memory);
                if (o.wait) checkWritable(o.out, '; nothing was posted');
                const who = await actor({ ...o, from: o.signer }, '--signer');
                const { ctx } = who;
                const ids = await fromJobs(ctx, o.from);
                const storage = storageOf(ctx.file, o.storage);
                // every part must be a verified output: the workers fetch each by its on-chain result
                const states = await Promise.all(ids.map((id) => readJob(ctx, id)));
                for (const [i, s] of states.entries())
                    if (shardStatus(s) !== 'done')
                        throw new Error(
                            `part ${i} (job ${ids[i]}) has no output to reduce: it is ${describeOutcome(s)}; nothing was posted`,
                        );
                const parts: { hash: string; bytes: Buffer }[] = [];
                let framed = 4 + 4 * ids.length;
                for (const s of states) {
                    const hash = uint256ToHash(s.result);
                    // no more than a composite input holds is downloaded
                    const bytes = await storage.getResult(hash, { maxBytes: Math.max(0, MAX_FRAMED_BYTES - framed) }).catch((e) => {
                        if (e instanceof BlobTooLargeError)
                            throw new Error(
                                `the outputs come to more than a reduce reads (${MAX_FRAMED_BYTES} bytes framed); nothing was posted`,
                            );
                        throw e;
                    });
                    framed += bytes.length;
                    parts.push({ hash, bytes });
                }
                const input = inputsManifest(parts.map((p) => ({ kind: 'result', hash: p.hash, uri: storage.resultUrlOf(p.hash) })));
                const programInput = frameParts(parts.map((p) => p.bytes));
                await checkRequester(who, price!);
                const id = await postJob(
                    who,
                    { program, input, programInput, price: price!, k, quorum, mfuel, memory, storage: o.storage },
                    !o.json,
                );
                if (!o.wait) return out(o, `job ${id}`, { id, parts: parts.length });
                await finishJob(o, who, id, o.out, example, { words: `${parts.length} parts reduced, `, json: { parts: parts.length } });
            },
        );
}
