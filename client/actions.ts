/**
 * Every user action as the message a wallet sends: stake, post a job, claim, commit, reveal,
 * finalize, claim rewards, unstake, withdraw, close an epoch. The worker daemon, the CLIs, deep
 * links and the bot all build their messages here, so there is one encoding of each.
 *
 * Amounts of TON come from the contracts' own cost getters plus a margin; contracts return what
 * is not used.
 */
import { Address, beginCell, Cell } from '@ton/core';
import { TonClient } from '@ton/ton';
import { FogToken } from '../wrappers/FogToken';
import { FogWallet, storeJettonTransfer } from '../wrappers/FogWallet';
import {
    GasDisputeBisect,
    GasDisputeOpen,
    GasDisputeProve,
    GasDisputeTimeout,
    Hub,
    JobSpec,
    MaxUriCells,
    Params,
    storeClaimJob,
    storeClaimRewards,
    storeCloseEpoch,
    storeCommit,
    storeFinalize,
    storePostJobPayload,
    storeReveal,
    storeShardsFlush,
    storeStakePayload,
    storeUnstake,
    storeWithdrawStake,
} from '../wrappers/Hub';
import { Provider } from '../wrappers/Provider';
import { Job } from '../wrappers/Job';
import { Epoch, type EpochState } from '../wrappers/Epoch';
import { Shards } from '../wrappers/Shards';
import { postShardsPayload, Shard, shardList, MAX_SHARDS } from '../wrappers/protocol';
import { PassCollection } from '../wrappers/PassCollection';
import { PassItem } from '../wrappers/PassItem';
import { cellShape } from '../wrappers/gas';
import { DEFAULT_JOB_MFUEL, fuelForJob } from './compute/fuel';
import { initialRoot } from './dispute/state';
import { INPUTS_HEADER, isManifest } from './inputs';
import { open } from './chain';
import { hashToUint256, sha256Hex } from './hash';
import { Outgoing } from './sender';
import { forwardFeeOf, gasFee, MARGIN } from './fees';
import { Dispute, storeDisputeBisect, storeDisputeOpen, storeDisputeProve, storeDisputeTimeout } from '../wrappers/Dispute';

export { MARGIN };

const body = (store: (b: ReturnType<typeof beginCell>) => void): Cell => {
    const b = beginCell();
    store(b);
    return b.endCell();
};

/** A message to a Dispute: a party's move, or anyone's timeout of a party out of time. */
export type DisputeMoveBody =
    | { kind: 'open'; proof: Cell }
    | { kind: 'bisect'; choice: number; roots: Cell }
    | { kind: 'prove'; choice: number; proof: Cell }
    | { kind: 'timeout' };

/** A Dispute message's body and the gas bound its TON must cover. */
function disputeBody(move: DisputeMoveBody): [bigint, Cell] {
    const queryId = 0n;
    switch (move.kind) {
        case 'open':
            return [GasDisputeOpen, body((b) => b.store(storeDisputeOpen({ $$type: 'DisputeOpen', queryId, proof: move.proof })))];
        case 'bisect':
            return [
                GasDisputeBisect,
                body((b) =>
                    b.store(storeDisputeBisect({ $$type: 'DisputeBisect', queryId, choice: BigInt(move.choice), roots: move.roots })),
                ),
            ];
        case 'prove':
            return [
                GasDisputeProve,
                body((b) =>
                    b.store(storeDisputeProve({ $$type: 'DisputeProve', queryId, choice: BigInt(move.choice), proof: move.proof })),
                ),
            ];
        case 'timeout':
            return [GasDisputeTimeout, body((b) => b.store(storeDisputeTimeout({ $$type: 'DisputeTimeout', queryId })))];
    }
}

/**
 * What a job asks for: the program's and the input's bytes, fetched by workers from
 * `urlOf(sha256 hex)` (upload them there first).
 */
