/**
 * The blueprint scripts for real: `blueprint run <script> --custom <devnet> --mnemonic` as a child
 * process, signing with a W5 wallet on the HTTP devnet, exactly as a deployer would on testnet.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { toNano } from '@ton/core';
import { startDevnet, Devnet, FOG } from './helpers/devnet';
import { readNetworkFile } from '../client/addresses';
import { Fog } from '../client/actions';
import { WalletSender } from '../client/sender';
import { commitOf } from '../wrappers/commit';
import { PhaseDone, PhaseOpen } from '../wrappers/Hub';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { DIST } from '../client/processes';

const ROOT = resolve(__dirname, '..');
const BLUEPRINT = join(ROOT, 'node_modules', '@ton', 'blueprint', 'dist', 'cli', 'cli.js');
const run = promisify(execFile);

describe('blueprint scripts', () => {
    let d: Devnet;
    let dir: string;
    let storage: StorageNode;
    let networkFile: string;
    let deployer: WalletSender;
    let worker: WalletSender;
    let fog: Fog;

    /** `blueprint run <script> <args>` signed by `wallet`'s mnemonic; resolves to its output, rejects with it. */
    const blueprint = async (wallet: WalletSender, script: string, args: string[] = []) => {
        try {
            const r = await run(
                process.execPath,
                [
                    BLUEPRINT,
                    'run',
                    script,
                    ...args,
                    '--custom',
                    d.endpoint,
                    '--custom-version',
                    'v2',
                    '--custom-type',
                    'custom',
                    '--mnemonic',
                ],
                {
                    cwd: ROOT,
                    // transpile only: `tsc` type-checks the scripts once for the whole suite
                    env: {
                        ...process.env,
                        TS_NODE_TRANSPILE_ONLY: 'true',
                        WALLET_MNEMONIC: wallet.identity.mnemonic.join(' '),
                        WALLET_VERSION: 'v5r1',
                        WALLET_NETWORK_ID: '-3',
                        FOG_NETWORK_FILE: networkFile,
                        FOG_STORAGE: storage.url,
                    },
                    maxBuffer: 16 << 20,
                },
            );
            return r.stdout;
        } catch (e) {
            const err = e as { stdout?: string; stderr?: string };
            throw new Error(`blueprint run ${script} failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`, { cause: e });
        }
    };

    beforeAll(async () => {
        // two hours behind wall time: the clock can be moved on while blueprint's wallet, which
        // signs valid_until from wall time, still gets its messages accepted
        d = await startDevnet({ startAt: Math.floor(Date.now() / 1000) - 7200 });
        dir = mkdtempSync(join(tmpdir(), 'fog-blueprint-'));
        storage = await startStorageNode({ dir: join(dir, 'blobs'), port: 0, log: () => undefined });
        networkFile = join(dir, 'network.json');
        deployer = await d.funded(toNano('50'));
        worker = await d.funded(toNano('50'));
    });
    afterAll(async () => {
        await storage.close();
        await d.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('deployFog deploys and wires Fog from a configuration and writes the network file', async () => {
        const config = join(dir, 'config.json');
        writeFileSync(
            config,
            JSON.stringify({
                params: {
                    minStake: '100',
                    collateral: '10',
                    claimWindow: 60,
                    commitWindow: 120,
                    revealWindow: 60,
                    epochLength: 600,
                    closeDelay: 30,
                    unbondingPeriod: 600,
                },
                genesis: [
                    { address: deployer.address.toString(), amount: '5000' },
                    { address: worker.address.toString(), amount: '1000' },
                ],
                sealGenesis: true,
                jobLibraryTon: '100',
            }),
        );
        // a wallet that cannot pay for the whole deployment sends nothing
        const poor = await d.funded(toNano('1'));
        await expect(blueprint(poor, 'deployFog', [config])).rejects.toThrow(
            /the deployment sends [\d.]+ TON in all \([\d.]+ of it to the Librarian of Job's code: .*\), and .* holds 1\b/,
        );
        expect((await d.client.getContractState(poor.address)).balance).toBe(toNano('1'));

        const out = await blueprint(deployer, 'deployFog', [config]);
        // the devnet's own deployment published this build's Job code already: it is topped up to
        // the configuration's 100 TON (it paid some rent and fees), not published again
        expect(out).toMatch(
            /Job's code is already published as a library \(Librarian .*, \d{3} days of rent\): topping it up with 0\.0\d+ TON/,
        );
        expect(out).toContain("1/4 top up the Librarian of Job's code");
        expect(out).toContain('4/4 genesis allocation 1/1 (2 recipients, sealing genesis)');
        expect(out).toContain('Fog is deployed.');

        const file = readNetworkFile(networkFile);
        expect(file).toMatchObject({ network: 'devnet', endpoint: d.endpoint, storage: storage.url, devnet: d.url });
        fog = new Fog(d.client, file);
        const [hub, token, params] = await Promise.all([fog.hub.getHubState(), fog.token.getTokenState(), fog.hub.getParams()]);
        expect(hub.admin.equals(deployer.address)).toBe(true);
        expect(token.mintAuthority!.equals(file.hub)).toBe(true);
        expect(token).toMatchObject({ authorityLocked: true, genesisOpen: false, totalSupply: 6000n * FOG });
        expect(params).toMatchObject({ minStake: 100n * FOG, collateral: 10n * FOG, epochLength: 600n });
        expect(await fog.balanceOf(worker.address)).toBe(1000n * FOG);

        const state = await blueprint(deployer, 'readState');
        expect(state).toContain('jobs posted 0; total stake 0 FOG');
        expect(state).toContain('FOG supply 6000 FOG; genesis sealed; mint authority the hub');
        expect(state).toMatch(
            /jobs run Job's code from a masterchain library; its Librarian .* holds (99\.9\d|100\.00) TON, \d{3} days of rent at \d\d\.\d\d TON a year/,
        );
    });

    it('stake, setParams and postJob act for the signing wallet', async () => {
        expect(await blueprint(deployer, 'stake', ['200', '2', '1024'])).toContain('Staked 200 FOG: stake 200 FOG, pass held.');
        expect(await (await fog.providerOf(deployer.address)).getProviderState()).toMatchObject({
            stake: 200n * FOG,
            passHeld: true,
            cores: 2n,
        });

        const change = join(dir, 'params.json');
        writeFileSync(change, JSON.stringify({ collateral: '20' }));
        expect(await blueprint(deployer, 'setParams', [change])).toContain(`Parameters set: collateral ${10n * FOG} → ${20n * FOG}`);
        expect((await fog.hub.getParams()).collateral).toBe(20n * FOG);
        writeFileSync(change, JSON.stringify({ collateral: '10' }));
        await expect(blueprint(worker, 'setParams', [change])).rejects.toThrow(/only the hub's admin .* may set parameters/);

        const input = join(dir, 'input.txt');
        writeFileSync(input, 'from blueprint');
        expect(await blueprint(deployer, 'postJob', ['5', join(DIST, 'examples', 'upper.wasm'), input, '1', '20'])).toContain(
            'Posted job 0 by you: 5 FOG, k=1, up to 20 Mfuel.',
        );
        const state = await (await fog.job(0n)).getJobState();
        expect(state).toMatchObject({ phase: PhaseOpen, price: 5n * FOG });
        expect(state.spec.maxMfuel).toBe(20n);
    });

    it('postMap posts a map of a file cut at line ends, and refuses more shards than lines before paying', async () => {
        const text = join(dir, 'lines.txt');
        writeFileSync(text, 'one\ntwo\nthree\n');
        await expect(blueprint(deployer, 'postMap', ['2', join(DIST, 'examples', 'upper.wasm'), text, '4', '1', '20'])).rejects.toThrow(
            /the file has 3 lines, fewer than the 4 shards asked for/,
        );
        expect((await fog.hub.getHubState()).nextJobId).toBe(1n);
        expect(await blueprint(deployer, 'postMap', ['2', join(DIST, 'examples', 'upper.wasm'), text, '3', '1', '20'])).toContain(
            'Posted map 1: 3 shards, jobs 1–3, 2 FOG each, k=1, up to 20 Mfuel.',
        );
        const group = (await fog.shards(1n)).address;
        for (const id of [1n, 2n, 3n]) {
            const s = await (await fog.job(id)).getJobState();
            expect(s).toMatchObject({ phase: PhaseOpen, price: 2n * FOG });
            expect(s.group!.equals(group)).toBe(true);
        }
        // readMap finds the map from any of its jobs, and says which shards stand where
        const status = await blueprint(deployer, 'readMap', ['2']);
        expect(status).toContain(`Map 1: 3 shards, jobs 1–3, 2 FOG each, k=1, requester ${deployer.address.toString()}`);
        expect(status).toContain('0/3 done · 3 running');
        expect(status).toContain('running: 1, 2, 3');
        await expect(blueprint(deployer, 'readMap', ['99'])).rejects.toThrow(/there is no job 99 \(jobs so far: 4\)/);
    });

    it('claimRewards mints a worker’s share once its epoch is over', async () => {
        // the worker stakes and does the job (k=1) through the same client the CLIs use
        const w = new WalletSender(d.client, worker.identity, { validForSeconds: 86_400 }, d.endpoint);
        await w.send([await fog.stake(worker.address, 200n * FOG, 2, 1024)], true);
        await w.send([await fog.claim(worker.address, 0n)], true);
        await w.send([await fog.commit(0n, commitOf(42n, worker.address, 7n))], true);
        await w.send([await fog.reveal(0n, 42n, 7n)], true);
        expect((await (await fog.job(0n)).getJobState()).phase).toBe(PhaseDone);

        const r = await fetch(`${d.url}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds: 700 }) });
        expect(r.ok).toBe(true);
        const before = await fog.balanceOf(worker.address);
        expect(await blueprint(worker, 'claimRewards')).toMatch(/Claimed [\d.]+ FOG for epoch 0\./);
        expect(await fog.balanceOf(worker.address)).toBeGreaterThan(before);
    });
});
