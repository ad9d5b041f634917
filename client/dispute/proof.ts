/**
 * One-step proofs (docs/disputes.md, "The one-step proof"): the pre-state of a step as a TON
 * Merkle proof that keeps exactly the cells the step reads or writes (the root, the paths to the
 * instruction, the stack slots, locals, globals, memory, input, output and data leaves it
 * touches, the ends of the slots it pops and the frame it leaves, which it clears) and replaces
 * every other subtree by a pruned branch carrying its hash. The proof's
 * level-0 hash is the pre-state root; the verifier executes the step on it, rebuilds the touched
 * paths around the pruned siblings, and the rebuilt root's level-0 hash is the post-state root.
 */
import { beginCell, Cell, CellType, convertToMerkleProof } from '@ton/core';
import { depthFor, LEAF_BYTES, MEMORY_DEPTH, OUTPUT_DEPTH, PathTrie, trieOf } from './cells';
import { BULK, CHUNK_BYTES, Machine, STATUS } from './interpreter';
import { CHUNK_INSTRUCTIONS, FRAMES_DEPTH, STACK_DEPTH, StateCells } from './state';

/** A path from the state root: the reference taken at each cell. */
export type Path = number[];

/** The path to leaf `index` of a complete 4-ary tree of `depth` levels. */
export function treePath(depth: number, index: number): Path {
    const path: Path = [];
    for (let d = depth - 1; d >= 0; d--) path.push(Math.floor(index / 4 ** d) % 4);
    return path;
}

/** The paths to the parts of a machine's state, as client/dispute/state.ts lays them out. */
export class StatePaths {
    constructor(readonly machine: Machine) {}

    private get imported(): number {
        return this.machine.m.hosts.length;
    }

    static(): Path {
        return [0];
    }
    host(index: number): Path {
        return [0, 0, ...treePath(depthFor(this.machine.m.hosts.length), index)];
    }
    /** A defined function's cell, by its function index (imports first). */
    func(func: number): Path {
        return [0, 1, ...treePath(depthFor(this.machine.m.codes.length), func - this.imported)];
    }
    chunk(func: number, pc: number): Path {
        const code = this.machine.m.codes[func - this.imported];
        return [
            ...this.func(func),
            0,
            ...treePath(depthFor(Math.ceil(code.op.length / CHUNK_INSTRUCTIONS)), Math.floor(pc / CHUNK_INSTRUCTIONS)),
        ];
    }
    branch(func: number, index: number): Path {
        const code = this.machine.m.codes[func - this.imported];
        return [...this.func(func), 1, ...treePath(depthFor(code.branches.length), index)];
    }
    loop(func: number, index: number): Path {
        const loops = this.machine.costs[func - this.imported].loops;
        return [...this.func(func), 2, ...treePath(depthFor(loops.length), index)];
    }
    /** A table's cell (its length), and with `element` the path to that element. */
    table(table: number, element?: number): Path {
        const path = [0, 2, ...treePath(depthFor(this.machine.m.tables.length), table)];
        return element === undefined ? path : [...path, 0, ...treePath(depthFor(this.machine.tables[table].length), element)];
    }
    inputLeaf(leaf: number): Path {
        return [0, 3, ...treePath(depthFor(Math.ceil(this.machine.input.length / LEAF_BYTES)), leaf)];
    }
    slot(slot: number): Path {
        return [1, ...treePath(STACK_DEPTH, slot)];
    }
    frame(frame: number): Path {
        return [2, ...treePath(FRAMES_DEPTH, frame)];
    }
    local(frame: number, local: number): Path {
        const f = this.machine.frames[frame];
        return [...this.frame(frame), 0, ...treePath(depthFor(f.locals.length / 2), local)];
    }
    memoryLeaf(leaf: number): Path {
        return [3, 0, ...treePath(MEMORY_DEPTH, leaf)];
    }
    global(index: number): Path {
        return [3, 1, ...treePath(depthFor(this.machine.globals.length / 2), index)];
    }
    segment(segment: number, leaf?: number): Path {
        const path = [3, 2, ...treePath(depthFor(this.machine.m.data.length), segment)];
        if (leaf === undefined) return path;
        return [...path, 0, ...treePath(depthFor(Math.ceil(this.machine.m.data[segment].bytes.length / LEAF_BYTES)), leaf)];
    }
    outputLeaf(leaf: number): Path {
        return [3, 3, ...treePath(OUTPUT_DEPTH, leaf)];
    }
}

