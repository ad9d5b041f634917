/**
 * The benchmark report: every raw figure (BENCHMARKS.json) and their rendering with the machine
 * they were measured on (BENCHMARKS.md). Times are the machine's; ratios are what to compare.
 */
import { cpus, availableParallelism, platform, arch } from 'node:os';
import { GAS_PRICE_NANO, gasTon } from '../client/fees';
import { DevnetFigures } from './devnet';
import { GasFigures, ShardedCost } from './gas';
import { HistoryGas } from './history';
import { METERING_GOAL_EXAMPLES, MeteringFigures } from './metering';
import { DisputeFigures, SCAN_STEPS, SPREAD_STEPS } from './dispute';
import { InterpreterFigures } from './interpreter';
import { PoolFigures } from './pool';
import { WatcherFigures } from './watcher';
import { TrainingFigures } from './training';
import { MemeFigures } from './memes';

export type BenchMode = 'full' | 'short';

export interface Machine {
    cpu: string;
    cores: number;
    node: string;
    platform: string;
    date: string;
    mode: BenchMode;
}

/** A goal and whether this run met it (null in short mode: too small a run to judge). */
export interface Goal {
    name: string;
    value: number;
    /** How the value is shown: a ratio (×), a share (%) or a drift (%). */
    unit: 'ratio' | 'percent';
    met: boolean | null;
}

export interface BenchReport {
    machine: Machine;
    /** Wall seconds the whole run took. */
    seconds: number;
    goals: Goal[];
    gas: GasFigures;
    pool: PoolFigures;
    devnet: DevnetFigures;
    watcher: WatcherFigures;
    history: HistoryGas;
    metering: MeteringFigures;
    interpreter: InterpreterFigures;
    disputes: DisputeFigures;
    training: TrainingFigures;
    memes: MemeFigures;
}

/** The goals, from the figures: judged in full mode only, except the deterministic gas one. */
export function goalsOf(r: Omit<BenchReport, 'goals' | 'machine' | 'seconds'>, mode: BenchMode): Goal[] {
    const timed = (ok: boolean) => (mode === 'full' ? ok : null);
    // signed: job #1000 may cost less than job #1 (the first deploys its epoch)
    const drift = (r.history.last - r.history.first) / r.history.first;
    const metering = meteringGoalValue(r.metering);
    const shard = shardGoal(r.gas);
    return [
        {
            name: 'compute pool overhead on a ~100 ms job ≤ 5%',
            value: r.pool.overhead,
            unit: 'percent',
            met: timed(r.pool.overhead <= 0.05),
        },
        {
            name: 'devnet transactions per second ≥ 0.7 × the bare emulator’s',
            value: r.devnet.ratio,
            unit: 'ratio',
            met: timed(r.devnet.ratio >= 0.7),
        },
        { name: `gas of job #${r.history.lastId + 1} within 1% of job #1’s`, value: drift, unit: 'percent', met: Math.abs(drift) <= 0.01 },
        {
            name: `metering overhead on ${METERING_GOAL_EXAMPLES.join(' and ')} ≤ 10%`,
            value: metering,
            unit: 'percent',
            met: timed(metering <= 0.1),
        },
        {
            name: 'gas of a shard of 16 (k=1) ≤ 60% of a single job’s',
            value: shard.gas / shard.singleGas,
            unit: 'percent',
            met: shard.gas <= 0.6 * shard.singleGas,
        },
        {
            name: 'TON of a shard of 16 (k=1) ≤ 60% of a single job’s',
            value: shard.ton / shard.singleTon,
            unit: 'percent',
            met: shard.ton <= 0.6 * shard.singleTon,
        },
    ];
}

/** The larger overhead of the goal's examples. */
function meteringGoalValue(m: MeteringFigures): number {
    return Math.max(
        ...METERING_GOAL_EXAMPLES.map((name) => {
            const e = m.examples.find((x) => x.name === name);
            if (e === undefined) throw new Error(`the metering section has no ${name}`);
            return e.overhead;
        }),
    );
}

