/**
 * The machine state as TON cells (docs/disputes.md, "The machine state as cells"): every part of
 * the reference interpreter's machine at a step, as one tree whose root hash is the state root the
 * dispute game compares. The layout, root first:
 *
 * ```
 * root     status:uint8 reason:uint8 func:uint32 pc:uint32 steps:uint64 fuel:uint64 depth:uint32
 *          sp:uint32 fp:uint32 pages:uint32 out_len:uint32
 *          bulk:uint8 bulk_dst:uint32 bulk_src:uint32 bulk_left:uint32 bulk_value:uint32   (504 bits)
 *          ^static ^stack ^frames ^dynamic
 * static   fuel_limit:uint64 max_pages:uint32 budget:uint32 out_cap:uint32 input_len:uint32
 *          start:int32 run:uint32 functions:uint32 imports:uint32 tables:uint32 globals:uint32
 *          segments:uint32 ^hosts ^code ^tables ^input                  (never changes in a run)
 * dynamic  ^memory ^globals ^data ^output
 * code     tree by defined function → function: type:uint32 params:uint16 results:uint16
 *          locals:uint32 weight:uint32 entry_fuel:uint64 simple:uint1 instructions:uint32
 *          branches:uint32 loops:uint32
 *          ^chunks (tree by pc / 8: 8 instructions of opcode:uint16 a:int32 b:int32)
 *          ^branches (tree by branch: target:int32 height:uint32 arity:uint32 loop:uint1 fuel:uint64)
 *          ^loops (tree by loop: its region fuel, uint64)
 * stack    tree over 4⁹ = 262,144 slots, one 64-bit value a leaf (i32 and f32 in the low half)
 * frames   tree over 4⁸ = 65,536 frames: func:uint32 base:uint32 ret_func:int32 ret_pc:uint32
 *          ^locals (tree by local index, one value a leaf)
 * memory   tree over 2³² bytes, leaves of 64 bytes: depth 13
 * output   tree over 2²⁴ bytes, leaves of 64 bytes: depth 9
 * data     tree by segment: dropped:uint1 length:uint32 ^bytes (tree of 64-byte leaves)
 * tables   tree by table: length:uint32 ^elements (tree: a function index, 0xffffffff for null)
 * hosts    tree by import: kind:uint8 type:uint32
 * globals, input: trees by index (a 64-bit value, 64 input bytes a leaf)
 * ```
 *
 * Every collection is a complete 4-ary tree (client/dispute/cells.ts): the value stack, the
 * frames, memory and output of the fixed depths above, the rest as deep as their count needs (the
 * counts are in the static cell, a function's cell, a table's, a segment's, and a frame's function
 * for its locals), so an index names one path. Values are 64-bit leaves, i32 and f32 in the low
 * half. The state holds only the live machine: stack slots at `sp` and above are zero values and
 * frames at `fp` and above empty cells (the interpreter leaves what it popped as it was, and the
 * tree is built from the first `sp` slots and `fp` frames; the one-step verifier clears what a
 * step popped), so that a run that keeps its state elsewhere (a compiled prover) gives the same
 * roots. A halted state is canonical (rootFields), with an all-zero stack, no frames, and 0 for
 * its step count, position, depth, heights and bulk fields, so that the metered V8 run's end gives
 * it (client/dispute/opening.ts, haltedCell).
 */
import { beginCell, Builder, Cell } from '@ton/core';
import {
    ByteTreeBuilder,
    ByteTreeHasher,
    byteTree,
    depthFor,
    MEMORY_DEPTH,
    OUTPUT_DEPTH,
    PathTrie,
    standIn,
    tree,
    TreeBuilder,
} from './cells';
import { ComputeJob } from '../compute/types';
import { Frame, InterpretOptions, load, Machine, STATUS } from './interpreter';
import { Code, FuncType, HostFunction } from './module';

/** The value stack's tree: 4^9 = 262,144 slots (the call-depth budget of 100,000 weight units holds fewer). */
export const STACK_DEPTH = 9;
/** The frames' tree: 4^8 = 65,536 frames (each weighs at least 4 units of the budget, and a simple function calls no other). */
export const FRAMES_DEPTH = 8;
/** Instructions in a chunk of code: 8 of 80 bits (opcode:uint16 a:int32 b:int32). */
export const CHUNK_INSTRUCTIONS = 8;

