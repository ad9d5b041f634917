/**
 * Sandbox fixture: the whole protocol (token, pass collection, hub) deployed in an emulator, with helpers to run a job through it and measure its gas.
 * The contract tests, the gas table (`tests/gas.spec.ts`) and `npm run bench` all use it, so it
 * lives in `client/` where every role may import it; nothing that runs against a real chain does.
 */
import { Address, beginCell, Builder, Cell, Dictionary, toNano } from '@ton/core';
import { Blockchain, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import { FogToken } from '../../wrappers/FogToken';
import { FogWallet } from '../../wrappers/FogWallet';
import { PassCollection } from '../../wrappers/PassCollection';
import { PassItem } from '../../wrappers/PassItem';
import { Hub, JobSpec, Params, PhaseDone, storeStakePayload, storePostJobPayload } from '../../wrappers/Hub';
import { Provider } from '../../wrappers/Provider';
import { Job } from '../../wrappers/Job';
import { Epoch } from '../../wrappers/Epoch';
import { Shards } from '../../wrappers/Shards';
import {
    defaultParams,
    fogTokenInit,
    hubInit,
    HubOptions,
    jobCodeCell,
    librarianInit,
    passCollectionInit,
    postShardsPayload,
    Shard,
    shardList,
} from '../../wrappers/protocol';
import { commitOf, hashOf } from '../../wrappers/commit';
import { NOW } from './fixture';
import { cellShape, operationFees, operationGas } from '../../wrappers/gas';
import { mainnetConfig } from './config';

export const FOG = 1_000_000_000n;

/** TON attached to user actions in tests where the exact cost is not what is being tested. */
export const GAS = toNano('1');

export interface Protocol {
    blockchain: Blockchain;
    admin: SandboxContract<TreasuryContract>;
    token: SandboxContract<FogToken>;
    collection: SandboxContract<PassCollection>;
    hub: SandboxContract<Hub>;
    params: Params;
    walletOf(owner: Address): Promise<SandboxContract<FogWallet>>;
    balanceOf(owner: Address): Promise<bigint>;
    providerOf(owner: Address): Promise<SandboxContract<Provider>>;
    passOf(owner: Address): Promise<SandboxContract<PassItem>>;
    job(id: bigint): Promise<SandboxContract<Job>>;
    epoch(n: bigint): Promise<SandboxContract<Epoch>>;
    /** The Shards of the sharded post whose first job is `first`. */
    shards(first: bigint): Promise<SandboxContract<Shards>>;
    /** Genesis FOG for `to` (genesis stays open in tests). */
    fund(to: Address, amount: bigint): Promise<void>;
    /** Transfers FOG to the hub with `payload` as the forward payload (in a reference). */
    toHub(from: SandboxContract<TreasuryContract>, amount: bigint, payload: Cell, forwardTon?: bigint): Promise<SendMessageResult>;
    stake(from: SandboxContract<TreasuryContract>, amount: bigint, cores?: bigint, memoryMb?: bigint): Promise<SendMessageResult>;
    post(from: SandboxContract<TreasuryContract>, price: bigint, spec?: Partial<JobSpec>): Promise<SendMessageResult>;
    /** A sharded post of `shards` (by default `count` made-up inputs) at `price` each, with the hub's post_shards_cost unless `forwardTon` is given. */
    postShards(
        from: SandboxContract<TreasuryContract>,
        price: bigint,
        count: number,
        spec?: Partial<JobSpec>,
        options?: { shards?: Shard[]; forwardTon?: bigint; amount?: bigint },
    ): Promise<SendMessageResult>;
    /** Claims a slot of job `jobId`, locking `collateral` (the parameters' collateral unless given). */
    claim(worker: SandboxContract<TreasuryContract>, jobId: bigint, value?: bigint, collateral?: bigint): Promise<SendMessageResult>;
    commit(worker: SandboxContract<TreasuryContract>, jobId: bigint, result: bigint, salt?: bigint): Promise<SendMessageResult>;
    reveal(worker: SandboxContract<TreasuryContract>, jobId: bigint, result: bigint, salt?: bigint): Promise<SendMessageResult>;
    finalize(by: SandboxContract<TreasuryContract>, jobId: bigint): Promise<SendMessageResult>;
}

export function specOf(overrides: Partial<JobSpec> = {}): JobSpec {
    return {
        $$type: 'JobSpec',
        programHash: hashOf('program'),
        inputHash: hashOf('input'),
        initialRoot: hashOf('initial root'),
        k: 3n,
        quorum: 2n,
        maxMfuel: 10_000n,
        maxMemoryMb: 256n,
        claimWindow: 0n,
        commitWindow: 0n,
        revealWindow: 0n,
        uris: beginCell()
            .storeRef(beginCell().storeStringTail('fog://program'))
            .storeRef(beginCell().storeStringTail('fog://input'))
            .endCell(),
        ...overrides,
    };
}

/** `count` made-up shards: input i's hash, root and URI. */
export function shardsOf(count: number): Shard[] {
    return Array.from({ length: count }, (_, i) => ({
        inputHash: hashOf(`input ${i}`),
        initialRoot: hashOf(`initial root ${i}`),
        inputUri: beginCell().storeStringTail(`fog://input-${i}`).endCell(),
    }));
}

/** A spec's `uris` cell taking exactly `cells` cells: the root and two snake strings of full cells. */
export function urisOf(cells: number): Cell {
    const program = Math.floor((cells - 1) / 2);
    const snake = (n: number, ch: string) =>
        beginCell()
            .storeStringTail(ch.repeat(127 * n))
            .endCell();
    return beginCell()
        .storeRef(snake(program, 'p'))
        .storeRef(snake(cells - 1 - program, 'i'))
        .endCell();
}

export function payload(store: (b: Builder) => void): Cell {
    const b = beginCell();
    store(b);
    return b.endCell();
}

/**
 * Publishes Job's code as a public masterchain library from `from`, through its Librarian
 * (contracts/librarian.tact), on an emulator created with `autoDeployLibs` (which keeps the
 * masterchain's public libraries as the network does). Throws unless the library is there after.
 */
export async function publishJobLibrary(blockchain: Blockchain, from: SandboxContract<TreasuryContract>): Promise<SendMessageResult> {
    const code = await jobCodeCell();
    const librarian = blockchain.openContract(await librarianInit(code));
    const r = await librarian.send(from.getSender(), { value: toNano('50') }, null);
    const libs = blockchain.libs?.beginParse().loadDictDirect(Dictionary.Keys.Buffer(32), Dictionary.Values.Cell());
    if (!allSucceeded(r) || !libs?.get(code.hash())?.equals(code)) throw new Error("Job's code could not be published as a library");
    return r;
}

/**
 * The whole protocol on the emulator: FOG, the pass collection and the hub holding both
 * authorities; jobs deployed with a library cell naming Job's code, published first, unless
 * `options.jobLibrary` is false.
 */
export async function protocolFixture(paramOverrides: Partial<Params> = {}, options: HubOptions = { jobLibrary: true }): Promise<Protocol> {
    const blockchain = await Blockchain.create({ config: mainnetConfig(), autoDeployLibs: true });
    blockchain.now = NOW;
    const admin = await blockchain.treasury('admin');
    if (options.jobLibrary) await publishJobLibrary(blockchain, admin);
    const token = blockchain.openContract(await fogTokenInit(admin.address));
    await token.send(admin.getSender(), { value: toNano('0.05') }, null);
    const collection = blockchain.openContract(await passCollectionInit(admin.address));
    await collection.send(admin.getSender(), { value: toNano('0.05') }, null);
    const params = { ...defaultParams(NOW), ...paramOverrides };
    const hub = blockchain.openContract(await hubInit(admin.address, token.address, collection.address, params, options));
    await hub.send(admin.getSender(), { value: toNano('0.1') }, null);
    await token.send(
        admin.getSender(),
        { value: toNano('0.05') },
        { $$type: 'SetMintAuthority', queryId: 0n, authority: hub.address, lock: true },
    );
    await collection.send(
        admin.getSender(),
        { value: toNano('0.05') },
        { $$type: 'SetPassAuthority', queryId: 0n, authority: hub.address, lock: true },
    );

    // Child addresses come from the contracts' own get-methods, once per key: they depend only on
    // the code and the key, and a get-method costs milliseconds (the property tests ask thousands).
    const cached = <K>(lookup: (key: K) => Promise<Address>) => {
        const seen = new Map<string, Address>();
        return async (key: K) => {
            const k = String(key);
            if (!seen.has(k)) seen.set(k, await lookup(key));
            return seen.get(k)!;
        };
    };
    const walletAddress = cached((owner: Address) => token.getGetWalletAddress(owner));
    const providerAddress = cached((owner: Address) => hub.getProviderAddress(owner));
    const passAddress = cached((owner: Address) => collection.getPassAddress(owner));
    const jobAddress = cached((id: bigint) => hub.getJobAddress(id));
    const epochAddress = cached((n: bigint) => hub.getEpochAddress(n));
    const walletOf = async (owner: Address) => blockchain.openContract(FogWallet.fromAddress(await walletAddress(owner)));
    const balanceOf = async (owner: Address) => {
        const w = await walletOf(owner);
        const state = await blockchain.getContract(w.address);
        return state.accountState?.type === 'active' ? (await w.getGetWalletData()).balance : 0n;
    };
    const providerOf = async (owner: Address) => blockchain.openContract(Provider.fromAddress(await providerAddress(owner)));
    const passOf = async (owner: Address) => blockchain.openContract(PassItem.fromAddress(await passAddress(owner)));
    const job = async (id: bigint) => blockchain.openContract(Job.fromAddress(await jobAddress(id)));
    const epoch = async (n: bigint) => blockchain.openContract(Epoch.fromAddress(await epochAddress(n)));
    const shards = async (first: bigint) => blockchain.openContract(Shards.fromAddress(await hub.getShardsAddress(first)));
    const fund = async (to: Address, amount: bigint) => {
        const recipients = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
        recipients.set(to, amount);
        await token.send(admin.getSender(), { value: toNano('0.2') }, { $$type: 'GenesisMint', queryId: 0n, recipients, close: false });
    };
    const toHub = async (from: SandboxContract<TreasuryContract>, amount: bigint, body: Cell, forwardTon = toNano('1')) => {
        const wallet = await walletOf(from.address);
        return wallet.send(
            from.getSender(),
            { value: forwardTon + toNano('0.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 0n,
                amount,
                destination: hub.address,
                responseDestination: from.address,
                customPayload: null,
                forwardTonAmount: forwardTon,
                forwardPayload: beginCell().storeBit(1).storeRef(body).endCell().beginParse(),
            },
        );
    };
    const stake = (from: SandboxContract<TreasuryContract>, amount: bigint, cores = 8n, memoryMb = 16384n) =>
        toHub(from, amount, payload(storeStakePayload({ $$type: 'StakePayload', cores, memoryMb })));
    const post = (from: SandboxContract<TreasuryContract>, price: bigint, spec: Partial<JobSpec> = {}) =>
        toHub(from, price, payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf(spec) })));
    const postShards = async (
        from: SandboxContract<TreasuryContract>,
        price: bigint,
        count: number,
        spec: Partial<JobSpec> = {},
        options: { shards?: Shard[]; forwardTon?: bigint; amount?: bigint } = {},
    ) => {
        const full = specOf(spec);
        const shards = options.shards ?? shardsOf(count);
        const size = cellShape(shardList(shards));
        const forwardTon =
            options.forwardTon ??
            (await hub.getPostShardsCost(full.k, BigInt(shards.length), BigInt(size.cells), BigInt(size.bits))) + toNano('0.05');
        return toHub(from, options.amount ?? price * BigInt(shards.length), postShardsPayload(full, shards), forwardTon);
    };
    const claim = async (worker: SandboxContract<TreasuryContract>, jobId: bigint, value = GAS, collateral = params.collateral) =>
        (await providerOf(worker.address)).send(worker.getSender(), { value }, { $$type: 'ClaimJob', queryId: 0n, jobId, collateral });
    const commit = async (worker: SandboxContract<TreasuryContract>, jobId: bigint, result: bigint, salt = 7n) =>
        (await job(jobId)).send(
            worker.getSender(),
            { value: toNano('0.05') },
            { $$type: 'Commit', queryId: 0n, commit: commitOf(result, worker.address, salt) },
        );
    const reveal = async (worker: SandboxContract<TreasuryContract>, jobId: bigint, result: bigint, salt = 7n) =>
        (await job(jobId)).send(worker.getSender(), { value: toNano('0.05') }, { $$type: 'Reveal', queryId: 0n, resultHash: result, salt });
    const finalize = async (by: SandboxContract<TreasuryContract>, jobId: bigint) =>
        (await job(jobId)).send(by.getSender(), { value: toNano('0.05') }, { $$type: 'Finalize', queryId: 0n });

    return {
        blockchain,
        admin,
        token,
        collection,
        hub,
        params,
        walletOf,
        balanceOf,
        providerOf,
        passOf,
        job,
        epoch,
        shards,
        fund,
        toHub,
        stake,
        post,
        postShards,
        claim,
        commit,
        reveal,
        finalize,
    };
}

