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
import { haltedMachine } from './opening';
import { CompiledProgram, Unsupported } from './compiled';
import { cellHashInt } from './cells';
import { failureHash } from '../results';
import { DISPUTE_DEGREE, pointOf, stepBound } from './points';

export { DISPUTE_DEGREE, pointOf, stepBound };

/** A copy of a party's machine at some step, with whether its fault had struck by then. */
export interface Checkpoint {
    machine: Machine;
    faulted: boolean;
}

/**
 * The memory a party's checkpoints may hold together (copies of the machine's memory): 256 MiB,
 * 16 copies of a 16 MiB memory. A job with more memory keeps fewer, and replays further.
 */
export const CHECKPOINT_BYTES = 256 * 1024 * 1024;

/** What a copy of the machine holds: its memory, output and value stack, and its frames' locals. */
function copySize(m: Machine): number {
    return m.bytes.length + m.out.length + m.st.byteLength + m.frames.reduce((sum, f) => sum + f.locals.byteLength, 0);
}

/**
 * How much faster the compiled prover (compiled.ts) reaches a step from step 0 than the
 * interpreter replays the same number of steps, at the least (BENCHMARKS.md, section 8, measures
 * it): a party replays on the interpreter from its latest checkpoint when that is fewer steps than
 * this fraction of the way from step 0, else runs the compiled prover.
 */
export const COMPILED_ADVANTAGE = 16;

/** A change to the machine's state at one step, which makes a party a liar (tests). */
export interface Fault {
    /** The step after which the fault strikes. */
    atStep: number;
    apply(machine: Machine): void;
}

