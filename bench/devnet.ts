/**
 * Devnet end to end: jobs driven through the devnet's toncenter API by W5 wallets with the client
 * code every Fog process uses, against the bare emulator running the same contracts and the same
 * jobs in this process (no HTTP, no persistence).
 *
 * The devnet runs as its own process, as under `npm start`, so the clients' work (signing,
 * parsing) does not share its thread. Teams of one requester and k workers run jobs concurrently,
 * taking the next job from one counter, so the devnet always has messages queued; the window
 * counted ends when the first team finds no job left, before the load tails off.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { toNano } from '@ton/core';
import { SandboxContract, TreasuryContract } from '@ton/sandbox';
import { Fog } from '../client/actions';
import { NetworkFile, readNetworkFile } from '../client/addresses';
import { connect } from '../client/chain';
import { devnetFaucet } from '../client/context';
import { JobPhase } from '../client/results';
import { WalletSender } from '../client/sender';
import { newIdentity } from '../client/wallet';
import { entry, Managed, startNode } from '../client/processes';
import { commitOf, hashOf } from '../wrappers/commit';
import { FOG, protocolFixture, runJobGas, specOf } from '../client/sandbox/protocol';

const SALT = 7n;
const PRICE = 10n * FOG;
const STAKE = 200n * FOG;

export interface ThroughputFigures {
    jobs: number;
    transactions: number;
    seconds: number;
    transactionsPerSecond: number;
}

/** Where the devnet's window went: its emulator's busy time, and of that the get-methods clients asked for. */
export interface DevnetBreakdown {
    /** Share of the window the devnet's event loop was busy (the rest it waited for requests). */
    loop: number;
    /** Share of the window the emulator was busy (messages, get-methods, account reads). */
    busy: number;
    /** Share of the window spent in get-methods. */
    getMethods: number;
    getMethodCount: number;
    /** Get-methods per transaction. */
    getMethodsPerTransaction: number;
    /** Milliseconds per get-method and per transaction (busy time less get-methods, over transactions). */
    msPerGetMethod: number;
    msPerTransaction: number;
}

export interface DevnetFigures {
    /** Jobs of k workers each, and teams (one requester, k workers) running them concurrently. */
    k: number;
    teams: number;
    wallets: number;
    /** The devnet under load: the window from the first message to the first team finding no job left. */
    devnet: ThroughputFigures;
    breakdown: DevnetBreakdown;
    /** The same jobs, one after the other, on the bare emulator. */
    emulator: ThroughputFigures;
    /** Devnet transactions per second / the emulator's. */
    ratio: number;
    /** Jobs the devnet ran that ended settled (all of them, or the run failed). */
    settled: number;
    /** Wall seconds from the first wallet funded to the last job settled: the history the watcher reads. */
    historySeconds: number;
}

/** What `GET /devnet/info` counts since the devnet started. */
interface DevnetInfo {
    transactions: number;
    busyMs: number;
    getMethods: number;
    getMethodMs: number;
    loopActiveMs: number;
    loopIdleMs: number;
}

/** A devnet process with its network file, a client and the protocol opened on it. */
export interface RunningDevnet {
    file: NetworkFile;
    fog: Fog;
    info(): Promise<DevnetInfo>;
    stop(): Promise<void>;
}

/** Starts `node dist/devnet/main.js` on a free port with its data in `dir`. */
export async function startDevnetProcess(dir: string): Promise<RunningDevnet> {
    const networkFile = join(dir, 'network.json');
    const proc: Managed = startNode('devnet', entry.devnet, [
        '--port',
        '0',
        '--data',
        join(dir, 'devnet'),
        '--network-file',
        networkFile,
        '--save-every',
        '0',
    ]);
    try {
        await proc.waitForLine((line) => line.includes('"event":"ready"'), 60_000);
    } catch (e) {
        await proc.stop();
        throw e;
    }
    const file = readNetworkFile(networkFile);
    const client = connect(file.endpoint);
    return {
        file,
        fog: new Fog(client, { hub: file.hub, token: file.token }),
        async info() {
            const r = await fetch(`${file.devnet}/devnet/info`);
            if (!r.ok) throw new Error(`devnet info: HTTP ${r.status}`);
            return (await r.json()) as DevnetInfo;
        },
        async stop() {
            const code = await proc.stop();
            rmSync(join(dir, 'devnet'), { recursive: true, force: true });
            if (code !== 0) throw new Error(`the devnet exited with code ${code}`);
        },
    };
}

/** One after the other: `fn` runs only when every earlier call finished. */
function serialized() {
    let tail: Promise<unknown> = Promise.resolve();
    return <T>(fn: () => Promise<T>): Promise<T> => {
        const run = tail.then(fn);
        tail = run.catch(() => undefined);
        return run;
    };
}

/** A W5 wallet funded from the devnet's faucet and staked, so it holds a pass (it may post and claim). */
async function staker(d: RunningDevnet): Promise<WalletSender> {
    const identity = await newIdentity('devnet');
    await devnetFaucet(d.file, identity.wallet.address, { ton: toNano('50'), fog: STAKE + 1_000n * FOG });
    const w = new WalletSender(d.fog.client, identity, {}, d.file.endpoint);
    await w.send([await d.fog.stake(w.address, STAKE, 4, 4096)], true);
    return w;
}