/** No transaction in the result failed (compute or action phase). */
export function allSucceeded(r: SendMessageResult): boolean {
    return r.transactions.every((t) => {
        const d = t.description;
        return d.type !== 'generic' || (!d.aborted && (d.computePhase.type !== 'vm' || d.computePhase.success));
    });
}

/** The gas of an operation: the operation's gas, payer excluded (wrappers/gas.ts). */
type Measure = (r: SendMessageResult, payer: Address) => bigint;
const operationMeasure: Measure = (r, payer) => operationGas(r.transactions, payer);

/**
 * Runs job `id` from post to settlement with `workers` all revealing the same result, and returns
 * the gas of every step as `measure` counts it (by default: the operation's gas, payer excluded).
 */
export async function runJobGas(
    p: Protocol,
    requester: SandboxContract<TreasuryContract>,
    workers: SandboxContract<TreasuryContract>[],
    id: bigint,
    measure: Measure = operationMeasure,
): Promise<bigint> {
    const k = BigInt(workers.length);
    const gas = measure(await p.post(requester, 10n * FOG, { k, quorum: k / 2n + 1n }), requester.address);
    return gas + (await workJobGas(p, workers, id, measure));
}

/** Claims, commits and reveals job `id` with `workers`, all revealing the same result; returns the gas as `measure` counts it. */
async function workJobGas(p: Protocol, workers: SandboxContract<TreasuryContract>[], id: bigint, measure: Measure): Promise<bigint> {
    let gas = 0n;
    const result = hashOf(`result of job ${id}`);
    for (const w of workers) gas += measure(await p.claim(w, id), w.address);
    for (const w of workers) gas += measure(await p.commit(w, id, result), w.address);
    for (const w of workers) gas += measure(await p.reveal(w, id, result), w.address);
    return gas;
}

