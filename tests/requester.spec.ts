/**
 * The requester CLI (`fog`, built to dist/ by `npm run build`) as its own process against one
 * devnet and one storage node in this process, with no keeper and no workers: what a user sees
 * when nobody else acts on their job, and the mistakes it must refuse before anything is paid.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginCell, toNano } from '@ton/core';
import { DIST, entry, startNode } from '../client/processes';
import { writeNetworkFile } from '../client/addresses';
import { writeKeyFile } from '../client/wallet';
import { open } from '../client/chain';
import { WalletSender } from '../client/sender';
import { failureHash, JobPhase, resultHashOf } from '../client/results';
import { runHere } from '../client/compute/programs';
import { fuelForJob, MAX_JOB_MFUEL } from '../client/compute/fuel';
import { exampleNamed } from '../examples/catalog';
import { decodeTransferLink } from '../client/deeplink';
import { eventsOf } from '../client/events';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { sha256Hex, StorageClient } from '../client/storage';
import { FogWallet, storeJettonTransfer } from '../wrappers/FogWallet';
import { Devnet, FOG, startDevnet } from './helpers/devnet';
import { advance, claim, post, staker, wallet } from './helpers/flow';

const UPPER = join(DIST, 'examples', 'upper.wasm');
const MAX_UINT64 = 2n ** 64n - 1n;

interface Run {
    code: number | null;
    stdout: string[];
    stderr: string[];
}

describe('fog (the requester CLI) without a keeper', () => {
    let dir: string;
    let d: Devnet;
    let storage: StorageNode;
    let networkFile: string;
    let input: string;
    /** Staked (holds a pass), its key in `requesterHome`. */
    let requester: WalletSender;
    let requesterHome: string;
    /** FOG and TON but no stake, hence no pass; its key in `passlessHome`. */
    let passless: WalletSender;
    let passlessHome: string;
    /** Staked, to claim a job (made before any test moves the clock: the devnet's faucet signs with wall time). */
    let worker: WalletSender;

    const common = (home: string) => ['--home', home, '--network-file', networkFile];
    const submitArgs = (home: string, extra: string[] = []) => [
        'job',
        'submit',
        ...common(home),
        '--program',
        UPPER,
        '--input',
        input,
        '--price',
        '5',
        '-k',
        '1',
        ...extra,
    ];

    /**
     * Starts `fog` with `args`; `whenLine` sees each line (stdout and stderr) as it comes. Resolves when it exits,
     * or kills it after `limitMs` (then `code` is null: it did not end by itself).
     */
    function fog(args: string[], limitMs = 30_000, whenLine: (line: string) => void = () => undefined): Promise<Run> {
        const stdout: string[] = [];
        const stderr: string[] = [];
        const m = startNode('fog', entry.fog, args, (_, line, stream) => {
            (stream === 'out' ? stdout : stderr).push(line);
            whenLine(line);
        });
        const timer = setTimeout(() => m.proc.kill('SIGKILL'), limitMs);
        return m.exited.then((code) => {
            clearTimeout(timer);
            return { code, stdout, stderr };
        });
    }

    const nextJobId = async () => (await d.fog.hub.getHubState()).nextJobId;

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'fog-requester-'));
        d = await startDevnet();
        storage = await startStorageNode({ dir: join(dir, 'blobs'), port: 0, log: () => undefined });
        networkFile = join(dir, 'network.json');
        writeNetworkFile(networkFile, {
            network: 'devnet',
            endpoint: d.endpoint,
            token: d.protocol.token,
            collection: d.protocol.collection,
            hub: d.protocol.hub,
            storage: storage.url,
            devnet: d.url,
        });
        input = join(dir, 'input.txt');
        writeFileSync(input, 'nobody runs this');
        [requester, passless, worker] = await Promise.all([staker(d), wallet(d, toNano('10'), 100n * FOG), staker(d)]);
        requesterHome = join(dir, 'requester');
        passlessHome = join(dir, 'passless');
        writeKeyFile(join(requesterHome, 'wallet.key'), requester.identity);
        writeKeyFile(join(passlessHome, 'wallet.key'), passless.identity);
    });
    afterAll(async () => {
        await storage?.close();
        await d?.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('ends a submit nobody claims: past the claim window it finalizes the job itself and reports it expired and refunded', async () => {
        const before = await d.fog.balanceOf(requester.address);
        let posted: (id: string) => void = () => undefined;
        const postedId = new Promise<string>((r) => (posted = r));
        // a limit above a worker's default: no worker here would take it, and the CLI says so
        const run = fog(submitArgs(requesterHome, ['--mfuel', '2000000']), 60_000, (line) => {
            const m = /^posted job (\d+)/.exec(line);
            if (m) posted(m[1]);
        });
        const id = await postedId;
        // the devnet's claim window is 60 s: move past it rather than wait
        await advance(d, 61);
        const r = await run;
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(
            'note: a worker skips jobs above its --max-mfuel, 1,000,000 Mfuel unless it sets another: at 2,000,000 Mfuel, only workers started with a higher one take this',
        );
        expect(r.stderr).toContain(`job ${id}: the claim window passed with 0 of 1 claims; finalizing it`);
        expect(r.stderr[r.stderr.length - 1]).toBe(`fog: job ${id} ended expired: only 0 of 1 workers claimed it in time (refunded)`);
        expect(Number((await (await d.fog.job(BigInt(id))).getJobState()).phase)).toBe(JobPhase.Expired);
        expect(await d.fog.balanceOf(requester.address)).toBe(before);
    });

    it('waits out the reveal window of a job whose workers claimed it, then finalizes it and reports no quorum', async () => {
        let posted: (id: string) => void = () => undefined;
        const postedId = new Promise<string>((r) => (posted = r));
        const lines: string[] = [];
        const run = fog(submitArgs(requesterHome), 60_000, (line) => {
            lines.push(line);
            const m = /^posted job (\d+)/.exec(line);
            if (m) posted(m[1]);
        });
        const id = await postedId;
        await claim(d, worker, BigInt(id));
        // past the claim window with every slot claimed: nothing to finalize until the reveal window ends
        await advance(d, 61);
        await new Promise((r) => setTimeout(r, 3000));
        expect(lines.filter((l) => l.includes('finalizing'))).toEqual([]);
        const s = await (await d.fog.job(BigInt(id))).getJobState();
        await advance(d, Number(s.revealUntil) - (await d.fog.now()) + 1);
        const r = await run;
        expect(r.stderr).toContain(`job ${id}: the reveal window passed with 0 of 0 reveals; finalizing it`);
        expect(r.stderr[r.stderr.length - 1]).toBe(
            `fog: job ${id} ended failed: no result reached the quorum of 1: 0 of 1 workers revealed (refunded)`,
        );
        expect(r.code).toBe(1);
        expect(Number((await (await d.fog.job(BigInt(id))).getJobState()).phase)).toBe(JobPhase.Failed);
    });

    it('names the hub’s reason when it refuses a post, and the FOG is back', async () => {
        const before = await d.fog.balanceOf(requester.address);
        const args = submitArgs(requesterHome).map((a, i, all) => (all[i - 1] === '--price' ? '0.5' : a));
        const r = await fog(args);
        expect(r.code).toBe(1);
        expect(r.stderr[r.stderr.length - 1]).toBe(
            'fog: the hub refused the job and sent the 0.5 FOG back: the price is below the minimum job price',
        );
        expect(await d.fog.balanceOf(requester.address)).toBe(before);
    });

    it('counts only the hub events after its own post: an earlier stray of the same wallet and amount does not abort a new submit', async () => {
        // 5 FOG sent to the hub with exactly the wallet's transfer cost forwarded: too little for the
        // hub to send it back, so the hub keeps it as a stray and says so with a StrayEvent
        const fogWallet = open(d.client, FogWallet.fromAddress(await d.fog.walletOf(requester.address)));
        const forwardTon = await fogWallet.getTransferCost(0n, 0n);
        await requester.send(
            [
                {
                    to: fogWallet.address,
                    value: forwardTon + toNano('0.1'),
                    body: beginCell()
                        .store(
                            storeJettonTransfer({
                                $$type: 'JettonTransfer',
                                queryId: 0n,
                                amount: 5n * FOG,
                                destination: d.protocol.hub,
                                responseDestination: requester.address,
                                customPayload: null,
                                forwardTonAmount: forwardTon,
                                forwardPayload: beginCell().storeBit(0).storeUint(0xdeadbeef, 32).endCell().beginParse(),
                            }),
                        )
                        .endCell(),
                },
            ],
            true,
        );
        const hubTxs = await d.client.getTransactions(d.protocol.hub, { limit: 5 });
        const strays = hubTxs
            .flatMap((tx) => eventsOf(tx, d.protocol.hub))
            .filter((e) => e.$$type === 'StrayEvent' && e.from.equals(requester.address));
        expect(strays).toHaveLength(1);

        // signed through a wallet link, so that the CLI reads the hub's history before its post lands
        const id = await nextJobId();
        let signLine: (line: string) => void = () => undefined;
        const sign = new Promise<string>((r) => (signLine = r));
        const run = fog(
            [
                'job',
                'submit',
                '--home',
                join(dir, 'no-key'),
                '--network-file',
                networkFile,
                '--program',
                UPPER,
                '--input',
                input,
                '--price',
                '5',
                '-k',
                '1',
                '--no-wait',
                '--json',
                '--deeplink',
                '--from',
                requester.address.toString(),
            ],
            30_000,
            (line) => {
                if (line.includes('"sign"')) signLine(line);
            },
        );
        const link = decodeTransferLink((JSON.parse(await sign) as { sign: { ton: string } }).sign.ton);
        await new Promise((r) => setTimeout(r, 1500));
        await requester.send([{ to: link.to, value: link.amount, body: link.body, bounce: link.bounceable }], true);
        const r = await run;
        expect(r.stderr).toEqual([]);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout[r.stdout.length - 1])).toEqual({ id: id.toString() });
        expect(await nextJobId()).toBe(id + 1n);
    });

    it('refuses a wallet without a Contributor Pass before anything is paid or uploaded, and says so', async () => {
        const fogBefore = await d.fog.balanceOf(passless.address);
        const tonBefore = await passless.balance();
        const id = await nextJobId();
        const own = join(dir, 'passless.txt');
        writeFileSync(own, 'posted by a wallet without a pass');
        for (const extra of [['--no-wait'], []]) {
            const r = await fog([...submitArgs(passlessHome, extra), '--input', own]);
            expect(r.stdout).toEqual([]);
            expect(r.stderr).toEqual([
                `fog: ${passless.address.toString({ testOnly: true })} holds no valid Contributor Pass, and only pass holders may post (the job would be rejected and refunded): stake first with \`fog-worker stake\`; nothing was posted`,
            ]);
            expect(r.code).toBe(1);
        }
        expect(await nextJobId()).toBe(id);
        expect(await d.fog.balanceOf(passless.address)).toBe(fogBefore);
        expect(await passless.balance()).toBe(tonBefore);
        expect(await new StorageClient(storage.url).has(sha256Hex(readFileSync(own)))).toBe(false);
    });

    it('names the missing pass as the reason a job posted without one was rejected', async () => {
        // posted from the wallet directly (as a wallet link would), past the CLI's own check
        const id = await post(d, passless, { k: 1n, quorum: 1n });
        const job = await d.fog.job(id);
        for (let i = 0; i < 100 && Number((await job.getJobState()).phase) === JobPhase.Verifying; i++)
            await new Promise((r) => setTimeout(r, 100));
        const r = await fog(['job', 'status', id.toString(), ...common(requesterHome)]);
        expect(r.code).toBe(0);
        expect(r.stdout[0]).toBe(`job ${id}: rejected: the requester holds no valid Contributor Pass (refunded)`);
        const json = await fog(['job', 'status', id.toString(), ...common(requesterHome), '--json']);
        expect(JSON.parse(json.stdout.join('\n'))).toMatchObject({
            id: id.toString(),
            phase: JobPhase.Rejected,
            outcome: 'rejected',
            reason: 'no-pass',
        });
    });

    it('refuses --out into a missing directory before anything is paid', async () => {
        const fogBefore = await d.fog.balanceOf(requester.address);
        const id = await nextJobId();
        const out = join(dir, 'no', 'such', 'dir', 'result.bin');
        const r = await fog(submitArgs(requesterHome, ['--out', out]));
        expect(r.stderr).toEqual([
            `fog: cannot write --out ${out}: the directory ${join(dir, 'no', 'such', 'dir')} does not exist; nothing was posted`,
        ]);
        expect(r.code).toBe(1);
        const isDir = join(dir, 'a-directory');
        mkdirSync(isDir);
        const r2 = await fog(submitArgs(requesterHome, ['--out', isDir]));
        expect(r2.stderr).toEqual([`fog: cannot write --out ${isDir}: it is a directory; nothing was posted`]);
        expect(r2.code).toBe(1);
        expect(await nextJobId()).toBe(id);
        expect(await d.fog.balanceOf(requester.address)).toBe(fogBefore);
    });

    it('--estimate runs the program here as a worker would: the fuel it used, its result hash, and the least limit and a price to post with; nothing is posted', async () => {
        const id = await nextJobId();
        const fogBefore = await d.fog.balanceOf(requester.address);
        const r = await fog(['job', 'submit', ...common(requesterHome), '--example', 'matmul', '--estimate', '--json'], 60_000);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: [] });
        const e = JSON.parse(r.stdout.join('\n')) as {
            verdict: string;
            result: string;
            fuel: string;
            suggested: { mfuel: number; price: string };
        };
        // what a metered run of the same program and input gives here, in this process
        const matmul = exampleNamed('matmul');
        const here = await runHere(
            {
                program: readFileSync(matmul.program),
                input: await matmul.defaultInput(),
                fuel: fuelForJob({ maxMfuel: MAX_JOB_MFUEL }),
                maxMemoryMb: 256,
            },
            64 << 20,
        );
        if (here.status !== 'ok') throw new Error(here.message);
        // the output cell's hash (client/results.ts), not the output's sha256
        expect(e).toMatchObject({ verdict: 'ok', result: resultHashOf(here.output), fuel: here.fuel.toString() });
        expect(e.result).not.toBe(sha256Hex(here.output));
        const mfuel = Number((here.fuel + 999_999n) / 1_000_000n);
        expect(e.suggested.mfuel).toBe(mfuel);
        // 0.001 FOG per Mfuel for each of 3 seats, or the hub's minimum job price (1 FOG) if more
        const byFuel = 1_000_000n * BigInt(mfuel) * 3n;
        expect(BigInt(e.suggested.price)).toBe(byFuel > FOG ? byFuel : FOG);
        expect(await nextJobId()).toBe(id);
        expect(await d.fog.balanceOf(requester.address)).toBe(fogBefore);

        // exactly the suggested limit holds the run; one Mfuel less runs out, and says so
        const at = (limit: number) =>
            fog(['job', 'submit', ...common(requesterHome), '--example', 'matmul', '--estimate', '--mfuel', String(limit)], 60_000);
        const enough = await at(mfuel);
        expect(enough.code).toBe(0);
        expect(enough.stdout[0]).toBe(`ok: ${here.output.length} bytes out, result ${resultHashOf(here.output)}`);
        expect(enough.stdout[2]).toMatch(
            new RegExp(
                `^post with: --mfuel ${mfuel} --price [0-9.]+ +\\(0\\.001 FOG per Mfuel for each of 3 seats, the hub’s minimum is 1 FOG\\)$`,
            ),
        );
        const short = await at(mfuel - 1);
        expect(short.code).toBe(1);
        expect(short.stdout[0]).toBe(`the program fails (fuel): every worker would commit that failure, result ${failureHash('fuel')}`);
        expect(short.stdout[2]).toBe(
            `it ran out of fuel: post with a larger --mfuel than ${mfuel - 1}, or leave --mfuel out to find what it needs`,
        );
    });

    it('answers an id the hub never gave, or that is not an id, with one line naming what is wrong', async () => {
        if ((await nextJobId()) === 0n) await post(d, requester, { k: 1n, quorum: 1n }); // run alone: give the hub one job
        const next = await nextJobId();
        const cases: [string[], string][] = [
            [['job', 'status', '99999999'], `fog: no job 99999999 on this network: the hub has posted jobs 0 to ${next - 1n}`],
            [['job', 'show', next.toString()], `fog: no job ${next} on this network: the hub has posted jobs 0 to ${next - 1n}`],
            [['job', 'result', '99999999'], `fog: no job 99999999 on this network: the hub has posted jobs 0 to ${next - 1n}`],
            [
                ['job', 'status', (MAX_UINT64 + 1n).toString()],
                `fog: job id ${MAX_UINT64 + 1n} is out of range: job ids are 0 to ${MAX_UINT64}`,
            ],
            [['job', 'result', '1'.repeat(30)], `fog: job id ${'1'.repeat(30)} is out of range: job ids are 0 to ${MAX_UINT64}`],
            [['job', 'status', '-1'], 'fog: not a job id: "-1" (a job id is a whole number from 0)'],
            [['job', 'status', 'seven'], 'fog: not a job id: "seven" (a job id is a whole number from 0)'],
            [['job', 'status', '1.5'], 'fog: not a job id: "1.5" (a job id is a whole number from 0)'],
        ];
        for (const [args, line] of cases) {
            const r = await fog([...args, ...common(requesterHome)]);
            expect({ args, stderr: r.stderr, code: r.code }).toEqual({ args, stderr: [line], code: 1 });
        }
    });
});
