/**
 * What `npm run sim` computes and writes: the runs (sim/study.ts), the three properties judged
 * for the given parameters, sim/REPORT.md, sim/results.json and the PNG charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { renderCharts } from './chart';
import { EconomicParams } from './model';
import { Ppm } from '../wrappers/Hub';
import { FOG, SimResult, simulate, STRATEGY_NOTES, Strategy, majority, unanimous, captureProbability } from './sim';
import {
    acceptanceStudy,
    AcceptanceRow,
    CARTEL_SHARE,
    CartelRow,
    cartelStudy,
    COST_SHARE,
    DISPUTE_COSTS,
    DEMAND,
    DEMAND_FLOOR,
    DemandLevel,
    group,
    honestyPays,
    LEVELS,
    pct,
    recommend,
    referenceScenario,
    safeQuorum,
    SHARES,
    supplyBounded,
    supplyRuns,
    sweepGrid,
    judge,
    VARIANTS,
    SWEEP,
    SweepRow,
    undetectableEdges,
    Verdict,
} from './study';

export interface Property extends Verdict {
    name: string;
}

export interface StudyOptions {
    params: EconomicParams;
    epochs: number;
    sweepEpochs: number;
    /** Jobs per colluding share in the acceptance study. */
    acceptanceJobs: number;
    /** Epochs of each run of the cartel study. */
    cartelEpochs: number;
    out: string;
    progress?: (step: string) => void;
}

export interface StudyReport {
    properties: Property[];
    recommended?: EconomicParams;
    charts: string[];
}

/** Colluders below this share of stake must not get wrong results accepted (property 3). */
export const COLLUDING_BOUND = 1 / 3;
export const ACCEPTANCE_TARGET = 0.01;

export async function runStudy(o: StudyOptions): Promise<StudyReport> {
    const step = o.progress ?? (() => {});
    step(`reference network, ${o.epochs} epochs at each demand level`);
    const runs = {} as Record<DemandLevel, SimResult>;
    for (const demand of Object.keys(DEMAND) as DemandLevel[])
        runs[demand] = simulate(referenceScenario(o.params, { epochs: o.epochs, demand }));
    const peaceful = supplyRuns(o.params, o.epochs);
    const adaptive = simulate(referenceScenario(o.params, { epochs: o.epochs, cartelMode: 'adaptive' }));
    step('wrong-result acceptance by colluding share, k and quorum');
    const acceptance = acceptanceStudy(o.params, o.acceptanceJobs);
    step('with disputes: wrong-result acceptance by colluding share and k');
    const disputed = acceptanceStudy(o.params, o.acceptanceJobs, SHARES, DISPUTE_COSTS[0].costs);
    step(`the cartel against honest providers, by vote and with disputes, ${o.cartelEpochs} epochs a run`);
    const cartel = cartelStudy(o.params, o.cartelEpochs);
    step(`parameter sweep, ${o.sweepEpochs} epochs per set and demand level`);
    const rows = await sweepInParallel(o.params, o.sweepEpochs);
    const best = recommend(rows);
    step('the parameters under other assumptions');
    const robustness = VARIANTS.map((v) => ({ what: v.what, row: judge(o.params, o.sweepEpochs, v.assume) }));

    const properties = [...judgeProperties(runs, peaceful, acceptance), ...judgeDisputes(disputed, cartel)];
    mkdirSync(o.out, { recursive: true });
    writeFileSync(
        join(o.out, 'REPORT.md'),
        markdown(o, runs, peaceful, adaptive, acceptance, rows, best, properties, robustness) +
            disputesMarkdown(o, disputed, cartel, acceptance),
    );
    writeFileSync(
        join(o.out, 'results.json'),
        JSON.stringify(
            {
                params: o.params,
                properties,
                recommended: best?.params,
                income: runs.reference.groups,
                adaptiveCartelRun: adaptive.groups,
                supply: Object.fromEntries(Object.entries(peaceful).map(([d, r]) => [d, thin(r.supply, 100)])),
                acceptance,
                disputes: { acceptance: disputed, cartel },
                robustness: robustness.map((r) => ({
                    what: r.what,
                    ok: r.row.ok,
                    honestWorst: r.row.honestWorst,
                    why: [...r.row.honesty.why, ...r.row.supply.why].slice(0, 3),
                })),
                sweep: rows.map((r) => ({
                    params: pick(r.params),
                    ok: r.ok,
                    margin: r.honesty.margin,
                    honestWorst: r.honestWorst,
                    why: [...r.honesty.why, ...r.supply.why].slice(0, 3),
                })),
            },
            (_, v) => (typeof v === 'bigint' ? v.toString() : v),
            1,
        ),
    );
    step('charts');
    const charts = [
        { file: join(o.out, 'income.png'), spec: incomeChart(runs.reference, adaptive) },
        { file: join(o.out, 'supply.png'), spec: supplyChart(peaceful, o.params) },
        { file: join(o.out, 'acceptance.png'), spec: acceptanceChart(acceptance) },
        { file: join(o.out, 'sweep.png'), spec: sweepChart(rows) },
    ];
    await renderCharts(charts);
    return { properties, recommended: best?.params, charts: charts.map((c) => c.file) };
}