export interface JobRequest {
    program: Uint8Array;
    input: Uint8Array;
    /** What the program reads when `input` is a composite input's manifest: its parts framed (client/inputs.ts). */
    programInput?: Uint8Array;
    urlOf: (hash: string) => string;
    /** Replication, 1..7 (default 3). */
    k?: number;
    /** Workers that must agree (default: a strict majority of k). */
    quorum?: number;
    /** Fuel limit per worker, Mfuel (default DEFAULT_JOB_MFUEL, client/compute/fuel.ts). */
    maxMfuel?: number;
    maxMemoryMb?: number;
}

/** Cells a job spec's URIs may take (`MaxUriCells` in contracts/constants.tact): about 2 KB of text. */
export const MAX_URI_CELLS = Number(MaxUriCells);

/**
 * The on-chain spec of a job (windows 0: the hub's defaults), with the initial root of its state
 * (docs/disputes.md, "The initial root"). Throws if the program's and input's URIs are longer than
 * a job allows, which the hub would refuse (returning the FOG), for a program refused before it
 * runs, which no worker would claim, and for an input that begins like a composite input's
 * manifest without `programInput` (or `programInput` with one that does not), which no worker
 * would claim either.
 */
export function jobSpec(r: JobRequest): JobSpec {
    const k = r.k ?? 3;
    const maxMfuel = r.maxMfuel ?? DEFAULT_JOB_MFUEL;
    const maxMemoryMb = r.maxMemoryMb ?? 256;
    // a worker reads an input that begins like a manifest as one (client/inputs.ts): the initial
    // root must be over what it will read, or no worker claims the job
    if (isManifest(r.input) !== (r.programInput !== undefined))
        throw new RangeError(
            r.programInput === undefined
                ? `the input begins with "${INPUTS_HEADER.trim()}" and a newline, which workers read as a composite input's manifest (docs/map-reduce.md): change its first line`
                : 'a program input goes with a composite input, and this input is not a manifest',
        );
    const [program, input] = [sha256Hex(r.program), sha256Hex(r.input)];
    const uris = beginCell()
        .storeRef(beginCell().storeStringTail(r.urlOf(program)))
        .storeRef(beginCell().storeStringTail(r.urlOf(input)))
        .endCell();
    const { cells } = cellShape(uris);
    if (cells > MAX_URI_CELLS) {
        throw new RangeError(
            `the program's and the input's URIs take ${cells} cells; a job allows ${MAX_URI_CELLS} (about 2 KB of text): use a storage node with a shorter address`,
        );
    }
    return {
        $$type: 'JobSpec',
        programHash: hashToUint256(program),
        inputHash: hashToUint256(input),
        initialRoot: BigInt(
            '0x' + initialRoot({ program: r.program, input: r.programInput ?? r.input, fuel: fuelForJob({ maxMfuel }), maxMemoryMb }),
        ),
        k: BigInt(k),
        quorum: BigInt(r.quorum ?? Math.floor(k / 2) + 1),
        maxMfuel: BigInt(maxMfuel),
        maxMemoryMb: BigInt(maxMemoryMb),
        claimWindow: 0n,
        commitWindow: 0n,
        revealWindow: 0n,
        uris,
    };
}

/**
 * A sharded post's spec and shards: `program` over each of `inputs` (docs/protocol.md, "Sharded
 * jobs"), each shard with its input's hash, initial root and URI (`programInputs[i]`: what the
 * program reads when `inputs[i]` is a composite input's manifest). The same checks as jobSpec, for
 * every shard.
 */
export function shardedSpec(
    r: Omit<JobRequest, 'input' | 'programInput'> & { inputs: readonly Buffer[]; programInputs?: readonly Buffer[] },
): { spec: JobSpec; shards: Shard[] } {
    if (r.inputs.length < 1 || r.inputs.length > MAX_SHARDS)
        throw new RangeError(`a sharded post has 1 to ${MAX_SHARDS} inputs; got ${r.inputs.length}`);
    const specs = r.inputs.map((input, i) => jobSpec({ ...r, input, programInput: r.programInputs?.[i] }));
    const shards = specs.map((spec) => ({
        inputHash: spec.inputHash,
        initialRoot: spec.initialRoot,
        inputUri: spec.uris.refs[1],
    }));
    return { spec: specs[0], shards };
}