/** An operation's compute gas and its TON (wrappers/gas.ts: operationGas, operationFees). */
export interface Cost {
    gas: bigint;
    fees: bigint;
}

/** A measure that also adds up gas and TON into `cost`, and requires every transaction to have succeeded. */
function costMeter(): { cost: Cost; measure: Measure } {
    const cost: Cost = { gas: 0n, fees: 0n };
    const measure: Measure = (r, payer) => {
        if (!allSucceeded(r)) throw new Error('an operation measured for its cost failed in one of its transactions');
        const gas = operationGas(r.transactions, payer);
        cost.gas += gas;
        cost.fees += operationFees(r.transactions, payer);
        return gas;
    };
    return { cost, measure };
}

/** Throws unless job `id` settled on a result. */
async function requireDone(p: Protocol, id: bigint): Promise<void> {
    const phase = (await (await p.job(id)).getJobState()).phase;
    if (phase !== PhaseDone) throw new Error(`job ${id} ended in phase ${phase}, not done`);
}

/** A job's whole on-chain cost, from its post to its settlement, with `workers` agreeing (k = their number). */
export async function jobCost(
    p: Protocol,
    requester: SandboxContract<TreasuryContract>,
    workers: SandboxContract<TreasuryContract>[],
    id: bigint,
): Promise<Cost> {
    const meter = costMeter();
    await runJobGas(p, requester, workers, id, meter.measure);
    await requireDone(p, id);
    return meter.cost;
}