/**
 * The sweep's sets judged on one thread per core (each set is independent and takes about a third
 * of a second), in grid order.
 */
export async function sweepInParallel(base: EconomicParams, epochs: number): Promise<SweepRow[]> {
    const grid = sweepGrid(base);
    const threads = Math.max(1, Math.min(availableParallelism(), 8));
    const rows: SweepRow[] = new Array(grid.length);
    const workers: Worker[] = [];
    try {
        await Promise.all(
            Array.from({ length: threads }, (_, t) => {
                const index = grid.map((_, i) => i).filter((i) => i % threads === t);
                const worker = new Worker(join(__dirname, 'sweep-worker.js'), { workerData: { sets: index.map((i) => grid[i]), epochs } });
                workers.push(worker);
                let n = 0;
                worker.on('message', (row: SweepRow) => (rows[index[n++]] = row));
                return new Promise<void>((resolve, reject) => {
                    worker.on('error', reject);
                    worker.on('exit', (code) =>
                        code === 0 && n === index.length
                            ? resolve()
                            : reject(new Error(`sweep thread ${t} stopped (exit ${code}) after ${n} of ${index.length} sets`)),
                    );
                });
            }),
        );
    } finally {
        // one failed thread fails the sweep: the others need not finish
        await Promise.all(workers.map((w) => w.terminate()));
    }
    return rows;
}

/** The three properties, judged on the runs of one parameter set (with every strategy, and peaceful). */
export function judgeProperties(
    runs: Record<DemandLevel, SimResult>,
    peaceful: Record<string, SimResult>,
    acceptance: AcceptanceRow[],
): Property[] {
    const honesty = (Object.keys(runs) as DemandLevel[]).map((d) => ({ d, v: honestyPays(runs[d]) }));
    const supply = [...Object.entries(peaceful), ...Object.entries(runs)].map(([d, r]) => supplyBounded(r, d !== 'low'));
    const under = acceptance.filter((a) => a.share > 0 && a.share < COLLUDING_BOUND && a.k >= 3);
    const measured = (a: AcceptanceRow) => a.wrong / a.jobs;
    const safe = under.filter((a) => a.k >= 5 && safeQuorum(a.k) === a.quorum);
    // for k = 3 and 4: the best quorum (all k seats) at the largest share under a third
    const top = Math.max(...under.map((a) => a.share));
    const small = under.filter((a) => a.k <= 4 && a.quorum === a.k && a.share === top);
    return [
        {
            name: 'honest providers earn more per unit of stake than every strategy that can be caught, at every stake level and demand',
            ok: honesty.every((h) => h.v.ok),
            why: honesty.flatMap((h) => h.v.why.map((w) => `${h.d} demand: ${w}`)),
        },
        {
            name: `no epoch mints more than the cap; from ${DEMAND_FLOOR} jobs a day (two thirds of the reference demand) up, prices burned outweigh FOG minted`,
            ok: supply.every((s) => s.ok),
            why: supply.flatMap((s) => s.why),
        },
        {
            name: `colluders under a third of stake get under 1% wrong results accepted for k ≥ 5 with quorum ${[5, 6, 7].map((k) => `${safeQuorum(k)} of ${k}`).join(', ')}`,
            ok: safe.length > 0 && safe.every((a) => measured(a) < ACCEPTANCE_TARGET),
            why: safe
                .filter((a) => measured(a) >= ACCEPTANCE_TARGET)
                .map(
                    (a) =>
                        `k ${a.k} quorum ${a.quorum} at ${pct(a.share, 0)} colluding: ${pct(measured(a))} accepted (binomial ${pct(a.expected)})`,
                ),
        },
        {
            name: 'colluders under a third of stake get under 1% wrong results accepted for k = 3 and 4 (unreachable: even all k seats as quorum lets them through)',
            ok: small.length > 0 && small.every((a) => measured(a) < ACCEPTANCE_TARGET),
            why: small
                .filter((a) => measured(a) >= ACCEPTANCE_TARGET)
                .map(
                    (a) =>
                        `k ${a.k} quorum ${a.quorum} at ${pct(a.share, 0)} colluding: ${pct(measured(a))} accepted (binomial ${pct(a.expected)})`,
                ),
        },
    ];
}

