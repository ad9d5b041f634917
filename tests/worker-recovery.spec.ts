/**
 * The worker daemon against faults in the middle of a job, in this process over the HTTP devnet:
 * a wallet transaction whose action phase skipped the commit (the sender must not call that a
 * success, and the daemon commits again), a kill between journaling a claim and sending it (a
 * restarted daemon claims again), and a journal that says "committed" for a commit the chain
 * never saw (the daemon re-reads the slot and commits before it reveals), and a run that ends
 * while a tick reads the chain (the daemon acts on the journal as it is then, not as the tick
 * first read it, and never runs the job a second time with a new salt). In each the honest
 * worker wins the job and is never slashed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from '../client/paths';
import { startStorageNode } from '../oracle/storage/server';
import { Address, toNano } from '@ton/core';
import { TonClient } from '@ton/ton';
import axios, { AxiosAdapter, InternalAxiosRequestConfig } from 'axios';
import { Devnet, FOG } from './helpers/devnet';
import { workerWorld } from './helpers/worker-world';
import { staker } from './helpers/flow';
import { Fog, jobSpec } from '../client/actions';
import { Outgoing, SendError, WalletSender } from '../client/sender';
import { failureHash, JobPhase, MAX_OUTPUT_BYTES, resultHashOf } from '../client/results';
import { StageClaimed } from '../wrappers/Hub';
import { sha256Hex, StorageClient, uint256ToHash } from '../client/storage';
import { ComputePool } from '../client/compute/pool';
import { Journal, Stage } from '../worker/journal';
import { DAEMON_DEFAULTS, DaemonOptions, WorkerDaemon } from '../worker/daemon';

/**
 * A TonClient whose `sendBoc` runs `beforeSend` first, when armed: the test's way to change the
 * chain between the moment the sender read its wallet and the moment its message lands.
 */
function faultyClient(endpoint: string) {
    const plain = axios.getAdapter(axios.defaults.adapter);
    const hooks = {
        beforeSend: undefined as undefined | (() => Promise<void>),
        /** Runs before the next get-method call on `address`, when armed. */
        beforeRead: undefined as undefined | { address: string; hook: () => Promise<void> },
    };
    const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
        const body =
            typeof config.data === 'string' ? (JSON.parse(config.data) as { method?: string; params?: { address?: string } }) : undefined;
        if (body?.method === 'sendBoc' && hooks.beforeSend) {
            const hook = hooks.beforeSend;
            hooks.beforeSend = undefined;
            await hook();
        }
        const read = hooks.beforeRead;
        if (
            body?.method === 'runGetMethod' &&
            read &&
            body.params?.address &&
            Address.parse(body.params.address).toString() === read.address
        ) {
            hooks.beforeRead = undefined;
            await read.hook();
        }
        return plain(config);
    };
    return { client: new TonClient({ endpoint, httpAdapter: adapter }), hooks };
}

