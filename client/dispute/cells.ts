/**
 * Byte arrays as TON cell trees, the shape docs/disputes.md gives the machine's memory, its input
 * and its output: a complete 4-ary tree (a cell's four references) over 64-byte leaves (512 bits,
 * the largest power of two a cell holds), zero-padded to its capacity. Equal subtrees are one
 * cell, so the tree of an all-zero 4 GiB memory is `depth + 1` distinct cells, and only the leaves
 * that hold a non-zero byte cost anything to build. The tree's hash is its root cell's
 * representation hash: TON's own Merkle root, which a contract checks a proof against.
 */
import { beginCell, Cell } from '@ton/core';

/** Bytes in a leaf. */
/** A cell's hash as the unsigned 256-bit integer contracts and messages carry. */
export function cellHashInt(c: Cell): bigint {
    return BigInt(`0x${c.hash().toString('hex')}`);
}

export const LEAF_BYTES = 64;
/** References of an inner cell. */
export const FAN_OUT = 4;
/** The depth of a memory's tree: 4^13 leaves of 64 bytes are 2^32 bytes. */
export const MEMORY_DEPTH = 13;
/** The depth of the output's tree: 4^9 leaves of 64 bytes are 16 MiB, the output cap. */
export const OUTPUT_DEPTH = 9;

/** A leaf of 64 zero bytes. */
const ZERO_LEAF = beginCell().storeBuffer(Buffer.alloc(LEAF_BYTES)).endCell();
/** Trees of zero leaves by the leaf's hash, then by depth: [0] is the leaf itself. */
const zeros = new Map<string, Cell[]>();
/** The same lists by the leaf cell itself, so a leaf already seen is not hashed again. */
const zerosOf = new WeakMap<Cell, Cell[]>();

/** The complete tree of `depth` levels above leaves that are all `leaf` (by default 64 zero bytes). */
export function zeroTree(depth: number, leaf: Cell = ZERO_LEAF): Cell {
    let trees = zerosOf.get(leaf);
    if (trees === undefined) {
        const key = leaf.hash().toString('hex');
        trees = zeros.get(key);
        if (trees === undefined) zeros.set(key, (trees = [leaf]));
        zerosOf.set(leaf, trees);
    }
    while (trees.length <= depth) {
        const below = trees[trees.length - 1];
        trees.push(beginCell().storeRef(below).storeRef(below).storeRef(below).storeRef(below).endCell());
    }
    return trees[depth];
}

/**
 * The cell at level `d` over `level[i..i + 3]`, the missing ones the zero tree below (of leaf
 * `zero`); the zero tree itself when all four are.
 */
function inner(level: readonly Cell[], i: number, zero: Cell, d: number): Cell {
    const filler = zeroTree(d - 1, zero);
    const children = [level[i] ?? filler, level[i + 1] ?? filler, level[i + 2] ?? filler, level[i + 3] ?? filler];
    if (children.every((c) => c === filler)) return zeroTree(d, zero);
    const b = beginCell();
    for (const c of children) b.storeRef(c);
    return b.endCell();
}

/** The least depth of a tree with room for `count` leaves. */
export function depthFor(count: number): number {
    let depth = 0;
    while (FAN_OUT ** depth < count) depth++;
    return depth;
}

/**
 * The complete 4-ary tree of `depth` levels over `leaves` from index 0, the rest `zero` (a missing
 * leaf is `zero` too); throws a RangeError if they do not fit.
 */
