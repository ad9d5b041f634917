/**
 * The dispute game end to end in the emulator (contracts/dispute.tact, client/dispute/game.ts):
 * for each example on its default input, an honest party against a liar whose output differs by
 * one bit, written over near the end of the run; a full match to the honest party's win, with
 * the moves each side made, the gas and TON each paid at mainnet prices, and the honest party's
 * compute time against a plain run of the interpreter. The bench fails if the honest party loses.
 */
import { performance } from 'node:perf_hooks';
import { Blockchain } from '@ton/sandbox';
import { ComputeJob } from '../client/compute/types';
import { Party } from '../client/dispute/game';
import { interpret, load, Machine } from '../client/dispute/interpreter';
import { proveStep } from '../client/dispute/proof';
import { StateCells } from '../client/dispute/state';
import { nextOp, stepClass } from '../client/dispute/step-class';
import { StepVerifier } from '../wrappers/StepVerifier';
import { beginCell, fromNano, toNano } from '@ton/core';
import { forwardFee, gasTon } from '../client/fees';
import { mainnetConfig } from '../client/sandbox/config';
import { protocolFixture } from '../client/sandbox/protocol';
import { Dispute, storeDisputeStart } from '../wrappers/Dispute';
import { cellShape } from '../wrappers/gas';
import { playMatch } from '../client/sandbox/dispute';
import { exampleJob } from './interpreter';

export interface DisputeSizes {
    /** The examples disputed on their default inputs. */
    examples: readonly string[];
}

export interface DisputeExample {
    name: string;
    steps: number;
    /** Bisections and the proof the two sides made in all, the openings not counted. */
    moves: number;
    /** Gas each side's messages took in the match's contract (the opening included), and its TON at mainnet prices. */
    honestGas: number;
    liarGas: number;
    honestTon: string;
    liarTon: string;
    /** The most gas one move took (the last step's proof, or a bisection). */
    mostGas: number;
    /** The honest party's compute time for the whole match, ms (its opening, from the metered V8 run, in `openMs`), and a plain interpreter run's. */
    honestMs: number;
    openMs: number;
    runMs: number;
    /** honestMs / runMs */
    ratio: number;
    how: 'proof' | 'timeout';
}

/** What a disputed job costs beyond its matches' moves, paid from the requester's job budget. */
export interface DisputeJobCosts {
    /** The hub's deploy of the job's Dispute (StateInit and start): its shape and forward fee, once per disputed job. */
    deploy: { cells: number; bits: number; ton: string };
    /** post_cost(k) at mainnet prices: the TON a post carries, the dispute reserve included for k ≥ 2 (returned when unused). */
    postCost: { k: number; ton: string }[];
}

/** The one-step verifier's most gas by class of step, over the steps proved of the examples' runs. */
export interface StepClassGas {
    class: string;
    /** Steps of this class proved and checked. */
    proved: number;
    mostGas: number;
    /** The example whose step took the most. */
    example: string;
}

export interface DisputeFigures {
    examples: DisputeExample[];
    job: DisputeJobCosts;
    steps: StepClassGas[];
}

/** Steps each example's run is scanned for the first of each class and opcode, one by one. */
export const SCAN_STEPS = 200_000;
/** Steps proved, evenly spread, across the rest of each run. */
export const SPREAD_STEPS = 24;

/** A party that flips the first output byte at the run's last step: a different result by one bit. */
function liar(job: ComputeJob, steps: number): Party {
    return new Party(job, {
        fault: {
            atStep: steps - 1,
            apply: (m: Machine) => {
                if (m.outLength > 0) m.out[0] ^= 1;
                else throw new Error('the output is empty before the last step');
            },
        },
    });
}

/**
 * Wraps a party so the time it spends computing is counted once (`respond` calls `rootAt`: only
 * the outermost call counts), `open`'s, its V8 run, also on its own.
 */
function timed(p: Party, clock: { ms: number; openMs: number }): Party {
    let depth = 0;
    for (const name of ['final', 'respond', 'rootAt'] as const) {
        const method = p[name].bind(p) as (...args: unknown[]) => unknown;
        (p as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
            const t = performance.now();
            depth++;
            try {
                return method(...args);
            } finally {
                depth--;
                if (depth === 0) clock.ms += performance.now() - t;
            }
        };
    }
    for (const name of ['open', 'openResult'] as const) {
        const method = p[name].bind(p) as () => Promise<unknown>;
        (p as unknown as Record<string, unknown>)[name] = async () => {
            const t = performance.now();
            try {
                return await method();
            } finally {
                const ms = performance.now() - t;
                clock.ms += ms;
                clock.openMs += ms;
            }
        };
    }
    return p;
}