/**
 * The properties with disputes: colluders get a wrong result accepted only where they hold every
 * seat (the binomial of k seats of k, within sampling noise), and, at each cost of a match, the
 * colluders who lie against honest seats earn less than honest providers at every share below a
 * half.
 */
export function judgeDisputes(acceptance: AcceptanceRow[], cartel: CartelRow[]): Property[] {
    const off = acceptance.filter((a) => {
        const sd = Math.sqrt((a.expected * (1 - a.expected)) / a.jobs);
        return a.share > 0 && Math.abs(a.wrong / a.jobs - a.expected) > 4 * sd + 1 / a.jobs;
    });
    return [
        {
            name: 'with disputes, colluders get a wrong result accepted only where they hold every seat (share^k)',
            ok: acceptance.length > 0 && off.length === 0,
            why: off.map(
                (a) => `k ${a.k} at ${pct(a.share, 0)} colluding: ${pct(a.wrong / a.jobs)} accepted, every seat theirs ${pct(a.expected)}`,
            ),
        },
        ...DISPUTE_COSTS.map((d) => {
            const rows = cartel.filter((r) => r.mode === 'always' && r.costs === d.what);
            const lose = rows.filter((r) => r.cartel >= r.honest);
            return {
                name: `with disputes (${d.what}: ${d.costs.open} and ${d.costs.play} seat computes), colluders lying against honest seats earn less than honest providers at every share below a half`,
                ok: rows.length > 0 && lose.length === 0,
                why: lose.map(
                    (r) =>
                        `at ${pct(r.share, 0)} colluding honest providers earn ${pct(r.honest, 2)} an epoch, the colluders ${pct(r.cartel, 2)}`,
                ),
            };
        }),
    ];
}

const fog = (x: bigint) => (Number(x) / Number(FOG)).toLocaleString('en-US', { maximumFractionDigits: 2 });
const ratio = (ppm: bigint) => (Number(ppm) / Number(Ppm)).toFixed(2);

function pick(p: EconomicParams) {
    return {
        collateral: fog(p.collateral),
        slashBps: Number(p.slashBps),
        emissionRatio: ratio(p.emissionRatioPpm),
        emissionCap: fog(p.emissionCap),
    };
}

function thin<T>(xs: T[], n: number): T[] {
    const every = Math.max(1, Math.ceil(xs.length / n));
    return xs.filter((_, i) => i % every === 0 || i === xs.length - 1);
}

const ORDER: Strategy[] = ['honest', 'split', 'idle', 'lazy', 'liar', 'cartel', 'opportunist', 'sybil'];