/** Chain time from which anyone may close epoch `n` and its providers claim their rewards. */
export function closableAt(n: bigint, params: Params): number {
    return Number(params.epochStart + (n + 1n) * params.epochLength + params.closeDelay);
}

/**
 * An epoch's holds in words, '' when it has none: the reports that sharded posts still owe it
 * (docs/protocol.md, "Sharded jobs"). It does not close, and its rewards cannot be claimed, before
 * they arrive.
 */
export function holdsWords(holds: bigint): string {
    return holds > 0n ? `waiting for ${holds} sharded report${holds === 1n ? '' : 's'}` : '';
}

/**
 * The holds that keep an epoch from closing at chain time `now`: none once it is closed, or once
 * a whole epoch has passed since its end (it then closes with what it has; contracts/epoch.tact).
 */
export function blockingHolds(e: EpochState, now: number): bigint {
    return e.closed || now >= Number(e.terms.end + e.terms.length) ? 0n : e.holds;
}

/** Whether a wallet may post a job now, and if not, why: checked before anything is paid. */
export type PosterCheck = { ok: true } | { ok: false; reason: 'no-pass' } | { ok: false; reason: 'balance'; balance: bigint };

/** Addresses a Fog instance remembers; past this many it starts afresh. */
const KNOWN_ADDRESSES = 10_000;

/** The network's contracts, opened on one client. */
export class Fog {
    readonly hub;
    readonly token;
    /**
     * Child and wallet addresses already asked for. No Fog contract can change its code, so an
     * address never changes; on the devnet a get-method costs more than a transaction.
     */
    private readonly known = new Map<string, Promise<Address>>();

    constructor(
        readonly client: TonClient,
        readonly addresses: { hub: Address; token: Address },
    ) {
        this.hub = open(client, Hub.fromAddress(addresses.hub));
        this.token = open(client, FogToken.fromAddress(addresses.token));
    }

    /** The address `ask` answers for `key`, asked once (a failed answer is asked again next time). */
    private address(key: string, ask: () => Promise<Address>): Promise<Address> {
        let a = this.known.get(key);
        if (!a) {
            if (this.known.size >= KNOWN_ADDRESSES) this.known.clear();
            a = ask();
            this.known.set(key, a);
            a.catch(() => this.known.delete(key));
        }
        return a;
    }

    async walletOf(owner: Address): Promise<Address> {
        return this.address(`wallet:${owner.toRawString()}`, () => this.token.getGetWalletAddress(owner));
    }

    async providerOf(owner: Address) {
        return open(
            this.client,
            Provider.fromAddress(await this.address(`provider:${owner.toRawString()}`, () => this.hub.getProviderAddress(owner))),
        );
    }

    /** `owner`'s provider, failing with one clear line if it has never staked. */
    async stakedProviderOf(owner: Address) {
        const provider = await this.providerOf(owner);
        if (!(await this.client.isContractDeployed(provider.address)))
            throw new Error(`${owner.toString({ testOnly: true })} has no stake: stake first`);
        return provider;
    }

    async job(id: bigint) {
        return open(this.client, Job.fromAddress(await this.address(`job:${id}`, () => this.hub.getJobAddress(id))));
    }

    /** The Dispute where job `id`'s matches are played (deployed only once its revealed results differ). */
    async dispute(id: bigint) {
        const job = await this.job(id);
        return open(this.client, Dispute.fromAddress(await this.address(`dispute:${id}`, () => job.getDisputeAddress())));
    }