export function machine(mode: BenchMode, now = new Date()): Machine {
    return {
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        cores: availableParallelism(),
        node: process.version,
        platform: `${platform()} ${arch()}`,
        date: now.toISOString(),
        mode,
    };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const times = (n: number) => `${fixed(n, 2)}×`;
const percent = (n: number, digits = 1) => `${n >= 0 ? '+' : ''}${fixed(n * 100, digits)}%`;
const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** 5.52 × 10¹⁰: two decimals and a power of ten. */
const sci = (n: number) => {
    if (n === 0) return '0';
    const exp = Math.floor(Math.log10(Math.abs(n)));
    const power = String(exp)
        .replace('-', '⁻')
        .replace(/[0-9]/g, (d) => SUPERSCRIPT[Number(d)]);
    return `${fixed(n / 10 ** exp, 2)} × 10${power}`;
};
const mark = (met: boolean | null) => (met === null ? '– (short run)' : met ? '✓' : '✗');

function table(header: string[], align: string[], rows: string[][]): string[] {
    return [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function gasSection(g: GasFigures): string[] {
    const row = (name: string, gas: number) => [name, int(gas), times(gas / g.transfer), gasTon(gas)];
    const jetton = g.anchors['Tact reference jetton transfer'];
    const k3 = g.lifecycles['k=3'];
    return [
        '## 1. Gas',
        '',
        'Compute gas summed over every transaction an operation causes, the sender’s own wallet excluded (`wrappers/gas.ts`), on',
        `sandbox 0.41; in TON at ${GAS_PRICE_NANO} nanoton per gas (mainnet's price, which the devnet and tests charge too). The steps are the first k=3 job’s; a`,
        'lifecycle is a whole job, post to settlement. The anchors were measured the same way (not in this run).',
        '',
        ...table(
            ['operation', 'gas', '× FOG transfer', `TON at ${GAS_PRICE_NANO}`],
            ['---', '---:', '---:', '---:'],
            [
                row('FOG transfer (this run)', g.transfer),
                ...Object.entries(g.anchors).map(([name, gas]) => row(`${name} (anchor)`, gas)),
                ...Object.entries(g.operations).map(([name, gas]) => row(name, gas)),
                ...Object.entries(g.lifecycles).map(([k, gas]) => row(`lifecycle ${k}`, gas)),
            ],
        ),
        '',
        `A FOG transfer costs ${times(g.transfer / jetton)} the Tact reference jetton’s; a whole k=3 job ${times(k3 / g.transfer)} a FOG transfer`,
        `and ${times(k3 / jetton)} the reference jetton transfer.`,
        '',
        '### Sharded posts',
        '',
        'One shard of a sharded post of S shards (docs/protocol.md, "Sharded jobs"), post to settlement, each shard worked by the',
        'same k workers agreeing, against a job posted alone at the same k in the same run: gas as above, and TON as every',
        'transaction’s fees plus the forward fees of the messages it sent, the senders’ own wallets excluded, at mainnet prices.',
        '',
        ...table(
            ['k', 'S', 'gas a shard', '× a single job', 'TON a shard', '× a single job'],
            ['---:', '---:', '---:', '---:', '---:', '---:'],
            g.sharded.map((x) => [
                String(x.k),
                String(x.shards),
                int(x.gas),
                percentOf(x.gas / x.singleGas),
                fixed(x.ton / 1e9, 6),
                percentOf(x.ton / x.singleTon),
            ]),
        ),
        '',
        ...g.sharded
            .filter((x) => x.shards === 1)
            .map((x) => `A single job at k=${x.k}: ${int(x.singleGas)} gas, ${fixed(x.singleTon / 1e9, 6)} TON.`),
        '',
    ];
}

const percentOf = (n: number) => `${fixed(n * 100, 1)}%`;

/** The goal's shard: S = 16 at k = 1. */
export function shardGoal(g: GasFigures): ShardedCost {
    const x = g.sharded.find((s) => s.k === 1 && s.shards === 16);
    if (x === undefined) throw new Error('the gas section has no sharded post of 16 at k = 1');
    return x;
}

function poolSection(p: PoolFigures): string[] {
    return [
        '## 2. Compute pool',
        '',
        `The \`${p.program}\` example with n = ${p.n} (about ${p.targetMs} ms a run here), ${p.runs} runs each way after a warm-up,`,
        'alternating: in this thread (`runProgramDirect`) and through a one-thread `ComputePool` (task message, thread, output',
        'moved back). Medians:',
        '',
        ...table(
            ['', 'median ms', 'ratio'],
            ['---', '---:', '---:'],
            [
                ['in this thread', fixed(p.directMedianMs, 1), '1.000'],
                ['through the pool', fixed(p.poolMedianMs, 1), fixed(p.poolMedianMs / p.directMedianMs, 3)],
            ],
        ),
        '',
        `Overhead: ${percent(p.overhead)} (goal ≤ 5%).`,
        '',
        'Throughput, each thread count with its own pool and every job submitted at once:',
        '',
        ...table(
            ['threads', 'jobs', 'jobs/s', '× 1 thread'],
            ['---:', '---:', '---:', '---:'],
            p.throughput.map((t) => [String(t.threads), String(t.jobs), fixed(t.jobsPerSecond, 2), times(t.ratio)]),
        ),
        '',
    ];
}

function devnetSection(d: DevnetFigures): string[] {
    const b = d.breakdown;
    return [
        '## 3. Devnet end to end',
        '',
        `${d.teams} teams, each a requester and ${d.k} workers with their own W5 wallets (${d.wallets} wallets), ran ${d.devnet.jobs} jobs (k=${d.k})`,
        'through the devnet’s toncenter API with the client code every Fog process uses (`Fog` actions, `WalletSender`:',
        'post, claims, commits, reveals, each confirmed hop by hop). The devnet ran as its own process, as under `npm start`.',
        'The window counted ends when the first team found no job left, before the load tails off. The same jobs ran on',
        'the bare emulator (`@ton/sandbox`, same contracts, treasuries, no HTTP, no persistence) in the bench’s process.',
        '',
        ...table(
            ['', 'transactions', 'seconds', 'transactions/s', 'ratio'],
            ['---', '---:', '---:', '---:', '---:'],
            [
                [
                    'devnet',
                    int(d.devnet.transactions),
                    fixed(d.devnet.seconds, 1),
                    fixed(d.devnet.transactionsPerSecond, 1),
                    fixed(d.ratio, 2),
                ],
                [
                    'bare emulator',
                    int(d.emulator.transactions),
                    fixed(d.emulator.seconds, 1),
                    fixed(d.emulator.transactionsPerSecond, 1),
                    '1.00',
                ],
            ],
        ),
        '',
        `Ratio ${fixed(d.ratio, 2)} (goal ≥ 0.7). Where the devnet’s window went (\`GET /devnet/info\`): its event loop was busy`,
        `${fixed(b.loop * 100, 0)}% of it (the rest it waited for requests). Its emulator was busy ${fixed(b.busy * 100, 0)}%: ${fixed(b.getMethods * 100, 0)}% running the`,
        `${int(b.getMethodCount)} get-methods the clients asked for (${fixed(b.getMethodsPerTransaction, 2)} per transaction, ${fixed(b.msPerGetMethod, 1)} ms each), the rest`,
        `transactions (${fixed(b.msPerTransaction, 1)} ms each with recording them, against ${fixed(1000 / d.emulator.transactionsPerSecond, 1)} ms on the bare emulator).`,
        `The other ${fixed(Math.max(0, b.loop - b.busy) * 100, 0)}% went to work outside the emulator’s queue: HTTP, JSON, serving transaction histories.`,
        '',
    ];
}

function watcherSection(w: WatcherFigures): string[] {
    return [
        '## 4. Watcher catch-up',
        '',
        `A new watcher (empty LMDB, no cursors) read the devnet’s whole history after the run above: ${int(w.events)} events from`,
        `${int(w.contracts)} followed contracts in ${w.cycles} poll cycle${w.cycles === 1 ? '' : 's'} and ${fixed(w.seconds, 1)} s, ${fixed(w.eventsPerSecond, 0)} events/s:`,
        `${times(w.speedup)} as fast as the devnet made that history.`,
        '',
    ];
}

function historySection(h: HistoryGas, gas: GasFigures): string[] {
    const later = gas.lifecycles['k=3'];
    return [
        '## 5. Gas against history',
        '',
        `The lifecycle gas (k=3) of job #1, then of job #${h.lastId + 1} after ${int(h.jobsBetween)} more jobs and ${int(h.providers)} more providers:`,
        '',
        ...table(
            ['job', 'gas', 'ratio'],
            ['---', '---:', '---:'],
            [
                ['#1', int(h.first), '1.0000'],
                [`#${h.lastId + 1}`, int(h.last), fixed(h.last / h.first, 4)],
            ],
        ),
        '',
        ...(h.last === later && h.first !== later
            ? [
                  `Job #${h.lastId + 1} costs exactly what the k=3 lifecycle of section 1 costs, a job that is not a protocol’s first: the difference is job #1’s own, not history’s.`,
                  '',
              ]
            : []),
    ];
}

function interpreterSection(f: InterpreterFigures): string[] {
    return [
        '## 7. Reference interpreter',
        '',
        'Each example on its default input, run once by the reference interpreter (client/dispute/interpreter.ts, the dispute',
        'game’s replay of a run) and by the metered V8 run (`runHere`, median); both gave the same output and fuel (the bench',
        'fails otherwise). A step is one instruction executed, an entry called, or a 64-byte chunk of a bulk operation. The',
        'first move is the run again with the state root (client/dispute/state.ts) built at 16 equally spaced steps, what a',
        'side of a dispute computes before its first move (docs/disputes.md).',
        '',
        ...table(
            ['example', 'steps', 'fuel', 'interpreter ms', 'V8 ms', 'slower by', 'steps/s', 'first move ms', 'against the run'],
            ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'],
            f.examples.map((e) => [
                e.name,
                int(e.steps),
                int(e.fuel),
                fixed(e.interpreterMs, 0),
                fixed(e.v8Ms, 1),
                `${fixed(e.slowdown, 0)}×`,
                sci(e.stepsPerSecond),
                fixed(e.firstMoveMs, 0),
                `${fixed(e.rootsCost, 2)}×`,
            ]),
        ),
        '',
    ];
}

function disputeSection(f: DisputeFigures): string[] {
    return [
        '## 8. Disputes',
        '',
        'Each example on its default input, disputed in the emulator (contracts/dispute.tact): an honest party against a liar',
        'whose output differs by one bit, written over at the run’s last step, played to the end by client/dispute/game.ts',
        `(16-way bisections of the steps the job’s fuel limit bounds, then the last step proved on chain). Each job is posted with`,
        'its fuel and half again as its limit. Moves are the bisections and the proof, openings not counted; gas is each side’s',
        `messages in the match’s contract, the opening included, in TON at ${GAS_PRICE_NANO} nanoton per gas. The honest party’s time`,
        'is all its computing for the match (its opening from the metered V8 run, every root, the proof; the opening alone in',
        '“open ms”), the states reached by the compiled prover (client/dispute/compiled.ts) or, over short stretches, the',
        'interpreter from a checkpoint; “against the run” divides it by one plain run of the interpreter (the liar, a test’s',
        'fault, interprets). The honest party won every match (the bench fails otherwise).',
        '',
        ...table(
            [
                'example',
                'steps',
                'moves',
                'honest gas',
                'honest TON',
                'liar gas',
                'liar TON',
                'most gas a move',
                'honest ms',
                'open ms',
                'run ms',
                'against the run',
            ],
            ['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'],
            f.examples.map((e) => [
                e.name,
                int(e.steps),
                int(e.moves),
                int(e.honestGas),
                e.honestTon,
                int(e.liarGas),
                e.liarTon,
                int(e.mostGas),
                fixed(e.honestMs, 0),
                fixed(e.openMs, 0),
                fixed(e.runMs, 1),
                times(e.ratio),
            ]),
        ),
        '',
        'What a disputed job costs beyond its moves, from the requester’s job budget (docs/disputes.md, "Costs and who pays"):',
        `the hub deploys the job’s Dispute once, ${int(f.job.deploy.cells)} cells and ${int(f.job.deploy.bits)} bits of code and start, ${f.job.deploy.ton} TON of`,
        'forward fees; each match starts with a 0.02 TON deposit that comes back with its resolution. A post carries that reserve for',
        'k ≥ 2 and gets it back with the rest of its budget when there is no dispute:',
        '',
        ...table(
            ['k', 'post_cost TON'],
            ['---:', '---:'],
            f.job.postCost.map((c) => [String(c.k), c.ton]),
        ),
        '',
        'Who pays: each side pays its own moves (the TON columns above), the requester’s job budget pays the Dispute’s deploy',
        'and each match’s resolution, and the loser’s collateral is slashed. The rounds grow with the logarithm of the job’s',
        'fuel limit (16-way bisections of up to twice the limit in steps: 9 moves for limits of 2.5 to 4.5 × 10⁸ fuel).',
        '',
        `The one-step verifier (contracts/step.tact) on the examples’ own steps, by class: the first step of each class and opcode`,
        `in each run’s first ${int(SCAN_STEPS)} steps, and ${SPREAD_STEPS} steps evenly spread over the rest, each proved and checked against the`,
        'interpreter’s post-state root (the bench fails otherwise), gas of the verifier’s get-method (a move’s message adds',
        'Tact’s dispatch, under 2,000). The budget is 300,000 gas a step; the worst cases built by tests/step-verifier.spec.ts',
        '(a branch or a call moving 16 values) are in docs/disputes.md.',
        '',
        ...table(
            ['step class', 'steps proved', 'most gas', 'in'],
            ['---', '---:', '---:', '---'],
            f.steps.map((c) => [c.class, int(c.proved), int(c.mostGas), c.example]),
        ),
        '',
    ];
}

function meteringSection(m: MeteringFigures): string[] {
    return [
        '## 6. Metering',
        '',
        `Each example on its default input, instrumented (\`instrument\`, client/compute/meter.ts), then ${m.runs} runs each way after`,
        `${m.warmup} warm-up${m.warmup === 1 ? '' : 's'}, alternating: the original module (\`runUnmetered\`) and the metered one (\`runProgramDirect\`), same host`,
        `and checks, in one worker thread with the pool’s limits (${m.thread.stackSizeMb} MiB stack). A run is validate, compile, instantiate, run;`,
        'both sides gave the same output on every run (the bench fails otherwise). Medians; fuel/s is the fuel of a run over the',
        'metered median.',
        '',
        ...table(
            ['example', 'instrument ms', 'unmetered ms', 'metered ms', 'overhead', 'fuel', 'fuel/s'],
            ['---', '---:', '---:', '---:', '---:', '---:', '---:'],
            m.examples.map((e) => [
                e.name,
                fixed(e.instrumentMs, 0),
                fixed(e.plainMedianMs, 1),
                fixed(e.meteredMedianMs, 1),
                percent(e.overhead),
                int(e.fuel),
                sci(e.fuelPerSecond),
            ]),
        ),
        '',
        `Loading binaryen took ${fixed(m.binaryenLoadMs, 0)} ms, once per process, before the first instrumentation (not in the column).`,
        `A worker’s fuel rate here: ${sci(m.calibration.fuelPerSecond)} fuel/s (the calibration kernel of client/compute/calibrate.ts through a one-thread pool,`,
        `${int(m.calibration.fuel)} fuel in ${fixed(m.calibration.ms, 0)} ms); a worker claims a job only if its fuel limit fits the commit window at half its rate.`,
        `Goal: overhead ≤ 10% on ${METERING_GOAL_EXAMPLES.join(' and ')}.`,
        '',
    ];
}

function trainingSection(t: TrainingFigures): string[] {
    const o = t.options;
    const base = t.runs[0];
    return [
        '## 9. Training on the network',
        '',
        `\`fog train\` (docs/map-reduce.md) of ${o.rounds} rounds of ${o.shards} shard jobs and a reduce, k = 1, on ${o.samples.toLocaleString('en-US')} generated digits`,
        `(${o.hidden} hidden units, ${o.epochs} epochs a shard a round), on a fresh local network (\`npm start\`'s processes: devnet, storage`,
        "node, keeper) of 1 worker and then of more, each worker one compute thread, all on this machine. A run's seconds are",
        'its rounds added up (each a sharded post followed to its end, the outputs downloaded, a reduce posted and followed).',
        `The same schedule trained here in one thread, metered, took ${fixed(t.localSeconds, 1)} s; every run's final model was`,
        `${t.sameModel ? 'bitwise that one' : 'NOT that one'}.`,
        '',
        ...table(
            ['workers', 'seconds', 'speedup', 'ideal', 'held-out accuracy'],
            ['---:', '---:', '---:', '---:', '---:'],
            t.runs.map((r, i) =>
                r.error !== undefined
                    ? [String(r.workers), 'failed', '–', times(r.workers / base.workers), '–']
                    : [
                          String(r.workers),
                          fixed(r.seconds, 1),
                          Number.isFinite(t.speedups[i]) ? times(t.speedups[i]) : '–',
                          times(r.workers / base.workers),
                          percentOf(r.heldOutAccuracy),
                      ],
            ),
        ),
        ...t.runs.filter((r) => r.error !== undefined).flatMap((r) => ['', `The run with ${r.workers} worker(s) failed: ${r.error}`]),
        '',
        "The chain's share of each round: the round's wall time less the same round computed on as many pool threads as the",
        "run had workers, without any chain (its shards at once, then its reduce), over the round's wall time:",
        '',
        ...table(
            ['workers', 'round', 'seconds', 'computing alone', "chain's share"],
            ['---:', '---:', '---:', '---:', '---:'],
            t.runs.flatMap((r) =>
                r.rounds.map((x, i) => [
                    String(r.workers),
                    String(i + 1),
                    fixed(x.seconds, 1),
                    fixed(x.computeSeconds, 2),
                    percentOf(x.chainShare),
                ]),
            ),
        ),
        '',
    ];
}

function memesSection(m: MemeFigures): string[] {
    const t = m.training;
    const o = t.options;
    const base = t.runs[0];
    const mb = (n: number) => `${fixed(n / 2 ** 20, 2)} MiB`;
    return [
        '## 10. The meme model',
        '',
        `The conditional VAE memes are drawn with (docs/memes.md): ${int(m.weights)} weights, ${mb(m.modelBytes)} as f64`,
        `(examples/data/meme-model.bin); its decoder, ${int(m.decoderWeights)} weights, is built into meme.wasm, ${mb(m.programBytes)}.`,
        '',
        `A meme through a one-thread metered pool, as a worker runs it: ${fixed(m.inference.msPerImage, 1)} ms and ${sci(m.inference.fuelPerImage)} fuel an image`,
        `(the mean of ${m.inference.images}, subjects in turn); the first, which instruments and compiles the program, took ${fixed(m.inference.firstMs, 0)} ms.`,
        '',
        ...(t.runs.length === 0
            ? [
                  `Training on the network: not measured in this mode (the ${o.rounds}-round schedule trained here in one thread took ${fixed(t.localSeconds, 1)} s).`,
                  '',
              ]
            : [
                  `Training: \`fog train --task sketches\`, ${o.rounds} rounds of the shipped schedule's (${o.shards} shard jobs of ${int(Math.floor((o.samples * (100 - o.heldOutPercent)) / 100 / o.shards))} sketches`,
                  `and a reduce a round, ${o.epochs} epochs a shard a round, k = 1) on fresh local networks of 1 worker and more, each one compute thread,`,
                  `all on this machine; the same rounds trained here in one thread, metered, took ${fixed(t.localSeconds, 1)} s, and every run's model was`,
                  `${t.sameModel ? 'bitwise that one' : 'NOT that one'}. The shipped model is ${SKETCH_ROUNDS_NOTE}.`,
                  '',
                  ...table(
                      ['workers', 'seconds', 'speedup', 'ideal', 'held-out loss (nats)', "chain's share of the rounds"],
                      ['---:', '---:', '---:', '---:', '---:', '---:'],
                      t.runs.map((r, i) =>
                          r.error !== undefined
                              ? [String(r.workers), 'failed', '–', times(r.workers / base.workers), '–', '–']
                              : [
                                    String(r.workers),
                                    fixed(r.seconds, 1),
                                    Number.isFinite(t.speedups[i]) ? times(t.speedups[i]) : '–',
                                    times(r.workers / base.workers),
                                    fixed(r.heldOutAccuracy, 2),
                                    r.rounds.map((x) => percentOf(x.chainShare)).join(', '),
                                ],
                      ),
                  ),
                  ...t.runs
                      .filter((r) => r.error !== undefined)
                      .flatMap((r) => ['', `The run with ${r.workers} worker(s) failed: ${r.error}`]),
                  '',
              ]),
    ];
}

/** How the bench's rounds relate to the shipped model's schedule. */
const SKETCH_ROUNDS_NOTE = "the same schedule run for all its rounds (examples/data/meme-model.bin.json records that run's every round)";

export function renderMarkdown(r: BenchReport): string {
    const m = r.machine;
    const goalValue = (g: Goal) => (g.unit === 'ratio' ? fixed(g.value, 2) : percent(g.value, 2));
    return [
        '# Benchmarks',
        '',
        `Written by \`npm run bench\`${m.mode === 'short' ? ' (short mode: a small run for the tests, not figures to quote)' : ''} on ${m.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores,`,
        `Node ${m.node}, ${m.platform}; the run took ${fixed(r.seconds, 0)} s. Every raw figure is in BENCHMARKS.json. Absolute times are this`,
        'machine’s; compare the ratios.',
        '',
        ...table(
            ['goal', 'this run', 'met'],
            ['---', '---:', ':---:'],
            r.goals.map((g) => [g.name, goalValue(g), mark(g.met)]),
        ),
        '',
        ...gasSection(r.gas),
        ...poolSection(r.pool),
        ...devnetSection(r.devnet),
        ...watcherSection(r.watcher),
        ...historySection(r.history, r.gas),
        ...meteringSection(r.metering),
        ...interpreterSection(r.interpreter),
        ...disputeSection(r.disputes),
        ...trainingSection(r.training),
        ...memesSection(r.memes),
    ].join('\n');
}
