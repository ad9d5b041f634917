import { Address, beginCell, Cell, contractAddress } from '@ton/core';
import { FogToken } from './FogToken';
import { PassCollection } from './PassCollection';
import { Hub, JobSpec, Params, storeParams, storePostShardsPayload } from './Hub';
import { Dispute } from './Dispute';
import { Job } from './Job';
import { Librarian } from './Librarian';
import { Shards } from './Shards';
import { buildOnchainContent, jettonContent, JettonMetadata, FOG_METADATA, PASS_COLLECTION_METADATA, PASS_ITEM_METADATA } from './metadata';

/**
 * The initial state of Fog's contracts, shared by tests, the demo and the deploy scripts so that
 * every one of them deploys the same thing.
 */

/** A fresh FOG master: no supply, no mint authority yet, genesis open. */
export function fogTokenInit(admin: Address, meta: JettonMetadata = FOG_METADATA): Promise<FogToken> {
    return FogToken.fromInit(0n, admin, null, null, false, true, jettonContent(meta));
}

/** A fresh pass collection whose authority (who mints and revokes) starts as `authority`. */
export function passCollectionInit(admin: Address, authority: Address = admin): Promise<PassCollection> {
    return PassCollection.fromInit(
        admin,
        null,
        authority,
        false,
        buildOnchainContent(PASS_COLLECTION_METADATA),
        buildOnchainContent(PASS_ITEM_METADATA),
    );
}

/** The pass index of `owner`: its basechain account id. */
export function passIndexOf(owner: Address): bigint {
    return BigInt('0x' + owner.hash.toString('hex'));
}

const FOG = 1_000_000_000n;

/**
 * Default parameters: a starting point for a deployment, not yet the outcome of the economics
 * simulation (issue 7). `epochStart` is the deployment time.
 */
export function defaultParams(epochStart: number): Params {
    return {
        $$type: 'Params',
        minStake: 1_000n * FOG,
        collateral: 50n * FOG,
        slashBps: 10_000n,
        unbondingPeriod: 7n * 86_400n,
        minJobPrice: 1n * FOG,
        maxK: 7n,
        claimWindow: 600n,
        commitWindow: 1_800n,
        revealWindow: 600n,
        maxWindow: 86_400n,
        epochStart: BigInt(epochStart),
        epochLength: 86_400n,
        closeDelay: 600n,
        emissionBase: 10_000n * FOG,
        emissionRatioPpm: 500_000n,
        emissionCap: 100_000n * FOG,
        // revealed results that differ play dispute matches (docs/disputes.md): each party's clock
        // starts at this many seconds plus its share of the job's fuel limit. 0 sends them to a
        // majority vote instead (docs/economics.md, "Disputes", says why that is not the default)
        disputeAllowance: 1_800n,
    };
}

/** Job's compiled code. */
export async function jobCodeCell(): Promise<Cell> {
    return (await Job.fromInit(new Address(0, Buffer.alloc(32)), 0n, null)).init!.code;
}

/**
 * A library cell naming `code`: an exotic cell of type 2 holding the code's hash. An account
 * whose code is this cell runs `code`, found in the masterchain's public libraries, and its
 * deploy message and storage carry 264 bits instead of the code's cells.
 */
export function libraryCellOf(code: Cell): Cell {
    return beginCell().storeUint(2, 8).storeBuffer(code.hash()).endCell({ exotic: true });
}

/**
 * The Librarian that publishes `code` as a public masterchain library (contracts/librarian.tact):
 * on the masterchain, with the code as its data until its first message publishes it.
 */
export async function librarianInit(code: Cell): Promise<Librarian> {
    const init = (await Librarian.fromInit(code)).init!;
    return new Librarian(contractAddress(-1, init), init);
}

/** How a hub deploys jobs: with Job's code in every StateInit, or with a library cell naming it. */
export interface HubOptions {
    /** Job's code published as a masterchain library (a Librarian must publish it before the first job). */
    jobLibrary: boolean;
}

/** The code a hub deploys every job with: a library cell naming Job's code, or the code itself. */
export async function hubJobCode(options: HubOptions): Promise<Cell> {
    const code = await jobCodeCell();
    return options.jobLibrary ? libraryCellOf(code) : code;
}

/** A fresh hub: no jobs, no stakes. Its admin must then hand it the mint and pass authorities. */
export async function hubInit(admin: Address, token: Address, collection: Address, params: Params, options: HubOptions): Promise<Hub> {
    // the Dispute contract's code, which the hub deploys for a job whose results differ
    const dispute = (await Dispute.fromInit(admin, admin, 0n)).init!.code;
    return Hub.fromInit(
        admin,
        null,
        token,
        collection,
        beginCell().store(storeParams(params)).endCell(),
        0n,
        0n,
        0n,
        0n,
        null,
        0n,
        dispute,
        await hubJobCode(options),
    );
}

/** One shard of a sharded post: its input's hash, the machine's initial root over it, its input's URI (a snake string cell). */
export interface Shard {
    inputHash: bigint;
    initialRoot: bigint;
    inputUri: Cell;
}

/** Shards(hub, first) as every address derivation names it (shardsInit in contracts/shards.tact): the sum at zero, no state, no list. */
export function shardsInitOf(hub: Address, first: bigint): Promise<Shards> {
    return Shards.fromInit(hub, first, 0n, false, false, 0n, 0n, 0n, 0n, 0n, null, null);
}

/** Shards in one sharded post (MaxShards in contracts/constants.tact). */
export const MAX_SHARDS = 64;

/** A sharded post's shard list (its payload's `shards` cell): one cell per shard, each referring to the next. */
export function shardList(shards: readonly Shard[]): Cell {
    if (shards.length < 1 || shards.length > MAX_SHARDS)
        throw new RangeError(`a sharded post has 1 to ${MAX_SHARDS} shards; got ${shards.length}`);
    let list: Cell | null = null;
    for (let i = shards.length - 1; i >= 0; i--) {
        const b = beginCell().storeUint(shards[i].inputHash, 256).storeUint(shards[i].initialRoot, 256).storeRef(shards[i].inputUri);
        if (list) b.storeRef(list);
        list = b.endCell();
    }
    return list!;
}

/**
 * The forward payload of a sharded post (post_shards, contracts/messages.tact): `spec`'s program,
 * limits, k and windows for every shard, the first of its `uris` references as the program's URI,
 * and each shard's input. The transfer carrying it pays shards.length × the price of one shard.
 */
export function postShardsPayload(spec: JobSpec, shards: readonly Shard[]): Cell {
    const list = shardList(shards);
    const programUri = spec.uris.beginParse().loadRef();
    return beginCell()
        .store(
            storePostShardsPayload({
                $$type: 'PostShardsPayload',
                count: BigInt(shards.length),
                spec: { ...spec, inputHash: 0n, initialRoot: 0n, uris: beginCell().storeRef(programUri).endCell() },
                shards: list,
            }),
        )
        .endCell();
}