function markdown(
    o: StudyOptions,
    runs: Record<DemandLevel, SimResult>,
    peaceful: Record<string, SimResult>,
    adaptive: SimResult,
    acceptance: AcceptanceRow[],
    rows: SweepRow[],
    best: SweepRow | undefined,
    properties: Property[],
    robustness: { what: string; row: SweepRow }[],
): string {
    const p = o.params;
    const ref = runs.reference;
    const L: string[] = [];
    L.push('# Fog economics: simulation report', '');
    L.push(
        `Written by \`npm run sim\` (${o.epochs} epochs; sweep ${o.sweepEpochs} epochs per set and demand level). Charts: income.png, supply.png, acceptance.png, sweep.png.`,
        '',
    );
    L.push('## Parameters judged', '');
    L.push(
        `minimum stake ${fog(p.minStake)} FOG · collateral per claim ${fog(p.collateral)} FOG · slash ${Number(p.slashBps) / 100}% of it · emission ${fog(p.emissionBase)} FOG + ${ratio(p.emissionRatioPpm)} × burned, capped at ${fog(p.emissionCap)} FOG an epoch`,
        '',
    );
    L.push('## Properties', '');
    for (const x of properties) L.push(`- ${x.ok ? '✓' : '✗'} ${x.name}${x.ok ? '' : `\n  - ${x.why.slice(0, 5).join('\n  - ')}`}`);
    L.push('');
    L.push('## Income per unit of stake per epoch (reference demand)', '');
    const d = ref.scenario.demand;
    const seatsOf = (r: SimResult, s: Strategy) => r.groups.filter((g) => g.strategy === s).reduce((n, g) => n + g.seats, 0);
    const allSeats = ref.groups.reduce((n, g) => n + g.seats, 0);
    L.push(
        `${d.jobsPerEpoch} jobs a day (k ${d.kMix.map((m) => m.k).join(', ')} weighted ${d.kMix.map((m) => m.weight).join(':')}, majority quorum, ${d.seatPrice[0]}–${d.seatPrice[1]} FOG a seat); a seat's compute costs ${COST_SHARE * 100}% of its price; colluders hold ${pct(ref.cartelShare, 1)} of stake and took ${pct(seatsOf(ref, 'cartel') / allSeats, 1)} of the seats (idle stake takes none). Net income = rewards − slashes − compute, ÷ stake ÷ epochs.`,
        '',
    );
    L.push(`| strategy | ${LEVELS.map((l) => `${fog(l)} FOG`).join(' | ')} | what it does |`);
    L.push(`|---|${LEVELS.map(() => '---:').join('|')}|---|`);
    for (const s of ORDER) {
        if (s === 'cartel') {
            const c = ref.groups.find((g) => g.strategy === 'cartel')!;
            const a = adaptive.groups.find((g) => g.strategy === 'cartel')!;
            L.push(`| cartel (always lies) | ${LEVELS.map(() => pct(c.incomeRate, 3)).join(' | ')} | ${STRATEGY_NOTES.cartel} |`);
            const h = LEVELS.map((l) => pct(group(adaptive, 'honest', l)!.incomeRate, 3)).join(', ');
            L.push(
                `| cartel (lies with a quorum) | ${LEVELS.map(() => pct(a.incomeRate, 3)).join(' | ')} | the same colluders, lying only when they hold a quorum of the job, and computing once for all their seats otherwise (a run of its own: honest providers there earn ${h}) |`,
            );
            continue;
        }
        L.push(`| ${s} | ${LEVELS.map((l) => pct(group(ref, s, l)?.incomeRate ?? 0, 3)).join(' | ')} | ${STRATEGY_NOTES[s]} |`);
    }
    L.push('');
    L.push(
        'Strategies that lie only where no seat can contradict them are never slashed, so no parameter reaches their lies; redundancy bounds them (see acceptance below). Their income against their honest control (the opportunist against honest, the Sybil against honest split the same way):',
        '',
    );
    for (const e of undetectableEdges(ref))
        L.push(`- ${e.strategy} at ${fog(e.level)} FOG: ${e.edge >= 0 ? '+' : ''}${pct(e.edge, 3)} an epoch against ${e.control}`);
    L.push('');
    L.push('## Supply', '');
    L.push(
        `The reference network's honest and idle providers alone (the other strategies only add slashes, which burn). Prices are fixed in FOG, so a shrinking supply here means FOG growing scarcer, which in a market would lower the FOG price of compute.`,
        '',
    );
    L.push('| demand | jobs a day | burned (prices) | slashed | minted | supply change | largest mint in an epoch |');
    L.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const [d, r] of Object.entries(peaceful)) {
        const sum = (f: (e: SimResult['supply'][number]) => bigint) => r.supply.reduce((s, e) => s + f(e), 0n);
        const top = r.supply.reduce((m, e) => (e.minted > m ? e.minted : m), 0n);
        L.push(
            `| ${d} | ${r.scenario.demand.jobsPerEpoch} | ${fog(sum((e) => e.burned))} | ${fog(sum((e) => e.slashed))} | ${fog(sum((e) => e.minted))} | ${fog(r.supply[r.supply.length - 1].supply - r.scenario.genesis)} | ${fog(top)} (cap ${fog(p.emissionCap)}) |`,
        );
    }
    L.push('');
    L.push('## Wrong results accepted', '');
    L.push(
        "Colluders (one shared wrong result on every seat, identities of the minimum stake) among 200 honest owners of 2,000 FOG; seats go by free stake. Measured share of jobs settled on the wrong result, and in brackets the binomial of independent seats (the colluders' best case; distinct identities per job keep the measured share a little below it).",
        '',
    );
    const shares = [...new Set(acceptance.map((a) => a.share))].filter((s) => s > 0);
    L.push(`| k | quorum | ${shares.map((s) => pct(s, 0)).join(' | ')} |`);
    L.push(`|---|---|${shares.map(() => '---:').join('|')}|`);
    const cells = [...new Set(acceptance.map((a) => `${a.k}/${a.quorum}`))];
    for (const c of cells) {
        const [k, q] = c.split('/').map(Number);
        L.push(
            `| ${k} | ${q}${safeQuorum(k) === q ? ' ✓' : ''} | ${shares
                .map((s) => {
                    const a = acceptance.find((x) => x.k === k && x.quorum === q && x.share === s);
                    return a ? `${pct(a.wrong / a.jobs, 1)} (${pct(a.expected, 1)})` : '';
                })
                .join(' | ')} |`,
        );
    }
    L.push('');
    L.push(
        `✓: the smallest quorum keeping acceptance under 1% at a third of stake. None exists for k ≤ 4: at k = 3 a majority lets a third of stake through ${pct(captureProbability(3, majority(3), 1 / 3), 1)} of the time, unanimity ${pct(captureProbability(3, unanimous(3), 1 / 3), 1)}; no parameter changes this, because the colluders' chance of holding the quorum depends only on their share of the seats.`,
        '',
    );
    L.push('## Parameter sweep', '');
    const ok = rows.filter((r) => r.ok);
    L.push(
        `${rows.length} sets (collateral × slash × emission ratio × cap), each at ${Object.values(DEMAND).join(', ')} jobs a day with colluders at ${pct(CARTEL_SHARE, 0)}; ${ok.length} meet properties 1 and 2 (property 3 does not depend on them).`,
        '',
    );
    if (best) {
        L.push(
            `**Recommended:** collateral ${fog(best.params.collateral)} FOG, slash ${Number(best.params.slashBps) / 100}%, emission ratio ${ratio(best.params.emissionRatioPpm)}, cap ${fog(best.params.emissionCap)} FOG (worst honest margin over the best catchable strategy ${pct(best.honesty.margin, 3)} an epoch; honest income at worst ${pct(best.honestWorst, 3)}).`,
            '',
        );
    }
    const reasons = new Map<string, number>();
    for (const r of rows)
        for (const w of [...r.honesty.why, ...r.supply.why]) {
            const key = w
                .replace(/^(\w+ demand): at .* honest earns .* an epoch, (\w+) .*$/, '$1: honest earns no more than $2')
                .replace(/^at (\d+) jobs a day the run minted .*$/, 'at $1 jobs a day more FOG minted than burned');
            reasons.set(key, (reasons.get(key) ?? 0) + 1);
        }
    L.push('Why sets fail (count of failures of each kind):', '');
    for (const [k, n] of [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) L.push(`- ${n}× ${k}`);
    L.push('');
    L.push('| collateral | slash | ratio | cap | meets 1 and 2 | worst margin | worst honest income |');
    L.push('|---:|---:|---:|---:|---|---:|---:|');
    for (const r of [...rows].sort((a, b) => b.honesty.margin - a.honesty.margin).slice(0, 15)) {
        const x = pick(r.params);
        L.push(
            `| ${x.collateral} | ${x.slashBps / 100}% | ${x.emissionRatio} | ${x.emissionCap} | ${r.ok ? 'yes' : 'no'} | ${pct(r.honesty.margin, 3)} | ${pct(r.honestWorst, 3)} |`,
        );
    }
    L.push('');
    L.push('## Under other assumptions', '');
    L.push(
        `The parameters judged, with what the parameters cannot choose changed one at a time (${o.sweepEpochs} epochs at each demand level, like the sweep).`,
        '',
    );
    L.push('| assumption | properties 1 and 2 | worst honest income | first failure |');
    L.push('|---|---|---:|---|');
    for (const r of robustness)
        L.push(
            `| ${r.what} | ${r.row.ok ? 'hold' : 'fail'} | ${pct(r.row.honestWorst, 3)} | ${[...r.row.honesty.why, ...r.row.supply.why][0] ?? ''} |`,
        );
    L.push('');
    return L.join('\n');
}

