#!/usr/bin/env node
/**
 * `fog`: post compute jobs to Fog and get verified results.
 *
 *   fog job submit --program p.wasm --input in.bin -k 3 --price 10 [--mfuel 500] [--out result.bin]
 *   fog job submit --program p.wasm --input in.bin --estimate   (the fuel it needs and what to post with)
 *   fog job submit … --deeplink [--from <address>]   (sign in your own wallet: ton:// link, Tonkeeper link, QR)
 *   fog job status <id>
 *   fog job result <id> [--out file]
 *   fog job map --program p.wasm --inputs <dir> | --split <file> --shards S --price 5   (one sharded post; requester/map.ts)
 *   fog job shards <map id> [--wait --out-dir d]
 *   fog job reduce --program r.wasm --from <map id> --price 5
 *   fog train --price 2 [--shards 4 --rounds 3 …]   (data-parallel training, rounds of map and reduce; requester/train.ts)
 *   fog connect '<TON Connect link>' [--yes]   (be the web app's wallet with this key: the devnet has no wallet app)
 *
 * Posting needs a Contributor Pass: stake first with `fog-worker stake` (same --home).
 */
import { Command } from 'commander';
import { fromNano } from '@ton/core';
import { createInterface } from 'node:readline/promises';
import { actor, Common, commonOptions, out, runCli, signer, Signing, signingOptions } from '../client/cli-common';
import { TonConnectWallet, type TransactionRequest } from '../client/tonconnect-wallet';
import { networkContext } from '../client/context';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { uint256ToHash } from '../client/storage';
import { failureOf, JobPhase, stageName } from '../client/results';
import { describeOutcome, outcomeOf } from '../client/jobs';
import { requesterDefaults, resolveSubmit } from './config';
import { describeEstimate, estimate } from './estimate';
import { formatFuel, fuelForJob } from '../client/compute/fuel';
import { formatAmount, parseJobId } from '../wrappers/units';
import {
    checkLocally,
    checkRequester,
    checkWritable,
    fetchResult,
    jobState,
    postingOptions,
    postJob,
    progress,
    readFile,
    finishJob,
} from './post';
import { mapCommands } from './map';
import { trainCommand } from './train';

/** The longest `--estimate` lets the program run here, seconds. */
const ESTIMATE_WALL_SECONDS = 600;

export function program(): Command {
    const cli = new Command('fog').description('Post compute jobs to Fog and get results that several workers agreed on');
    const job = cli.command('job').description('submit jobs and read their state and results');

    postingOptions(
        signingOptions(
            commonOptions(job.command('submit').description('upload a program and input, post the job and wait for its verified result')),
        ),
        'what the job pays (burned on success); required unless --estimate',
    )
        .option('--program <file>', 'the WebAssembly program')
        .option('--example <name>', `a shipped example program instead (${EXAMPLES.map((e) => e.name).join(', ')})`)
        .option('--input <file>', 'its input (an example has a default)')
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
                await checkRequester(who, price);
                const post = { program: programBytes, input: inputBytes, price, k, quorum, mfuel, memory, storage: o.storage };
                const id = await postJob(who, post, !o.json);
                if (!o.wait) return out(o, `job ${id}`, { id });
                await finishJob(o, who, id, o.out, example);
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

    mapCommands(job);
    trainCommand(cli);

    commonOptions(
        cli
            .command('connect')
            .argument('<link>', "the web app's TON Connect link (its QR code copies it; the devnet's wallet page shows it)")
            .description(
                'be a TON Connect wallet for the web app with the key in --home, until Ctrl-C: no wallet app reaches a devnet. Asks before signing each transaction',
            ),
    )
        .option('--yes', 'sign every transaction the app asks for without asking')
        .option('--bridge <url>', "the TON Connect bridge (default: the link's server's /bridge)")
        .action(async (link: string, o: Common & { yes?: boolean; bridge?: string }) => {
            let url: URL;
            try {
                url = new URL(link);
            } catch {
                throw new Error(`not a link: ${link}`);
            }
            const { ctx, sender } = await signer(o);
            // a prompt only when it asks: a terminal's Ctrl-C then reaches the prompt, which stops too
            let stop = () => undefined as void;
            const stopped = new Promise<void>((resolve) => (stop = resolve));
            const ask = o.yes ? undefined : createInterface({ input: process.stdin, output: process.stderr });
            ask?.on('SIGINT', stop);
            process.once('SIGINT', stop);
            const approve = async (tx: TransactionRequest) => {
                const lines = tx.messages.map(
                    (m) => `  ${fromNano(BigInt(m.amount))} TON to ${m.address}${m.payload ? ' with a payload' : ''}`,
                );
                process.stderr.write(`the app asks to send:\n${lines.join('\n')}\n`);
                if (!ask) return true;
                return /^y(es)?$/i.test((await ask.question('sign and send it? [y/N] ')).trim());
            };
            const wallet = new TonConnectWallet(
                // the bridge beside the page that made the link (a --public-url's path kept)
                o.bridge ?? new URL('bridge', url).href,
                sender,
                ctx.file.network === 'mainnet' ? '-239' : '-3',
                approve,
            );
            await wallet.connect(link);
            const me = sender.address.toString({ testOnly: ctx.file.network !== 'mainnet' });
            out(o, `connected to ${wallet.app?.name} (${wallet.app?.url}) as ${me}: Ctrl-C to disconnect`, {
                app: wallet.app,
                address: me,
            });
            // until Ctrl-C, or until the app disconnects
            const ended = setInterval(() => wallet.disconnected && stop(), 500);
            await stopped;
            clearInterval(ended);
            await wallet.disconnect();
            ask?.close();
        });
    return cli;
}

if (require.main === module) {
    void runCli(program(), process.argv).then((code) => process.exit(code));
}
