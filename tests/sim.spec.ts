import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../client/paths';
import { parseDeployConfig } from '../wrappers/deployment';
import { defaultParams } from '../wrappers/protocol';
import { acceptanceStudy, cartelStudy, DEMAND, DISPUTE_COSTS, judge, referenceScenario, safeQuorum } from '../sim/study';
import { FOG, majority, simulate } from '../sim/sim';
import { Claim, MatchRule, settleJob } from '../sim/model';

/**
 * The economics simulation (sim/): its bookkeeping, and the three properties for the parameters
 * Fog ships in deploy/config.json. tests/sim-model.spec.ts checks its settlement rules against the
 * contracts.
 */

const run = promisify(execFile);
const shipped = parseDeployConfig(JSON.parse(readFileSync(join(ROOT, 'deploy', 'config.json'), 'utf8')), 0).params;

describe('the simulation', () => {
    it('keeps the FOG books: supply moves by exactly what was minted, burned and slashed', () => {
        const r = simulate(referenceScenario(shipped, { epochs: 20 }));
        const sum = (f: (e: (typeof r.supply)[number]) => bigint) => r.supply.reduce((s, e) => s + f(e), 0n);
        expect(r.supply[r.supply.length - 1].supply - r.scenario.genesis).toBe(
            sum((e) => e.minted) - sum((e) => e.burned) - sum((e) => e.slashed),
        );
        const groups = (f: (g: (typeof r.groups)[number]) => bigint) => r.groups.reduce((s, g) => s + f(g), 0n);
        expect(groups((g) => g.rewards)).toBe(sum((e) => e.minted));
        expect(groups((g) => g.slashed - g.bonus)).toBe(sum((e) => e.slashed));
        for (const e of r.supply) expect(e.minted).toBeLessThanOrEqual(e.emission);
        expect(r.jobs).toBe(20 * DEMAND.reference);
        // idle providers never get a seat; everyone else does
        for (const g of r.groups) expect(g.seats > 0).toBe(g.strategy !== 'idle');
    });

    it('is reproducible from its seed, and another seed gives another run', () => {
        const a = simulate(referenceScenario(shipped, { epochs: 5, seed: 3 }));
        const b = simulate(referenceScenario(shipped, { epochs: 5, seed: 3 }));
        const c = simulate(referenceScenario(shipped, { epochs: 5, seed: 4 }));
        expect(b.groups).toEqual(a.groups);
        expect(c.groups).not.toEqual(a.groups);
    });

    it('gives seats fairly: colluders hold a quorum as often as the binomial says', () => {
        const rows = acceptanceStudy(shipped, 14_000, [0.3]);
        for (const k of [3, 5, 7]) {
            const cell = rows.find((a) => a.k === k && a.quorum === majority(k))!;
            const sd = Math.sqrt((cell.expected * (1 - cell.expected)) / cell.jobs);
            expect(Math.abs(cell.wrong / cell.jobs - cell.expected)).toBeLessThan(4 * sd);
        }
    });
});