/** The root's references: static, stack, frames, dynamic; the dynamic cell's: memory, globals, data, output. */
const DYNAMIC_REF = 3;
const MEMORY_REF = 0;
const OUTPUT_REF = 3;

/** Failure reasons by their code in the root's `reason` (0: none). */
export const REASONS = ['', 'trap', 'fuel', 'stack', 'output-limit'] as const;

const HOSTS: HostFunction[] = ['input_size', 'read_input', 'write_output', 'abort'];

/** A 64-bit value as a leaf: high half, then low half. */
function value(lo: number, hi: number): Cell {
    return beginCell()
        .storeUint(hi >>> 0, 32)
        .storeUint(lo >>> 0, 32)
        .endCell();
}

const ZERO_VALUE = value(0, 0);
const EMPTY = beginCell().endCell();

/** A tree as deep as its leaves need, padded with empty cells. */
function listTree(leaves: readonly Cell[]): Cell {
    return tree(leaves, depthFor(leaves.length), EMPTY);
}

/** A tree of 64-bit values held as pairs of 32-bit halves. */
function valueTree(halves: Int32Array, count: number, depth: number): Cell {
    const leaves: Cell[] = [];
    for (let i = 0; i < count; i++)
        leaves.push(halves[2 * i] === 0 && halves[2 * i + 1] === 0 ? ZERO_VALUE : value(halves[2 * i], halves[2 * i + 1]));
    return tree(leaves, depth, ZERO_VALUE);
}

/** A tree of uint32 leaves, `depth` as deep as the count needs. */
function u32Tree(values: readonly number[], bits = 32): Cell {
    const leaves = values.map((v) =>
        beginCell()
            .storeUint(v >>> 0, bits)
            .endCell(),
    );
    return tree(leaves, depthFor(leaves.length), beginCell().storeUint(0, bits).endCell());
}

/** Each type's canonical id: the index of the first type with the same params and results (what call_indirect compares). */
function canonicalTypes(types: FuncType[]): number[] {
    const first = new Map<string, number>();
    return types.map((t, i) => {
        const key = `${t.params.join(',')}:${t.results.join(',')}`;
        if (!first.has(key)) first.set(key, i);
        return first.get(key)!;
    });
}

/** A function's code: its instructions in chunks of 8, its resolved branches, its loops' fuel. */
function functionCell(machine: Machine, index: number, canonical: number[]): Cell {
    const m = machine.m;
    const func = index + m.hosts.length;
    const code: Code = m.codes[index];
    const cost = machine.costs[index];
    const typeIndex = m.funcTypes[func];
    const type = m.types[typeIndex];
    const chunks: Cell[] = [];
    for (let at = 0; at < code.op.length; at += CHUNK_INSTRUCTIONS) {
        const b = beginCell();
        for (let pc = at; pc < Math.min(at + CHUNK_INSTRUCTIONS, code.op.length); pc++) {
            const op = code.op[pc];
            const a = op === 0x11 ? canonical[code.a[pc]] : code.a[pc];
            b.storeUint(op, 16)
                .storeUint(a >>> 0, 32)
                .storeUint(code.b[pc] >>> 0, 32);
        }
        chunks.push(b.endCell());
    }
    const branches = code.branches.map((br) =>
        beginCell()
            .storeInt(br.target, 32)
            .storeUint(br.height, 32)
            .storeUint(br.arity, 32)
            .storeBit(br.loop >= 0)
            .storeUint(br.loop >= 0 ? cost.loops[br.loop] : 0, 64)
            .endCell(),
    );
    const loops = cost.loops.map((fuel) => beginCell().storeUint(fuel, 64).endCell());
    return beginCell()
        .storeUint(canonical[typeIndex], 32)
        .storeUint(type.params.length, 16)
        .storeUint(type.results.length, 16)
        .storeUint(type.params.length + code.locals.length, 32)
        .storeUint(cost.simple ? 0 : cost.weight, 32)
        .storeUint(cost.entry, 64)
        .storeBit(cost.simple)
        .storeUint(code.op.length, 32)
        .storeUint(code.branches.length, 32)
        .storeUint(cost.loops.length, 32)
        .storeRef(listTree(chunks))
        .storeRef(listTree(branches))
        .storeRef(listTree(loops))
        .endCell();
}