/** The report's disputes section: acceptance with disputes, and the cartel study. */
function disputesMarkdown(o: StudyOptions, disputed: AcceptanceRow[], cartel: CartelRow[], byVote: AcceptanceRow[]): string {
    const L: string[] = ['', '## Disputes', ''];
    L.push(
        "With the network's disputes on ([docs/disputes.md](../docs/disputes.md)), revealed results that differ play the job's tournament instead of a vote. The simulation plays it by the contracts' rules (`sim/model.ts`, checked against the contracts by tests/sim-model.spec.ts): the true result beats any other, a run the colluders computed for their wrong result beats a made-up one, two made-up results both lose. Each side that holds a run opens its match; when both do, both play it to its proof.",
        '',
    );
    L.push('### Wrong results accepted, with disputes', '');
    L.push(
        'The same colluders and honest owners as above. Measured share of jobs settled on the wrong result, and in brackets the chance that the colluders hold every seat.',
        '',
    );
    const shares = [...new Set(disputed.map((a) => a.share))].filter((s) => s > 0);
    L.push(`| k | ${shares.map((s) => pct(s, 0)).join(' | ')} |`);
    L.push(`|---|${shares.map(() => '---:').join('|')}|`);
    for (const k of [...new Set(disputed.map((a) => a.k))])
        L.push(
            `| ${k} | ${shares
                .map((s) => {
                    const a = disputed.find((x) => x.k === k && x.share === s);
                    return a ? `${pct(a.wrong / a.jobs, 1)} (${pct(a.expected, 1)})` : '';
                })
                .join(' | ')} |`,
        );
    L.push('');
    const third = shares.reduce((b, s) => (Math.abs(s - 1 / 3) < Math.abs(b - 1 / 3) ? s : b), shares[0]);
    const at = (rows: AcceptanceRow[], k: number, q: number) => rows.find((a) => a.k === k && a.quorum === q && a.share === third);
    const rate = (a: AcceptanceRow | undefined) => (a ? pct(a.wrong / a.jobs, 1) : 'n/a');
    L.push(
        `At ${pct(third, 0)} colluding: k = 2 with disputes lets ${rate(at(disputed, 2, majority(2)))} through, k = 3 by majority ${rate(at(byVote, 3, majority(3)))}, k = 3 by unanimity ${rate(at(byVote, 3, 3))}, k = 3 with disputes ${rate(at(disputed, 3, majority(3)))}. Two seats with disputes are safer than three by majority and cost a third less; three with disputes are safer still.`,
        '',
    );
    L.push('### The cartel against honest providers', '');
    L.push(
        `The reference network (${o.cartelEpochs} epochs a run) with colluders at each share of stake, lying on every seat (always) or only where they win (adaptive: a quorum by vote, every seat with disputes), by vote and with disputes at three costs of a match for each side, in seat computes (a seat's compute costs ${COST_SHARE * 100}% of its price): opening (the final state's proof) and playing (every root and the proof). Net income of all honest providers and of all colluders, per unit of stake per epoch; in brackets honest providers' dispute compute.`,
        '',
    );
    const variants = ['vote', ...DISPUTE_COSTS.map((d) => d.what)];
    L.push(`| share | colluders | ${variants.map((v) => (v === 'vote' ? 'by vote' : `disputes, ${v}`)).join(' | ')} |`);
    L.push(`|---:|---|${variants.map(() => '---').join('|')}|`);
    for (const share of [...new Set(cartel.map((r) => r.share))])
        for (const mode of ['always', 'adaptive'] as const)
            L.push(
                `| ${pct(share, 0)} | ${mode} | ${variants
                    .map((v) => {
                        const r = cartel.find((x) => x.share === share && x.mode === mode && (x.costs ?? 'vote') === v)!;
                        const burden = r.honestDisputeCost > 0 ? ` (${pct(r.honestDisputeCost, 2)})` : '';
                        return `honest ${pct(r.honest, 2)}${burden}, colluders ${pct(r.cartel, 2)}`;
                    })
                    .join(' | ')} |`,
            );
    L.push('');
    L.push(DISPUTE_COSTS.map((d) => `- ${d.what}: opening ${d.costs.open}, playing ${d.costs.play} seat computes`).join('\n'), '');
    return L.join('\n');
}