/**
 * A sharded post's whole on-chain cost, from its post to its last shard's settlement, `count`
 * shards from job `first` on, each worked by `workers` (k = their number), one shard after another.
 */
export async function shardsCost(
    p: Protocol,
    requester: SandboxContract<TreasuryContract>,
    workers: SandboxContract<TreasuryContract>[],
    count: number,
    first: bigint,
): Promise<Cost> {
    const k = BigInt(workers.length);
    const meter = costMeter();
    meter.measure(await p.postShards(requester, 10n * FOG, count, { k, quorum: k / 2n + 1n }), requester.address);
    for (let id = first; id < first + BigInt(count); id++) {
        await workJobGas(p, workers, id, meter.measure);
        await requireDone(p, id);
    }
    return meter.cost;
}

/** Treasuries named `names`, each funded with `fog` and, when `stake` is given, staking it (which mints their passes). */
export async function actorsOf(
    p: Protocol,
    names: readonly string[],
    fog: bigint,
    stake?: bigint,
): Promise<SandboxContract<TreasuryContract>[]> {
    const actors: SandboxContract<TreasuryContract>[] = [];
    for (const name of names) {
        const a = await p.blockchain.treasury(name);
        await p.fund(a.address, fog);
        if (stake !== undefined && !allSucceeded(await p.stake(a, stake))) throw new Error(`${name} could not stake`);
        actors.push(a);
    }
    return actors;
}