/** What never changes in a run: the limits, the host functions, the code, the tables and the input. */
export function staticCell(machine: Machine): Cell {
    const m = machine.m;
    const canonical = canonicalTypes(m.types);
    const hosts = m.hosts.map((h, i) => beginCell().storeUint(HOSTS.indexOf(h), 8).storeUint(canonical[m.funcTypes[i]], 32).endCell());
    const functions = m.codes.map((_, i) => functionCell(machine, i, canonical));
    const tables = m.tables.map((_, t) =>
        beginCell()
            .storeUint(machine.tables[t].length, 32)
            .storeRef(u32Tree(machine.tables[t].map((f) => f ?? 0xffffffff)))
            .endCell(),
    );
    return beginCell()
        .storeUint(machine.limit, 64)
        .storeUint(machine.maxBytes / 65_536, 32)
        .storeUint(machine.budget, 32)
        .storeUint(machine.maxOutput, 32)
        .storeUint(machine.input.length, 32)
        .storeInt(m.start ?? -1, 32)
        .storeUint(m.runIndex, 32)
        .storeUint(m.codes.length, 32)
        .storeUint(m.hosts.length, 32)
        .storeUint(m.tables.length, 32)
        .storeUint(m.globals.length, 32)
        .storeUint(m.data.length, 32)
        .storeRef(listTree(hosts))
        .storeRef(listTree(functions))
        .storeRef(listTree(tables))
        .storeRef(byteTree(machine.input, depthFor(Math.ceil(machine.input.length / 64))))
        .endCell();
}

function frameCell(f: Frame): Cell {
    const count = f.locals.length / 2;
    return beginCell()
        .storeUint(f.func, 32)
        .storeUint(f.base, 32)
        .storeInt(f.retFunc, 32)
        .storeUint(f.retPc, 32)
        .storeRef(valueTree(f.locals, count, depthFor(count)))
        .endCell();
}

/** A tree of 64-bit values (pairs of 32-bit halves), rebuilt as they change: a value as it was is the same leaf. */
class ValueTreeBuilder {
    private readonly tree: TreeBuilder;
    private copy = new Int32Array(0);
    private leaves: Cell[] = [];

    constructor(depth: number) {
        this.tree = new TreeBuilder(depth, ZERO_VALUE);
    }

    build(halves: Int32Array, count: number): Cell {
        if (this.copy.length < 2 * count) {
            const next = new Int32Array(2 * count);
            next.set(this.copy);
            this.copy = next;
        }
        const leaves = new Array<Cell>(count);
        for (let i = 0; i < count; i++) {
            const [lo, hi] = [halves[2 * i], halves[2 * i + 1]];
            const cached = this.leaves[i];
            if (cached !== undefined && this.copy[2 * i] === lo && this.copy[2 * i + 1] === hi) leaves[i] = cached;
            else {
                this.copy[2 * i] = lo;
                this.copy[2 * i + 1] = hi;
                leaves[i] = this.leaves[i] = lo === 0 && hi === 0 ? ZERO_VALUE : value(lo, hi);
            }
        }
        return this.tree.build(leaves);
    }
}

/**
 * Builds a machine's state as cells, at whatever step it is, as often as asked: what did not
 * change since the last build is not built again (the static part, unchanged leaves and the
 * paths above them, frames whose locals are as they were).
 */
export class StateCells {
    private staticPart: Cell | undefined;
    private readonly memory = new ByteTreeBuilder(MEMORY_DEPTH);
    private readonly output = new ByteTreeBuilder(OUTPUT_DEPTH);
    private readonly memoryHashes = new ByteTreeHasher(MEMORY_DEPTH);
    private readonly outputHashes = new ByteTreeHasher(OUTPUT_DEPTH);
    private readonly stack = new ValueTreeBuilder(STACK_DEPTH);
    private readonly globals: ValueTreeBuilder;
    private readonly frames = new TreeBuilder(FRAMES_DEPTH, EMPTY);
    private readonly frameCells = new WeakMap<Frame, { cell: Cell; locals: Int32Array }>();
    private readonly segments: Cell[];

    constructor(public machine: Machine) {
        this.globals = new ValueTreeBuilder(depthFor(machine.globals.length / 2));
        this.segments = machine.m.data.map((d) => byteTree(d.bytes, depthFor(Math.ceil(d.bytes.length / 64))));
    }

    /**
     * Builds the states of another machine of the same job from now on (a checkpoint's copy): the
     * caches compare contents, so they stay valid.
     */
    use(machine: Machine): void {
        if (machine.input !== this.machine.input || machine.limit !== this.machine.limit) throw new Error('the machine runs another job');
        this.machine = machine;
    }

