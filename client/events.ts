/**
 * Fog's events: every state change in the contracts is an external-out message with a typed body.
 * This decodes them with the generated loaders (never by hand) into one tagged union.
 */
import { Address, Slice, Transaction } from '@ton/core';
import {
    Hub,
    loadEpochClosedEvent,
    loadJobClaimedEvent,
    loadJobFinalizedEvent,
    loadJobOpenedEvent,
    loadJobPostedEvent,
    loadJobRejectedEvent,
    loadCommittedEvent,
    loadDisputeMoveEvent,
    loadDisputeResolvedEvent,
    loadJobDisputedEvent,
    loadParamsEvent,
    loadRefusedEvent,
    loadRevealedEvent,
    loadRewardClaimedEvent,
    loadShardsPostedEvent,
    loadSettledEvent,
    loadStakedEvent,
    loadStrayEvent,
    loadUnstakedEvent,
    loadWithdrawnEvent,
} from '../wrappers/Hub';

/** The generated loader of every event, by name. */
export const EVENT_LOADERS = {
    ParamsEvent: loadParamsEvent,
    StrayEvent: loadStrayEvent,
    JobPostedEvent: loadJobPostedEvent,
    StakedEvent: loadStakedEvent,
    UnstakedEvent: loadUnstakedEvent,
    WithdrawnEvent: loadWithdrawnEvent,
    SettledEvent: loadSettledEvent,
    JobOpenedEvent: loadJobOpenedEvent,
    JobClaimedEvent: loadJobClaimedEvent,
    CommittedEvent: loadCommittedEvent,
    RevealedEvent: loadRevealedEvent,
    JobFinalizedEvent: loadJobFinalizedEvent,
    JobRejectedEvent: loadJobRejectedEvent,
    RefusedEvent: loadRefusedEvent,
    EpochClosedEvent: loadEpochClosedEvent,
    RewardClaimedEvent: loadRewardClaimedEvent,
    JobDisputedEvent: loadJobDisputedEvent,
    DisputeMoveEvent: loadDisputeMoveEvent,
    DisputeResolvedEvent: loadDisputeResolvedEvent,
    ShardsPostedEvent: loadShardsPostedEvent,
} as const;
const loaders = EVENT_LOADERS;

type Loaded = { [K in keyof typeof loaders]: ReturnType<(typeof loaders)[K]> }[keyof typeof loaders];

/** Where and when an event happened; `id` is unique and stable (the idempotency key). */
export interface EventOrigin {
    /** `<transaction hash hex>:<index of the external among the transaction's out messages>` */
    id: string;
    /** The contract that emitted it. */
    address: Address;
    lt: bigint;
    txHash: string;
    /** Chain time of the transaction. */
    time: number;
}

/** A decoded Fog event: the generated struct (tagged by `$$type`) plus its origin. */
export type FogEvent = Loaded & { origin: EventOrigin };

const byOpcode = new Map<number, (s: Slice) => Loaded>();
for (const [name, load] of Object.entries(loaders)) {
    byOpcode.set((Hub.opcodes as Record<string, number>)[name], load as (s: Slice) => Loaded);
}

/** The Fog events a transaction emitted, in order. Unknown or malformed externals are skipped. */
export function eventsOf(tx: Transaction, address: Address): FogEvent[] {
    const out: FogEvent[] = [];
    const txHash = tx.hash().toString('hex');
    let index = 0;
    for (const msg of tx.outMessages.values()) {
        const i = index++;
        if (msg.info.type !== 'external-out') continue;
        const body = msg.body.beginParse();
        if (body.remainingBits < 32) continue;
        const load = byOpcode.get(body.preloadUint(32));
        if (!load) continue;
        try {
            out.push({ ...load(msg.body.beginParse()), origin: { id: `${txHash}:${i}`, address, lt: tx.lt, txHash, time: tx.now } });
        } catch {
            // not one of ours after all (same prefix, different layout): ignore
        }
    }
    return out;
}

/** Names of every event kind. */
export const EVENT_KINDS = Object.keys(loaders) as (keyof typeof loaders)[];