describe('settlement with disputes (sim/model.ts)', () => {
    const p = { collateral: 50n * FOG, slashBps: 10_000n };
    const claims = (...revealed: (bigint | undefined)[]): Claim[] => revealed.map((r, i) => ({ worker: `w${i}`, revealed: r }));
    // the honest result (1) beats any other, a defended lie (2) beats a made-up one, two made-up ones both lose
    const rule: MatchRule = (a, b) => {
        const rank = (c: Claim) => (c.revealed === 1n ? 2 : c.revealed === 2n ? 1 : 0);
        return rank(a) === 0 && rank(b) === 0 ? 'neither' : rank(a) >= rank(b) ? 'a' : 'b';
    };

    it('two colluders revealing first and one honest worker: two matches, the honest result wins alone, both colluders slashed', () => {
        const s = settleJob({ price: 30n * FOG, k: 3, quorum: 2, claims: claims(2n, 2n, 1n), match: rule }, p);
        expect(s.matches).toEqual([
            [0, 2],
            [1, 2],
        ]);
        expect([s.phase, s.result, s.winners, s.unitsEach]).toEqual(['done', 1n, 1, 30n * FOG]);
        expect(s.outcomes.map((o) => o.outcome)).toEqual(['slashed', 'slashed', 'won']);
        // the winner gets half of both colluders' slashes in stake; the other half is burned
        expect([s.outcomes.map((o) => o.bonus), s.slashed]).toEqual([[0n, 0n, 50n * FOG], 50n * FOG]);
        // by vote the colluders' quorum wins and the honest worker is slashed
        const vote = settleJob({ price: 30n * FOG, k: 3, quorum: 2, claims: claims(2n, 2n, 1n) }, p);
        expect([vote.result, vote.outcomes.map((o) => o.outcome)]).toEqual([2n, ['won', 'won', 'slashed']]);
    });

    it('two made-up results: neither opens, both are out, the job fails and both are slashed', () => {
        const s = settleJob({ price: 20n * FOG, k: 2, quorum: 2, claims: claims(7n, 8n), match: rule }, p);
        expect([s.phase, s.matches.length, s.refunded, s.slashed]).toEqual(['failed', 1, 20n * FOG, 100n * FOG]);
    });

    it('an uncontested result still needs the quorum; a contested one wins with the holders it kept', () => {
        const short = settleJob({ price: 30n * FOG, k: 3, quorum: 2, claims: claims(1n, undefined, undefined), match: rule }, p);
        expect([short.phase, short.matches.length, short.outcomes.map((o) => o.outcome)]).toEqual([
            'failed',
            0,
            ['released', 'slashed', 'slashed'],
        ]);
        const contested = settleJob({ price: 30n * FOG, k: 3, quorum: 2, claims: claims(9n, 1n, undefined), match: rule }, p);
        expect([contested.phase, contested.result, contested.winners]).toEqual(['done', 1n, 1]);
    });
});

describe('the simulation with disputes', () => {
    it('colluders win only where they hold every seat', () => {
        const rows = acceptanceStudy(shipped, 14_000, [0.3], DISPUTE_COSTS[0].costs);
        for (const k of [1, 2, 3]) {
            const cell = rows.find((a) => a.k === k)!;
            expect(cell.expected).toBeCloseTo(cell.share ** k, 6);
            const sd = Math.sqrt((cell.expected * (1 - cell.expected)) / cell.jobs);
            expect(Math.abs(cell.wrong / cell.jobs - cell.expected)).toBeLessThan(4 * sd);
        }
    });

    it('no honest provider is slashed, and colluders lying against honest seats lose more than honest providers earn', () => {
        const [today, , fast] = DISPUTE_COSTS;
        const r = simulate(referenceScenario(shipped, { epochs: 10, disputes: fast.costs }));
        for (const g of r.groups.filter((g) => g.strategy === 'honest')) expect([g.slashed, g.bonus > 0n]).toEqual([0n, true]);
        expect(r.matches).toBeGreaterThan(0);
        // the books with bonuses: what the groups lost less what the winners gained is what the epochs burned
        const burned = r.supply.reduce((s, e) => s + e.slashed, 0n);
        expect(r.groups.reduce((s, g) => s + g.slashed - g.bonus, 0n)).toBe(burned);
        const rows = cartelStudy(shipped, 10, [0.3]);
        const at = (costs: string | undefined, mode: string) => rows.find((x) => x.costs === costs && x.mode === mode)!;
        expect(at(fast.what, 'always').cartel).toBeLessThan(at(fast.what, 'always').honest);
        // by vote the adaptive cartel's quorum beats honest providers; with disputes its only edge is where it holds every seat
        const edge = (costs: string | undefined) => at(costs, 'adaptive').cartel - at(costs, 'adaptive').honest;
        expect(edge(fast.what)).toBeLessThan(edge(undefined) / 2);
        // today (the compiled prover) the always-lying cartel loses more than honest providers too,
        // but a match still costs an honest side tens of seat computes: the report's griefing figures
        expect(at(today.what, 'always').cartel).toBeLessThan(at(today.what, 'always').honest);
        expect(at(today.what, 'always').honestDisputeCost).toBeGreaterThan(0.2);
        expect(at(today.what, 'always').honestDisputeCost).toBeGreaterThan(2 * at(fast.what, 'always').honestDisputeCost);
    });
});