// ---- charts (Vega-Lite specs) ----

function incomeChart(r: SimResult, adaptive: SimResult): object {
    const values = r.groups.map((g) => ({
        strategy: g.strategy,
        stake: g.strategy === 'cartel' ? 'cartel' : `${fog(g.level)} FOG`,
        income: g.incomeRate * 100,
    }));
    const cartel = adaptive.groups.find((g) => g.strategy === 'cartel')!;
    values.push({ strategy: 'cartel (adaptive)' as Strategy, stake: 'cartel', income: cartel.incomeRate * 100 });
    return {
        title: `Net income per unit of stake per epoch (%), reference demand, ${r.scenario.epochs} epochs`,
        width: 720,
        height: 360,
        data: { values },
        mark: 'bar',
        encoding: {
            x: { field: 'strategy', type: 'nominal', sort: [...ORDER, 'cartel (adaptive)'], title: null },
            xOffset: { field: 'stake', sort: [...LEVELS.map((l) => `${fog(l)} FOG`), 'cartel'] },
            y: { field: 'income', type: 'quantitative', title: '% of stake per epoch' },
            color: { field: 'stake', type: 'nominal', sort: [...LEVELS.map((l) => `${fog(l)} FOG`), 'cartel'], title: 'stake' },
        },
    };
}

