/**
 * A party's side of a dispute match (docs/disputes.md, "The game"; contracts/dispute.tact): it
 * replays the job's run on the reference interpreter and answers each of the opponent's moves
 * with its own: the final state's proof to open, the segment it disputes split by its own roots,
 * or, on a segment one step long, the proof of that step. An honest party's roots are the true
 * states, so it never disputes a true root and its proofs always win; a test gives a party a
 * `fault` to make it a liar that plays its wrong run just as consistently.
 */
import { beginCell, Cell, convertToMerkleProof } from '@ton/core';
import { ComputeJob } from '../compute/types';
import { InterpretOptions, load, Machine, STATUS } from './interpreter';
import { prune, proveStep } from './proof';
import { readRoot, StateCells, stateOutputCell } from './state';
import { cellHashInt } from './cells';
import { failureHash } from '../results';

/** The degree of a bisection: a segment is split into at most this many parts. */
export const DISPUTE_DEGREE = 16;

/** A change to the machine's state at one step, which makes a party a liar (tests). */
export interface Fault {
    /** The step after which the fault strikes. */
    atStep: number;
    apply(machine: Machine): void;
}

/** Point `j` of a bisection of `length` steps from `start` into `parts` (the contract's pointOf). */
export function pointOf(start: number, length: number, parts: number, j: number): number {
    return start + Math.floor((j * length) / parts);
}

/** A list of roots as the contract takes it: three a cell, each cell's reference the next. */
export function rootsCell(roots: readonly bigint[]): Cell {
    let next: Cell | undefined;
    for (let at = Math.floor((roots.length - 1) / 3) * 3; at >= 0; at -= 3) {
        const b = beginCell();
        for (const r of roots.slice(at, at + 3)) b.storeUint(r, 256);
        if (next !== undefined) b.storeRef(next);
        next = b.endCell();
    }
    if (next === undefined) throw new RangeError('no roots');
    return next;
}

/** The roots of a list cell (rootsCell's inverse). */
export function rootsOf(list: Cell): bigint[] {
    const roots: bigint[] = [];
    for (let c: Cell | undefined = list; c !== undefined; c = c.refs[0]) {
        const s = c.beginParse();
        while (s.remainingBits >= 256) roots.push(s.loadUintBig(256));
    }
    return roots;
}

/** What a party sends next. */
export type Move = { kind: 'bisect'; choice: number; roots: Cell } | { kind: 'prove'; choice: number; proof: Cell };

/** The last bisection, as the contract holds it. */
export interface Bisection {
    start: number;
    length: number;
    parts: number;
    roots: readonly bigint[];
}

export class Party {
    private machine: Machine | undefined;
    private cells: StateCells | undefined;
    private faulted = false;
    /** A copy of the machine at the start of the segment in dispute, to replay from. */
    private checkpoint: { machine: Machine; faulted: boolean } | undefined;

    /**
     * `start`: a machine this party's run reaches (with whether the fault already struck), kept as
     * the first checkpoint so that a replay from there or later does not start from step 0 (not
     * kept past the next checkpoint: a machine holds a copy of the memory).
     */
    constructor(
        readonly job: ComputeJob,
        readonly options: InterpretOptions & { fault?: Fault } = {},
        start?: { machine: Machine; faulted: boolean },
    ) {
        this.checkpoint = start;
    }

    /**
     * A machine at step `step` of this party's run (the fault applied on the way): the current
     * one when it is not past the step, else a copy of the checkpoint when that is not, else a
     * fresh one.
     */
    machineAt(step: number): { machine: Machine; cells: StateCells } {
        if (this.machine === undefined || this.machine.steps > step) {
            let m: Machine;
            if (this.checkpoint !== undefined && this.checkpoint.machine.steps <= step) {
                m = this.checkpoint.machine.clone();
                this.faulted = this.checkpoint.faulted;
            } else {
                const loaded = load(this.job, this.options);
                if (!(loaded instanceof Machine))
                    throw new Error(`the program is refused before it runs (${loaded.reason}): nothing to dispute`);
                m = loaded;
                this.faulted = false;
            }
            this.machine = m;
            if (this.cells === undefined) this.cells = new StateCells(m);
            else this.cells.use(m);
        }
        const fault = this.options.fault;
        if (fault !== undefined && !this.faulted && step > fault.atStep) {
            this.machine.run(fault.atStep);
            fault.apply(this.machine);
            this.faulted = true;
        }
        this.machine.run(step);
        return { machine: this.machine, cells: this.cells! };
    }

    /** The state root at `step`. */
    rootAt(step: number): bigint {
        return cellHashInt(this.machineAt(step).cells.cell());
    }

    /** The run's end: its step count, its root, and the proof that opens the match (the root, static and dynamic cells). */
    final(): { steps: number; root: bigint; proof: Cell } {
        const { machine, cells } = this.machineAt(Number.MAX_SAFE_INTEGER);
        const state = cells.cell();
        return { steps: machine.steps, root: cellHashInt(state), proof: convertToMerkleProof(prune(state, [[0], [3]])) };
    }

    /** The result this party's run reveals: its output cell's hash, or its failure's (client/results.ts). */
    result(): bigint {
        const { machine, cells } = this.machineAt(Number.MAX_SAFE_INTEGER);
        const root = cells.cell();
        if (machine.status === STATUS.failed) return BigInt(`0x${failureHash(readRoot(root).reason)}`);
        return cellHashInt(stateOutputCell(root));
    }

    /**
     * The answer to the opponent's bisection: the first of its segments whose start this party
     * accepts and whose end it does not, split by this party's roots, or proved when one step
     * long. The run is replayed once across the segment, from a checkpoint at its start, and the
     * machine at the start of the segment chosen becomes the next checkpoint.
     */
    respond(last: Bisection): Move {
        if (this.rootAt(last.start) !== last.roots[0]) {
            throw new Error(
                `the bisection starts from a state this party does not hold at step ${last.start}: another job, or other limits`,
            );
        }
        let choice = 0;
        let before: { machine: Machine; faulted: boolean } | undefined;
        for (let j = 1; j <= last.parts; j++) {
            const at = this.machineAt(pointOf(last.start, last.length, last.parts, j - 1));
            before = { machine: at.machine.clone(), faulted: this.faulted };
            if (this.rootAt(pointOf(last.start, last.length, last.parts, j)) !== last.roots[j]) {
                choice = j;
                break;
            }
        }
        if (choice === 0) throw new Error('this party agrees with every root of the bisection: nothing to dispute');
        this.checkpoint = before;
        const from = pointOf(last.start, last.length, last.parts, choice - 1);
        const to = pointOf(last.start, last.length, last.parts, choice);
        if (to - from === 1) {
            const { machine, cells } = this.machineAt(from);
            return { kind: 'prove', choice, proof: proveStep(machine, cells).proof };
        }
        const parts = Math.min(DISPUTE_DEGREE, to - from);
        const roots = Array.from({ length: parts + 1 }, (_, j) => this.rootAt(pointOf(from, to - from, parts, j)));
        return { kind: 'bisect', choice, roots: rootsCell(roots) };
    }
}
