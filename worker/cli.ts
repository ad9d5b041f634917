#!/usr/bin/env node
/**
 * `fog-worker`: lend your CPU to Fog. Keys, stake, the daemon, status and rewards.
 * Every command takes --home (key, journal), --network-file and --endpoint; every mistake ends
 * with one line on stderr and a non-zero exit.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { actor, Common, commonOptions, keyPath, out, runCli, signer, Signing, signingOptions, waitFor } from '../client/cli-common';
import { devnetFaucet, networkContext, storageOf } from '../client/context';
import { formatAmount, parseAmount } from '../wrappers/units';
import { identityOf, newIdentity, writeKeyFile } from '../client/wallet';
import { jsonLine } from '../client/cli-kit';
import { ComputePool } from '../client/compute/pool';
import { formatFuel } from '../client/compute/fuel';
import { DAEMON_DEFAULTS, WorkerDaemon } from './daemon';
import { Journal } from './journal';
import { resolveStake, resolveWorkerStart, StartFlags, workerDefaults } from './config';

export function program(): Command {
    const cli = new Command('fog-worker').description('Lend your CPU to Fog and earn FOG').showHelpAfterError(false);

    commonOptions(cli.command('init').description('create a key (or import a mnemonic from a file) for this worker'))
        .option('--import <file>', 'a file holding an existing 24-word mnemonic')
        .action(async (o: Common & { import?: string }) => {
            const ctx = networkContext(o.networkFile, o.endpoint);
            const identity = o.import ? await identityOf(readMnemonic(o.import), ctx.file.network) : await newIdentity(ctx.file.network);
            mkdirSync(o.home, { recursive: true });
            writeKeyFile(keyPath(o), identity);
            const address = identity.wallet.address.toString({ testOnly: ctx.file.network !== 'mainnet', bounceable: false });
            out(
                o,
                `Key written to ${keyPath(o)} (readable only by you).\nWallet: ${address}\nFund it with TON and FOG, then: fog-worker stake --amount <FOG> --cores <n> --memory <MB>`,
                { key: keyPath(o), address },
            );
        });

    commonOptions(cli.command('faucet').description('devnet only: get TON and FOG from the devnet faucet'))
        .option('--ton <amount>', 'TON to receive', workerDefaults.faucetTon)
        .option('--fog <amount>', 'FOG to receive', workerDefaults.faucetFog)
        .action(async (o: Common & { ton: string; fog: string }) => {
            const { ctx, sender } = await signer(o);
            const ton = parseAmount(o.ton, 'TON');
            const fog = parseAmount(o.fog);
            await devnetFaucet(ctx.file, sender.address, { ton, fog });
            out(o, `Received ${formatAmount(ton, 'TON')} and ${formatAmount(fog)}.`, { ton, fog });
        });

    signingOptions(
        commonOptions(cli.command('stake').description('stake FOG; the first stake reaching the minimum mints your Contributor Pass')),
    )
        .requiredOption('--amount <FOG>', 'FOG to stake')
        .option('--cores <n>', 'CPU cores you offer', String(workerDefaults.threads))
        .option('--memory <MB>', 'memory you offer, MiB', String(workerDefaults.stakeMemoryMb))
        .action(async (o: Common & Signing & { amount: string; cores: string; memory: string }) => {
            const { amount, cores, memory } = resolveStake(o);
            const { ctx, address, send, waitMs } = await actor(o);
            const balance = await ctx.fog.balanceOf(address);
            if (balance < amount) throw new Error(`this wallet holds ${formatAmount(balance)}, less than ${formatAmount(amount)}`);
            const provider = await ctx.fog.providerOf(address);
            const stateOf = async () => ((await ctx.client.isContractDeployed(provider.address)) ? provider.getProviderState() : null);
            const before = (await stateOf())?.stake ?? 0n;
            await send(await ctx.fog.stake(address, amount, cores, memory), `stake ${formatAmount(amount)}`);
            const s = await waitFor(stateOf, (s) => s !== null && s.stake >= before + amount, waitMs);
            out(
                o,
                `Staked ${formatAmount(amount)}: stake ${formatAmount(s!.stake)}, pass ${s!.passHeld ? 'held' : 'not yet (below the minimum)'}.`,
                { stake: s!.stake, passHeld: s!.passHeld },
            );
        });

    commonOptions(cli.command('start').description('run the worker daemon'))
        .option('--threads <n>', 'compute threads', String(workerDefaults.threads))
        .option('--memory <MB>', 'largest job memory accepted, MiB', String(workerDefaults.memoryMb))
        .option(
            '--memory-total <MB>',
            'the most memory the runs in hand may ask for at once, MiB (default half this machine’s)',
            String(workerDefaults.memoryTotalMb),
        )
        .option('--max-mfuel <n>', 'largest job fuel limit accepted, millions of fuel', String(workerDefaults.maxMfuel))
        .option(
            '--wall-seconds <seconds>',
            'longest one run may take here before the job is abandoned (not committed)',
            String(workerDefaults.wallSeconds),
        )
        .option('--min-price <FOG>', 'smallest job price worth claiming', workerDefaults.minPrice)
        .option(
            '--min-price-per-mfuel <FOG>',
            'least pay per seat for each million fuel of a job’s limit (price ≥ this × limit × k)',
            workerDefaults.minPricePerMfuel,
        )
        .option('--fuel-rate <fuel/s>', 'this machine’s fuel per second (default: measured at start)')
        .option('--storage <url>', 'storage node to upload results to (default: the network file’s)')
        .option('--poll-ms <ms>', 'how often to look at the chain', String(workerDefaults.pollMs))
        .option('--keep-jobs <n>', 'jobs the journal remembers; older finished ones are forgotten', String(workerDefaults.keepJobs))
        .option('--allow-private-uris', 'fetch job blobs from private and loopback addresses too (a LAN deployment)')
        .addOption(new Option('--liar', 'commit wrong results and defend them in disputes (only to demonstrate slashing)').hideHelp())
        .addOption(new Option('--colluding', 'with --liar: reveal the same wrong result as every other colluding liar').hideHelp())
        .action(async (o: Common & StartFlags) => {
            // everything but the pool's threads and wall clock, and the storage node, is the daemon's
            const { threads, wallSeconds, storage: storageUrl, ...options } = resolveWorkerStart(o);
            const { ctx, sender } = await signer(o);
            const storage = storageOf(ctx.file, storageUrl);
            await ctx.fog.stakedProviderOf(sender.address);
            mkdirSync(o.home, { recursive: true });
            const journal = Journal.open(join(o.home, 'journal'));
            const pool = new ComputePool({ threads, wallSeconds });
            const daemon = new WorkerDaemon(ctx.fog, sender, pool, journal, storage, { ...DAEMON_DEFAULTS, ...options });
            const log = (e: object) => jsonLine(process.stdout, e);
            log({
                event: 'started',
                worker: sender.address.toString(),
                threads,
                memoryMb: options.memoryMb,
                memoryTotalMb: options.memoryTotalMb,
                maxMfuel: options.maxMfuel,
                minPricePerMfuel: formatAmount(options.minPricePerMfuel),
                liar: options.liar,
                colluding: options.colluding,
            });
            daemon.start();
            await new Promise<void>((resolve) => {
                const stop = async (signal: string) => {
                    await daemon.stop();
                    await pool.close();
                    await journal.close();
                    log({ event: 'stopped', signal });
                    resolve();
                };
                process.once('SIGINT', () => void stop('SIGINT'));
                process.once('SIGTERM', () => void stop('SIGTERM'));
            });
        });

    commonOptions(cli.command('status').description('stake, collateral, reputation, units and recent jobs')).action(async (o: Common) => {
        const { ctx, sender } = await signer(o);
        const ton = await ctx.client.getBalance(sender.address);
        const fog = await ctx.fog.balanceOf(sender.address);
        const provider = await ctx.fog.providerOf(sender.address);
        const s = (await ctx.client.isContractDeployed(provider.address)) ? await provider.getProviderState() : null;
        let recent: { job: string; stage: string; note: string; fuelLimit: string; fuel: string }[] = [];
        try {
            const journal = Journal.open(join(o.home, 'journal'));
            recent = journal.recent(10).map((e) => ({
                job: e.id,
                stage: e.stage,
                note: e.note ?? '',
                fuelLimit: e.fuelLimit ?? '',
                fuel: e.fuel ?? '',
            }));
            await journal.close();
        } catch {
            // no journal yet: the daemon has not run
        }
        const lines = [
            `Wallet ${sender.address.toString({ testOnly: ctx.file.network !== 'mainnet', bounceable: false })}: ${formatAmount(ton, 'TON')}, ${formatAmount(fog)}`,
            s
                ? `Stake ${formatAmount(s.stake)} (locked ${formatAmount(s.locked)}, free ${formatAmount(s.free)}), unbonding ${formatAmount(s.unbonding)}${s.unbonding > 0n ? ` until ${new Date(Number(s.unbondingUntil) * 1000).toISOString()}` : ''}\n` +
                  `Pass ${s.passHeld ? 'held' : 'not held'}; reputation ${s.reputation}; open claims ${s.openClaims}; units ${s.unitsTotal} in all, ${s.curUnits} in epoch ${s.curEpoch}; slashed ${s.slashCount}× (${formatAmount(s.slashedTotal)})`
                : 'No stake yet: fog-worker stake --amount <FOG>',
            ...recent.map(
                (r) =>
                    `  job ${r.job}: ${r.stage}${r.fuel ? ` (used ${formatFuel(r.fuel)}${r.fuelLimit ? ` of ${formatFuel(r.fuelLimit)}` : ''})` : ''} ${r.note}`,
            ),
        ];
        out(o, lines.join('\n'), { address: sender.address.toString(), ton, fog, provider: s, recent });
    });

    signingOptions(commonOptions(cli.command('rewards').description('claim epoch rewards for finished epochs')))
        .option('--epoch <n>', 'only this epoch')
        .action(async (o: Common & Signing & { epoch?: string }) => {
            const { ctx, address, send, waitMs } = await actor(o);
            if (o.epoch !== undefined && !/^\d+$/.test(o.epoch))
                throw new Error(`--epoch must be an epoch number, got ${JSON.stringify(o.epoch)}`);
            const candidates = await ctx.fog.claimableEpochs(address, o.epoch === undefined ? undefined : BigInt(o.epoch));
            const before = await ctx.fog.balanceOf(address);
            for (const epoch of candidates) await send(await ctx.fog.claimRewards(address, epoch), `claim the rewards of epoch ${epoch}`);
            const after = await waitFor(
                () => ctx.fog.balanceOf(address),
                (b) => b > before,
                waitMs,
            );
            out(o, `Claimed ${formatAmount(after - before)} for epoch ${candidates.join(', ')}.`, { minted: after - before });
        });

    signingOptions(commonOptions(cli.command('unstake').description('start unbonding free stake')))
        .requiredOption('--amount <FOG>', 'FOG to unbond')
        .action(async (o: Common & Signing & { amount: string }) => {
            const amount = parseAmount(o.amount);
            const { ctx, address, send, waitMs } = await actor(o);
            const provider = await ctx.fog.stakedProviderOf(address);
            const before = await provider.getProviderState();
            if (before.free < amount)
                throw new Error(
                    `only ${formatAmount(before.free)} of the stake is free (${formatAmount(before.locked)} is locked by open claims)`,
                );
            await send(await ctx.fog.unstake(address, amount), `unstake ${formatAmount(amount)}`);
            const s = await waitFor(
                () => provider.getProviderState(),
                (s) => s.unbonding >= before.unbonding + amount,
                waitMs,
            );
            out(o, `Unbonding ${formatAmount(s.unbonding)} until ${new Date(Number(s.unbondingUntil) * 1000).toISOString()}.`, {
                unbonding: s.unbonding,
                until: s.unbondingUntil,
            });
        });

    signingOptions(commonOptions(cli.command('withdraw').description('withdraw unbonded stake after the unbonding period'))).action(
        async (o: Common & Signing) => {
            const { ctx, address, send, waitMs } = await actor(o);
            const s = await (await ctx.fog.stakedProviderOf(address)).getProviderState();
            if (s.unbonding === 0n) throw new Error('nothing is unbonding: fog-worker unstake --amount <FOG> first');
            const now = await ctx.fog.now();
            if (now < Number(s.unbondingUntil))
                throw new Error(
                    `${formatAmount(s.unbonding)} is unbonding until ${new Date(Number(s.unbondingUntil) * 1000).toISOString()} (chain time; ${Number(s.unbondingUntil) - now} s from now)`,
                );
            const before = await ctx.fog.balanceOf(address);
            await send(await ctx.fog.withdraw(address), `withdraw ${formatAmount(s.unbonding)}`);
            const after = await waitFor(
                () => ctx.fog.balanceOf(address),
                (b) => b > before,
                waitMs,
            );
            out(o, `Withdrew ${formatAmount(after - before)} to your wallet.`, { amount: after - before });
        },
    );

    return cli;
}

function readMnemonic(path: string): string[] {
    try {
        return readFileSync(path, 'utf-8').split(/\s+/);
    } catch {
        throw new Error(`cannot read the mnemonic file ${path}`);
    }
}

export function main(argv: string[]): Promise<number> {
    return runCli(program(), argv);
}

if (require.main === module) {
    void main(process.argv).then((code) => process.exit(code));
}