    async epoch(n: bigint) {
        return open(this.client, Epoch.fromAddress(await this.address(`epoch:${n}`, () => this.hub.getEpochAddress(n))));
    }

    /** The chain's clock (the hub's last sync time, as the endpoint reports it). */
    async now(): Promise<number> {
        return (await this.client.getContractState(this.addresses.hub)).timestampt;
    }

    /**
     * The epochs whose rewards `owner` may claim now (or only `only`), by the chain's clock. Throws
     * one clear line when there is nothing to claim, or only epochs not yet over.
     */
    async claimableEpochs(owner: Address, only?: bigint): Promise<bigint[]> {
        const s = await (await this.stakedProviderOf(owner)).getProviderState();
        const [params, now] = await Promise.all([this.hub.getParams(), this.now()]);
        const earned = [
            [s.prevEpoch, s.prevUnits],
            [s.curEpoch, s.curUnits],
        ].filter(([e, u]) => u > 0n && (only === undefined || e === only));
        if (earned.length === 0)
            throw new Error(only === undefined ? 'no unclaimed units in any epoch' : `no unclaimed units in epoch ${only}`);
        const from = (n: bigint) => closableAt(n, params);
        const over = earned.filter(([e]) => now >= from(e)).map(([e]) => e);
        if (over.length === 0) {
            const [e] = earned[0];
            throw new Error(
                `epoch ${e} is not over: its rewards can be claimed from ${new Date(from(e) * 1000).toISOString()} (chain time; ${from(e) - now} s from now)`,
            );
        }
        // an epoch a sharded post still owes a report cannot close: a claim would bounce, its fees spent
        const holds = await Promise.all(over.map((e) => this.epochHolds(e, now)));
        const due = over.filter((_, i) => holds[i] === 0n);
        if (due.length === 0)
            throw new Error(
                `epoch ${over[0]} is ${holdsWords(holds[0])} (the keeper sends them once the epoch has ended): try again shortly`,
            );
        return due;
    }

    /** The sharded reports epoch `n` still waits for at chain time `now` (read if not given) before it can close (0 when it has none, is closed, waited long enough, or was never recorded). */
    async epochHolds(n: bigint, now?: number): Promise<bigint> {
        const epoch = await this.epoch(n);
        if (!(await this.client.isContractDeployed(epoch.address))) return 0n;
        const [s, at] = await Promise.all([epoch.getEpochState(), now ?? this.now()]);
        return blockingHolds(s, at);
    }

    /** Whether `owner` holds a live Contributor Pass of the collection the hub trusts (what a job's pass check asks). */
    async hasLivePass(owner: Address): Promise<boolean> {
        const collection = open(
            this.client,
            PassCollection.fromAddress(await this.address('collection', async () => (await this.hub.getHubState()).collection)),
        );
        const item = open(
            this.client,
            PassItem.fromAddress(await this.address(`pass:${owner.toRawString()}`, () => collection.getPassAddress(owner))),
        );
        if (!(await this.client.isContractDeployed(item.address))) return false;
        return (await item.getPassState()).live;
    }

    /**
     * Whether `requester` may post a job paying `price` (nano FOG): it needs a live pass (else the
     * job is rejected after the post's fees are spent) and the FOG.
     */
    async checkPoster(requester: Address, price: bigint): Promise<PosterCheck> {
        if (!(await this.hasLivePass(requester))) return { ok: false, reason: 'no-pass' };
        const balance = await this.balanceOf(requester);
        return balance < price ? { ok: false, reason: 'balance', balance } : { ok: true };
    }

    /** FOG (nano) held by `owner`, 0 if its FOG wallet does not exist yet. */
    async balanceOf(owner: Address): Promise<bigint> {
        const w = await this.walletOf(owner);
        const state = await this.client.getContractState(w);
        if (state.state !== 'active') return 0n;
        const r = await this.client.runMethod(w, 'get_wallet_data');
        return r.stack.readBigNumber();
    }