/** A job's fuel limit in whole millions, rounded up (a job spec's maxMfuel; the Dispute's bound for a match of the job). */
export function maxMfuelOf(job: ComputeJob): bigint {
    return (job.fuel + 999_999n) / 1_000_000n;
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

/** The result a halted state proves: its output cell's hash, or its failure's. */
function resultOf(state: Cell): bigint {
    const root = readRoot(state);
    if (root.status === STATUS.failed) return BigInt(`0x${failureHash(root.reason)}`);
    return cellHashInt(stateOutputCell(state));
}

/** A halted state's root, and its proof for the Dispute's open: the root with its static and dynamic cells (the state may hold pruned branches: its level-0 hash is the root). */
function opening(state: Cell): { root: bigint; proof: Cell } {
    return { root: BigInt(`0x${state.hash(0).toString('hex')}`), proof: convertToMerkleProof(prune(state, [[0], [3]])) };
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
    /**
     * Copies of the machine to replay from, by ascending step: the start of the segment in dispute
     * and, within CHECKPOINT_BYTES, the points of this party's own last bisection (the opponent's
     * next one starts at one of them).
     */
    private checkpoints: Checkpoint[] = [];
    private haltedState: Promise<Cell> | undefined;
    /** The final state's root, once `open` built it. */
    private finalRoot: bigint | undefined;
    /** The compiled prover: not built yet (undefined), or not available (null: a liar, or a program it does not cover). */
    private prover: CompiledProgram | null | undefined;
    /** The steps every run of the job halts within (stepBound): the state there is the final one. */
    private readonly bound: number;
    /** Roots the compiled prover gave for the move being made, by step. */
    private known = new Map<number, bigint>();

    /**
     * `start`: a machine this party's run reaches (with whether the fault already struck), kept as
     * the first checkpoint so that a replay from there or later does not start from step 0 (not
     * kept past the first move: a machine holds a copy of the memory).
     */
    constructor(
        readonly job: ComputeJob,
        readonly options: InterpretOptions & { fault?: Fault } = {},
        start?: Checkpoint,
    ) {
        if (start !== undefined) this.checkpoints = [start];
        this.bound = stepBound(Number(maxMfuelOf(job)));
    }

    /**
     * A machine at step `step` of this party's run (the fault applied on the way): the current
     * one, or a copy of the latest checkpoint not past the step when that is nearer, else a fresh
     * one.
     */
    machineAt(step: number): { machine: Machine; cells: StateCells } {
        let checkpoint: Checkpoint | undefined;
        for (const c of this.checkpoints) if (c.machine.steps <= step) checkpoint = c;
        if (
            this.machine === undefined ||
            this.machine.steps > step ||
            (checkpoint !== undefined && checkpoint.machine.steps > this.machine.steps)
        ) {
            let m: Machine;
            if (checkpoint !== undefined) {
                m = checkpoint.machine.clone();
                this.faulted = checkpoint.faulted;
            } else {
                const loaded = load(this.job, this.options);
                if (!(loaded instanceof Machine))
                    throw new Error(`the program is refused before it runs (${loaded.reason}): nothing to dispute`);
                m = loaded;
                this.faulted = false;
            }
            this.machine = m;
        }
        // the state cells follow this machine (the compiled prover's handovers move them elsewhere)
        if (this.cells === undefined) this.cells = new StateCells(this.machine);
        else if (this.cells.machine !== this.machine) this.cells.use(this.machine);
        const fault = this.options.fault;
        if (fault !== undefined && !this.faulted && step > fault.atStep) {
            this.machine.run(fault.atStep);
            fault.apply(this.machine);
            this.faulted = true;
        }
        this.machine.run(step);
        return { machine: this.machine, cells: this.cells! };
    }

    /**
     * The state root at `step`: the final state's once `open` has built it and the step is past
     * the bound every run of the job halts within (no replay needed), else the run's.
     */
    rootAt(step: number): bigint {
        if (this.finalRoot !== undefined && step >= this.bound) return this.finalRoot;
        const known = this.known.get(step);
        if (known !== undefined) return known;
        const root = this.machineAt(step).cells.rootHash();
        // kept for the move under way (a halving's end point is a root of the next bisection)
        this.known.set(step, root);
        return root;
    }

    /**
     * Brings this party's run to `points` with one run of the compiled prover, where that is quicker
     * than replaying from the latest checkpoint (COMPILED_ADVANTAGE): a copy of the machine at each
     * point becomes a checkpoint while they fit CHECKPOINT_BYTES (with `kept` bytes held already),
     * the root of each point past that is computed at once, and the points the run halted before
     * take the final state's root when `open` has built it. A program the prover does not cover,
     * or a run the engine cannot finish, is left to the replay. Returns the bytes held.
     */
    private prefetch(points: readonly number[], kept: number): number {
        const held = new Set(this.checkpoints.map((c) => c.machine.steps));
        // a liar's run is the honest one up to its fault's step: the prover serves it that far
        const end = Math.min(this.bound - 1, this.options.fault?.atStep ?? Infinity);
        const wanted = [...new Set(points)].filter((p) => p <= end && !this.known.has(p) && !held.has(p)).sort((a, b) => a - b);
        if (wanted.length === 0) return kept;
        const last = wanted[wanted.length - 1];
        let from = 0;
        for (const c of this.checkpoints) if (c.machine.steps <= wanted[0]) from = c.machine.steps;
        if (this.machine !== undefined && this.machine.steps <= wanted[0]) from = Math.max(from, this.machine.steps);
        if ((last - from) * COMPILED_ADVANTAGE <= last) return kept;
        const prover = this.compiled();
        if (prover === undefined) return kept;
        try {
            const halted = prover.run(wanted, (step, machine) => {
                if (!machine.halted && kept + copySize(machine) <= CHECKPOINT_BYTES) {
                    kept += copySize(machine);
                    this.checkpoints.push({ machine: machine.clone(), faulted: false });
                    return;
                }
                // a halted state is canonical: its root is the final one, which `open` may have built
                if (machine.halted && this.finalRoot !== undefined) {
                    this.known.set(step, this.finalRoot);
                    return;
                }
                // the state cells follow another machine from here (machineAt puts them back)
                this.machine = undefined;
                this.cells ??= new StateCells(machine);
                this.cells.use(machine);
                this.known.set(step, this.cells.rootHash());
            });
            if (this.finalRoot !== undefined) for (const p of halted) this.known.set(p, this.finalRoot);
        } catch (e) {
            if (!(e instanceof Unsupported)) throw e;
            this.prover = null;
        } finally {
            this.checkpoints.sort((a, b) => a.machine.steps - b.machine.steps);
        }
        return kept;
    }

    /** The compiled prover for this party's program, built once (for a liar, of the run before its fault); undefined where it does not apply. */
    private compiled(): CompiledProgram | undefined {
        if (this.prover === undefined) {
            this.prover = null;
            const m = load(this.job, this.options);
            if (m instanceof Machine) this.prover = CompiledProgram.of(m) ?? null;
        }
        return this.prover ?? undefined;
    }

    /**
     * The step at which the honest run of this party's job halts: one run of the compiled prover,
     * or of the interpreter where the prover does not apply.
     */
    haltingStep(): number {
        if (this.options.fault === undefined) {
            const prover = this.compiled();
            if (prover !== undefined) {
                try {
                    return prover.haltingStep();
                } catch (e) {
                    if (!(e instanceof Unsupported)) throw e;
                    this.prover = null;
                }
            }
        }
        const m = load(this.job, this.options);
        if (!(m instanceof Machine)) return 0;
        m.run();
        return m.steps;
    }

    /**
     * The run's end on the reference interpreter: its step count, its (halted) root, and the proof
     * that opens the match (the root, static and dynamic cells). `open` gives the same root and
     * proof faster.
     */
    final(): { steps: number; root: bigint; proof: Cell } {
        const { machine, cells } = this.machineAt(Number.MAX_SAFE_INTEGER);
        return { steps: machine.steps, ...opening(cells.cell()) };
    }

    /**
     * What opens this party's match: its final state's root and proof, from the metered V8 run
     * (haltedMachine) where that can give it, else from the interpreter (`final`). A party with a
     * fault (a liar) always interprets: the fault is the interpreter's.
     */
    async open(): Promise<{ root: bigint; proof: Cell }> {
        return opening(await this.halted());
    }

    /** The result `open`'s state proves (the same as `result`, from the metered V8 run where it can). */
    async openResult(): Promise<bigint> {
        return resultOf(await this.halted());
    }

    /** The result this party's run reveals, on the interpreter: its output cell's hash, or its failure's (client/results.ts). */
    result(): bigint {
        return resultOf(this.machineAt(Number.MAX_SAFE_INTEGER).cells.cell());
    }

    /** The final state `open` proves, built once. */
    private halted(): Promise<Cell> {
        this.haltedState ??= (async () => {
            // the memory hashed, not built (StateCells.openingCell): the opening prunes it
            const opened = this.options.fault === undefined ? await haltedMachine(this.job, this.options) : undefined;
            const cell =
                opened !== undefined ? new StateCells(opened).openingCell() : this.machineAt(Number.MAX_SAFE_INTEGER).cells.openingCell();
            this.finalRoot = BigInt(`0x${cell.hash(0).toString('hex')}`);
            return cell;
        })();
        // a failure is not kept: the next move tries again
        this.haltedState.catch(() => (this.haltedState = undefined));
        return this.haltedState;
    }

    /**
     * The answer to the opponent's bisection: the first of its segments whose start this party
     * accepts and whose end it does not, split by this party's roots, or proved when one step
     * long. The run is replayed once across the segment, from the latest checkpoint not past its
     * start; the machine at the start of the segment chosen, and at each point of this party's
     * bisection of it (within CHECKPOINT_BYTES), become the next checkpoints.
     */
    respond(last: Bisection): Move {
        if (this.rootAt(last.start) !== last.roots[0]) {
            throw new Error(
                `the bisection starts from a state this party does not hold at step ${last.start}: another job, or other limits`,
            );
        }
        this.known.clear();
        const point = (j: number) => pointOf(last.start, last.length, last.parts, j);
        // only checkpoints inside the segment can serve this move (the last move's own points)
        this.checkpoints = this.checkpoints.filter((c) => c.machine.steps >= last.start && c.machine.steps <= last.start + last.length);
        const theirs = Array.from({ length: last.parts + 1 }, (_, j) => point(j));
        this.prefetch(
            theirs,
            this.checkpoints.reduce((sum, c) => sum + copySize(c.machine), 0),
        );
        const held = new Set(this.checkpoints.map((c) => c.machine.steps));
        const atHand = theirs.every((p) => held.has(p) || this.known.has(p) || p >= this.bound);
        // a segment whose start this party holds and whose end it does not: the bisection's end is
        // the opponent's claim, which an honest party never holds, and any such segment will do (a
        // wrong root is somewhere in it). By halving when the compiled prover put every point at
        // hand (four roots), else by one pass forward on the interpreter to the first such segment.
        let [lo, hi] = [0, last.parts];
        let before: Checkpoint | undefined;
        if (atHand) {
            if (this.rootAt(point(last.parts)) === last.roots[last.parts])
                throw new Error('this party agrees with every root of the bisection: nothing to dispute');
            while (hi - lo > 1) {
                const mid = (lo + hi) >> 1;
                if (this.rootAt(point(mid)) === last.roots[mid]) lo = mid;
                else hi = mid;
            }
        } else {
            for (hi = 1; hi <= last.parts; hi++) {
                // a copy at each segment's start as the pass goes, so the one chosen needs no replay
                before = { machine: this.machineAt(point(hi - 1)).machine.clone(), faulted: this.faulted };
                if (this.rootAt(point(hi)) !== last.roots[hi]) break;
            }
            if (hi > last.parts) throw new Error('this party agrees with every root of the bisection: nothing to dispute');
            lo = hi - 1;
        }
        const choice = hi;
        before ??= { machine: this.machineAt(point(lo)).machine.clone(), faulted: this.faulted };
        this.checkpoints = [before];
        const from = point(lo);
        const to = point(hi);
        if (to - from === 1) {
            const { machine, cells } = this.machineAt(from);
            const proof = proveStep(machine, cells).proof;
            // proving took the step without the fault's schedule (a fault due at `from` was not
            // applied): this machine is no longer this party's run, so the next use starts again
            // from the checkpoint
            this.machine = undefined;
            return { kind: 'prove', choice, proof };
        }
        const parts = Math.min(DISPUTE_DEGREE, to - from);
        let kept = copySize(before.machine);
        const points = Array.from({ length: parts - 1 }, (_, j) => pointOf(from, to - from, parts, j + 1));
        // the inner points by the compiled prover where that is quicker, each kept as a checkpoint
        const prefetched = this.checkpoints.length;
        kept = this.prefetch(points, kept);
        const compiled = this.checkpoints.length > prefetched || points.every((p) => this.known.has(p));
        const roots = Array.from({ length: parts + 1 }, (_, j) => {
            const root = this.rootAt(pointOf(from, to - from, parts, j));
            // a copy at each inner point that fits the budget (a halted machine once): the opponent
            // answers by choosing one of these segments, and the next move replays only that one
            const m = this.machine;
            if (
                !compiled &&
                j > 0 &&
                j < parts &&
                m !== undefined &&
                m.steps > before.machine.steps &&
                !this.checkpoints.at(-1)!.machine.halted
            ) {
                if (kept + copySize(m) <= CHECKPOINT_BYTES) {
                    kept += copySize(m);
                    this.checkpoints.push({ machine: m.clone(), faulted: this.faulted });
                }
            }
            return root;
        });
        return { kind: 'bisect', choice, roots: rootsCell(roots) };
    }
}