describe('worker daemon under faults', () => {
    let d: Devnet;
    let dir: string;
    let store: StorageClient;
    let pool: ComputePool;
    let requester: WalletSender;
    let program: Buffer;
    const events: { event: string; error?: string }[] = [];

    workerWorld('worker-recovery', (w) => ({ d, dir, store, pool, requester, program } = w));

    /** A staked worker whose wallet speaks through a faulty client, with a journal of its own. */
    async function worker(name: string, computePool: ComputePool = pool, Sender: typeof WalletSender = WalletSender) {
        const staked = await staker(d);
        const { client, hooks } = faultyClient(d.endpoint);
        const fog = new Fog(client, d.protocol);
        const sender = new Sender(client, staked.identity, { pollMs: 20, backoffMs: 20 }, d.endpoint);
        const journalPath = join(dir, `journal-${name}`);
        let journal = Journal.open(journalPath);
        const daemon = (options: Partial<DaemonOptions> = {}) =>
            new WorkerDaemon(fog, sender, computePool, journal, store, {
                ...DAEMON_DEFAULTS,
                ...options,
                memoryMb: 1024,
                allowPrivateUris: true,
                safetySeconds: 0,
                log: (e) => events.push(e as { event: string }),
            });
        return {
            address: sender.address,
            sender,
            hooks,
            daemon,
            get journal() {
                return journal;
            },
            /** Closes the journal and opens it again, as a restarted process does. */
            async reopen() {
                await journal.close();
                journal = Journal.open(journalPath);
            },
            close: () => journal.close(),
        };
    }

    /**
     * Posts a k = 1 job of the upper-case program (or `program`) over a fresh input (5 FOG and
     * 10,000 Mfuel unless given), its blobs on the world's storage node (or `at`).
     */
    async function post(
        input: string,
        terms: { price?: bigint; maxMfuel?: number; initialRoot?: bigint; memoryMb?: number; program?: Buffer; at?: StorageClient } = {},
    ): Promise<bigint> {
        const id = (await d.fog.hub.getHubState()).nextJobId;
        const at = terms.at ?? store;
        await at.put(Buffer.from(input));
        await at.put(terms.program ?? program);
        const spec = jobSpec({
            program: terms.program ?? program,
            input: Buffer.from(input),
            urlOf: (h) => at.urlOf(h),
            k: 1,
            quorum: 1,
            maxMfuel: terms.maxMfuel,
            maxMemoryMb: terms.memoryMb,
        });
        if (terms.initialRoot !== undefined) spec.initialRoot = terms.initialRoot;
        await requester.send([await d.fog.post(requester.address, terms.price ?? 5n * FOG, spec)], true);
        return id;
    }

    /** Ticks until the journal shows `stage` for job `id` (computations run between ticks). */
    async function tickUntil(daemon: WorkerDaemon, journal: () => Journal, id: bigint, stage: Stage, ticks = 60): Promise<void> {
        for (let i = 0; i < ticks; i++) {
            // a computation ends between ticks: look before each one
            if (journal().get(id)?.stage === stage) return;
            await daemon.tick();
            if (journal().get(id)?.stage === stage) return;
            await new Promise((r) => setTimeout(r, 100));
        }
        // the journal's note and the job's events say why
        const seen = events.filter((e) => (e as { job?: string }).job === id.toString()).slice(-12);
        throw new Error(
            `job ${id} never reached ${stage}; it is ${JSON.stringify(journal().get(id))}; its events: ${JSON.stringify(seen)}`,
        );
    }

    /** Journals job `id` as `consider` does just before it sends the claim, and nothing after. */
    async function journalUnsentClaim(journal: Journal, id: bigint): Promise<void> {
        const job = await d.fog.job(id);
        const state = await job.getJobState();
        journal.put({
            id: id.toString(),
            address: job.address.toString(),
            stage: 'claiming',
            claimUntil: Number(state.claimUntil),
            commitUntil: Number(state.commitUntil),
            revealUntil: Number(state.revealUntil),
            updatedAt: Date.now(),
        });
        journal.nextJobId = id + 1n;
    }

    async function slashes(owner: Address): Promise<bigint> {
        return (await (await d.fog.providerOf(owner)).getProviderState()).slashCount;
    }

    async function expectWon(id: bigint, owner: Address, journal: Journal) {
        const state = await (await d.fog.job(id)).getJobState();
        expect(Number(state.phase)).toBe(JobPhase.Done);
        expect(journal.get(id)).toMatchObject({ stage: 'settled', note: 'won' });
        expect(await slashes(owner)).toBe(0n);
    }

    it("abandons a job its own wall-clock limit stopped: no commit, a journal note and a log line, never a 'timeout' result", async () => {
        const stopped = { status: 'failed', reason: 'timeout', message: "exceeded this worker's wall-clock limit of 1 s" } as const;
        // a pool whose every run this machine's wall clock stops (with a fuel rate that lets the daemon claim)
        const slow = { run: async () => stopped, options: { threads: 1, wallSeconds: 600 } } as unknown as ComputePool;
        const w = await worker('wall-clock', slow);
        const daemon = w.daemon({ fuelRate: 1e10 });
        const id = await post('too slow for this machine');
        await tickUntil(daemon, () => w.journal, id, 'missed');
        expect(w.journal.get(id)).toMatchObject({ stage: 'missed', note: `abandoned: ${stopped.message}; not committed` });
        expect(w.journal.get(id)?.committedHash).toBeUndefined();
        expect(events).toContainEqual({ event: 'compute_abandoned', job: id.toString(), why: stopped.message });
        const slot = [...(await (await d.fog.job(id)).getJobState()).slots.values()][0];
        expect(slot.stage).toBe(StageClaimed);
        await w.close();
    });

    it('refuses to call a send whose action phase skipped the message a success, and the daemon commits again', async () => {
        const w = await worker('skipped');
        const daemon = w.daemon();
        const id = await post('a skipped commit');
        await tickUntil(daemon, () => w.journal, id, 'computed');

        // between the sender's balance check and the landing, the wallet is left with enough for
        // its own compute but not for the commit: the action phase skips the message
        w.hooks.beforeSend = () =>
            d.chain.serial(async () => {
                (await d.chain.blockchain.getContract(w.address)).balance = toNano('0.002');
            });
        const failedBefore = events.filter((e) => e.event === 'step_failed').length;
        await daemon.tick();
        expect(w.journal.get(id)?.stage).toBe('computed');
        const failure = events.filter((e) => e.event === 'step_failed').slice(failedBefore);
        expect(failure).toHaveLength(1);
        expect(failure[0].error).toMatch(/landed but 1 of its 1 messages did not leave .*skipped 1/);
        const slot = [...(await (await d.fog.job(id)).getJobState()).slots.values()][0];
        expect(slot.stage).toBe(StageClaimed);

        await d.faucet(w.address, { ton: toNano('5') });
        await tickUntil(daemon, () => w.journal, id, 'settled');
        await expectWon(id, w.address, w.journal);
        await w.close();
    });

    it('does not run a job again when its run ends while the tick reads the chain: the commit and the reveal carry one salt', async () => {
        const w = await worker('run-ends-mid-tick');
        const spin = readFileSync(join(DIST, 'examples', 'spin.wasm'));
        const id = await post('a run that ends mid-tick', { program: spin, maxMfuel: 200 });
        w.journal.nextJobId = id; // only this job, not the open ones earlier tests left
        const address = (await d.fog.job(id)).address.toString();
        const daemon = w.daemon({ fuelRate: 3e10 });
        await tickUntil(daemon, () => w.journal, id, 'claimed');
        // the next tick read the journal ("claimed") before the run ended, and the chain after
        w.hooks.beforeRead = {
            address,
            hook: async () => {
                for (let i = 0; i < 600 && w.journal.get(id)?.stage === 'claimed'; i++) await new Promise((r) => setTimeout(r, 50));
            },
        };
        const claimed = w.journal.get(id)?.stage;
        await daemon.tick();
        expect(claimed).toBe('claimed');
        expect(w.hooks.beforeRead).toBeUndefined();
        await tickUntil(daemon, () => w.journal, id, 'settled');
        const ran = events.filter((e) => ['computed', 'program_failed'].includes(e.event) && (e as { job?: string }).job === id.toString());
        expect(ran).toHaveLength(1);
        expect(w.journal.get(id)).toMatchObject({ outcome: 'failed:fuel', note: 'won' });
        await w.close();
    });

    it('the sender itself: a skipped message is a SendError naming it, not a success', async () => {
        const w = await worker('sender');
        w.hooks.beforeSend = () =>
            d.chain.serial(async () => {
                (await d.chain.blockchain.getContract(w.address)).balance = toNano('0.002');
            });
        const to = requester.address;
        await expect(w.sender.send([{ to, value: toNano('0.5') }], true)).rejects.toThrow(SendError);
        // with the balance back, the same send goes through and its message arrives
        await d.faucet(w.address, { ton: toNano('5') });
        const sent = await w.sender.send([{ to, value: toNano('0.5') }], true);
        expect(sent.hops).toHaveLength(1);
        await w.close();
    });

    it('claims again after a kill between journaling the claim and sending it', async () => {
        const w = await worker('claim-kill');
        const id = await post('a claim lost to a kill');
        // what the killed process left: the journal entry of a claim that was never sent
        await journalUnsentClaim(w.journal, id);
        await w.reopen();
        const restarted = w.daemon();
        await tickUntil(restarted, () => w.journal, id, 'settled');
        expect(events).toContainEqual(expect.objectContaining({ event: 'claim_resent', job: id.toString() }));
        await expectWon(id, w.address, w.journal);
        await w.close();
    });

    it('gives up a claim its provider refuses instead of paying for it again every tick', async () => {
        const w = await worker('claim-refused');
        const id = await post('a claim the provider cannot back');
        await journalUnsentClaim(w.journal, id);
        // no free stake left to lock: the provider refuses the claim
        const stake = (await (await d.fog.providerOf(w.address)).getProviderState()).free;
        await w.sender.send([await d.fog.unstake(w.address, stake)], true);
        await w.reopen();
        const restarted = w.daemon();
        const sentBefore = events.filter((e) => e.event === 'claim_resent').length;
        await restarted.tick();
        expect(w.journal.get(id)).toMatchObject({
            stage: 'lost',
            note: expect.stringMatching(/^the claim was refused: .*Not enough free stake/),
        });
        await restarted.tick();
        expect(events.filter((e) => e.event === 'claim_resent').length - sentBefore).toBe(1);
        await w.close();
    });

    it('commits before revealing when the journal says committed but the chain has no commit', async () => {
        const w = await worker('lost-commit');
        const daemon = w.daemon();
        const id = await post('a commit the chain never saw');
        await tickUntil(daemon, () => w.journal, id, 'computed');
        // a journal written by a sender that took a skipped commit for a success
        w.journal.update(id, 'committed', { committedHash: w.journal.get(id)!.resultHash });
        await w.reopen();
        const restarted = w.daemon();
        await tickUntil(restarted, () => w.journal, id, 'settled');
        expect(events).toContainEqual(expect.objectContaining({ event: 'commit_resending', job: id.toString() }));
        await expectWon(id, w.address, w.journal);
        await w.close();
    });

    it('commits and reveals the output hash of its output, and uploads the output where a requester finds it by that hash', async () => {
        const w = await worker('output-hash');
        const id = await post('reveal me');
        await tickUntil(w.daemon(), () => w.journal, id, 'settled');
        await expectWon(id, w.address, w.journal);
        const output = Buffer.from('REVEAL ME');
        const result = uint256ToHash((await (await d.fog.job(id)).getJobState()).result);
        expect(result).toBe(resultHashOf(output));
        expect(result).not.toBe(sha256Hex(output));
        expect(w.journal.get(id)).toMatchObject({ resultHash: result, committedHash: result, outcome: 'ok' });
        expect(events).toContainEqual(expect.objectContaining({ event: 'computed', job: id.toString(), result }));
        expect(await store.getResult(result)).toEqual(output);
        await w.close();
    });

    it('commits an output over the 16 MiB cap (from a pool allowing more) as the failure output-limit, and the job settles on it', async () => {
        const over = { status: 'ok', output: Buffer.alloc(MAX_OUTPUT_BYTES + 1, 1), ms: 1, fuel: 1_000n } as const;
        const roomy = { run: async () => over, options: { threads: 1, wallSeconds: 600 } } as unknown as ComputePool;
        const w = await worker('over-cap', roomy);
        const id = await post('more output than a result may have');
        await tickUntil(w.daemon({ fuelRate: 1e10 }), () => w.journal, id, 'settled');
        await expectWon(id, w.address, w.journal);
        expect(uint256ToHash((await (await d.fog.job(id)).getJobState()).result)).toBe(failureHash('output-limit'));
        expect(w.journal.get(id)).toMatchObject({ outcome: 'failed:output-limit', resultHash: failureHash('output-limit') });
        expect(events).toContainEqual(
            expect.objectContaining({ event: 'program_failed', job: id.toString(), reason: 'output-limit', fuel: '1000' }),
        );
        await w.close();
    });

    // last: the jobs it leaves open would be claimed by the workers of later tests
    it('claims only jobs within its fuel limit, that pay its price per Mfuel, that its fuel rate finishes inside the commit window and its wall-clock limit, and whose initial root is their start', async () => {
        const w = await worker('choosy');
        // 0.001 FOG per Mfuel; 1,000,000 fuel/s, so a job of 10 Mfuel may take (at half that rate) 20 s here
        const options = { maxMfuel: 50_000, minPricePerMfuel: FOG / 1000n, fuelRate: 1_000_000 };
        const jobs = {
            tooBig: await post('fuel limit above --max-mfuel', { maxMfuel: 50_001, price: 2n * FOG }),
            tooCheap: await post('pays below its price per Mfuel', { maxMfuel: 2_000, price: (3n * FOG) / 2n }),
            tooLong: await post('longer than the wall-clock limit here', { maxMfuel: 1_000, price: FOG }),
            tooSlow: await post('longer than the commit window here', { maxMfuel: 150, price: FOG }),
            wrongRoot: await post('a spec whose initial root is another run', { maxMfuel: 10, price: FOG, initialRoot: 1n }),
            fits: await post('fits', { maxMfuel: 10, price: FOG }),
        };
        const skipped = (id: bigint) => events.find((e) => e.event === 'job_skipped' && (e as { job?: string }).job === id.toString());
        const daemon = w.daemon(options);
        await tickUntil(daemon, () => w.journal, jobs.fits, 'settled');
        expect(skipped(jobs.tooBig)).toMatchObject({ why: 'its fuel limit is 50001 Mfuel, this worker allows 50000' });
        expect(skipped(jobs.tooCheap)).toMatchObject({ why: 'price 1.5 FOG is below 2 FOG: 0.001 FOG per Mfuel for each of 1 seats' });
        expect(skipped(jobs.tooLong)).toMatchObject({
            why: 'its fuel limit may take 2000 s here, more than the wall-clock limit of 600 s',
        });
        expect(skipped(jobs.tooSlow)).toMatchObject({
            why: expect.stringMatching(
                /^its fuel limit may take 300 s here \(after the jobs in hand\), and the commit window closes in \d+ s$/,
            ),
        });
        expect(skipped(jobs.wrongRoot)).toMatchObject({
            why: expect.stringMatching(/^its initial root is not the state its program and input start from \([0-9a-f]{16}… here\)$/),
        });
        for (const id of [jobs.tooBig, jobs.tooCheap, jobs.tooLong, jobs.tooSlow, jobs.wrongRoot])
            expect(w.journal.get(id)).toBeUndefined();
        await expectWon(jobs.fits, w.address, w.journal);
        // the journal keeps the limit and the fuel the run used
        expect(w.journal.get(jobs.fits)).toMatchObject({ fuelLimit: '10000000', fuel: expect.stringMatching(/^[1-9]\d*$/) });
        expect(events).toContainEqual({ event: 'fuel_rate', fuelPerSecond: 1_000_000, measured: false });
        await w.close();
    });

    it('runs no more jobs at once than its memory bound holds: a claimed job waits for a run to finish', async () => {
        const two = new ComputePool({ threads: 2 });
        try {
            const w = await worker('memory-bound', two);
            const spin = readFileSync(join(DIST, 'examples', 'spin.wasm'));
            // a run that takes a while (spin until out of fuel), then a short one: 256 MiB each, 300 MiB in all
            const long = await post('spin a while', { program: spin, maxMfuel: 1_000, memoryMb: 256 });
            const short = await post('after it', { memoryMb: 256 });
            w.journal.nextJobId = long; // only these jobs, not the open ones earlier tests left
            const daemon = w.daemon({ memoryTotalMb: 300, fuelRate: 3e10 });
            await tickUntil(daemon, () => w.journal, short, 'settled');
            await tickUntil(daemon, () => w.journal, long, 'settled');
            const of = (event: string, id: bigint) =>
                events.findIndex((e) => e.event === event && (e as { job?: string }).job === id.toString());
            expect(events[of('compute_waiting', short)]).toMatchObject({ why: '256 MiB of runs in hand, 256 more would pass 300' });
            // the short job ran only after the long one ended (out of fuel: a verdict like any other)
            expect(of('program_failed', long)).toBeGreaterThan(-1);
            expect(of('computed', short)).toBeGreaterThan(of('program_failed', long));
            expect(w.journal.get(long)).toMatchObject({ memoryMb: 256, outcome: 'failed:fuel' });
            // a job asking for more than the whole bound is not claimed
            const big = await post('more than the bound', { memoryMb: 512 });
            await daemon.tick();
            expect(events.find((e) => e.event === 'job_skipped' && (e as { job?: string }).job === big.toString())).toMatchObject({
                why: 'needs 512 MiB, this worker offers 300',
            });
            await w.close();
        } finally {
            await two.close();
        }
    });

    it('considers first the jobs whose program and input its storage node holds, when it can take only one', async () => {
        const elsewhere = await startStorageNode({ dir: join(dir, 'elsewhere'), port: 0, log: () => undefined });
        try {
            const w = await worker('held-first');
            // each job may take 100 s here (10 Mfuel at half of 200,000 fuel/s): one fits the 180 s to the commit deadline, two do not
            const cold = await post('its input is on another node', { maxMfuel: 10, price: FOG, at: new StorageClient(elsewhere.url) });
            const held = await post('its input is on this node', { maxMfuel: 10, price: FOG });
            w.journal.nextJobId = cold; // only these jobs, not the open ones earlier tests left
            const daemon = w.daemon({ fuelRate: 200_000 });
            await tickUntil(daemon, () => w.journal, held, 'settled');
            expect(w.journal.get(cold)).toBeUndefined();
            expect(events.find((e) => e.event === 'job_skipped' && (e as { job?: string }).job === cold.toString())).toMatchObject({
                why: expect.stringMatching(/^its fuel limit may take 200 s here \(after the jobs in hand\)/),
            });
            await w.close();
        } finally {
            await elsewhere.close();
        }
    });
    it("sends a poll's claims in one wallet transaction, and the commits and reveals due in a poll together", async () => {
        const w = await worker('batched');
        const ids = [await post('batch one'), await post('batch two'), await post('batch three')];
        w.journal.nextJobId = ids[0]; // only these jobs, not the open ones earlier tests left
        const before = (await d.client.getTransactions(w.address, { limit: 100 })).length;
        const daemon = w.daemon({ fuelRate: 3e10 });
        for (const id of ids) await tickUntil(daemon, () => w.journal, id, 'settled');
        for (const id of ids) await expectWon(id, w.address, w.journal);
        // oldest first, the worker's transactions that sent something: the first carried the three
        // claims (to its provider); the commits and reveals went to the jobs, six messages in as
        // many transactions as the polls their computations ended in (one or two of them)
        const provider = (await d.fog.providerOf(w.address)).address.toString();
        const jobs = new Set(await Promise.all(ids.map(async (id) => (await d.fog.job(id)).address.toString())));
        const sent = (await d.client.getTransactions(w.address, { limit: 100 }))
            .slice(0, -before || undefined)
            .reverse()
            .map((t) => [...t.outMessages.values()].map((m) => (m.info.dest as Address).toString()))
            .filter((to) => to.length > 0);
        expect(sent[0]).toEqual([provider, provider, provider]);
        const toJobs = sent.slice(1).filter((to) => to.every((a) => jobs.has(a)));
        expect(toJobs.flat()).toHaveLength(6);
        // unbatched, they would take six transactions
        expect(toJobs.length).toBeLessThanOrEqual(4);
        await w.close();
    });
    it('sends a batch its wallet cannot pay for whole in parts, as far as the wallet pays', async () => {
        // a wallet that can pay for one message at a time, as the sender's own check would find it
        class OneAtATime extends WalletSender {
            override async sendEach(messages: Outgoing[]) {
                if (messages.length > 1)
                    throw new SendError('short of TON for the batch', { address: this.address.toString(), shortBy: '1' });
                return super.sendEach(messages);
            }
        }
        const w = await worker('one-at-a-time', pool, OneAtATime);
        const ids = [await post('part one'), await post('part two'), await post('part three')];
        w.journal.nextJobId = ids[0];
        const daemon = w.daemon({ fuelRate: 3e10 });
        for (const id of ids) await tickUntil(daemon, () => w.journal, id, 'settled');
        for (const id of ids) await expectWon(id, w.address, w.journal);
        expect(events.filter((e) => e.event === 'step_failed' && ids.map(String).includes((e as { job?: string }).job!))).toEqual([]);
        await w.close();
    });
});