    /** A FOG transfer from `owner`'s FOG wallet carrying `payload` to the hub, with `forwardTon` for the hub's work. */
    private async toHub(owner: Address, amount: bigint, payload: Cell, forwardTon: bigint): Promise<Outgoing> {
        const wallet = await this.walletOf(owner);
        const transfer = body((b) =>
            b.store(
                storeJettonTransfer({
                    $$type: 'JettonTransfer',
                    queryId: 0n,
                    amount,
                    destination: this.addresses.hub,
                    responseDestination: owner,
                    customPayload: null,
                    forwardTonAmount: forwardTon,
                    forwardPayload: beginCell().storeBit(1).storeRef(payload).endCell().beginParse(),
                }),
            ),
        );
        // the wallet's own price for the chain, at this message's forward fee (the notification carries the same payload)
        const chain = await open(this.client, FogWallet.fromAddress(wallet))
            .getTransferCost(forwardTon, forwardFeeOf(transfer))
            .catch(async (e) => {
                if (!(await this.client.isContractDeployed(wallet)))
                    throw new Error(`${owner.toString({ testOnly: true })} holds no FOG: its FOG wallet does not exist yet`);
                throw e;
            });
        return { to: wallet, value: chain + MARGIN, body: transfer };
    }

    /** Stake `amount` FOG (nano); the first stake reaching the minimum mints the owner's pass with this capacity. */
    async stake(owner: Address, amount: bigint, cores: number, memoryMb: number): Promise<Outgoing> {
        if (amount <= 0n) throw new RangeError('stake amount must be positive');
        if (!Number.isInteger(cores) || cores < 1 || cores > 65535) throw new RangeError('cores must be an integer in 1..65535');
        if (!Number.isInteger(memoryMb) || memoryMb < 1 || memoryMb > 0xffffffff)
            throw new RangeError('memory must be a positive number of MB');
        const cost = (await this.hub.getStakeCost()) + MARGIN;
        return this.toHub(
            owner,
            amount,
            body((b) => b.store(storeStakePayload({ $$type: 'StakePayload', cores: BigInt(cores), memoryMb: BigInt(memoryMb) }))),
            cost,
        );
    }

    /** Post a job paying `price` FOG (nano). */
    async post(requester: Address, price: bigint, spec: JobSpec): Promise<Outgoing> {
        if (price <= 0n) throw new RangeError('price must be positive');
        const cost = (await this.hub.getPostCost(spec.k)) + MARGIN;
        return this.toHub(
            requester,
            price,
            body((b) => b.store(storePostJobPayload({ $$type: 'PostJobPayload', spec }))),
            cost,
        );
    }

    /**
     * Post `shards` of one program as one sharded post, paying `price` FOG (nano) for each: one
     * transfer of price × shards (docs/protocol.md, "Sharded jobs").
     */
    async postShards(requester: Address, price: bigint, spec: JobSpec, shards: readonly Shard[]): Promise<Outgoing> {
        if (price <= 0n) throw new RangeError('price must be positive');
        const { cells, bits } = cellShape(shardList(shards));
        const cost = (await this.hub.getPostShardsCost(spec.k, BigInt(shards.length), BigInt(cells), BigInt(bits))) + MARGIN;
        return this.toHub(requester, price * BigInt(shards.length), postShardsPayload(spec, shards), cost);
    }

    /** The Shards of the sharded post whose first job is `first`. */
    async shards(first: bigint) {
        return open(this.client, Shards.fromAddress(await this.address(`shards:${first}`, () => this.hub.getShardsAddress(first))));
    }

    /** Have the Shards of post `first` report its closes of an epoch that has ended (anyone may). */
    async flushShards(first: bigint): Promise<Outgoing> {
        return {
            to: (await this.shards(first)).address,
            value: MARGIN,
            body: body((b) => b.store(storeShardsFlush({ $$type: 'ShardsFlush', queryId: 0n }))),
        };
    }