    /** The state now. */
    cell(): Cell {
        return this.build(false, false);
    }

    /**
     * The state root now, as an integer: cell()'s hash, with the memory and the output hashed by the
     * platform's SHA-256 (ByteTreeHasher) and standing in the tree as pruned branches, which is
     * several times faster than building their cells.
     */
    rootHash(): bigint {
        return BigInt(`0x${this.build(true, true).hash(0).toString('hex')}`);
    }

    /**
     * The state now with the memory and the output as cells only along `paths` (a trie of child
     * indexes from the root: those under the dynamic cell's memory and output), pruned branches
     * elsewhere (ByteTreeHasher.partial): what a step's proof needs of them (client/dispute/proof.ts).
     * Its level-0 hash is the state root.
     */
    partialCell(paths: PathTrie): Cell {
        const dynamic = paths.children.get(DYNAMIC_REF)?.children;
        return this.build(true, true, dynamic?.get(MEMORY_REF), dynamic?.get(OUTPUT_REF));
    }

    /**
     * The state now with the memory as a pruned branch (hashed, not built) and the output as cells:
     * what a match's opening needs (its proof prunes the memory, and the result is the output
     * cell's hash). Its level-0 hash is the state root.
     */
    openingCell(): Cell {
        return this.build(true, false);
    }

    private build(memoryByHash: boolean, outputByHash: boolean, memoryPaths?: PathTrie, outputPaths?: PathTrie): Cell {
        const machine = this.machine;
        if (machine.st.length / 2 > 4 ** STACK_DEPTH) throw new RangeError('the value stack outgrew its tree');
        if (machine.frames.length > 4 ** FRAMES_DEPTH) throw new RangeError('the call stack outgrew its tree');
        this.staticPart ??= staticCell(machine);
        const data = machine.m.data.map((d, i) =>
            beginCell().storeBit(machine.dropped[i]).storeUint(d.bytes.length, 32).storeRef(this.segments[i]).endCell(),
        );
        const memory = machine.bytes.subarray(0, machine.size);
        const output = machine.out.subarray(0, machine.outLength);
        const dynamic = beginCell()
            .storeRef(memoryByHash ? this.hashed(this.memoryHashes, memory, memoryPaths) : this.memory.build(memory))
            .storeRef(this.globals.build(machine.globals, machine.globals.length / 2))
            .storeRef(listTree(data))
            .storeRef(outputByHash ? this.hashed(this.outputHashes, output, outputPaths) : this.output.build(output))
            .endCell();
        // only the live stack and frames (the machine leaves what it popped as it was); a halted
        // state keeps neither (rootFields)
        const halted = machine.halted;
        return rootFields(beginCell(), machine)
            .storeRef(this.staticPart)
            .storeRef(this.stack.build(machine.st, halted ? 0 : machine.sp))
            .storeRef(this.frames.build(halted ? [] : machine.frames.slice(0, machine.fp).map((f) => this.frame(f))))
            .storeRef(dynamic)
            .endCell();
    }

    /** The state root now, hex. */
    root(): string {
        return this.cell().hash().toString('hex');
    }

    /** A byte tree by its hash: a pruned branch, or cells along `paths`. */
    private hashed(hasher: ByteTreeHasher, bytes: Uint8Array, paths: PathTrie | undefined): Cell {
        const t = hasher.build(bytes);
        return paths === undefined ? standIn(t) : hasher.partial(paths);
    }

    private frame(f: Frame): Cell {
        const cached = this.frameCells.get(f);
        if (cached !== undefined && cached.locals.every((v, i) => v === f.locals[i])) return cached.cell;
        const cell = frameCell(f);
        this.frameCells.set(f, { cell, locals: f.locals.slice() });
        return cell;
    }
}

/**
 * The root's fields, in the layout's order. A halted state (returned or failed) is canonical: its
 * step count, position, call depth, stack and frame heights and bulk fields are 0 and its fuel is
 * the verdict's (the whole limit for a failure), so that it is a function of what the metered V8
 * run exposes (memory, globals, data segments, output, status and fuel) and a party can open a
 * match from that run (client/dispute/opening.ts, haltedCell). The one-step verifier writes a
 * halting step's post-state so.
 */