function supplyChart(runs: Record<string, SimResult>, p: EconomicParams): object {
    const values = Object.entries(runs).flatMap(([d, r]) =>
        thin(r.supply, 250).map((e) => ({
            demand: `${d} (${r.scenario.demand.jobsPerEpoch} jobs/day)`,
            epoch: e.epoch,
            supply: Number(e.supply - r.scenario.genesis) / 1e9 / 1e6,
            minted: Number(e.minted) / 1e9 / 1e3,
        })),
    );
    const cap = Number(p.emissionCap) / 1e9 / 1e3;
    return {
        title: 'FOG supply change over time, and each epoch’s mint against the cap',
        data: { values },
        vconcat: [
            {
                width: 720,
                height: 220,
                mark: 'line',
                encoding: {
                    x: { field: 'epoch', type: 'quantitative' },
                    y: { field: 'supply', type: 'quantitative', title: 'supply change (million FOG)' },
                    color: { field: 'demand', type: 'nominal', legend: { labelLimit: 300 } },
                },
            },
            {
                width: 720,
                height: 160,
                layer: [
                    {
                        mark: 'line',
                        encoding: {
                            x: { field: 'epoch', type: 'quantitative' },
                            y: { field: 'minted', type: 'quantitative', title: 'minted per epoch (thousand FOG)' },
                            color: { field: 'demand', type: 'nominal' },
                        },
                    },
                    {
                        data: { values: [{ cap }] },
                        mark: { type: 'rule', strokeDash: [6, 4], color: 'firebrick' },
                        encoding: { y: { field: 'cap', type: 'quantitative' } },
                    },
                ],
            },
        ],
    };
}

