/**
 * The economics simulation: populations of providers with different strategies race for the
 * seats of jobs that requesters post, the jobs settle by the contracts' rules (sim/model.ts,
 * checked against the contracts by tests/sim-model.spec.ts), epochs close and every provider
 * claims its reward. What comes out: each population's income per unit of stake per epoch, the
 * FOG supply epoch by epoch, and how often a wrong result was accepted, by k and quorum.
 *
 * Assumptions, each a choice a reader may want to change:
 * - The claim race is fair by stake: every provider runs its daemon equally fast and claims in
 *   proportion to its free stake, so each seat goes to a provider not yet on the job with
 *   probability proportional to its free stake (at least one `collateral`, which each open claim
 *   locks). Stake, not the number of identities, buys seats, except that an identity takes one
 *   seat of a job: a large stake in one identity gets fewer seats than the same stake split
 *   (measured by the `split` population). A faster attacker does better than this
 *   (docs/economics.md).
 * - A seat's compute cost is a fixed share of what the requester pays per seat (`costShare`).
 * - Every slash is topped up after each claim round, so each population keeps its stake share
 *   for the whole run and its income is what keeping that share costs or earns.
 * - With disputes (`Scenario.disputes`), honest providers answer every match in time, and a
 *   match's compute is a fixed multiple of a seat's (`DisputeCosts`). Matches' TON fees are left
 *   out: each side pays its own moves, at most about 0.011 TON a match (BENCHMARKS section 8).
 */
import { Claim, EconomicParams, Economy, MatchRule } from './model';
import { Ppm } from '../wrappers/Hub';

export const FOG = 1_000_000_000n;

export type Strategy = 'honest' | 'split' | 'idle' | 'lazy' | 'liar' | 'opportunist' | 'cartel' | 'sybil';

/** What each strategy does with a seat, for tables and charts. */
export const STRATEGY_NOTES: Record<Strategy, string> = {
    honest: 'computes every seat and reveals the result',
    split: 'honest, its stake split into identities of the minimum stake (the control for sybil)',
    idle: 'stakes and never claims',
    lazy: 'claims and commits, never reveals (saves the compute)',
    liar: 'reveals a made-up result on every seat, alone (saves the compute)',
    opportunist: 'lies where nobody can check it (k = 1), honest elsewhere',
    cartel: 'colluders holding a share of stake: reveal one shared wrong result on every seat',
    sybil: 'one stake split into identities of the minimum stake; computes once per job and lies whenever its own identities hold the quorum (every seat, with disputes)',
};

/** Strategies that can be caught, so that money can deter them: property 1 is about these. */
export const DETERRABLE: Strategy[] = ['idle', 'lazy', 'liar', 'cartel'];
/** Strategies that lie only where no seat can contradict them: never slashed, bounded by redundancy. */
export const UNDETECTABLE: Strategy[] = ['opportunist', 'sybil'];

export type CartelMode = 'always' | 'adaptive';

/** What a dispute match costs a side, in seat computes (a seat's compute cost is `costShare` of its price). */
export interface DisputeCosts {
    open: number;
    play: number;
}

export interface Population {
    strategy: Strategy;
    /** Stake of one owner. */
    level: bigint;
    /** Owners with this strategy and stake. */
    owners: number;
}

export interface Demand {
    jobsPerEpoch: number;
    /** Replication k of the jobs posted, with relative weights. */
    kMix: { k: number; weight: number }[];
    /** What a requester pays per seat, in whole FOG, uniformly between the two. */
    seatPrice: [number, number];
}

/** The quorum a requester asks for at replication k. */
export type QuorumRule = (k: number) => number;

export const majority: QuorumRule = (k) => Math.floor(k / 2) + 1;
export const unanimous: QuorumRule = (k) => k;

export interface Scenario {
    params: EconomicParams;
    epochs: number;
    /** Claim rounds per epoch: claims of one round lock collateral together, then settle. */
    rounds: number;
    demand: Demand;
    /** Each job picks one of these rules at random (several, to compare them in one run). */
    quorums: QuorumRule[];
    /** A seat's compute cost ÷ its price. */
    costShare: number;
    populations: Population[];
    /** Colluders' share of all stake (0: none), and whether they lie always or only where they can win. */
    cartel: { share: number; mode: CartelMode; level: bigint };
    /**
     * With the network's disputes on (docs/disputes.md): differing results play the job's
     * tournament instead of a vote. What a match costs each side, in seat computes: `open` for a
     * side that opens (its final state), `play` more for each side when both opened and the match
     * is played to its proof. Undefined: by vote.
     */
    disputes?: DisputeCosts;
    /** FOG in circulation at the start. */
    genesis: bigint;
    seed: number;
}

