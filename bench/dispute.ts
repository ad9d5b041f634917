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
import { interpret, Machine } from '../client/dispute/interpreter';
import { beginCell, fromNano } from '@ton/core';
import { forwardFee, gasTon, mainnetConfig } from '../client/fees';
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
    /** The honest party's compute time for the whole match, ms, and a plain interpreter run's. */
    honestMs: number;
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

export interface DisputeFigures {
    examples: DisputeExample[];
    job: DisputeJobCosts;
}

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

/** Wraps a party so the time it spends computing is counted. */
function timed(p: Party, clock: { ms: number }): Party {
    for (const name of ['final', 'respond', 'rootAt'] as const) {
        const method = p[name].bind(p) as (...args: unknown[]) => unknown;
        (p as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
            const t = performance.now();
            try {
                return method(...args);
            } finally {
                clock.ms += performance.now() - t;
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
        const job = await exampleJob(name);
        const t = performance.now();
        const run = interpret(job);
        const runMs = performance.now() - t;
        const steps = Number(run.steps);
        const clock = { ms: 0 };
        const honest = timed(new Party(job), clock);
        const outcome = await playMatch({
            blockchain,
            judge,
            a: { party: honest, wallet: honestWallet },
            b: { party: liar(job, steps), wallet: liarWallet },
            id: id++,
        });
        if (outcome.winner !== 1) throw new Error(`the honest party lost the dispute on ${name}`);
        const gasOf = (side: 'a' | 'b') => outcome.moves.filter((m) => m.side === side).reduce((sum, m) => sum + m.gas, 0n);
        const played = outcome.moves.filter((m) => m.taken && (m.kind === 'bisect' || m.kind === 'prove'));
        examples.push({
            name,
            steps,
            moves: played.length,
            honestGas: Number(gasOf('a')),
            liarGas: Number(gasOf('b')),
            honestTon: gasTon(gasOf('a')),
            liarTon: gasTon(gasOf('b')),
            mostGas: Number(played.reduce((most, m) => (m.gas > most ? m.gas : most), 0n)),
            honestMs: clock.ms,
            runMs,
            ratio: clock.ms / runMs,
            how: outcome.moves.some((m) => m.kind === 'timeout' && m.taken) ? 'timeout' : 'proof',
        });
    }
    return { examples, job: await jobCosts() };
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
            }),
        )
        .endCell();
    const { cells, bits } = cellShape(dispute.init!.code, dispute.init!.data, start);
    const postCost = [];
    for (const k of [1, 2, 3, 7]) postCost.push({ k, ton: fromNano(await p.hub.getPostCost(BigInt(k))) });
    return { deploy: { cells, bits, ton: fromNano(forwardFee(BigInt(cells), BigInt(bits))) }, postCost };
}