/**
 * Runs `jobs` jobs of `k` workers on the devnet with `teams` teams at once; resolves when every
 * job settled, with the transactions and seconds of the loaded window.
 */
async function devnetLoad(
    d: RunningDevnet,
    opts: { jobs: number; teams: number; k: number },
): Promise<{ window: ThroughputFigures; breakdown: DevnetBreakdown; settled: number; historySeconds: number }> {
    const { fog } = d;
    const begun = performance.now();
    const teams = await Promise.all(
        Array.from({ length: opts.teams }, async () => Promise.all(Array.from({ length: opts.k + 1 }, () => staker(d)))),
    );
    // The hub numbers jobs in the order it receives them: one post at a time, so each requester
    // knows its job's id without searching the hub's history.
    const posting = serialized();
    const spec = specOf({ k: BigInt(opts.k), quorum: BigInt(Math.floor(opts.k / 2) + 1) });
    const ids: bigint[] = [];
    let nextId = (await fog.hub.getHubState()).nextJobId;
    // Workers claim with the job's collateral, known here as the daemon knows it from the job state
    // it reads to decide: the claim itself asks the devnet nothing more.
    const { collateral } = await fog.hub.getParams();
    let handedOut = 0;
    const runJob = async ([requester, ...workers]: WalletSender[]) => {
        const id = await posting(async () => {
            await requester.send([await fog.post(requester.address, PRICE, spec)], true);
            return nextId++;
        });
        ids.push(id);
        const result = hashOf(`result of job ${id}`);
        await Promise.all(workers.map(async (w) => w.send([await fog.claim(w.address, id, collateral)], true)));
        await Promise.all(workers.map(async (w) => w.send([await fog.commit(id, commitOf(result, w.address, SALT))], true)));
        await Promise.all(workers.map(async (w) => w.send([await fog.reveal(id, result, SALT)], true)));
    };

    const start = await d.info();
    const t0 = performance.now();
    let end: { info: DevnetInfo; t: number } | undefined;
    await Promise.all(
        teams.map(async (team) => {
            while (handedOut < opts.jobs) {
                handedOut += 1;
                await runJob(team);
            }
            if (!end) {
                const info = await d.info();
                end ??= { info, t: performance.now() };
            }
        }),
    );
    const historySeconds = (performance.now() - begun) / 1000;
    let settled = 0;
    for (const id of ids) if (Number((await (await fog.job(id)).getJobState()).phase) === JobPhase.Done) settled += 1;
    if (settled !== opts.jobs) throw new Error(`devnet: ${settled} of ${opts.jobs} jobs settled`);
    const transactions = end!.info.transactions - start.transactions;
    const seconds = (end!.t - t0) / 1000;
    const busyMs = end!.info.busyMs - start.busyMs;
    const getMethodMs = end!.info.getMethodMs - start.getMethodMs;
    const getMethodCount = end!.info.getMethods - start.getMethods;
    const loopActive = end!.info.loopActiveMs - start.loopActiveMs;
    const breakdown: DevnetBreakdown = {
        loop: loopActive / (loopActive + end!.info.loopIdleMs - start.loopIdleMs),
        busy: busyMs / 1000 / seconds,
        getMethods: getMethodMs / 1000 / seconds,
        getMethodCount,
        getMethodsPerTransaction: getMethodCount / transactions,
        msPerGetMethod: getMethodMs / getMethodCount,
        msPerTransaction: (busyMs - getMethodMs) / transactions,
    };
    return {
        window: { jobs: opts.jobs, transactions, seconds, transactionsPerSecond: transactions / seconds },
        breakdown,
        settled,
        historySeconds,
    };
}

/** The same jobs on the bare emulator in this process, one after the other. */
async function emulatorLoad(opts: { jobs: number; k: number }): Promise<ThroughputFigures> {
    const p = await protocolFixture();
    const team: SandboxContract<TreasuryContract>[] = [];
    for (let i = 0; i <= opts.k; i++) {
        const a = await p.blockchain.treasury(`bench ${i}`);
        await p.fund(a.address, STAKE + 1_000n * FOG);
        await p.stake(a, STAKE);
        team.push(a);
    }
    let transactions = 0;
    const t0 = performance.now();
    for (let id = 0n; id < BigInt(opts.jobs); id++) {
        await runJobGas(p, team[0], team.slice(1), id, (r) => {
            transactions += r.transactions.length;
            return 0n;
        });
    }
    const seconds = (performance.now() - t0) / 1000;
    return { jobs: opts.jobs, transactions, seconds, transactionsPerSecond: transactions / seconds };
}

/** The emulator's throughput, then the devnet's; leaves the devnet running (with its jobs) for the watcher. */
export async function measureDevnet(d: RunningDevnet, opts: { jobs: number; teams: number; k: number }): Promise<DevnetFigures> {
    // The emulator first: a long run in this thread right before the watcher reads the devnet
    // would leave its HTTP keep-alive sockets closed by the devnet but not yet noticed here.
    const emulator = await emulatorLoad(opts);
    const { window, breakdown, settled, historySeconds } = await devnetLoad(d, opts);
    return {
        k: opts.k,
        teams: opts.teams,
        wallets: opts.teams * (opts.k + 1),
        devnet: window,
        breakdown,
        emulator,
        ratio: window.transactionsPerSecond / emulator.transactionsPerSecond,
        settled,
        historySeconds,
    };
}
