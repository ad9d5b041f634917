/**
 * Fog's settlement and emission rules as plain arithmetic, for the economics simulation: the same
 * integers the contracts compute (contracts/job.tact `settle`, provider.tact `Settle`, epoch.tact
 * `close` and `EpochClaim`). tests/sim-model.spec.ts settles random jobs both ways and requires
 * identical balances, so the simulation's conclusions hold for the contracts.
 */
import { PhaseName } from '../client/results';
import { Tournament } from '../client/dispute/tournament';
import { Bps, DisputeBountyBps, Ppm, ReputationSlash, ReputationWin } from '../wrappers/Hub';

/** The parameters settlement and emission depend on (a subset of the hub's Params). */
export interface EconomicParams {
    minStake: bigint;
    collateral: bigint;
    slashBps: bigint;
    emissionBase: bigint;
    emissionRatioPpm: bigint;
    emissionCap: bigint;
}

/** One claim of a job: the worker, and the result it revealed (undefined: it never revealed). */
export interface Claim {
    worker: string;
    revealed?: bigint;
    /** When it revealed, among the job's reveals (earlier first); by default, claim order. */
    revealOrder?: number;
}

export type Outcome = 'won' | 'slashed' | 'released';

/**
 * How a dispute match between the holders of two different results ends (docs/disputes.md, "The
 * game"): `a` is the holder of the earlier-revealed result. 'neither' when neither opened.
 */
export type MatchRule = (a: Claim, b: Claim) => 'a' | 'b' | 'neither';

/** A job to settle: its claims in claim order (each may say when it revealed). */
export interface JobToSettle {
    price: bigint;
    k: number;
    quorum: number;
    claims: Claim[];
    /** With the network's disputes on: how each match ends. Without: differing results are put to a vote. */
    match?: MatchRule;
}

export interface Settlement {
    phase: Extract<PhaseName, 'done' | 'failed' | 'expired'>;
    /** The agreed result, or 0 without quorum. */
    result: bigint;
    winners: number;
    /** Work units each winner is credited: price ÷ winners, rounded down. */
    unitsEach: bigint;
    /** Each claim's outcome; `bonus`: a winner's share of the match losers' slashes, added to its stake. */
    outcomes: { worker: string; outcome: Outcome; slashed: bigint; units: bigint; bonus: bigint }[];
    /** FOG burned as the price (done), or refunded to the requester (failed, expired). */
    burned: bigint;
    refunded: bigint;
    /** Stake burned by slashes: every slash, less the winners' bonuses. */
    slashed: bigint;
    /** The dispute matches played, as pairs of indexes into the claims, in order. */
    matches: [number, number][];
}

/**
 * Settles a job of replication `k` and `quorum` with `claims` (in claim order), each claim having
 * locked `collateral`: fewer than k claims is an expiry (everything released, price refunded).
 * By vote (no `match` rule): a result revealed by at least `quorum` claimants wins (they share the
 * price as work units, every other claimant is slashed); without quorum the price is refunded and
 * only non-revealers are slashed. With disputes: differing results play the job's tournament
 * (client/dispute/tournament.ts, as contracts/job.tact does), and the result left standing wins
 * with its holders that lost no match, whatever their number; an uncontested result still needs
 * the quorum. Every non-revealer, every holder that lost a match and every holder of another
 * result is slashed. A slash takes `collateral × slashBps / 10 000` of stake; after matches the
 * winners share `DisputeBountyBps` of the match losers' slashes (added to their stake), and the
 * rest is burned.
 */
