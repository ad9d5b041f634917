/**
 * The studies `npm run sim` runs over the simulation (sim/sim.ts): the reference network under
 * given parameters, the three properties Fog's parameters must give, a sweep over collateral,
 * slash fraction, emission ratio and cap that picks defaults meeting them, and the wrong-result
 * acceptance by colluding share, k and quorum.
 */
import { EconomicParams } from './model';
import {
    AcceptanceCell,
    captureProbability,
    CartelMode,
    DETERRABLE,
    DisputeCosts,
    FOG,
    GroupResult,
    majority,
    Population,
    QuorumRule,
    Scenario,
    simulate,
    SimResult,
    Strategy,
    UNDETECTABLE,
} from './sim';

/** Stake levels the populations hold, in whole FOG (the first is the default minimum stake). */
export const LEVELS = [1_000n, 3_000n, 10_000n, 30_000n].map((x) => x * FOG);
export const COST_SHARE = 0.3;
/** The colluders' share of stake in the reference network: just under a third. */
export const CARTEL_SHARE = 0.3;
export const GENESIS = 10_000_000n * FOG;

/** Jobs a day in the reference network, and the low and high demand it is also judged at. */
export const DEMAND = { low: 60, reference: 300, high: 1_500 } as const;
export type DemandLevel = keyof typeof DEMAND;
/** Burning must cover minting down to this demand (two thirds of the reference), not only at it. */
export const DEMAND_FLOOR = 200;

/** The peaceful network (honest and idle providers) at each demand level and at the floor: for the supply. */
export function supplyRuns(
    params: EconomicParams,
    epochs: number,
    assume: Assumptions = ASSUMED,
): Record<DemandLevel | 'floor', SimResult> {
    const run = (jobsPerEpoch: number) => {
        const s = referenceScenario(params, { epochs, peaceful: true, assume });
        return simulate({ ...s, demand: { ...s.demand, jobsPerEpoch } });
    };
    return { low: run(DEMAND.low), floor: run(DEMAND_FLOOR), reference: run(DEMAND.reference), high: run(DEMAND.high) };
}

/**
 * Every strategy at every stake level: six honest owners per level, one of each other kind, and
 * colluders (always lying) holding `CARTEL_SHARE` of all stake in identities of 10,000 FOG.
 * `peaceful`: honest and idle owners only, for the supply a network settles into (an attacker who
 * keeps paying slashes burns more, which only lowers it).
 */
/** What the reference network assumes about the world, which the parameters cannot choose. */
export interface Assumptions {
    /** A seat's compute cost ÷ its price. */
    costShare: number;
    /** The colluders' share of all stake. */
    cartelShare: number;
    /** What requesters pay a seat, in whole FOG. */
    seatPrice: [number, number];
}

export const ASSUMED: Assumptions = { costShare: COST_SHARE, cartelShare: CARTEL_SHARE, seatPrice: [5, 60] };

export function referenceScenario(
    params: EconomicParams,
    o: {
        epochs: number;
        demand?: DemandLevel;
        seed?: number;
        cartelMode?: 'always' | 'adaptive';
        peaceful?: boolean;
        assume?: Assumptions;
        disputes?: DisputeCosts;
    },
): Scenario {
    const a = o.assume ?? ASSUMED;
    const others: Strategy[] = o.peaceful ? ['idle'] : ['split', 'idle', 'lazy', 'liar', 'opportunist', 'sybil'];
    const populations: Population[] = LEVELS.flatMap((level) => [
        { strategy: 'honest' as Strategy, level, owners: 6 },
        ...others.map((strategy) => ({ strategy, level, owners: 1 })),
    ]);
    return {
        params,
        epochs: o.epochs,
        rounds: 4,
        demand: {
            jobsPerEpoch: DEMAND[o.demand ?? 'reference'],
            kMix: [
                { k: 1, weight: 1 },
                { k: 2, weight: 1 },
                { k: 3, weight: 5 },
                { k: 5, weight: 2 },
                { k: 7, weight: 1 },
            ],
            seatPrice: a.seatPrice,
        },
        quorums: [majority],
        costShare: a.costShare,
        populations,
        cartel: { share: o.peaceful ? 0 : a.cartelShare, mode: o.cartelMode ?? 'always', level: 10_000n * FOG },
        disputes: o.disputes,
        genesis: GENESIS,
        seed: o.seed ?? 1,
    };
}

export interface Verdict {
    ok: boolean;
    why: string[];
}

