/**
 * What the requester's commands share: reading a program and checking it before anything is paid,
 * finding the job (or the sharded post) a transfer made, following jobs until they are final
 * (finalizing those that can no longer progress), and downloading a verified output.
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { Actor, Common, out } from '../client/cli-common';
import type { Example } from '../examples/catalog';
import { NetworkContext, storageOf } from '../client/context';
import { jobSpec } from '../client/actions';
import { formatFuel, fuelForJob, workerLimitNote } from '../client/compute/fuel';
import { requesterDefaults, requesterLimits } from './config';
import { formatAmount } from '../wrappers/units';
import { JobState } from '../wrappers/Job';
import { sha256Hex, StorageClient, uint256ToHash } from '../client/storage';
import { failureOf, JobPhase } from '../client/results';
import { describeOutcome, finalizable, missedDeadline, outcomeOf } from '../client/jobs';
import { SendError } from '../client/sender';
import { findPostedId, hubMark } from '../client/posted';
import { describeError } from '../client/chain';
import { checkProgram, memoryCapPages, ProgramRefused, wasm } from '../client/compute/abi';

export function readFile(path: string, what: string): Buffer {
    try {
        return readFileSync(path);
    } catch {
        throw new Error(`cannot read the ${what} file ${path}`);
    }
}

/**
 * Refuses, before anything is paid, a program every worker would refuse: bytes that are not
 * WebAssembly, or a module outside the Fog ABI (see client/compute/abi.ts).
 */
export function checkLocally(bytes: Buffer, path: string, memoryMb: number): void {
    if (!wasm.validate(bytes)) throw new Error(`${path} is not a valid WebAssembly module; nothing was posted`);
    try {
        checkProgram(bytes, memoryCapPages(memoryMb));
    } catch (e) {
        if (e instanceof ProgramRefused)
            throw new Error(`${path} does not fit the Fog program ABI (${e.reason}): ${e.message}; nothing was posted`, { cause: e });
        throw e;
    }
}

/** A job's state in one line. */
export function progress(id: bigint, s: JobState, now: number): string {
    const phase = Number(s.phase);
    const left = (t: bigint) => (Number(t) > now ? `${Number(t) - now}s left` : 'over');
    const step =
        phase !== JobPhase.Open
            ? ''
            : s.claims < s.spec.k
              ? ` · claims ${s.claims}/${s.spec.k} (${left(s.claimUntil)})`
              : s.commits < s.spec.k && Number(s.commitUntil) >= now
                ? ` · commits ${s.commits}/${s.spec.k} (${left(s.commitUntil)})`
                : ` · reveals ${s.reveals}/${s.commits} (${left(s.revealUntil)})`;
    return `job ${id}: ${describeOutcome(s)}${step}`;
}

export async function fetchResult(ctx: NetworkContext, id: bigint, state: JobState, outPath: string, storageUrl?: string) {
    const hash = uint256ToHash(state.result);
    const failed = failureOf(hash); // a failure every worker agreed on, or undefined for an output
    if (failed) throw new Error(`job ${id}: the program failed on every worker (${failed}); no output`);
    const bytes = await storageOf(ctx.file, storageUrl).getResult(hash); // checks the output hash against the on-chain result
    writeFileSync(outPath, bytes);
    return { hash, bytes: bytes.length, data: bytes };
}

/** Why the hub kept a post it could not refund (no job exists; the FOG stays with the hub as a stray). */
/**
 * Refuses, before anything is paid, an output path the result could not be written to (the
 * default, job-<id>.out, goes to the current directory).
 */
export function checkWritable(path: string | undefined, after = ''): void {
    const what = path === undefined ? 'the result into the current directory' : `--out ${path}`;
    const dir = dirname(resolve(path ?? 'job.out'));
    if (path !== undefined) {
        let isDir = false;
        try {
            isDir = statSync(path).isDirectory();
        } catch {
            // not there yet: it will be created
        }
        if (isDir) throw new Error(`cannot write ${what}: it is a directory${after}`);
    }
    let st;
    try {
        st = statSync(dir);
    } catch {
        throw new Error(`cannot write ${what}: the directory ${dir} does not exist${after}`);
    }
    if (!st.isDirectory()) throw new Error(`cannot write ${what}: ${dir} is not a directory${after}`);
    try {
        accessSync(dir, constants.W_OK);
    } catch {
        throw new Error(`cannot write ${what}: the directory ${dir} is not writable${after}`);
    }
}

/** The state of job `id` as a user named it: one clear line for an id the hub never gave. */
export async function jobState(ctx: NetworkContext, id: bigint): Promise<JobState> {
    const next = (await ctx.fog.hub.getHubState()).nextJobId;
    if (id >= next)
        throw new Error(
            `no job ${id} on this network: ${next === 0n ? 'the hub has posted no jobs yet' : `the hub has posted jobs 0 to ${next - 1n}`}`,
        );
    return readJob(ctx, id);
}