export function settleJob(job: JobToSettle, p: Pick<EconomicParams, 'collateral' | 'slashBps'>): Settlement {
    const expired = job.claims.length < job.k;
    let result = 0n;
    let winners = 0;
    const matches: [number, number][] = [];
    const lost = new Set<number>();
    if (!expired && job.match) {
        // the tournament pairs holders in reveal order, as the job's `standing` does
        const holders = job.claims
            .map((c, slot) => ({ slot, c }))
            .filter(({ c }) => c.revealed !== undefined)
            .sort((x, y) => (x.c.revealOrder ?? x.slot) - (y.c.revealOrder ?? y.slot))
            .map(({ slot, c }) => ({ slot, result: String(c.revealed) }));
        const t = new Tournament(holders);
        for (let m = t.next(); m !== undefined; m = t.next()) {
            matches.push([m.a, m.b]);
            const w = job.match(job.claims[m.a], job.claims[m.b]);
            t.record(w === 'a' ? m.a : w === 'b' ? m.b : 'neither');
        }
        const standing = t.settle();
        for (const slot of standing.defeated) lost.add(slot);
        const kept = job.claims.filter((c, slot) => c.revealed !== undefined && String(c.revealed) === standing.result && !lost.has(slot));
        if (standing.result !== undefined && (t.matches > 0 || kept.length >= job.quorum)) {
            result = kept[0].revealed!;
            winners = kept.length;
        }
    } else if (!expired) {
        for (const a of job.claims) {
            if (a.revealed === undefined || winners >= job.quorum) continue;
            const count = job.claims.filter((b) => b.revealed === a.revealed).length;
            if (count >= job.quorum) {
                result = a.revealed;
                winners = count;
            }
        }
    }
    const unitsEach = winners > 0 ? job.price / BigInt(winners) : 0n;
    const slash = (p.collateral * p.slashBps) / Bps;
    // after matches, the winners share DisputeBountyBps of every match loser's slash
    const bonus = winners > 0 && matches.length > 0 ? (slash * BigInt(lost.size) * DisputeBountyBps) / Bps / BigInt(winners) : 0n;
    const outcomes = job.claims.map((c, slot) => {
        let outcome: Outcome = 'released';
        if (!expired) {
            if (c.revealed === undefined || lost.has(slot)) outcome = 'slashed';
            else if (winners > 0) outcome = c.revealed === result ? 'won' : 'slashed';
        }
        return {
            worker: c.worker,
            outcome,
            slashed: outcome === 'slashed' ? slash : 0n,
            units: outcome === 'won' ? unitsEach : 0n,
            bonus: outcome === 'won' ? bonus : 0n,
        };
    });
    return {
        phase: expired ? 'expired' : winners > 0 ? 'done' : 'failed',
        result,
        winners,
        unitsEach,
        outcomes,
        burned: winners > 0 ? job.price : 0n,
        refunded: winners > 0 ? 0n : job.price,
        slashed: outcomes.reduce((sum, o) => sum + o.slashed, 0n) - bonus * BigInt(winners),
        matches,
    };
}

/** An epoch's emission once closed: base + burned × ratio, at most the cap. */
export function emissionOf(burned: bigint, p: Pick<EconomicParams, 'emissionBase' | 'emissionRatioPpm' | 'emissionCap'>): bigint {
    const e = p.emissionBase + (burned * p.emissionRatioPpm) / Ppm;
    return e < p.emissionCap ? e : p.emissionCap;
}

/** A provider's reward for `units` of an epoch's `total`, rounded down and never past what is left. */
export function rewardOf(emission: bigint, units: bigint, total: bigint, alreadyMinted: bigint): bigint {
    const share = total === 0n ? 0n : (emission * units) / total;
    const left = emission - alreadyMinted;
    return share < left ? share : left;
}

export interface ProviderBook {
    stake: bigint;
    /** Unclaimed work units of at most two epochs (a third win claims the oldest for the owner). */
    curEpoch: number;
    curUnits: bigint;
    prevEpoch: number;
    prevUnits: bigint;
    /** FOG minted to the owner as rewards. */
    rewards: bigint;
    reputation: bigint;
    unitsTotal: bigint;
    slashedTotal: bigint;
    slashCount: bigint;
    passHeld: boolean;
    /** Stake gained as a winner's share of match losers' slashes. */
    bonusTotal: bigint;
}

export interface EpochBook {
    burned: bigint;
    slashed: bigint;
    units: bigint;
    closed: boolean;
    emission: bigint;
    minted: bigint;
}

/** The books the contracts keep, kept by the model: providers, epochs and the FOG supply. */
export class Economy {
    readonly providers = new Map<string, ProviderBook>();
    readonly epochs = new Map<number, EpochBook>();
    /** FOG supply change: minus every burn and slash, plus every reward minted. */
    supplyChange = 0n;