/**
 * Property 1: at every stake level, honest providers earn more per unit of stake than every
 * strategy that can be caught (idle, lazy, liar, always-lying cartel), and more than nothing.
 * Returns the worst margin (honest − best deterrable rate) too.
 */
export function honestyPays(r: SimResult): Verdict & { margin: number } {
    const why: string[] = [];
    let margin = Infinity;
    for (const level of LEVELS) {
        const honest = group(r, 'honest', level);
        if (!honest) continue;
        for (const strategy of DETERRABLE) {
            const other = strategy === 'cartel' ? r.groups.find((g) => g.strategy === 'cartel') : group(r, strategy, level);
            if (!other) continue;
            const m = honest.incomeRate - Math.max(other.incomeRate, 0);
            margin = Math.min(margin, m);
            if (m <= 0)
                why.push(`at ${level / FOG} FOG honest earns ${pct(honest.incomeRate)} an epoch, ${strategy} ${pct(other.incomeRate)}`);
        }
    }
    return { ok: why.length === 0, why, margin };
}

/**
 * Property 2: no epoch mints more than the cap (nor more than its emission), and from the demand
 * floor up the supply does not grow: the prices burned outweigh what is minted.
 */
export function supplyBounded(r: SimResult, bounded: boolean): Verdict {
    const why: string[] = [];
    const cap = r.scenario.params.emissionCap;
    for (const e of r.supply) {
        if (e.minted > e.emission || e.emission > cap)
            why.push(`epoch ${e.epoch} minted ${e.minted / FOG} FOG of an emission of ${e.emission / FOG} (cap ${cap / FOG})`);
    }
    const minted = r.supply.reduce((s, e) => s + e.minted, 0n);
    const burned = r.supply.reduce((s, e) => s + e.burned, 0n);
    if (bounded && minted > burned)
        why.push(
            `at ${r.scenario.demand.jobsPerEpoch} jobs a day the run minted ${minted / FOG} FOG and burned only ${burned / FOG} FOG in prices`,
        );
    return { ok: why.length === 0, why };
}

/**
 * Income rates of the undetectable strategies above their honest control's, per level: what
 * redundancy must bound. The opportunist is compared with honest providers, the Sybil with honest
 * ones split the same way (so that only its lying and copying count, not its identities).
 */
export function undetectableEdges(r: SimResult): { strategy: Strategy; control: Strategy; level: bigint; edge: number }[] {
    const rate = (strategy: Strategy, level: bigint) => {
        const g = group(r, strategy, level);
        if (!g) throw new Error(`the run has no ${strategy} provider at ${level / FOG} FOG`);
        return g.incomeRate;
    };
    return LEVELS.flatMap((level) =>
        UNDETECTABLE.map((strategy) => {
            const control: Strategy = strategy === 'sybil' ? 'split' : 'honest';
            return { strategy, control, level, edge: rate(strategy, level) - rate(control, level) };
        }),
    );
}

export function group(r: SimResult, strategy: Strategy, level: bigint): GroupResult | undefined {
    return r.groups.find((g) => g.strategy === strategy && g.level === level);
}

export function pct(x: number, digits = 2): string {
    return `${(x * 100).toFixed(digits)}%`;
}

export const SWEEP = {
    collateral: [10n, 25n, 50n, 100n, 200n, 400n].map((x) => x * FOG),
    slashBps: [2_500n, 5_000n, 10_000n],
    emissionRatioPpm: [250_000n, 500_000n, 650_000n, 800_000n],
    emissionCap: [25_000n, 50_000n, 100_000n, 200_000n].map((x) => x * FOG),
};

export interface SweepRow {
    params: EconomicParams;
    honesty: Verdict & { margin: number };
    supply: Verdict;
    /** Honest providers' lowest income rate over demand levels and stake levels. */
    honestWorst: number;
    ok: boolean;
}

/** Every combination of the swept parameters, the rest from `base`. */
export function sweepGrid(base: EconomicParams): EconomicParams[] {
    const grid: EconomicParams[] = [];
    for (const collateral of SWEEP.collateral)
        for (const slashBps of SWEEP.slashBps)
            for (const emissionRatioPpm of SWEEP.emissionRatioPpm)
                for (const emissionCap of SWEEP.emissionCap) grid.push({ ...base, collateral, slashBps, emissionRatioPpm, emissionCap });
    return grid;
}

