import { Address } from '@ton/core';
import { FogToken } from './FogToken';
import { PassCollection } from './PassCollection';
import {
    buildOnchainContent,
    jettonContent,
    JettonMetadata,
    FOG_METADATA,
    PASS_COLLECTION_METADATA,
    PASS_ITEM_METADATA,
} from './metadata';

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