    constructor(readonly params: EconomicParams) {}

    /** `worker` stakes `amount` (its first stake at the minimum gives it a pass). */
    stake(worker: string, amount: bigint): void {
        const b = this.providers.get(worker) ?? {
            stake: 0n,
            curEpoch: 0,
            curUnits: 0n,
            prevEpoch: 0,
            prevUnits: 0n,
            rewards: 0n,
            reputation: 0n,
            unitsTotal: 0n,
            slashedTotal: 0n,
            slashCount: 0n,
            passHeld: false,
            bonusTotal: 0n,
        };
        b.stake += amount;
        if (b.stake >= this.params.minStake) b.passHeld = true;
        this.providers.set(worker, b);
    }

    /** Settles a job in `epoch` and books it; returns the settlement. */
    settle(job: JobToSettle, epoch: number): Settlement {
        const s = settleJob(job, this.params);
        for (const o of s.outcomes) {
            const b = this.providers.get(o.worker);
            if (!b) throw new Error(`${o.worker} never staked`);
            if (o.outcome === 'won') {
                b.reputation += ReputationWin;
                b.unitsTotal += o.units;
                b.stake += o.bonus;
                b.bonusTotal += o.bonus;
                this.credit(b, epoch, o.units);
            } else if (o.outcome === 'slashed') {
                b.stake -= o.slashed;
                b.slashedTotal += o.slashed;
                b.slashCount += 1n;
                b.reputation -= ReputationSlash;
                if (b.stake < this.params.minStake) b.passHeld = false;
            }
        }
        if (s.phase !== 'expired') {
            const e = this.epochs.get(epoch) ?? { burned: 0n, slashed: 0n, units: 0n, closed: false, emission: 0n, minted: 0n };
            e.burned += s.burned;
            e.slashed += s.slashed;
            e.units += s.unitsEach * BigInt(s.winners);
            this.epochs.set(epoch, e);
        }
        this.supplyChange -= s.burned + s.slashed;
        return s;
    }

    /** Closes epoch `n` if it is not yet: its emission is fixed from what it burned. */
    close(n: number): EpochBook {
        const e = this.epochs.get(n);
        if (!e) throw new Error(`epoch ${n} recorded nothing`);
        if (!e.closed) {
            e.closed = true;
            e.emission = emissionOf(e.burned, this.params);
        }
        return e;
    }

    /** Mints `b`'s reward for `units` of epoch `n` (closing it first): what Epoch.EpochClaim does. */
    claim(b: ProviderBook, n: number, units: bigint): bigint {
        const e = this.close(n);
        const amount = rewardOf(e.emission, units, e.units, e.minted);
        e.minted += amount;
        b.rewards += amount;
        this.supplyChange += amount;
        return amount;
    }

    /** `worker` claims its units of epoch `n` (Provider.ClaimRewards): 0 if it holds none. */
    claimEpoch(worker: string, n: number): bigint {
        const b = this.providers.get(worker);
        if (!b) throw new Error(`${worker} never staked`);
        let units = 0n;
        if (n === b.prevEpoch && b.prevUnits > 0n) {
            units = b.prevUnits;
            b.prevUnits = 0n;
        } else if (n === b.curEpoch && b.curUnits > 0n) {
            units = b.curUnits;
            b.curUnits = 0n;
        }
        return units > 0n ? this.claim(b, n, units) : 0n;
    }

    /** Provider.credit: units go to one of two epoch slots; a third epoch claims the oldest. */
    private credit(b: ProviderBook, epoch: number, units: bigint): void {
        if (units === 0n) return;
        if (b.curUnits === 0n || epoch === b.curEpoch) {
            b.curEpoch = epoch;
            b.curUnits += units;
            return;
        }
        if (b.prevUnits === 0n || epoch === b.prevEpoch) {
            if (epoch < b.curEpoch) {
                b.prevEpoch = epoch;
                b.prevUnits += units;
                return;
            }
        } else {
            this.claim(b, b.prevEpoch, b.prevUnits);
        }
        b.prevEpoch = b.curEpoch;
        b.prevUnits = b.curUnits;
        b.curEpoch = epoch;
        b.curUnits = units;
    }
}
