/**
 * Network totals no get-method holds: providers with a stake, jobs by outcome, FOG burned and
 * emitted. Kept by a watcher subscriber in the watcher's LMDB environment, so each event counts
 * exactly once across restarts. What it keeps grows with providers (one stake per owner) and with
 * jobs in flight (one price per live job), on disk; nothing grows in memory.
 */
import type { Database, RootDatabase } from 'lmdb';
import { Address } from '@ton/core';
import { JobPhase } from './results';
import { FogEvent } from './events';
import { Watcher } from './watcher';

const DONE = BigInt(JobPhase.Done);
const FAILED = BigInt(JobPhase.Failed);
const EXPIRED = BigInt(JobPhase.Expired);

export interface NetworkTotals {
    /** Owners whose provider holds a stake now. */
    providers: number;
    /** Owners who ever staked. */
    providersEver: number;
    jobsPosted: number;
    jobsDone: number;
    /** Settled without a quorum (refunded). */
    jobsFailed: number;
    /** Not enough claims or commits in time (refunded). */
    jobsExpired: number;
    /** The pass check failed (refunded). */
    jobsRejected: number;
    /** Job prices burned by settled jobs, nano FOG. */
    burned: bigint;
    /** Stake slashed and burned (less the winners' share of match losers' slashes), nano FOG. */
    slashed: bigint;
    /** Emission fixed by closed epochs, nano FOG. */
    emitted: bigint;
    /** Rewards claimed (minted), nano FOG. */
    minted: bigint;
    /** The last event counted, for "as of" lines. */
    lastEventTime: number;
}

/** The hub's last refusal of a transfer from one address: what it was, why, and the FOG sent back. */
export interface Refusal {
    what: bigint;
    reason: bigint;
    amount: bigint;
    /** Chain time of the refusal. */
    time: number;
}

const COUNTS = [
    'providers',
    'providersEver',
    'jobsPosted',
    'jobsDone',
    'jobsFailed',
    'jobsExpired',
    'jobsRejected',
    'lastEventTime',
] as const;
const AMOUNTS = ['burned', 'slashed', 'emitted', 'minted'] as const;

export class NetworkIndex {
    private readonly totals: Database<string, string>;
    private readonly stakes: Database<string, string>;
    private readonly prices: Database<string, string>;
    /** The last refusal per address (one entry per address that was ever refused, on disk). */
    private readonly refusals: Database<string, string>;

    constructor(db: RootDatabase, watcher: Watcher, name = 'network-index') {
        this.totals = db.openDB<string, string>('index-totals', { encoding: 'string' });
        this.stakes = db.openDB<string, string>('index-stakes', { encoding: 'string' });
        this.prices = db.openDB<string, string>('index-prices', { encoding: 'string' });
        this.refusals = db.openDB<string, string>('index-refusals', { encoding: 'string' });
        watcher.subscribe(name, (e) => this.record(e));
    }

    /** The totals as of the last event delivered. */
    read(): NetworkTotals {
        const out = {} as NetworkTotals;
        for (const k of COUNTS) out[k] = Number(this.totals.get(k) ?? '0');
        for (const k of AMOUNTS) out[k] = BigInt(this.totals.get(k) ?? '0');
        return out;
    }

    /** The hub's last refusal of a transfer from `owner`, if it ever refused one. */
    lastRefusal(owner: Address): Refusal | undefined {
        const raw = this.refusals.get(owner.toRawString());
        if (raw === undefined) return undefined;
        const r = JSON.parse(raw) as Record<keyof Refusal, string>;
        return { what: BigInt(r.what), reason: BigInt(r.reason), amount: BigInt(r.amount), time: Number(r.time) };
    }

    private add(key: (typeof COUNTS)[number] | (typeof AMOUNTS)[number], delta: bigint | number): void {
        const now = BigInt(this.totals.get(key) ?? '0');
        this.totals.putSync(key, (now + BigInt(delta)).toString());
    }

    /** A provider's stake changed to `stake`. */
    private stakeOf(owner: string, stake: bigint): void {
        const before = this.stakes.get(owner);
        if (before === undefined) this.add('providersEver', 1);
        const was = BigInt(before ?? '0') > 0n;
        const is = stake > 0n;
        if (was !== is) this.add('providers', is ? 1 : -1);
        this.stakes.putSync(owner, stake.toString());
    }

    /** Runs inside the watcher's delivery transaction. */
    private record(e: FogEvent): void {
        switch (e.$$type) {
            case 'StakedEvent':
            case 'WithdrawnEvent':
            case 'SettledEvent':
                this.stakeOf(e.owner.toRawString(), e.stake);
                break;
            case 'UnstakedEvent': {
                // unstaking moves stake into unbonding; the event names the amount, not the stake left
                const owner = e.owner.toRawString();
                this.stakeOf(owner, BigInt(this.stakes.get(owner) ?? '0') - e.amount);
                break;
            }
            case 'JobPostedEvent':
                this.add('jobsPosted', 1);
                this.prices.putSync(e.id.toString(), e.price.toString());
                break;
            case 'JobFinalizedEvent': {
                const price = BigInt(this.prices.get(e.id.toString()) ?? '0');
                if (e.phase === DONE) {
                    this.add('jobsDone', 1);
                    this.add('burned', price);
                } else if (e.phase === FAILED) this.add('jobsFailed', 1);
                else if (e.phase === EXPIRED) this.add('jobsExpired', 1);
                this.add('slashed', e.slashed);
                this.prices.removeSync(e.id.toString());
                break;
            }
            case 'JobRejectedEvent':
                this.add('jobsRejected', 1);
                this.prices.removeSync(e.id.toString());
                break;
            case 'EpochClosedEvent':
                this.add('emitted', e.emission);
                break;
            case 'RewardClaimedEvent':
                this.add('minted', e.amount);
                break;
            case 'RefusedEvent':
                this.refusals.putSync(
                    e.to.toRawString(),
                    JSON.stringify({
                        what: e.what.toString(),
                        reason: e.reason.toString(),
                        amount: e.amount.toString(),
                        time: String(e.origin.time),
                    }),
                );
                break;
            default:
                return;
        }
        this.totals.putSync('lastEventTime', String(e.origin.time));
    }
}
