import { Address, beginCell } from '@ton/core';
import { FogToken } from './FogToken';
import { PassCollection } from './PassCollection';
import { Hub, Params, storeParams } from './Hub';
import { Dispute } from './Dispute';
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
        // 0: revealed results that differ go to a majority vote; the simulation with disputes (issue 17,
        // stage 5) decides the default allowance and k, until then a network opts in
        disputeAllowance: 0n,
    };
}

/** A fresh hub: no jobs, no stakes. Its admin must then hand it the mint and pass authorities. */
export async function hubInit(admin: Address, token: Address, collection: Address, params: Params): Promise<Hub> {
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
    );
}