/** One parameter set at every demand level. */
export function judge(params: EconomicParams, epochs: number, assume: Assumptions = ASSUMED): SweepRow {
    const honesty: SweepRow['honesty'] = { ok: true, why: [], margin: Infinity };
    const supply: Verdict = { ok: true, why: [] };
    let honestWorst = Infinity;
    for (const demand of Object.keys(DEMAND) as DemandLevel[]) {
        const r = simulate(referenceScenario(params, { epochs, demand, assume }));
        const h = honestyPays(r);
        // failed jobs refund their price while the base still mints: the supply with every strategy too
        const s = supplyBounded(r, demand !== 'low');
        supply.ok &&= s.ok;
        supply.why.push(...s.why.map((w) => `with every strategy: ${w}`));
        honesty.ok &&= h.ok;
        honesty.why.push(...h.why.map((w) => `${demand} demand: ${w}`));
        honesty.margin = Math.min(honesty.margin, h.margin);
        for (const level of LEVELS) honestWorst = Math.min(honestWorst, group(r, 'honest', level)?.incomeRate ?? -Infinity);
    }
    for (const [demand, r] of Object.entries(supplyRuns(params, epochs, assume))) {
        const s = supplyBounded(r, demand !== 'low');
        supply.ok &&= s.ok;
        supply.why.push(...s.why);
    }
    return { params, honesty, supply, honestWorst, ok: honesty.ok && supply.ok };
}

/**
 * The recommendation: of the sets meeting properties 1 and 2, those whose worst honest margin is
 * within 10% of the best; of those the most conservative: the lowest cap, then the lowest
 * emission ratio, then the least collateral locked, then the highest slash fraction.
 */
export function recommend(rows: SweepRow[]): SweepRow | undefined {
    const ok = rows.filter((r) => r.ok);
    if (ok.length === 0) return undefined;
    const best = Math.max(...ok.map((r) => r.honesty.margin));
    const near = ok.filter((r) => r.honesty.margin >= best * 0.9);
    const by = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
    near.sort(
        (a, b) =>
            by(a.params.emissionCap, b.params.emissionCap) ||
            by(a.params.emissionRatioPpm, b.params.emissionRatioPpm) ||
            by(a.params.collateral, b.params.collateral) ||
            by(b.params.slashBps, a.params.slashBps),
    );
    return near[0];
}

export const SHARES = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.33, 0.4, 0.5];

export interface AcceptanceRow extends AcceptanceCell {
    share: number;
    /** The same from the binomial: each seat the colluders' with probability `share`. */
    expected: number;
}

/**
 * Wrong results accepted when colluders (always lying, one shared result, identities of the
 * minimum stake) hold each share of stake among 200 honest owners of 2,000 FOG: every k from 1 to
 * 7 and every quorum from a majority to all k. Many identities make seats close to independent
 * draws, the colluders' best case.
 */
export function acceptanceStudy(params: EconomicParams, jobsPerShare: number, shares = SHARES, disputes?: DisputeCosts): AcceptanceRow[] {
    // with disputes a contested result never wins by count: one quorum (majority) says it all
    const quorums: QuorumRule[] = [];
    for (let extra = 0; extra <= (disputes ? 0 : 3); extra++) quorums.push((k) => Math.min(k, majority(k) + extra));
    const rows: AcceptanceRow[] = [];
    for (const [i, share] of shares.entries()) {
        const r = simulate({
            params,
            epochs: 10,
            rounds: 10,
            demand: { jobsPerEpoch: jobsPerShare / 10, kMix: [1, 2, 3, 4, 5, 6, 7].map((k) => ({ k, weight: 1 })), seatPrice: [10, 10] },
            quorums,
            costShare: COST_SHARE,
            populations: [{ strategy: 'honest', level: 2_000n * FOG, owners: 200 }],
            cartel: { share, mode: 'always', level: params.minStake },
            disputes,
            genesis: GENESIS,
            seed: 100 + i,
        });
        // with disputes the colluders win only where they hold every seat
        for (const c of r.acceptance)
            rows.push({ ...c, share: r.cartelShare, expected: captureProbability(c.k, disputes ? c.k : c.quorum, r.cartelShare) });
    }
    return rows;
}

/**
 * For each k, the smallest quorum that keeps acceptance under `target` when colluders hold
 * `share` of stake (from the binomial), or undefined when even all k seats do not.
 */
export function safeQuorum(k: number, share = 1 / 3, target = 0.01): number | undefined {
    for (let q = majority(k); q <= k; q++) if (captureProbability(k, q, share) < target) return q;
    return undefined;
}

