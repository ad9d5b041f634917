/**
 * A whole Fog network on this machine as separate processes: the storage node, the devnet, the
 * keeper, and workers each with its own wallet, FOG, stake and pass, plus a requester holding a
 * pass. `npm start` and the end-to-end tests bring it up the same way.
 */
import { join } from 'node:path';
import { entry, Managed, runNode, startNode } from '../client/processes';

export interface LocalNetworkOptions {
    /** Where every process keeps its files (wiped and created by the caller). */
    data: string;
    networkFile: string;
    workers: number;
    /** The first `liars` workers commit wrong results. */
    liars?: number;
    /** The liars reveal the same wrong result. */
    colluding?: boolean;
    /** The base of each party's seconds in a dispute match (absent: the devnet's default, 300; 0: differing results go to a majority vote). */
    disputeAllowance?: number;
    /** Seconds a claimant has to commit (absent: the devnet's default). */
    commitWindow?: number;
    /** Serve the web app (app/server.ts) on this port (0: any free one); absent: not served. */
    appPort?: number;
    /** Start the keeper (finalizes late jobs, closes epochs). */
    keeper?: boolean;
    /** Extra arguments for every `fog-worker start`. */
    workerArgs?: string[];
    onLine?: (name: string, line: string) => void;
    /** Called with every process as it starts, so a caller can stop them even while this is still starting up (Ctrl-C). */
    onProcess?: (m: Managed) => void;
}

export interface WorkerStatus {
    address: string;
    fog: string;
    ton: string;
    provider: Record<string, string> | null;
}

export interface LocalNetwork {
    storageUrl: string;
    devnetUrl: string;
    /** The web app's URL, when it is served (`appPort`). */
    appUrl?: string;
    endpoint: string;
    homes: string[];
    requesterHome: string;
    workers: Managed[];
    /** The oracle process (watcher and keeper), when started. */
    keeper?: Managed;
    /** Starts the oracle process (again, after a kill). */
    startKeeper(): Managed;
    /** `--home … --network-file …` for a CLI call. */
    common(home: string): string[];
    /** Starts worker `i`'s daemon (again, after a kill). */
    startWorker(i: number): Managed;
    status(home: string): Promise<WorkerStatus>;
    /** Chain statistics from the devnet (transactions and gas since it started). */
    info(): Promise<{ now: number; gas: string; transactions: number }>;
    /** Moves the devnet's clock forward. */
    advance(seconds: number): Promise<void>;
    stop(): Promise<void>;
}

export async function startLocalNetwork(o: LocalNetworkOptions): Promise<LocalNetwork> {
    const running: Managed[] = [];
    const onLine = o.onLine ?? (() => undefined);
    const track = (m: Managed) => {
        running.push(m);
        o.onProcess?.(m);
        return m;
    };
    const stop = async () => {
        await Promise.all([...running].reverse().map((m) => m.stop()));
    };
    try {
        const storage = track(startNode('storage', entry.storage, ['--dir', join(o.data, 'blobs'), '--port', '0'], onLine));
        const storageUrl = (JSON.parse(await storage.waitForLine((l) => l.includes('"listening"'))) as { url: string }).url;
        const devnet = track(
            startNode(
                'devnet',
                entry.devnet,
                [
                    '--data',
                    join(o.data, 'devnet'),
                    '--port',
                    '0',
                    '--network-file',
                    o.networkFile,
                    '--storage',
                    storageUrl,
                    '--allow-time-travel',
                    '--fresh',
                    '--start-behind',
                    '3600',
                    ...(o.disputeAllowance === undefined ? [] : ['--dispute-allowance', String(o.disputeAllowance)]),
                    ...(o.commitWindow === undefined ? [] : ['--commit-window', String(o.commitWindow)]),
                ],
                onLine,
            ),
        );
        const endpoint = (JSON.parse(await devnet.waitForLine((l) => l.includes('"ready"'))) as { endpoint: string }).endpoint;
        const devnetUrl = endpoint.replace(/\/jsonRPC$/, '');
        const startKeeper = () => {
            const k = track(
                startNode(
                    'keeper',
                    entry.oracle,
                    [
                        '--network-file',
                        o.networkFile,
                        '--key',
                        join(o.data, 'keeper', 'wallet.key'),
                        '--data',
                        join(o.data, 'keeper'),
                        '--every',
                        '2',
                    ],
                    onLine,
                ),
            );
            network.keeper = k;
            return k;
        };
        const common = (home: string) => ['--home', home, '--network-file', o.networkFile];
        const setup = async (home: string, fog: string) => {
            await runNode(entry.worker, ['init', ...common(home)]);
            await runNode(entry.worker, ['faucet', ...common(home), '--ton', '50', '--fog', fog]);
            await runNode(entry.worker, ['stake', ...common(home), '--amount', '200', '--cores', '2', '--memory', '1024']);
        };
        const homes = Array.from({ length: o.workers }, (_, i) => join(o.data, `worker-${i + 1}`));
        const requesterHome = join(o.data, 'requester');
        await Promise.all([...homes.map((h) => setup(h, '1000')), setup(requesterHome, '10000')]);
        const workers: Managed[] = [];
        const startWorker = (i: number) => {
            const liar = i < (o.liars ?? 0);
            const w = track(
                startNode(
                    `worker ${i + 1}${liar ? ' (liar)' : ''}`,
                    entry.worker,
                    [
                        'start',
                        ...common(homes[i]),
                        '--threads',
                        '1',
                        // a local chain answers at once: a quarter second between ticks moves a
                        // dispute match along (the npm start test: 137 s at 500 ms, 119 s at 250)
                        '--poll-ms',
                        '250',
                        ...(liar ? ['--liar', ...(o.colluding ? ['--colluding'] : [])] : []),
                        ...(o.workerArgs ?? []),
                    ],
                    onLine,
                ),
            );
            workers[i] = w;
            return w;
        };
        homes.forEach((_, i) => startWorker(i));
        const network: LocalNetwork = {
            startKeeper,
            storageUrl,
            devnetUrl,
            endpoint,
            homes,
            requesterHome,
            workers,
            common,
            startWorker,
            status: async (home) => JSON.parse(await runNode(entry.worker, ['status', ...common(home), '--json'])) as WorkerStatus,
            info: async () =>
                (await (await fetch(`${devnetUrl}/devnet/info`)).json()) as { now: number; gas: string; transactions: number },
            advance: async (seconds) => {
                const r = await fetch(`${devnetUrl}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds }) });
                if (!r.ok) throw new Error(`devnet refused to advance the clock: ${r.status}`);
            },
            stop,
        };
        if (o.keeper !== false) startKeeper();
        if (o.appPort !== undefined) {
            // the devnet's app serves a TON Connect bridge too: no public wallet signs for a devnet
            const app = track(
                startNode('app', entry.app, ['--network-file', o.networkFile, '--port', String(o.appPort), '--bridge'], onLine),
            );
            network.appUrl = (JSON.parse(await app.waitForLine((l) => l.includes('"ready"'))) as { url: string }).url;
        }
        return network;
    } catch (e) {
        await stop();
        throw e;
    }
}
