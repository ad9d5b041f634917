#!/usr/bin/env node
/**
 * `fog`: post compute jobs to Fog and get verified results.
 *
 *   fog job submit --program p.wasm --input in.bin -k 3 --price 10 [--mfuel 500] [--out result.bin]
 *   fog job submit --program p.wasm --input in.bin --estimate   (the fuel it needs and what to post with)
 *   fog job submit … --deeplink [--from <address>]   (sign in your own wallet: ton:// link, Tonkeeper link, QR)
 *   fog job status <id>
 *   fog job result <id> [--out file]
 *
 * Posting needs a Contributor Pass: stake first with `fog-worker stake` (same --home).
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Address } from '@ton/core';
import { Command } from 'commander';
import { Actor, actor, Common, commonOptions, out, runCli, Signing, signingOptions } from '../client/cli-common';
import { networkContext, NetworkContext, storageOf } from '../client/context';
import { formatAmount } from '../wrappers/units';
import { jobSpec } from '../client/actions';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { JobState } from '../wrappers/Job';
import { RefusedPost } from '../wrappers/Hub';
import { refusalReason } from '../wrappers/refusal';
import { sha256Hex, uint256ToHash } from '../client/storage';
import { eventsOf, FogEvent } from '../client/events';
import { failureOf, JobPhase, stageName } from '../client/results';
import { describeOutcome, finalizable, missedDeadline, outcomeOf } from '../client/jobs';
import { SendError } from '../client/sender';
import { describeError } from '../client/chain';
import { requesterDefaults, requesterLimits, resolveSubmit } from './config';
import { describeEstimate, estimate } from './estimate';
import { formatFuel, fuelForJob } from '../client/compute/fuel';
import { checkProgram, memoryCapPages, ProgramRefused, wasm } from '../client/compute/abi';

/** The longest `--estimate` lets the program run here, seconds. */
const ESTIMATE_WALL_SECONDS = 600;

/** The largest job id the hub gives (ids are uint64). */
const MAX_JOB_ID = 2n ** 64n - 1n;