/** The assumptions the recommendation is also judged under: cheaper and dearer compute, smaller cartels, other prices. */
export const VARIANTS: { what: string; assume: Assumptions }[] = [
    { what: 'as assumed', assume: ASSUMED },
    { what: 'compute costs 20% of the price', assume: { ...ASSUMED, costShare: 0.2 } },
    { what: 'compute costs 40% of the price', assume: { ...ASSUMED, costShare: 0.4 } },
    { what: 'colluders hold 10% of stake', assume: { ...ASSUMED, cartelShare: 0.1 } },
    { what: 'colluders hold 20% of stake', assume: { ...ASSUMED, cartelShare: 0.2 } },
    { what: 'seats at 1–10 FOG', assume: { ...ASSUMED, seatPrice: [1, 10] } },
    { what: 'seats at 20–200 FOG', assume: { ...ASSUMED, seatPrice: [20, 200] } },
];

/**
 * What a dispute match costs a side, in seat computes (V8 runs of the job), measured in BENCHMARKS
 * section 8 on the long examples: a side opens from its metered V8 run, 1 to 26 runs' worth with
 * the final memory hashed (25 here); the compiled prover (client/dispute/compiled.ts) plays the
 * bisection, its roots hashed from the machine's memory, 11 to 71 runs' worth in all across the
 * bench's runs (fnv-rounds, meme, matmul; 75 here, the dearest rounded up). The first row is Fog today; the second the same
 * game played by the reference interpreter alone, as before the compiled prover (190 to 890 runs'
 * worth: 450); the third a prover 10 times faster than today's. A side opens once in a job,
 * whatever its matches.
 */
export const DISPUTE_COSTS: { what: string; costs: DisputeCosts }[] = [
    { what: 'today: a side opens from its V8 run, the compiled prover plays', costs: { open: 25, play: 75 } },
    { what: 'the interpreter plays (before the compiled prover)', costs: { open: 25, play: 450 } },
    { what: 'a prover 10× faster than today', costs: { open: 25, play: 10 } },
];

/** Colluders' shares of stake the cartel study runs: up to just under a half. */
export const CARTEL_SHARES = [0.05, 0.1, 0.2, 0.3, 0.4, 0.49];

export interface CartelRow {
    share: number;
    mode: CartelMode;
    /** undefined: by vote. */
    costs?: string;
    /** Every honest provider together, and the colluders together: net income ÷ stake ÷ epochs. */
    honest: number;
    cartel: number;
    /** Share of the jobs settled on the colluders' result. */
    wrong: number;
    matches: number;
    /** Honest providers' compute spent in matches ÷ their stake ÷ epochs. */
    honestDisputeCost: number;
}

/**
 * The cartel against honest providers, by vote and with disputes at each cost of a match, for
 * each share of stake and both modes (always lying; lying only where it can win: a quorum by
 * vote, every seat with disputes), in the reference network.
 */
export function cartelStudy(params: EconomicParams, epochs: number, shares = CARTEL_SHARES): CartelRow[] {
    const rows: CartelRow[] = [];
    const variants: { costs?: string; disputes?: DisputeCosts }[] = [
        {},
        ...DISPUTE_COSTS.map((d) => ({ costs: d.what, disputes: d.costs })),
    ];
    for (const share of shares)
        for (const mode of ['always', 'adaptive'] as CartelMode[])
            for (const v of variants) {
                const r = simulate(
                    referenceScenario(params, {
                        epochs,
                        cartelMode: mode,
                        disputes: v.disputes,
                        assume: { ...ASSUMED, cartelShare: share },
                    }),
                );
                const sum = (strategy: Strategy) => {
                    const gs = r.groups.filter((g) => g.strategy === strategy);
                    const stake = gs.reduce((a, g) => a + Number(g.stake), 0);
                    const disputeCost = gs.reduce((a, g) => a + Number(g.disputeCost), 0);
                    return {
                        rate: gs.reduce((a, g) => a + g.incomeRate * Number(g.stake), 0) / stake,
                        disputeRate: disputeCost / stake / epochs,
                    };
                };
                const honest = sum('honest');
                const wrong = r.acceptance.reduce((a, c) => a + c.wrong, 0) / r.jobs;
                rows.push({
                    share: r.cartelShare,
                    mode,
                    costs: v.costs,
                    honest: honest.rate,
                    cartel: sum('cartel').rate,
                    wrong,
                    matches: r.matches,
                    honestDisputeCost: honest.disputeRate,
                });
            }
    return rows;
}