export async function readJob(ctx: NetworkContext, id: bigint): Promise<JobState> {
    const job = await ctx.fog.job(id);
    if (!(await ctx.client.isContractDeployed(job.address))) throw new Error(`no job ${id} on this network`);
    return job.getJobState();
}

/** How long after a refused finalize (the chain's clock a little behind the endpoint's) to try again. */
const FINALIZE_RETRY_MS = 5_000;
/** Refused finalizes after which following gives up with the last refusal. */
const FINALIZE_TRIES = 5;
/** How long following waits for the user to sign a finalize shown as a wallet link (as for the post's link). */
const FINALIZE_LINK_WAIT_MS = 10 * 60_000;

/** Job states read at once while following many. */
const READS_AT_ONCE = 8;
/** How often following reads the jobs again, ms. */
const FOLLOW_POLL_MS = 1000;

/**
 * Follows jobs until every one is final, calling `onRead` with their states after each read. Once
 * a deadline passed that leaves a job unable to progress, it finalizes the job itself (anyone may;
 * with no keeper on the network nobody else would), so that following always ends; `note` hears
 * why it finalizes a job.
 */
export async function followJobs(
    ctx: NetworkContext,
    ids: readonly bigint[],
    who: Actor,
    onRead: (states: ReadonlyMap<bigint, JobState>, now: number) => void,
    note: (id: bigint, line: string) => void = () => undefined,
): Promise<Map<bigint, JobState>> {
    const states = new Map<bigint, JobState>();
    const finalizing = new Map<bigint, { at: number; linkShownAt: number; refusals: number }>();
    const final = (id: bigint) => states.has(id) && outcomeOf(states.get(id)!).final;
    for (;;) {
        const open = ids.filter((id) => !final(id));
        for (let i = 0; i < open.length; i += READS_AT_ONCE)
            await Promise.all(open.slice(i, i + READS_AT_ONCE).map(async (id) => states.set(id, await readJob(ctx, id))));
        const now = await ctx.fog.now();
        onRead(states, now);
        if (open.every(final)) return states;
        for (const id of open) {
            const state = states.get(id)!;
            const f = finalizing.get(id) ?? { at: 0, linkShownAt: 0, refusals: 0 };
            finalizing.set(id, f);
            if (who.viaLink && f.at === Infinity && Date.now() - f.linkShownAt > FINALIZE_LINK_WAIT_MS) {
                throw new Error(
                    `job ${id} still needs finalizing: the link above was not signed within ${FINALIZE_LINK_WAIT_MS / 60_000} minutes (anyone may finalize it; \`fog job status ${id}\` shows where it stands)`,
                );
            }
            if (!finalizable(state, now) || Date.now() < f.at) continue;
            if (f.at === 0) note(id, `job ${id}: ${missedDeadline(state)}; finalizing it`);
            // a wallet link is shown once; the user's wallet sends it when the user does
            f.at = who.viaLink ? Infinity : Date.now() + FINALIZE_RETRY_MS;
            f.linkShownAt = Date.now();
            try {
                await who.send(await ctx.fog.finalize(id), `finalize job ${id}`);
            } catch (e) {
                // refused: too early by the chain's clock, or someone else finalized it first (the
                // next read tells); anything that keeps failing (no TON for the fee) ends the wait
                if (!(e instanceof SendError) || ++f.refusals >= FINALIZE_TRIES)
                    throw new Error(`job ${id} could not be finalized: ${describeError(e)}`, { cause: e });
            }
        }
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
}

/** Follows one job until it is final, printing (with `print`) a line whenever its progress changes. */
export async function follow(ctx: NetworkContext, id: bigint, print: boolean, who: Actor): Promise<JobState> {
    let last = '';
    const say = (line: string) => print && process.stderr.write(line + '\n');
    const states = await followJobs(
        ctx,
        [id],
        who,
        (states, now) => {
            const line = progress(id, states.get(id)!, now);
            if (line.replace(/\(\d+s left\)/, '') !== last) say(line);
            last = line.replace(/\(\d+s left\)/, '');
        },
        (_, line) => say(line),
    );
    return states.get(id)!;
}

/** Adds the options every post takes: what it pays, its replication, its limits, the storage node. */
export function postingOptions(cmd: Command, price = 'what the job pays (burned on success)'): Command {
    return cmd
        .option('--price <FOG>', price)
        .option('-k, --replicas <k>', `independent workers (1..${requesterLimits.replicas})`, String(requesterDefaults.replicas))
        .option(
            '--quorum <n>',
            'workers that must agree (more than half of k; default a majority; --replicas 7 --quorum 6 resists colluders with a third of stake)',
        )
        .option(
            '--mfuel <n>',
            `fuel limit per worker, millions of fuel (default ${requesterDefaults.maxMfuel}; \`fog job submit --estimate\` finds the least that suffices)`,
        )
        .option('--memory <MB>', 'memory limit per worker, MiB', String(requesterDefaults.memoryMb))
        .option('--storage <url>', 'storage node (default: the network file’s)');
}

/**
 * Refuses, before anything is paid or uploaded, a requester without a live Contributor Pass (the
 * post would be rejected and refunded) or without `amount` FOG.
 */
export async function checkRequester(who: Actor, amount: bigint): Promise<void> {
    const { ctx, address } = who;
    const check = await ctx.fog.checkPoster(address, amount);
    if (!check.ok && check.reason === 'no-pass') {
        throw new Error(
            `${address.toString({ testOnly: ctx.file.network !== 'mainnet' })} holds no valid Contributor Pass, and only pass holders may post (the job would be rejected and refunded): stake first with \`fog-worker stake\`; nothing was posted`,
        );
    }
    if (!check.ok && check.reason === 'balance')
        throw new Error(`this wallet holds ${formatAmount(check.balance)}, the post costs ${formatAmount(amount)}; nothing was posted`);
}

/** One job to post: its program, its input (a composite input's manifest, with what the program reads), and its terms. */
export interface JobPost {
    program: Buffer;
    input: Buffer;
    programInput?: Buffer;
    price: bigint;
    k: number;
    quorum: number;
    mfuel?: number;
    memory: number;
    /** The storage node to upload to (default: the network file's). */
    storage?: string;
}

/** What every job of a post asks, in `jobSpec`'s terms, with its blobs' URIs on `storage`. */
export function requestOf(p: Omit<JobPost, 'input' | 'programInput'>, storage: StorageClient) {
    return {
        program: p.program,
        urlOf: (h: string) => storage.urlOf(h),
        k: p.k,
        quorum: p.quorum,
        maxMfuel: p.mfuel ?? requesterDefaults.maxMfuel,
        maxMemoryMb: p.memory,
    };
}

let workerLimitNoted = false;

/** Says once a process, when `print`, that workers with their default limit skip a job posted with `mfuel` (workerLimitNote). */
export function noteWorkerLimit(mfuel: number, print: boolean): void {
    const note = workerLimitNote(mfuel);
    if (!print || note === undefined || workerLimitNoted) return;
    workerLimitNoted = true;
    process.stderr.write(note + '\n');
}

/** Uploads the job's program and input, posts it, and returns its id once the hub opened it (or why it did not, as an error). */
export async function postJob(who: Actor, p: JobPost, print: boolean): Promise<bigint> {
    const { ctx, address: requester } = who;
    const storage = storageOf(ctx.file, p.storage);
    const spec = jobSpec({ ...requestOf(p, storage), input: p.input, programInput: p.programInput });
    await storage.put(p.program);
    await storage.put(p.input);
    const message = await ctx.fog.post(requester, p.price, spec);
    const since = await hubMark(ctx.client, ctx.file.hub);
    await who.send(message, `post the job (${formatAmount(p.price)})`);
    const id = await findPostedId(ctx.client, ctx.file.hub, requester, p.price, since, Math.max(who.waitMs, 60_000));
    noteWorkerLimit(Number(spec.maxMfuel), print);
    if (print)
        process.stderr.write(
            `posted job ${id} (program ${sha256Hex(p.program).slice(0, 12)}…, input ${sha256Hex(p.input).slice(0, 12)}…, k=${p.k}, quorum ${p.quorum}, up to ${formatFuel(fuelForJob(spec))}, ${formatAmount(p.price)})\n`,
        );
    return id;
}

/**
 * Follows job `id` to its end, writes its verified output to `outPath` (default job-<id>.out) and
 * prints what it got (with an example's reading of it), `extra` in front of the line and in the
 * JSON; throws if the job ended without an output.
 */
export async function finishJob(
    o: Common & { storage?: string },
    who: Actor,
    id: bigint,
    outPath: string | undefined,
    example?: Pick<Example, 'name' | 'summary'>,
    extra: { words?: string; json?: Record<string, unknown> } = {},
): Promise<void> {
    const state = await follow(who.ctx, id, !o.json, who);
    if (Number(state.phase) !== JobPhase.Done) throw new Error(`job ${id} ended ${describeOutcome(state)}`);
    const path = outPath ?? `job-${id}.out`;
    const r = await fetchResult(who.ctx, id, state, path, o.storage);
    let summary: string | undefined;
    try {
        summary = example?.summary(r.data);
    } catch {
        // an output the example's reader does not understand (e.g. from another input format): no summary
    }
    out(
        o,
        `job ${id} done: ${extra.words ?? ''}${r.bytes} bytes verified against the on-chain result ${r.hash.slice(0, 16)}… → ${path}${summary ? `\n${example!.name}: ${summary}` : ''}`,
        { id, ...extra.json, result: r.hash, bytes: r.bytes, out: path, summary },
    );
}