/** The leaves covering bytes [at, at + n) (none when n is 0). */
function leavesOf(at: number, n: number): number[] {
    if (n <= 0) return [];
    const first = Math.floor(at / LEAF_BYTES);
    const last = Math.floor((at + n - 1) / LEAF_BYTES);
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** Bytes a load or store of this opcode moves. */
function accessSize(op: number): number {
    if (op === 0x29 || op === 0x2b || op === 0x37 || op === 0x39) return 8;
    if (op === 0x2c || op === 0x2d || op === 0x30 || op === 0x31 || op === 0x3a || op === 0x3c) return 1;
    if (op === 0x2e || op === 0x2f || op === 0x32 || op === 0x33 || op === 0x3b || op === 0x3d) return 2;
    return 4;
}

/**
 * The paths the machine's next step reads or writes (its pre-state: the machine as it is). A
 * path ends at the cell the step reads or replaces; everything on it is read. A copy of the
 * machine takes the step first, to learn what it pops (the slots and frames it clears).
 */
export function stepPaths(machine: Machine): Path[] {
    const p = new StatePaths(machine);
    // the root, the static cell and the dynamic cell are read by every step
    const paths: Path[] = [p.static(), [3]];
    if (machine.halted) return paths;
    const slots = (from: number, to: number) => {
        for (let s = Math.max(0, from); s < to; s++) paths.push(p.slot(s));
    };
    const memory = (at: number, n: number) => leavesOf(at, n).forEach((l) => paths.push(p.memoryLeaf(l)));
    if (machine.bulk !== BULK.none) {
        const { bulkDst: dst, bulkSrc: src, bulkLeft: left } = machine;
        const kind = machine.bulk;
        if (kind === BULK.copyBackward) {
            const end = dst + left;
            const n = Math.min(left, ((end - 1) % CHUNK_BYTES) + 1);
            memory(end - n, n);
            memory(src + left - n, n);
            return paths;
        }
        const n = Math.min(left, CHUNK_BYTES - (dst % CHUNK_BYTES));
        if (kind === BULK.writeOutput) leavesOf(dst, n).forEach((l) => paths.push(p.outputLeaf(l)));
        else memory(dst, n);
        if (kind === BULK.copyForward || kind === BULK.writeOutput) memory(src, n);
        if (kind === BULK.readInput) leavesOf(src, n).forEach((l) => paths.push(p.inputLeaf(l)));
        if (kind === BULK.init) leavesOf(src, n).forEach((l) => paths.push(p.segment(machine.bulkValue, l)));
        return paths;
    }
    const sp = machine.sp;
    const fp = machine.fp;
    // what the step leaves behind is cleared (the verifier's clearAbove): the two ends of the
    // stack slots it popped (the subtrees between them are replaced whole) and the frames it left
    const after = machine.clone();
    after.run(machine.steps + 1);
    if (!after.halted) {
        if (after.sp < sp) paths.push(p.slot(after.sp), p.slot(sp - 1));
        for (let f = after.fp; f < fp; f++) paths.push(p.frame(f));
    }
    if (fp === 0) {
        // an entry call: its function, and the frame it opens (entries take no params)
        const entry = machine.status === STATUS.callStart ? machine.m.start! : machine.m.runIndex;
        paths.push(p.func(entry), p.frame(0));
        return paths;
    }
    const f = machine.frames[fp - 1];
    const code = f.code;
    const op = code.op[f.pc];
    const a = code.a[f.pc];
    const b = code.b[f.pc];
    paths.push(p.chunk(f.func, f.pc));
    const imported = machine.m.hosts.length;
    const top = (k: number) => machine.st[2 * (sp - k)] >>> 0; // the i32 k values down
    // the stack's height once the instruction popped what it pops first (a condition, an index)
    let h = sp;
    const branch = (index: number) => {
        const br = code.branches[index];
        paths.push(p.branch(f.func, index), p.frame(fp - 1));
        slots(h - br.arity, h);
        slots(f.base + br.height, f.base + br.height + br.arity);
        if (br.target < 0) ret(f.base + br.height + br.arity);
    };
    const ret = (height: number) => {
        // the frame left (its base, results and caller), the results moved down to its base
        paths.push(p.frame(fp - 1), p.func(f.func));
        slots(height - f.results, height);
        slots(f.base, f.base + f.results);
    };
    const call = (callee: number) => {
        if (callee < imported) {
            paths.push(p.host(callee));
            const host = machine.m.hosts[callee];
            if (host === 'input_size') slots(h, h + 1);
            if (host === 'read_input') slots(h - 3, h);
            if (host === 'write_output') slots(h - 2, h);
            return;
        }
        const params = machine.m.types[machine.m.funcTypes[callee]].params.length;
        paths.push(p.func(callee), p.frame(fp));
        slots(h - params, h);
    };
    switch (op) {
        case 0x03:
            paths.push(p.loop(f.func, a));
            break;
        case 0x04:
            slots(sp - 1, sp);
            break;
        case 0x0b:
            if (a === 1) ret(sp);
            break;
        case 0x0c:
        case 0x0f:
            branch(a);
            break;
        case 0x0d:
            slots(sp - 1, sp);
            h = sp - 1;
            if (top(1) !== 0) branch(a);
            break;
        case 0x0e:
            slots(sp - 1, sp);
            h = sp - 1;
            branch(a + Math.min(top(1), b - 1));
            break;
        case 0x10:
            call(a);
            break;
        case 0x11: {
            slots(sp - 1, sp);
            const i = top(1);
            paths.push(p.table(b));
            const table = machine.tables[b];
            if (table !== undefined && i < table.length) {
                paths.push(p.table(b, i));
                const callee = table[i];
                if (callee !== null) {
                    h = sp - 1;
                    call(callee);
                }
            }
            break;
        }
        case 0x1b:
            slots(sp - 3, sp);
            break;
        case 0x20:
            paths.push(p.local(fp - 1, a));
            slots(sp, sp + 1);
            break;
        case 0x21:
        case 0x22:
            paths.push(p.local(fp - 1, a));
            slots(sp - 1, sp);
            break;
        case 0x23:
            paths.push(p.global(a));
            slots(sp, sp + 1);
            break;
        case 0x24:
            paths.push(p.global(a));
            slots(sp - 1, sp);
            break;
        case 0x3f:
        case 0x41:
        case 0x42:
        case 0x43:
        case 0x44:
            slots(sp, sp + 1);
            break;
        case 0x40:
            slots(sp - 1, sp);
            break;
        case 0xfc08:
            slots(sp - 3, sp);
            paths.push(p.segment(a));
            break;
        case 0xfc09:
            paths.push(p.segment(a));
            break;
        case 0xfc0a:
        case 0xfc0b:
            slots(sp - 3, sp);
            break;
        default:
            if (op >= 0x28 && op <= 0x35) {
                slots(sp - 1, sp);
                const ea = top(1) + (a >>> 0);
                if (ea + accessSize(op) <= machine.size) memory(ea, accessSize(op));
            } else if (op >= 0x36 && op <= 0x3e) {
                slots(sp - 2, sp);
                const ea = top(2) + (a >>> 0);
                if (ea + accessSize(op) <= machine.size) memory(ea, accessSize(op));
            } else if (op >= 0x45 || (op >= 0xfc00 && op <= 0xfc07)) {
                // numeric: its operands (at most two) and the slot of its result
                slots(sp - 2, sp);
            }
    }
    return paths;
}

/** A cell's pruned branch: what stands in a proof for a subtree the step does not touch. */
export function prunedBranch(cell: Cell): Cell {
    if (cell.type === CellType.PrunedBranch) return cell;
    return beginCell().storeUint(1, 8).storeUint(1, 8).storeBuffer(cell.hash(0)).storeUint(cell.depth(0), 16).endCell({ exotic: true });
}

/** `cell` with every subtree off the paths replaced by its pruned branch (a pruned branch already there stays as it is). */
export function prune(cell: Cell, paths: readonly Path[]): Cell {
    const walk = (c: Cell, node: PathTrie): Cell => {
        const b = beginCell().storeBits(c.bits);
        c.refs.forEach((ref, i) => {
            const below = node.children.get(i);
            b.storeRef(below === undefined ? prunedBranch(ref) : walk(ref, below));
        });
        return b.endCell();
    };
    return walk(cell, trieOf(paths));
}

/** A step's proof: the pre-state as a Merkle proof of what the step touches, and the roots either side. */
export interface StepProof {
    /** The step's number: the pre-state has taken `step` steps. */
    step: number;
    preRoot: bigint;
    postRoot: bigint;
    proof: Cell;
}

/**
 * Proves the machine's next step and takes it: `cells` builds its states (one StateCells per
 * machine, so that only what changed is built again). The memory and the output are built as
 * cells only along the step's paths (StateCells.partialCell), the roots hashed.
 */
export function proveStep(machine: Machine, cells: StateCells): StepProof {
    if (cells.machine !== machine) throw new Error('the state cells are of another machine');
    const step = machine.steps;
    const paths = stepPaths(machine);
    const pre = cells.partialCell(trieOf(paths));
    const proof = convertToMerkleProof(prune(pre, paths));
    const preRoot = BigInt(`0x${pre.hash(0).toString('hex')}`);
    machine.run(step + 1);
    return { step, preRoot, postRoot: cells.rootHash(), proof };
}
