/**
 * The fault suite: a whole network of real processes (devnet, storage node, oracle, three honest
 * workers) while processes are killed with -9 at every journal stage of the worker (after the
 * claim was sent, claimed, computed, committed, revealed) and of the oracle (while it follows a
 * job, right after it sent a finalize), and hostile requests hit the devnet and the storage node.
 * Every process is restarted as a supervisor would. At the end: every job is terminal, no claim,
 * commit or reveal was sent twice or refused, no worker was slashed, and no process died on its own.
 *
 * FOG_FAULT_JOBS sets how many extra undisturbed jobs run beside the killed ones (default 0).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, beginCell, Transaction } from '@ton/core';
import { DIST, Managed } from '../client/processes';
import { LocalNetwork, startLocalNetwork } from '../devnet/local-network';
import { readNetworkFile } from '../client/addresses';
import { connect } from '../client/chain';
import { Fog, jobSpec } from '../client/actions';
import { WalletSender } from '../client/sender';
import { readKeyFile } from '../client/wallet';
import { JobPhase } from '../client/results';
import { StorageClient } from '../client/storage';
import { history } from './helpers/flow';
import { storeCommit, storeJobClaim, storeReveal } from '../wrappers/Hub';

const FOG = 1_000_000_000n;
const opOf = (store: ReturnType<typeof storeCommit>) => beginCell().store(store).endCell().beginParse().preloadUint(32);
const COMMIT = opOf(storeCommit({ $$type: 'Commit', queryId: 0n, commit: 0n }));
const REVEAL = opOf(storeReveal({ $$type: 'Reveal', queryId: 0n, resultHash: 0n, salt: 0n }));
const CLAIM = opOf(storeJobClaim({ $$type: 'JobClaim', jobId: 0n, collateral: 0n, owner: new Address(0, Buffer.alloc(32)) }));
const EXTRA_JOBS = Number(process.env.FOG_FAULT_JOBS ?? 0);

interface Kill {
    process: 'worker 1' | 'worker 2' | 'worker 3' | 'keeper';
    event: string;
    job: string;
    done?: boolean;
}

describe('fault suite', () => {
    let dir: string;
    let net: LocalNetwork;
    let fog: Fog;
    let requester: WalletSender;
    let store: StorageClient;
    const kills: Kill[] = [];
    const restarts: string[] = [];
    /** Processes that exited without being killed by this test. */
    const died: string[] = [];

    const restart = (name: Kill['process']): Managed =>
        name === 'keeper' ? net.startKeeper() : net.startWorker(Number(name.split(' ')[1]) - 1);
    /** Processes this test killed on purpose. */
    const killed = new Set<Managed>();
    const watch = (m: Managed) => {
        void m.exited.then((code) => {
            if (!killed.has(m) && !stopping) died.push(`${m.name} exited with ${code ?? m.proc.signalCode}`);
        });
    };
    let stopping = false;

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'fog-faults-'));
        const byName = new Map<string, Managed>();
        net = await startLocalNetwork({
            data: join(dir, 'local'),
            networkFile: join(dir, 'network.json'),
            workers: 3,
            onProcess: (m) => byName.set(m.name, m),
            onLine: (name, text) => {
                let e: { event?: string; job?: string | number; kind?: string; key?: string };
                try {
                    e = JSON.parse(text) as typeof e;
                } catch {
                    return;
                }
                // the watcher names a job it starts following by its key
                const job = e.job !== undefined ? String(e.job) : e.kind === 'job' ? e.key : undefined;
                for (const k of kills) {
                    if (k.done || k.process !== name || k.event !== e.event || k.job !== job) continue;
                    k.done = true;
                    const victim = byName.get(name)!;
                    killed.add(victim);
                    victim.proc.kill('SIGKILL');
                    // a supervisor restarts it once it is gone
                    void victim.exited.then(() => {
                        restarts.push(`${name} after ${k.event} of job ${k.job}`);
                        watch(restart(k.process));
                    });
                }
            },
        });
        const file = readNetworkFile(join(dir, 'network.json'));
        const client = connect(net.endpoint);
        fog = new Fog(client, { hub: file.hub, token: file.token });
        requester = new WalletSender(
            client,
            await readKeyFile(join(net.requesterHome, 'wallet.key'), 'devnet'),
            { pollMs: 50 },
            net.endpoint,
        );
        store = new StorageClient(net.storageUrl);
        // killed on purpose only through `kills`; anything else exiting is a failure
        net.workers.forEach(watch);
        if (net.keeper) watch(net.keeper);
    }, 300_000);

    afterAll(async () => {
        stopping = true;
        await net?.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    async function post(input: string, overrides: { maxMemoryMb?: number } = {}): Promise<bigint> {
        const program = readFileSync(join(DIST, 'examples', 'upper.wasm'));
        await store.put(program);
        await store.put(Buffer.from(input));
        const spec = jobSpec({ program, input: Buffer.from(input), urlOf: (h) => store.urlOf(h), k: 3, quorum: 2 });
        // a memory limit beyond any worker's (and the ABI's), set past the client's checks: a job nobody takes
        if (overrides.maxMemoryMb !== undefined) spec.maxMemoryMb = BigInt(overrides.maxMemoryMb);
        const id = (await fog.hub.getHubState()).nextJobId;
        await requester.send([await fog.post(requester.address, 5n * FOG, spec)], true);
        return id;
    }

    /** Hostile requests: each must get a 4xx, and the server must go on answering. */
    async function hostile(): Promise<void> {
        const rpc = `${net.devnetUrl}/jsonRPC`;
        const devnet = [
            '{"method":',
            JSON.stringify({ method: 'constructor', params: {} }),
            JSON.stringify({ method: '__proto__', params: {} }),
            JSON.stringify({
                method: 'getTransactions',
                params: { address: fog.addresses.hub.toString(), limit: 10, lt: 'abc', hash: 'x' },
            }),
            JSON.stringify({ method: 'sendBoc', params: { boc: 'not base64 at all' } }),
            JSON.stringify({ method: 'runGetMethod', params: { address: 'nobody', method: 'get_hub_state', stack: [] } }),
            'null',
        ];
        const answers: [string, number][] = [];
        for (const body of devnet)
            answers.push([body, (await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status]);
        const storage: [string, () => Promise<Response>][] = [
            ['GET a malformed hash', () => fetch(`${net.storageUrl}/blobs/not-a-hash`)],
            [
                'PUT bytes under another hash',
                () => fetch(`${net.storageUrl}/blobs/${'0'.repeat(64)}`, { method: 'PUT', body: 'not the blob of this hash' }),
            ],
            ['GET outside /blobs', () => fetch(`${net.storageUrl}/../../etc/passwd`)],
        ];
        for (const [what, req] of storage) answers.push([what, (await req()).status]);
        // a request the server cannot serve is the client's mistake: never a 2xx, never a 5xx (which tells clients to retry)
        expect(answers.filter(([, status]) => status < 400 || status >= 500)).toEqual([]);
    }

    it('ends every job, sends no step twice, slashes nobody and loses no process', async () => {
        const jobs: bigint[] = [];
        // one kill per journal stage of the worker, each on its own job and worker
        const stages: [Kill['process'], string][] = [
            ['worker 1', 'claim_sent'],
            ['worker 2', 'claimed'],
            ['worker 3', 'computed'],
            ['worker 1', 'committed'],
            ['worker 2', 'revealed'],
        ];
        for (const [i, [process, event]] of stages.entries()) {
            const id = (await fog.hub.getHubState()).nextJobId;
            kills.push({ process, event, job: id.toString() });
            jobs.push(await post(`job ${i}: ${process} is killed after ${event}`));
        }
        // a job no worker can take (it asks for more memory than any offers): it expires, and the
        // oracle is killed while following it and again right after it sent its finalize
        const orphan = (await fog.hub.getHubState()).nextJobId;
        kills.push({ process: 'keeper', event: 'following', job: orphan.toString() });
        jobs.push(await post('nobody takes this one', { maxMemoryMb: 60_000 }));
        for (let i = 0; i < EXTRA_JOBS; i++) jobs.push(await post(`undisturbed job ${i}`));

        await hostile();

        const phase = async (id: bigint) => Number((await (await fog.job(id)).getJobState()).phase);
        const settled = async () => (await Promise.all(jobs.map(phase))).every((p) => p !== JobPhase.Open && p !== JobPhase.Verifying);
        const deadline = Date.now() + 240_000;
        let advanced = false;
        while (!(await settled())) {
            if (Date.now() > deadline)
                throw new Error(`jobs not terminal: ${(await Promise.all(jobs.map(phase))).join(', ')}; restarts: ${restarts.join('; ')}`);
            // once the killed workers' jobs are done, move past the orphan's claim window for the keeper
            if (!advanced && (await Promise.all(jobs.slice(0, stages.length).map(phase))).every((p) => p === JobPhase.Done)) {
                kills.push({ process: 'keeper', event: 'finalize_sent', job: orphan.toString() });
                await net.advance(3_600);
                advanced = true;
            }
            await new Promise((r) => setTimeout(r, 1_000));
        }
        await hostile();

        // every killed process was restarted, and every kill happened
        expect(kills.filter((k) => !k.done)).toEqual([]);
        expect(restarts).toHaveLength(kills.length);

        for (const id of jobs.slice(0, stages.length)) expect(await phase(id)).toBe(JobPhase.Done);
        for (const id of jobs.slice(stages.length + 1)) expect(await phase(id)).toBe(JobPhase.Done);
        expect(await phase(orphan)).toBe(JobPhase.Expired);

        // on chain: per job, each worker's commit and reveal arrived once, and nothing sent to a job was refused
        const client = connect(net.endpoint);
        for (const id of jobs) {
            const txs: Transaction[] = await history(client, (await fog.job(id)).address);
            const failedTxs = txs.filter(
                (t) => t.description.type === 'generic' && t.description.computePhase.type === 'vm' && !t.description.computePhase.success,
            );
            // a finalize included: the oracle restarted right after its finalize must not send another
            const refused = failedTxs.map((t) => {
                const d = t.description;
                const exit = d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.exitCode : -1;
                const from = t.inMessage?.info.type === 'internal' ? t.inMessage.info.src.toString() : 'external';
                return `job ${id}: op 0x${(t.inMessage?.body.beginParse().preloadUint(32) ?? 0).toString(16)} from ${from} refused with exit code ${exit}`;
            });
            expect(refused).toEqual([]);
            for (const op of [CLAIM, COMMIT, REVEAL]) {
                const senders = txs
                    .filter((t) => t.inMessage?.info.type === 'internal' && t.inMessage.body.beginParse().preloadUint(32) === op)
                    .map((t) => (t.inMessage!.info.src as Address).toRawString());
                expect(new Set(senders).size).toBe(senders.length);
            }
        }
        for (const home of net.homes) expect((await net.status(home)).provider).toMatchObject({ slashCount: '0' });

        // nothing died on its own, and every server still answers
        expect(died).toEqual([]);
        for (const p of [...net.workers, net.keeper!]) expect([p.name, p.proc.exitCode, p.proc.signalCode]).toEqual([p.name, null, null]);
        expect((await fetch(`${net.devnetUrl}/devnet/info`)).ok).toBe(true);
        expect(await store.has('0'.repeat(64))).toBe(false);
    });
});