export interface GroupResult {
    strategy: Strategy;
    level: bigint;
    owners: number;
    identities: number;
    stake: bigint;
    seats: number;
    rewards: bigint;
    slashed: bigint;
    cost: bigint;
    /** The part of `cost` spent in dispute matches. */
    disputeCost: bigint;
    /** Stake gained as winners' shares of match losers' slashes. */
    bonus: bigint;
    /** (rewards + bonus − slashed − compute cost) ÷ stake ÷ epochs. */
    incomeRate: number;
}

export interface EpochPoint {
    epoch: number;
    supply: bigint;
    burned: bigint;
    slashed: bigint;
    emission: bigint;
    minted: bigint;
}

export interface AcceptanceCell {
    k: number;
    quorum: number;
    jobs: number;
    /** Settled on a result other than the true one. */
    wrong: number;
    /** No quorum (refunded). */
    failed: number;
    expired: number;
}

export interface SimResult {
    scenario: Scenario;
    groups: GroupResult[];
    supply: EpochPoint[];
    acceptance: AcceptanceCell[];
    /** The colluders' actual share of stake (rounding of whole identities). */
    cartelShare: number;
    jobs: number;
    /** Dispute matches played. */
    matches: number;
}

/** mulberry32: a small seeded generator, so a run is reproducible from its seed. */
export function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** P(at least q of k seats are colluders') when each seat is theirs with probability `share`. */
export function captureProbability(k: number, q: number, share: number): number {
    let p = 0;
    for (let j = q; j <= k; j++) p += binomial(k, j) * share ** j * (1 - share) ** (k - j);
    return p;
}

function binomial(n: number, r: number): number {
    let c = 1;
    for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
    return c;
}

interface Identity {
    id: string;
    owner: number;
    strategy: Strategy;
    stake: bigint;
    /** Stake not locked by this round's claims (nanoFOG, as a float for the race). */
    free: number;
    /** The last job it took a seat of. */
    lastJob: number;
    seats: number;
}

interface Owner {
    strategy: Strategy;
    level: bigint;
    cost: bigint;
    /** The part of `cost` spent in dispute matches. */
    disputeCost: bigint;
}

const TRUE_RESULT = 1n;
const CARTEL_RESULT = 2n;

function holdsRun(c: Claim, cartelDefends: boolean): boolean {
    return c.revealed === TRUE_RESULT || (c.revealed === CARTEL_RESULT && cartelDefends);
}

/**
 * How the simulation's matches end: a side holds a run behind its result (it can open and play)
 * when it revealed the true result, or the colluders' result that the colluders computed a faulty
 * run for (`cartelDefends`); a made-up result has no run. The true result beats any other; a run
 * beats a made-up result; two made-up results both lose, neither side opening. The colluders'
 * run never meets another wrong run: every other wrong result is made up.
 */
function matchRule(cartelDefends: boolean): MatchRule {
    const rank = (c: Claim) => (c.revealed === TRUE_RESULT ? 2 : holdsRun(c, cartelDefends) ? 1 : 0);
    return (a, b) => (rank(a) === 0 && rank(b) === 0 ? 'neither' : rank(a) >= rank(b) ? 'a' : 'b');
}

/** Runs `s` and returns what each population earned, the supply and the acceptance tallies. */
export function simulate(s: Scenario): SimResult {
    const p = s.params;
    const random = rng(s.seed);
    const economy = new Economy(p);
    const owners: Owner[] = [];
    const identities: Identity[] = [];
    const addOwner = (strategy: Strategy, level: bigint, split: bigint[]) => {
        const owner = owners.push({ strategy, level, cost: 0n, disputeCost: 0n }) - 1;
        for (const stake of split) {
            const id = `${strategy}:${owner}:${identities.length}`;
            identities.push({ id, owner, strategy, stake, free: 0, lastJob: -1, seats: 0 });
            economy.stake(id, stake);
        }
    };
    const splitOf = (strategy: Strategy, level: bigint): bigint[] => {
        if ((strategy !== 'sybil' && strategy !== 'split') || level < 2n * p.minStake) return [level];
        const n = Number(level / p.minStake);
        return [...Array(n - 1).fill(p.minStake), level - BigInt(n - 1) * p.minStake];
    };
    for (const pop of s.populations)
        for (let i = 0; i < pop.owners; i++) addOwner(pop.strategy, pop.level, splitOf(pop.strategy, pop.level));
    const others = identities.reduce((sum, x) => sum + x.stake, 0n);
    if (s.cartel.share > 0) {
        // colluders: whole identities of `level` adding up to `share` of all stake
        const want = (Number(others) * s.cartel.share) / (1 - s.cartel.share);
        const n = Math.max(1, Math.round(want / Number(s.cartel.level)));
        for (let i = 0; i < n; i++) addOwner('cartel', s.cartel.level, [s.cartel.level]);
    }
    const total = identities.reduce((sum, x) => sum + x.stake, 0n);
    const cartelStake = identities.filter((x) => x.strategy === 'cartel').reduce((sum, x) => sum + x.stake, 0n);
    const racers = identities.filter((x) => x.strategy !== 'idle');
    const seats = new Map<number, number>();

    const kTotal = s.demand.kMix.reduce((sum, m) => sum + m.weight, 0);
    const pickK = () => {
        let r = random() * kTotal;
        for (const m of s.demand.kMix) if ((r -= m.weight) < 0) return m.k;
        return s.demand.kMix[s.demand.kMix.length - 1].k;
    };
    const [lo, hi] = s.demand.seatPrice;
    const costPpm = BigInt(Math.round(s.costShare * 1e6));
    const acceptance = new Map<string, AcceptanceCell>();
    const supply: EpochPoint[] = [];
    let jobs = 0;
    let matches = 0;
    // with disputes, how every match of the run ends
    const cartelDefends = s.cartel.mode === 'always';
    const match = s.disputes ? matchRule(cartelDefends) : undefined;
    // made-up results: liars count up from 2^32, each Sybil owner has its own below that
    let wrongId = 1n << 32n;
    const collateral = Number(p.collateral);

    for (let epoch = 0; epoch < s.epochs; epoch++) {
        for (let round = 0; round < s.rounds; round++) {
            for (const x of racers) x.free = Number(economy.providers.get(x.id)!.stake);
            const count =
                Math.floor(((round + 1) * s.demand.jobsPerEpoch) / s.rounds) - Math.floor((round * s.demand.jobsPerEpoch) / s.rounds);
            const posted: { k: number; quorum: number; seatPrice: bigint; seated: Identity[] }[] = [];
            for (let j = 0; j < count; j++) {
                const k = pickK();
                const quorum = s.quorums[Math.floor(random() * s.quorums.length)](k);
                const seatPrice = BigInt(lo + Math.floor(random() * (hi - lo + 1))) * FOG;
                posted.push({ k, quorum, seatPrice, seated: raceForSeats(racers, k, collateral, jobs + posted.length, random) });
            }
            for (const job of posted) {
                jobs++;
                const price = job.seatPrice * BigInt(job.k);
                const computeCost = (job.seatPrice * costPpm) / Ppm;
                seats.clear();
                for (const x of job.seated) seats.set(x.owner, (seats.get(x.owner) ?? 0) + 1);
                const cartel = job.seated.filter((x) => x.strategy === 'cartel');
                // owners who already computed this job (a Sybil or the cartel computes once for all its seats)
                const computed = new Set<number>();
                const compute = (owner: number) => {
                    if (!computed.has(owner)) {
                        computed.add(owner);
                        owners[owner].cost += computeCost;
                    }
                };
                const claims: Claim[] = job.seated.map((x) => {
                    x.seats++;
                    const claim = (revealed?: bigint): Claim => ({ worker: x.id, revealed });
                    switch (x.strategy) {
                        case 'honest':
                        case 'split':
                            owners[x.owner].cost += computeCost;
                            return claim(TRUE_RESULT);
                        case 'lazy':
                            return claim();
                        case 'liar':
                            return claim(wrongId++);
                        case 'opportunist':
                            if (job.k === 1) return claim(wrongId++);
                            owners[x.owner].cost += computeCost;
                            return claim(TRUE_RESULT);
                        case 'sybil':
                            // a lie wins where its identities hold the quorum (by vote) or every seat (with disputes)
                            if (seats.get(x.owner)! >= (s.disputes ? job.k : job.quorum)) return claim(100n + BigInt(x.owner));
                            compute(x.owner);
                            return claim(TRUE_RESULT);
                        case 'cartel':
                            if (s.cartel.mode === 'always') {
                                // with disputes, the colluders compute a faulty run once, to defend their result
                                if (s.disputes) compute(cartel[0].owner);
                                return claim(CARTEL_RESULT);
                            }
                            if (cartel.length >= (s.disputes ? job.k : job.quorum)) return claim(CARTEL_RESULT);
                            compute(cartel[0].owner);
                            return claim(TRUE_RESULT);
                        default:
                            throw new Error(`${x.strategy} does not claim`);
                    }
                });
                const settled = economy.settle({ price, k: job.k, quorum: job.quorum, claims, match }, epoch);
                if (s.disputes) {
                    // each side that holds a run opens (its final state is proved once, whatever the matches it
                    // plays); when both did, both play the match to its proof
                    const opened = new Set<number>();
                    for (const [a, b] of settled.matches) {
                        const plays = [a, b].filter((i) => holdsRun(claims[i], cartelDefends));
                        for (const i of plays) {
                            const each = (opened.has(i) ? 0 : s.disputes.open) + (plays.length === 2 ? s.disputes.play : 0);
                            opened.add(i);
                            const cost = (computeCost * BigInt(Math.round(each * 1e6))) / Ppm;
                            const owner = job.seated[i].owner;
                            owners[owner].cost += cost;
                            owners[owner].disputeCost += cost;
                        }
                    }
                    matches += settled.matches.length;
                }
                const key = `${job.k}/${job.quorum}`;
                const cell = acceptance.get(key) ?? { k: job.k, quorum: job.quorum, jobs: 0, wrong: 0, failed: 0, expired: 0 };
                cell.jobs++;
                if (settled.phase === 'done' && settled.result !== TRUE_RESULT) cell.wrong++;
                if (settled.phase === 'failed') cell.failed++;
                if (settled.phase === 'expired') cell.expired++;
                acceptance.set(key, cell);
            }
            // whoever was slashed tops its stake back up, and a winner's bonus is taken out (it is
            // counted as income), so every population keeps its share
            for (const x of identities) {
                const b = economy.providers.get(x.id)!;
                if (b.stake < x.stake) economy.stake(x.id, x.stake - b.stake);
                if (b.stake > x.stake) b.stake = x.stake;
            }
        }
        // the epoch closes; every provider claims its reward
        for (const x of identities) economy.claimEpoch(x.id, epoch);
        const book = economy.epochs.get(epoch);
        supply.push({
            epoch,
            supply: s.genesis + economy.supplyChange,
            burned: book?.burned ?? 0n,
            slashed: book?.slashed ?? 0n,
            emission: book?.emission ?? 0n,
            minted: book?.minted ?? 0n,
        });
        economy.epochs.delete(epoch);
    }

    const groups = new Map<string, GroupResult>();
    for (const x of identities) {
        const o = owners[x.owner];
        const key = `${o.strategy}:${o.level}`;
        const g = groups.get(key) ?? {
            strategy: o.strategy,
            level: o.level,
            owners: 0,
            identities: 0,
            stake: 0n,
            seats: 0,
            rewards: 0n,
            slashed: 0n,
            cost: 0n,
            disputeCost: 0n,
            bonus: 0n,
            incomeRate: 0,
        };
        const b = economy.providers.get(x.id)!;
        g.identities++;
        g.seats += x.seats;
        g.stake += x.stake;
        g.rewards += b.rewards;
        g.bonus += b.bonusTotal;
        g.slashed += b.slashedTotal;
        groups.set(key, g);
    }
    for (const o of owners) {
        const g = groups.get(`${o.strategy}:${o.level}`)!;
        g.owners++;
        g.cost += o.cost;
        g.disputeCost += o.disputeCost;
    }
    for (const g of groups.values()) {
        g.incomeRate = Number(g.rewards + g.bonus - g.slashed - g.cost) / Number(g.stake) / s.epochs;
    }
    return {
        scenario: s,
        groups: [...groups.values()],
        supply,
        acceptance: [...acceptance.values()].sort((a, b) => a.k - b.k || a.quorum - b.quorum),
        cartelShare: Number(cartelStake) / Number(total),
        jobs,
        matches,
    };
}

/**
 * Fills k seats: each goes to a provider not yet on job `job`, with probability proportional to
 * its free stake among those with at least one `collateral` free, and locks that collateral.
 * Fewer than k such providers leave the job short.
 */
function raceForSeats(racers: Identity[], k: number, collateral: number, job: number, random: () => number): Identity[] {
    const seated: Identity[] = [];
    while (seated.length < k) {
        let total = 0;
        for (const x of racers) if (x.free >= collateral && x.lastJob !== job) total += x.free;
        if (total === 0) break;
        let r = random() * total;
        let pick: Identity | undefined;
        for (const x of racers) {
            if (x.free < collateral || x.lastJob === job) continue;
            pick = x;
            if ((r -= x.free) < 0) break;
        }
        pick!.lastJob = job;
        pick!.free -= collateral;
        seated.push(pick!);
    }
    return seated;
}