function readFile(path: string, what: string): Buffer {
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
function checkLocally(bytes: Buffer, path: string, memoryMb: number): void {
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
function progress(id: bigint, s: JobState, now: number): string {
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

async function fetchResult(ctx: NetworkContext, id: bigint, state: JobState, outPath: string, storageUrl?: string) {
    const hash = uint256ToHash(state.result);
    const failed = failureOf(hash); // a failure every worker agreed on, or undefined for an output
    if (failed) throw new Error(`job ${id}: the program failed on every worker (${failed}); no output`);
    const bytes = await storageOf(ctx.file, storageUrl).getResult(hash); // checks the output hash against the on-chain result
    writeFileSync(outPath, bytes);
    return { hash, bytes: bytes.length, data: bytes };
}

/** Why the hub kept a post it could not refund (no job exists; the FOG stays with the hub as a stray). */
const STRAY = 'the hub did not accept the job: the FOG was kept as a stray (too little TON forwarded)';

/**
 * What a hub event says about `requester`'s post of `price`, if it is about it: the job it
 * opened, or why it did not (the hub's refusal event names the reason; a stray has none to send).
 */
function postAnswerOf(e: FogEvent, requester: Address, price: bigint): { posted: bigint } | { refused: string } | undefined {
    if (e.$$type === 'JobPostedEvent' && e.requester.equals(requester) && e.price === price) return { posted: e.id };
    if (e.$$type === 'RefusedEvent' && e.to.equals(requester) && e.amount === price && e.what === RefusedPost) {
        return { refused: `the hub refused the job and sent the ${formatAmount(price)} back: ${refusalReason(e.reason)}` };
    }
    if (e.$$type === 'StrayEvent' && e.from.equals(requester) && e.amount === price) return { refused: STRAY };
    return undefined;
}

/** The hub's last transaction (its logical time), so that only what follows it answers a post. */
async function hubMark(ctx: NetworkContext): Promise<bigint> {
    return BigInt((await ctx.client.getContractState(ctx.file.hub)).lastTransaction?.lt ?? '0');
}

/** The hub's events after logical time `since`, oldest first, paging back as far as needed. */
async function hubEventsSince(ctx: NetworkContext, since: bigint): Promise<FogEvent[]> {
    const hub = ctx.file.hub;
    const newestFirst: FogEvent[][] = [];
    let page = await ctx.client.getTransactions(hub, { limit: 30, archival: true });
    for (;;) {
        for (const tx of page) {
            if (tx.lt <= since) return newestFirst.reverse().flat();
            newestFirst.push(eventsOf(tx, hub));
        }
        if (page.length === 0) return newestFirst.reverse().flat();
        const last = page[page.length - 1];
        // a page asked from (lt, hash) starts with that transaction itself
        page = (
            await ctx.client.getTransactions(hub, {
                limit: 30,
                lt: last.lt.toString(),
                hash: last.hash().toString('base64'),
                archival: true,
            })
        ).filter((t) => t.lt < last.lt);
    }
}

/** The id of the job `requester` posted after the hub's mark `since`, or the hub's refusal as an error. */
async function findPostedId(ctx: NetworkContext, requester: Address, price: bigint, since: bigint, timeoutMs: number): Promise<bigint> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        for (const e of await hubEventsSince(ctx, since)) {
            const answer = postAnswerOf(e, requester, price);
            if (answer && 'posted' in answer) return answer.posted;
            if (answer) throw new Error(answer.refused);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(
        `the job did not appear on the hub within ${timeoutMs / 1000} s (the post may not have been signed, or was refunded: check your FOG balance)`,
    );
}

/**
 * Refuses, before anything is paid, an output path the result could not be written to (the
 * default, job-<id>.out, goes to the current directory).
 */
function checkWritable(path: string | undefined, after = ''): void {
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

export function program(): Command {
    const cli = new Command('fog').description('Post compute jobs to Fog and get results that several workers agreed on');
    const job = cli.command('job').description('submit jobs and read their state and results');

    signingOptions(
        commonOptions(job.command('submit').description('upload a program and input, post the job and wait for its verified result')),
    )
        .option('--program <file>', 'the WebAssembly program')
        .option('--example <name>', `a shipped example program instead (${EXAMPLES.map((e) => e.name).join(', ')})`)
        .option('--input <file>', 'its input (an example has a default)')
        .option('--price <FOG>', 'what the job pays (burned on success); required unless --estimate')
        .option('-k, --replicas <k>', `independent workers (1..${requesterLimits.replicas})`, String(requesterDefaults.replicas))
        .option(
            '--quorum <n>',
            'workers that must agree (more than half of k; default a majority; --replicas 7 --quorum 6 resists colluders with a third of stake)',
        )
        .option(
            '--mfuel <n>',
            `fuel limit per worker, millions of fuel (default ${requesterDefaults.maxMfuel}; --estimate finds the least that suffices)`,
        )
        .option('--memory <MB>', 'memory limit per worker, MiB', String(requesterDefaults.memoryMb))
        .option('--storage <url>', 'storage node (default: the network file’s)')
        .option('--out <file>', 'where to write the verified output')
        .option('--no-wait', 'post and exit without waiting for the result')
        .option(
            '--estimate',
            'run the program here as a worker would and print the fuel it used, its result hash, and the --mfuel and --price to post with; posts nothing',
        )
        .option('--price-per-mfuel <FOG>', 'with --estimate: what to offer each seat per million fuel', requesterDefaults.pricePerMfuel)
        .action(
            async (
                o: Common &
                    Signing & {
                        program?: string;
                        example?: string;
                        input?: string;
                        price?: string;
                        replicas: string;
                        quorum?: string;
                        mfuel?: string;
                        memory: string;
                        storage?: string;
                        out?: string;
                        wait: boolean;
                        estimate?: boolean;
                        pricePerMfuel: string;
                    },
            ) => {
                const { price: priceGiven, k, quorum, mfuel, memory, pricePerMfuel } = resolveSubmit(o);
                if ((o.program === undefined) === (o.example === undefined))
                    throw new Error('give --program <file> or --example <name> (one of them)');
                const example = o.example === undefined ? undefined : exampleNamed(o.example);
                const programPath = example?.program ?? o.program!;
                const programBytes = readFile(programPath, 'program');
                checkLocally(programBytes, programPath, memory);
                if (o.input === undefined && !example) throw new Error('--input <file> is required with --program');
                const inputBytes = o.input === undefined ? await example!.defaultInput() : readFile(o.input, 'input');
                if (o.estimate) {
                    let minJobPrice: bigint | undefined;
                    try {
                        const params = networkContext(o.networkFile, o.endpoint).fog.hub.getParams();
                        const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer')), 5_000).unref());
                        minJobPrice = (await Promise.race([params, late])).minJobPrice;
                    } catch {
                        // no network to ask within 5 s: the suggestion says so
                    }
                    const request = { program: programBytes, input: inputBytes, mfuel, memoryMb: memory, k, pricePerMfuel, minJobPrice };
                    const e = await estimate({ ...request, wallSeconds: ESTIMATE_WALL_SECONDS });
                    out(o, describeEstimate(e, request), e);
                    if (e.verdict !== 'ok') process.exitCode = 1;
                    return;
                }
                const price = priceGiven!;
                if (o.wait) checkWritable(o.out, '; nothing was posted');
                const who = await actor(o);
                const { ctx, address: requester } = who;
                const storage = storageOf(ctx.file, o.storage);
                const check = await ctx.fog.checkPoster(requester, price);
                if (!check.ok && check.reason === 'no-pass') {
                    throw new Error(
                        `${requester.toString({ testOnly: ctx.file.network !== 'mainnet' })} holds no valid Contributor Pass, and only pass holders may post (the job would be rejected and refunded): stake first with \`fog-worker stake\`; nothing was posted`,
                    );
                }
                if (!check.ok && check.reason === 'balance')
                    throw new Error(`this wallet holds ${formatAmount(check.balance)}, the job costs ${formatAmount(price)}`);
                const spec = jobSpec({
                    program: programBytes,
                    input: inputBytes,
                    urlOf: (h) => storage.urlOf(h),
                    k,
                    quorum,
                    maxMfuel: mfuel ?? requesterDefaults.maxMfuel,
                    maxMemoryMb: memory,
                });
                await storage.put(programBytes);
                await storage.put(inputBytes);
                const message = await ctx.fog.post(requester, price, spec);
                const since = await hubMark(ctx);
                await who.send(message, `post the job (${formatAmount(price)})`);
                const id = await findPostedId(ctx, requester, price, since, Math.max(who.waitMs, 60_000));
                if (!o.json)
                    process.stderr.write(
                        `posted job ${id} (program ${sha256Hex(programBytes).slice(0, 12)}…, input ${sha256Hex(inputBytes).slice(0, 12)}…, k=${k}, quorum ${quorum}, up to ${formatFuel(fuelForJob(spec))}, ${formatAmount(price)})\n`,
                    );
                if (!o.wait) return out(o, `job ${id}`, { id });
                const state = await follow(ctx, id, !o.json, who);
                if (Number(state.phase) !== JobPhase.Done) throw new Error(`job ${id} ended ${describeOutcome(state)}`);
                const outPath = o.out ?? `job-${id}.out`;
                const r = await fetchResult(ctx, id, state, outPath, o.storage);
                let summary: string | undefined;
                try {
                    summary = example?.summary(r.data);
                } catch {
                    // an output the example's reader does not understand (e.g. from another input format): no summary
                }
                out(
                    o,
                    `job ${id} done: ${r.bytes} bytes verified against the on-chain result ${r.hash.slice(0, 16)}… → ${outPath}${summary ? `\n${example!.name}: ${summary}` : ''}`,
                    { id, result: r.hash, bytes: r.bytes, out: outPath, summary },
                );
            },
        );

    commonOptions(
        job.command('status').alias('show').description('a job’s phase, claims, commits, reveals and result').argument('<id>'),
    ).action(async (idText: string, o: Common) => {
        const id = parseJobId(idText);
        const ctx = networkContext(o.networkFile, o.endpoint);
        const state = await jobState(ctx, id);
        const now = await ctx.fog.now();
        const result = Number(state.phase) === JobPhase.Done ? uint256ToHash(state.result) : undefined;
        const lines = [
            progress(id, state, now),
            `  requester ${state.requester.toString({ testOnly: ctx.file.network !== 'mainnet' })}, price ${formatAmount(state.price)}, k=${state.spec.k}, quorum ${state.spec.quorum}, up to ${formatFuel(fuelForJob(state.spec))} and ${state.spec.maxMemoryMb} MiB`,
            ...[...state.slots.values()].map(
                (s) => `  worker ${s.worker.toString({ testOnly: ctx.file.network !== 'mainnet' })}: ${stageName(s.stage)}`,
            ),
            ...(result ? [`  result ${result}${failureOf(result) ? ` (the program failed: ${failureOf(result)})` : ''}`] : []),
        ];
        const { outcome, reason } = outcomeOf(state);
        out(o, lines.join('\n'), {
            id,
            phase: Number(state.phase),
            outcome,
            reason,
            claims: state.claims,
            commits: state.commits,
            reveals: state.reveals,
            mfuel: Number(state.spec.maxMfuel),
            result,
        });
    });

    commonOptions(
        job.command('result').description('download a finished job’s output and check it against the on-chain result').argument('<id>'),
    )
        .option('--out <file>', 'where to write it (default job-<id>.out)')
        .option('--storage <url>', 'storage node (default: the network file’s)')
        .action(async (idText: string, o: Common & { out?: string; storage?: string }) => {
            const id = parseJobId(idText);
            checkWritable(o.out);
            const ctx = networkContext(o.networkFile, o.endpoint);
            const state = await jobState(ctx, id);
            if (Number(state.phase) !== JobPhase.Done) throw new Error(`job ${id} has no result: it is ${describeOutcome(state)}`);
            const outPath = o.out ?? `job-${id}.out`;
            const r = await fetchResult(ctx, id, state, outPath, o.storage);
            out(o, `${r.bytes} bytes verified against ${r.hash} → ${outPath}`, { id, result: r.hash, bytes: r.bytes, out: outPath });
        });

    return cli;
}

function parseJobId(text: string): bigint {
    if (!/^\d+$/.test(text)) throw new Error(`not a job id: ${JSON.stringify(text)} (a job id is a whole number from 0)`);
    const id = BigInt(text);
    // the hub's get-methods take a uint64: a larger id would fail there with a bare exit code
    if (id > MAX_JOB_ID) throw new Error(`job id ${text} is out of range: job ids are 0 to ${MAX_JOB_ID}`);
    return id;
}

/** The state of job `id` as a user named it: one clear line for an id the hub never gave. */
async function jobState(ctx: NetworkContext, id: bigint): Promise<JobState> {
    const next = (await ctx.fog.hub.getHubState()).nextJobId;
    if (id >= next)
        throw new Error(
            `no job ${id} on this network: ${next === 0n ? 'the hub has posted no jobs yet' : `the hub has posted jobs 0 to ${next - 1n}`}`,
        );
    return readJob(ctx, id);
}

async function readJob(ctx: NetworkContext, id: bigint): Promise<JobState> {
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

/**
 * Follows a job until it is final, printing a line whenever its progress changes. Once a deadline
 * passed that leaves the job unable to progress, it finalizes the job itself (anyone may; with no
 * keeper on the network nobody else would), so that following always ends.
 */
async function follow(ctx: NetworkContext, id: bigint, print: boolean, who: Actor): Promise<JobState> {
    let last = '';
    let finalizeAt = 0;
    let linkShownAt = 0;
    let refusals = 0;
    for (;;) {
        const state = await readJob(ctx, id);
        const now = await ctx.fog.now();
        const line = progress(id, state, now).replace(/\(\d+s left\)/, '');
        if (print && line !== last) process.stderr.write(progress(id, state, now) + '\n');
        last = line;
        if (outcomeOf(state).final) return state;
        if (who.viaLink && finalizeAt === Infinity && Date.now() - linkShownAt > FINALIZE_LINK_WAIT_MS) {
            throw new Error(
                `job ${id} still needs finalizing: the link above was not signed within ${FINALIZE_LINK_WAIT_MS / 60_000} minutes (anyone may finalize it; \`fog job status ${id}\` shows where it stands)`,
            );
        }
        if (finalizable(state, now) && Date.now() >= finalizeAt) {
            if (print && finalizeAt === 0) process.stderr.write(`job ${id}: ${missedDeadline(state)}; finalizing it\n`);
            // a wallet link is shown once; the user's wallet sends it when the user does
            finalizeAt = who.viaLink ? Infinity : Date.now() + FINALIZE_RETRY_MS;
            linkShownAt = Date.now();
            try {
                await who.send(await ctx.fog.finalize(id), `finalize job ${id}`);
            } catch (e) {
                // refused: too early by the chain's clock, or someone else finalized it first (the
                // next read tells); anything that keeps failing (no TON for the fee) ends the wait
                if (!(e instanceof SendError) || ++refusals >= FINALIZE_TRIES)
                    throw new Error(`job ${id} could not be finalized: ${describeError(e)}`, { cause: e });
            }
            continue;
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
}

if (require.main === module) {
    void runCli(program(), process.argv).then((code) => process.exit(code));
}