export async function measureDisputes(sizes: DisputeSizes): Promise<DisputeFigures> {
    const blockchain = await Blockchain.create({ config: mainnetConfig() });
    const judge = await blockchain.treasury('judge');
    const honestWallet = await blockchain.treasury('honest');
    const liarWallet = await blockchain.treasury('liar');
    const examples: DisputeExample[] = [];
    let id = 1n;
    for (const name of sizes.examples) {
        const example = await exampleJob(name);
        const t = performance.now();
        const run = interpret(example);
        const runMs = performance.now() - t;
        const steps = Number(run.steps);
        // posted as `fog job submit --estimate` would post it: its fuel and half again, in whole
        // millions (a match bisects the steps the limit bounds, client/dispute/game.ts stepBound)
        const job = { ...example, fuel: ((run.fuel * 3n) / 2n / 1_000_000n + 1n) * 1_000_000n };
        // who proves the last step depends on which side revealed first: the honest party as a, and
        // if the liar was left to prove (it cannot, and loses on its clock), again as b, so that
        // the figures include the proof
        const play = async (honestSide: 'a' | 'b') => {
            const clock = { ms: 0, openMs: 0 };
            const honest = { party: timed(new Party(job), clock), wallet: honestWallet };
            const lying = { party: liar(job, steps), wallet: liarWallet };
            const outcome = await playMatch({
                blockchain,
                judge,
                a: honestSide === 'a' ? honest : lying,
                b: honestSide === 'a' ? lying : honest,
                id: id++,
            });
            if (outcome.winner !== (honestSide === 'a' ? 1 : 2)) throw new Error(`the honest party lost the dispute on ${name}`);
            const how: DisputeExample['how'] = outcome.moves.some((m) => m.kind === 'timeout' && m.taken) ? 'timeout' : 'proof';
            return { outcome, clock, how, honestSide };
        };
        let match = await play('a');
        if (match.how === 'timeout') match = await play('b');
        const { outcome, clock, how, honestSide } = match;
        const liarSide = honestSide === 'a' ? 'b' : 'a';
        const gasOf = (side: 'a' | 'b') => outcome.moves.filter((m) => m.side === side).reduce((sum, m) => sum + m.gas, 0n);
        const played = outcome.moves.filter((m) => m.taken && (m.kind === 'bisect' || m.kind === 'prove'));
        examples.push({
            name,
            steps,
            moves: played.length,
            honestGas: Number(gasOf(honestSide)),
            liarGas: Number(gasOf(liarSide)),
            honestTon: gasTon(gasOf(honestSide)),
            liarTon: gasTon(gasOf(liarSide)),
            mostGas: Number(played.reduce((most, m) => (m.gas > most ? m.gas : most), 0n)),
            honestMs: clock.ms,
            openMs: clock.openMs,
            runMs,
            ratio: clock.ms / runMs,
            how,
        });
    }
    return { examples, job: await jobCosts(), steps: await stepGas(blockchain, examples) };
}

/**
 * The one-step verifier (contracts/step.tact) on the examples' own steps: in each run, the first
 * step of every class and opcode among the first SCAN_STEPS, and SPREAD_STEPS steps evenly spread
 * over the rest, each proved (client/dispute/proof.ts) and run through the verifier's get-method, which
 * must compute the interpreter's post-state root (the bench fails otherwise). The worst cases
 * tests/step-verifier.spec.ts builds (a branch or call moving 16 values) are in docs/disputes.md.
 */
async function stepGas(blockchain: Blockchain, runs: readonly { name: string; steps: number }[]): Promise<StepClassGas[]> {
    const deployer = await blockchain.treasury('step verifier');
    const verifier = blockchain.openContract(await StepVerifier.fromInit());
    await verifier.send(deployer.getSender(), { value: toNano('1') }, null);
    const rows = new Map<string, StepClassGas>();
    for (const { name, steps: total } of runs) {
        const job = await exampleJob(name);
        const m = load(job);
        if (!(m instanceof Machine)) throw new Error(`${name} was refused: ${m.reason}`);
        const cells = new StateCells(m);
        const prove = async () => {
            const kind = stepClass(m);
            const p = proveStep(m, cells);
            const r = await blockchain.runGetMethod(verifier.address, 'step', [
                { type: 'cell', cell: p.proof },
                { type: 'int', value: p.preRoot },
            ]);
            if (r.exitCode !== 0 || r.stackReader.readBigNumber() !== p.postRoot)
                throw new Error(`the verifier disagrees with the interpreter on step ${p.step} of ${name} (${kind}, exit ${r.exitCode})`);
            const row = rows.get(kind) ?? { class: kind, proved: 0, mostGas: 0, example: name };
            row.proved++;
            if (Number(r.gasUsed) > row.mostGas) Object.assign(row, { mostGas: Number(r.gasUsed), example: name });
            rows.set(kind, row);
        };
        const seen = new Set<string>();
        while (!m.halted && m.steps < SCAN_STEPS) {
            const key = `${stepClass(m)}:${nextOp(m)}`;
            if (seen.has(key)) m.run(m.steps + 1);
            else {
                seen.add(key);
                await prove();
            }
        }
        for (let i = 1; i <= SPREAD_STEPS && !m.halted; i++) {
            m.run(Math.max(m.steps, Math.floor(((total - 1) * i) / (SPREAD_STEPS + 1))));
            if (!m.halted) await prove();
        }
    }
    return [...rows.values()].sort((a, b) => b.mostGas - a.mostGas);
}

/** The deploy's shape and fee, and post_cost(k), on a protocol in the emulator with disputes on. */
async function jobCosts(): Promise<DisputeJobCosts> {
    const p = await protocolFixture({ disputeAllowance: 3600n });
    const dispute = await Dispute.fromInit(p.hub.address, p.hub.address, 0n);
    const start = beginCell()
        .store(
            storeDisputeStart({
                $$type: 'DisputeStart',
                queryId: 0n,
                match: 0n,
                a: p.admin.address,
                b: p.hub.address,
                resultA: 1n,
                resultB: 2n,
                initialRoot: 3n,
                allowance: 3600n,
                maxMfuel: 4_000_000n,
            }),
        )
        .endCell();
    const { cells, bits } = cellShape(dispute.init!.code, dispute.init!.data, start);
    const postCost = [];
    for (const k of [1, 2, 3, 7]) postCost.push({ k, ton: fromNano(await p.hub.getPostCost(BigInt(k))) });
    return { deploy: { cells, bits, ton: fromNano(forwardFee(BigInt(cells), BigInt(bits))) }, postCost };
}