describe('the shipped parameters (deploy/config.json)', () => {
    it('are the defaults every test and the devnet use', () => {
        const d = defaultParams(0);
        for (const k of ['minStake', 'collateral', 'slashBps', 'emissionBase', 'emissionRatioPpm', 'emissionCap'] as const)
            expect(shipped[k]).toBe(d[k]);
    });

    it('property 1 and 2: honesty pays at every stake level and demand, and the supply stays within the cap', () => {
        const verdict = judge(shipped, 40);
        expect(verdict.honesty.why).toEqual([]);
        expect(verdict.supply.why).toEqual([]);
        expect(verdict.honestWorst).toBeGreaterThan(0);
    });

    it('property 3: colluders under a third of stake get under 1% wrong results at k ≥ 5 with the recommended quorum', () => {
        const rows = acceptanceStudy(shipped, 28_000, [0.3]);
        for (const k of [5, 6, 7]) {
            const cell = rows.find((a) => a.k === k && a.quorum === safeQuorum(k))!;
            expect(cell.jobs).toBeGreaterThan(800);
            expect(cell.wrong / cell.jobs).toBeLessThan(0.01);
        }
        // at k = 3 not even all three seats as quorum gets there (nor at k = 4 near a third): the report says so
        const three = rows.find((a) => a.k === 3 && a.quorum === 3)!;
        expect(three.wrong / three.jobs).toBeGreaterThan(0.01);
        expect([safeQuorum(3), safeQuorum(4)]).toEqual([undefined, undefined]);
    });
});

describe('npm run sim', () => {
    let out: string;
    beforeAll(() => {
        out = mkdtempSync(join(tmpdir(), 'fog-sim-'));
    });
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    it('writes the report, the figures and four PNG charts', async () => {
        const { stdout } = await run('node', [join(ROOT, 'dist', 'sim', 'main.js'), '--short', '--out', out]);
        // the properties, as judged and as the report shows them: k = 3 and 4 are out of any parameter's reach by
        // vote; with disputes the colluders' wrong results fall to share^k, and a griefing cartel costs honest
        // providers more than itself on the interpreter alone, not with today's compiled prover or a faster one
        expect(
            stdout
                .split('\n')
                .filter((l) => /^[✓✗] /.test(l))
                .map((l) => l.slice(0, 1)),
        ).toEqual(['✓', '✓', '✓', '✗', '✓', '✓', '✗', '✓']);
        expect(stdout).toMatch(/✗ colluders under a third of stake get under 1% wrong results accepted for k = 3 and 4 \(unreachable/);
        const report = readFileSync(join(out, 'REPORT.md'), 'utf8');
        for (const heading of [
            '## Properties',
            '## Income per unit of stake per epoch',
            '## Supply',
            '## Wrong results accepted',
            '## Parameter sweep',
            '## Disputes',
            '### The cartel against honest providers',
        ])
            expect(report).toContain(heading);
        expect(report).toContain(`collateral per claim ${Number(shipped.collateral / FOG)} FOG`);
        const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
        expect(results.sweep).toHaveLength(288);
        expect(results.properties).toHaveLength(8);
        expect(results.disputes.cartel.length).toBeGreaterThan(0);
        for (const chart of ['income', 'supply', 'acceptance', 'sweep']) {
            const png = readFileSync(join(out, `${chart}.png`));
            expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
            expect(png.length).toBeGreaterThan(10_000);
        }
    }, 120_000);

    it('refuses a bad option or configuration with a clear message and writes nothing', async () => {
        const bad = join(out, 'bad');
        const fail = (args: string[]) =>
            run('node', [join(ROOT, 'dist', 'sim', 'main.js'), '--out', bad, ...args]).then(
                () => ({ code: 0, stderr: '' }),
                (e) => e as { code: number; stderr: string },
            );
        expect(await fail(['--epochs', '0'])).toMatchObject({
            code: 2,
            stderr: expect.stringContaining('--epochs must be a whole number'),
        });
        expect(await fail(['--config', join(out, 'missing.json')])).toMatchObject({
            code: 2,
            stderr: expect.stringContaining('cannot read'),
        });
        const config = join(out, 'config.json');
        writeFileSync(config, JSON.stringify({ params: { collateral: '5000' } }));
        expect(await fail(['--config', config])).toMatchObject({
            code: 1,
            stderr: expect.stringContaining('minStake must cover one collateral'),
        });
        expect(existsSync(bad)).toBe(false);
    });
});