function rootFields(b: Builder, machine: Machine): Builder {
    const top = machine.fp > 0 ? machine.frames[machine.fp - 1] : undefined;
    const reason = machine.status === STATUS.failed ? REASONS.indexOf(machine.reason as (typeof REASONS)[number]) : 0;
    if (reason < 0) throw new Error(`no state for a run failed as ${machine.reason}`);
    if (machine.halted) {
        return b
            .storeUint(machine.status, 8)
            .storeUint(reason, 8)
            .storeUint(0, 32 + 32 + 64)
            .storeUint(machine.status === STATUS.failed ? machine.limit : machine.fuelUsed(), 64)
            .storeUint(0, 32 + 32 + 32)
            .storeUint(machine.size / 65_536, 32)
            .storeUint(machine.outLength, 32)
            .storeUint(0, 8 + 4 * 32);
    }
    return b
        .storeUint(machine.status, 8)
        .storeUint(reason, 8)
        .storeUint(top?.func ?? 0, 32)
        .storeUint(top?.pc ?? 0, 32)
        .storeUint(machine.steps, 64)
        .storeUint(machine.fuelUsed(), 64)
        .storeUint(machine.depth, 32)
        .storeUint(machine.sp, 32)
        .storeUint(machine.fp, 32)
        .storeUint(machine.size / 65_536, 32)
        .storeUint(machine.outLength, 32)
        .storeUint(machine.bulk, 8)
        .storeUint(machine.bulkDst, 32)
        .storeUint(machine.bulkSrc, 32)
        .storeUint(machine.bulkLeft, 32)
        .storeUint(machine.bulkValue, 32);
}

/** The machine's state now, as cells (StateCells builds it again faster as the machine runs on). */
export function stateCell(machine: Machine): Cell {
    return new StateCells(machine).cell();
}

/** The root's fields, read back from its cell. */
export interface RootFields {
    status: number;
    reason: string;
    func: number;
    pc: number;
    steps: bigint;
    fuel: bigint;
    depth: number;
    sp: number;
    fp: number;
    pages: number;
    outLength: number;
    bulk: { kind: number; dst: number; src: number; left: number; value: number };
}

/** Reads a state root cell's fields (the layout above). */
export function readRoot(root: Cell): RootFields {
    const s = root.beginParse();
    return {
        status: s.loadUint(8),
        reason: REASONS[s.loadUint(8)] ?? '?',
        func: s.loadUint(32),
        pc: s.loadUint(32),
        steps: s.loadUintBig(64),
        fuel: s.loadUintBig(64),
        depth: s.loadUint(32),
        sp: s.loadUint(32),
        fp: s.loadUint(32),
        pages: s.loadUint(32),
        outLength: s.loadUint(32),
        bulk: { kind: s.loadUint(8), dst: s.loadUint(32), src: s.loadUint(32), left: s.loadUint(32), value: s.loadUint(32) },
    };
}

/** The output cell (client/dispute/cells.ts, outputCell) of a state: what a halted state proves the result to be. */
export function stateOutputCell(root: Cell): Cell {
    const dynamic = root.refs[3];
    return beginCell().storeUint(readRoot(root).outLength, 32).storeRef(dynamic.refs[3]).endCell();
}

/** The state root at the machine's current step, hex. */
export function stateRoot(machine: Machine): string {
    return stateCell(machine).hash().toString('hex');
}

/**
 * The root of a job's state before its first step, hex: the job spec's `initialRoot`, which a
 * worker checks before it claims and a dispute match starts from. Throws for a program refused
 * before it runs (not valid WebAssembly, other imports, memory above the cap): it has no state,
 * and no worker claims a job for it.
 */
export function initialRoot(job: ComputeJob): string {
    return stateRoot(loaded(job));
}

/** The job's machine before its first step; throws for a program refused before it runs (it has no state). */
export function loaded(job: ComputeJob, options: InterpretOptions = {}): Machine {
    const machine = load(job, options);
    if (!(machine instanceof Machine)) throw new Error(`the program is refused before it runs (${machine.reason}): it has no state`);
    return machine;
}

/**
 * The state roots of a job's run at the given steps (ascending), in one pass; a step past the
 * halt gives the halted state's root (a halted machine steps no further). Throws for a program
 * refused before it runs: it has no state.
 */
export function rootsAt(job: ComputeJob, steps: readonly number[], options: InterpretOptions = {}): string[] {
    const machine = loaded(job, options);
    const cells = new StateCells(machine);
    let last = -1;
    return steps.map((step) => {
        if (!Number.isSafeInteger(step) || step < last) throw new RangeError('steps must be ascending whole numbers');
        last = step;
        machine.run(step);
        return cells.root();
    });
}