    /**
     * Claim a slot of job `jobId`, locking the job's collateral (its terms, read from the job
     * unless the caller has them: the provider locks exactly what the job asks, or the job refuses).
     */
    async claim(owner: Address, jobId: bigint, collateral?: bigint): Promise<Outgoing> {
        const provider = await this.stakedProviderOf(owner);
        if (collateral === undefined) {
            const job = await this.job(jobId);
            if (!(await this.client.isContractDeployed(job.address))) throw new Error(`job ${jobId} does not exist`);
            collateral = (await job.getJobState()).terms.collateral;
        }
        const msg = body((b) => b.store(storeClaimJob({ $$type: 'ClaimJob', queryId: 0n, jobId, collateral })));
        return { to: provider.address, value: (await provider.getClaimCost(forwardFeeOf(msg))) + MARGIN, body: msg };
    }

    async commit(jobId: bigint, commit: bigint): Promise<Outgoing> {
        const job = await this.job(jobId);
        return {
            to: job.address,
            value: (await job.getCommitCost()) + MARGIN,
            body: body((b) => b.store(storeCommit({ $$type: 'Commit', queryId: 0n, commit }))),
        };
    }

    async reveal(jobId: bigint, resultHash: bigint, salt: bigint): Promise<Outgoing> {
        const job = await this.job(jobId);
        return {
            to: job.address,
            value: (await job.getRevealCost()) + MARGIN,
            body: body((b) => b.store(storeReveal({ $$type: 'Reveal', queryId: 0n, resultHash, salt }))),
        };
    }

    /**
     * A message to job `jobId`'s dispute match (docs/disputes.md, "The game"): its gas at the
     * contract's bound, its forward fee and the margin; the Dispute returns the surplus.
     */
    async disputeMove(jobId: bigint, move: DisputeMoveBody): Promise<Outgoing> {
        const dispute = await this.dispute(jobId);
        const [gas, msg] = disputeBody(move);
        return { to: dispute.address, value: gasFee(gas) + forwardFeeOf(msg) + MARGIN, body: msg };
    }

    /** Anyone may finalize a job that can no longer progress; the job's budget pays, the value returns. */
    async finalize(jobId: bigint): Promise<Outgoing> {
        return {
            to: (await this.job(jobId)).address,
            value: MARGIN,
            body: body((b) => b.store(storeFinalize({ $$type: 'Finalize', queryId: 0n }))),
        };
    }

    async claimRewards(owner: Address, epoch: bigint): Promise<Outgoing> {
        const provider = await this.stakedProviderOf(owner);
        const msg = body((b) => b.store(storeClaimRewards({ $$type: 'ClaimRewards', queryId: 0n, epoch })));
        return { to: provider.address, value: (await provider.getRewardClaimCost(forwardFeeOf(msg))) + MARGIN, body: msg };
    }

    async unstake(owner: Address, amount: bigint): Promise<Outgoing> {
        if (amount <= 0n) throw new RangeError('unstake amount must be positive');
        return {
            to: (await this.stakedProviderOf(owner)).address,
            value: MARGIN,
            body: body((b) => b.store(storeUnstake({ $$type: 'Unstake', queryId: 0n, amount }))),
        };
    }

    async withdraw(owner: Address): Promise<Outgoing> {
        const provider = await this.stakedProviderOf(owner);
        const msg = body((b) => b.store(storeWithdrawStake({ $$type: 'WithdrawStake', queryId: 0n })));
        return { to: provider.address, value: (await provider.getPayoutCost(forwardFeeOf(msg))) + MARGIN, body: msg };
    }

    /** Anyone may close an epoch once it ended and its close delay passed. */
    async closeEpoch(n: bigint): Promise<Outgoing> {
        return {
            to: (await this.epoch(n)).address,
            value: MARGIN,
            body: body((b) => b.store(storeCloseEpoch({ $$type: 'CloseEpoch', queryId: 0n }))),
        };
    }
}