export function tree(leaves: readonly (Cell | undefined)[], depth: number, zero: Cell): Cell {
    if (leaves.length > FAN_OUT ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`);
    // each level up to the root; past the given leaves, the zero trees
    let level = leaves.map((l) => l ?? zero);
    for (let d = 1; d <= depth; d++) {
        const next: Cell[] = [];
        for (let i = 0; i < level.length; i += FAN_OUT) next.push(inner(level, i, zero, d));
        level = next;
    }
    return level[0] ?? zeroTree(depth, zero);
}

/** The bytes a tree of `depth` levels holds. */
export function capacityOf(depth: number): number {
    return LEAF_BYTES * FAN_OUT ** depth;
}

/** The tree of `depth` levels holding `bytes` from offset 0, zero-padded; throws a RangeError if they do not fit. */
export function byteTree(bytes: Uint8Array, depth: number): Cell {
    if (!Number.isInteger(depth) || depth < 0 || depth > MEMORY_DEPTH) throw new RangeError(`depth must be 0 to ${MEMORY_DEPTH}`);
    if (bytes.length > capacityOf(depth)) throw new RangeError(`${bytes.length} bytes do not fit a tree of ${capacityOf(depth)}`);
    const leaves: Cell[] = [];
    for (let at = 0; at < bytes.length; at += LEAF_BYTES) {
        const leaf = Buffer.alloc(LEAF_BYTES);
        leaf.set(bytes.subarray(at, at + LEAF_BYTES));
        leaves.push(leaf.every((b) => b === 0) ? ZERO_LEAF : beginCell().storeBuffer(leaf).endCell());
    }
    return tree(leaves, depth, ZERO_LEAF);
}

/**
 * A tree built again and again as its leaves change (the machine's memory, stack and frames at
 * each step the game asks for): an inner cell whose four children are the very cells it had last
 * time is reused, so a rebuild hashes only the paths above changed leaves.
 */
export class TreeBuilder {
    /** The cells of the last build, by level: [0] the leaves. */
    private levels: Cell[][] = [];

    constructor(
        readonly depth: number,
        readonly zero: Cell,
    ) {}

    build(leaves: readonly Cell[]): Cell {
        if (leaves.length > FAN_OUT ** this.depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${this.depth}`);
        let level = leaves as Cell[];
        for (let d = 1; d <= this.depth; d++) {
            const before = this.levels[d] ?? [];
            const below = this.levels[d - 1] ?? [];
            const filler = zeroTree(d - 1, this.zero);
            const next: Cell[] = [];
            for (let i = 0; i < level.length; i += FAN_OUT) {
                const kept = before[next.length];
                let same = kept !== undefined;
                for (let k = 0; k < FAN_OUT && same; k++) same = (level[i + k] ?? filler) === (below[i + k] ?? filler);
                next.push(same ? kept : inner(level, i, this.zero, d));
            }
            this.levels[d - 1] = level;
            level = next;
        }
        this.levels[this.depth] = level;
        return level[0] ?? zeroTree(this.depth, this.zero);
    }
}

/** A byte array's tree (byteTree), rebuilt as the bytes change: a leaf whose 64 bytes are as they were is the same cell. */
export class ByteTreeBuilder {
    private readonly tree: TreeBuilder;
    private copy = new Uint8Array(0);
    private leaves: (Cell | undefined)[] = [];

    constructor(readonly depth: number) {
        this.tree = new TreeBuilder(depth, ZERO_LEAF);
    }

    build(bytes: Uint8Array): Cell {
        if (bytes.length > capacityOf(this.depth))
            throw new RangeError(`${bytes.length} bytes do not fit a tree of ${capacityOf(this.depth)}`);
        const count = Math.ceil(bytes.length / LEAF_BYTES);
        if (this.copy.length < count * LEAF_BYTES) {
            const next = new Uint8Array(count * LEAF_BYTES);
            next.set(this.copy);
            this.copy = next;
        }
        const leaves: Cell[] = new Array<Cell>(count);
        for (let i = 0; i < count; i++) {
            const at = i * LEAF_BYTES;
            const now = bytes.subarray(at, at + LEAF_BYTES);
            const was = this.copy.subarray(at, at + LEAF_BYTES);
            const cached = this.leaves[i];
            if (cached !== undefined && now.length === LEAF_BYTES && Buffer.compare(now, was) === 0) {
                leaves[i] = cached;
                continue;
            }
            const leaf = Buffer.alloc(LEAF_BYTES);
            leaf.set(now);
            was.set(leaf);
            leaves[i] = leaf.every((b) => b === 0) ? ZERO_LEAF : beginCell().storeBuffer(leaf).endCell();
            // a short last leaf is rebuilt every time (its copy cannot tell its length)
            this.leaves[i] = now.length === LEAF_BYTES ? leaves[i] : undefined;
        }
        return this.tree.build(leaves);
    }
}

/**
 * The output cell: the output's length (uint32) and its tree (OUTPUT_DEPTH levels). Its hash is
 * the result a worker commits to when disputes land (docs/disputes.md, "The result hash"); a
 * requester rebuilds it from the downloaded bytes.
 */
export function outputCell(output: Uint8Array): Cell {
    return beginCell().storeUint(output.length, 32).storeRef(byteTree(output, OUTPUT_DEPTH)).endCell();
}

/** The output cell's hash, hex. */
export function outputHash(output: Uint8Array): string {
    return outputCell(output).hash().toString('hex');
}