function acceptanceChart(rows: AcceptanceRow[]): object {
    const values = rows
        .filter((a) => a.k >= 3 && (a.quorum === majority(a.k) || a.quorum === safeQuorum(a.k) || a.quorum === a.k))
        .map((a) => ({
            share: a.share * 100,
            accepted: (a.wrong / a.jobs) * 100,
            k: `k = ${a.k}`,
            quorum: a.quorum === majority(a.k) ? 'majority' : a.quorum === a.k ? 'all k' : `${a.quorum} of ${a.k}`,
        }));
    return {
        title: {
            text: 'Wrong results accepted against the colluders’ share of stake',
            subtitle: 'dotted: majority quorum · dashed: all k seats · solid: 6 of 7 · red: 1% · grey: a third of stake',
        },
        width: 720,
        height: 360,
        layer: [
            {
                data: { values },
                mark: { type: 'line', point: true },
                encoding: {
                    x: { field: 'share', type: 'quantitative', title: 'colluders’ share of stake (%)' },
                    y: {
                        field: 'accepted',
                        type: 'quantitative',
                        title: 'jobs settled on a wrong result (%, symlog scale)',
                        scale: { type: 'symlog' },
                        axis: { values: [0, 0.5, 1, 2, 5, 10, 20, 50], format: '~g' },
                    },
                    color: { field: 'k', type: 'nominal' },
                    strokeDash: {
                        field: 'quorum',
                        type: 'nominal',
                        legend: null,
                        scale: {
                            domain: ['majority', 'all k', '6 of 7'],
                            range: [
                                [2, 2],
                                [6, 3],
                                [1, 0],
                            ],
                        },
                    },
                    detail: { field: 'quorum' },
                },
            },
            {
                data: { values: [{ y: 1 }] },
                mark: { type: 'rule', color: 'firebrick' },
                encoding: { y: { field: 'y', type: 'quantitative', scale: { type: 'symlog' } } },
            },
            {
                data: { values: [{ x: 100 / 3 }] },
                mark: { type: 'rule', color: 'gray', strokeDash: [4, 4] },
                encoding: { x: { field: 'x', type: 'quantitative' } },
            },
        ],
    };
}

function sweepChart(rows: SweepRow[]): object {
    const values = rows.map((r) => ({
        ...pick(r.params),
        margin: r.ok ? r.honesty.margin * 100 : null,
        verdict: r.ok ? 'meets 1 and 2' : 'fails',
    }));
    return {
        title: 'Sweep: worst honest margin over the best catchable strategy (% of stake per epoch); blank = fails',
        data: { values },
        facet: {
            row: { field: 'emissionRatio', title: 'emission ratio' },
            column: { field: 'emissionCap', title: 'cap (FOG)', sort: SWEEP.emissionCap.map(fog) },
        },
        spec: {
            width: 150,
            height: 90,
            mark: 'rect',
            encoding: {
                x: { field: 'collateral', type: 'ordinal', sort: SWEEP.collateral.map(fog), title: 'collateral (FOG)' },
                y: { field: 'slashBps', type: 'ordinal', title: 'slash (bps)' },
                color: { field: 'margin', type: 'quantitative', title: 'margin %', scale: { scheme: 'viridis' } },
            },
        },
    };
}
