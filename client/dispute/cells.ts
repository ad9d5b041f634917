/**
 * Byte arrays as TON cell trees, the shape docs/disputes.md gives the machine's memory, its input
 * and its output: a complete 4-ary tree (a cell's four references) over 64-byte leaves (512 bits,
 * the largest power of two a cell holds), zero-padded to its capacity. Equal subtrees are one
 * cell, so the tree of an all-zero 4 GiB memory is `depth + 1` distinct cells, and only the leaves
 * that hold a non-zero byte cost anything to build. The tree's hash is its root cell's
 * representation hash: TON's own Merkle root, which a contract checks a proof against.
 */
import { createHash } from 'node:crypto';
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

/** A subtree's hash (its root cell's representation hash) and depth, without its cells. */
export interface SubtreeHash {
    hash: Buffer;
    depth: number;
}

/** A leaf's descriptor bytes (no references, 512 bits of data): d1 = 0, d2 = 2 × 64. */
const LEAF_D2 = 2 * LEAF_BYTES;
/** An inner cell's descriptor bytes: four references, no data. */
const INNER_D1 = FAN_OUT;

/** The representation hash of an ordinary cell with 64 bytes of data and no references. */
function leafHash(scratch: Buffer, bytes: Buffer, at: number, end: number): Buffer {
    scratch[0] = 0;
    scratch[1] = LEAF_D2;
    scratch.fill(0, 2);
    bytes.copy(scratch, 2, at, Math.min(end, at + LEAF_BYTES));
    return sha256(scratch);
}

/** SHA-256 (the web app's page bundles a shim of node:crypto with createHash alone). */
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** The representation hash of an inner cell whose four children, all of depth `d - 1`, have these hashes. */
function innerHash(scratch: Buffer, d: number, children: readonly Buffer[]): Buffer {
    scratch[0] = INNER_D1;
    scratch[1] = 0;
    for (let k = 0; k < FAN_OUT; k++) scratch.writeUInt16BE(d - 1, 2 + 2 * k);
    for (let k = 0; k < FAN_OUT; k++) children[k].copy(scratch, 2 + 2 * FAN_OUT + 32 * k);
    return sha256(scratch);
}

const ZERO_BYTES = Buffer.alloc(LEAF_BYTES);

/** Hashes of the all-zero trees by depth: [0] the zero leaf's (each one Buffer, compared by identity). */
const zeroHashes: Buffer[] = [];

function zeroHash(d: number): Buffer {
    const inner = Buffer.alloc(2 + 2 * FAN_OUT + 32 * FAN_OUT);
    if (zeroHashes.length === 0) zeroHashes.push(leafHash(Buffer.alloc(2 + LEAF_BYTES), Buffer.alloc(LEAF_BYTES), 0, LEAF_BYTES));
    while (zeroHashes.length <= d) {
        const below = zeroHashes[zeroHashes.length - 1];
        zeroHashes.push(innerHash(inner, zeroHashes.length, [below, below, below, below]));
    }
    return zeroHashes[d];
}

/**
 * A byte array's tree (byteTree) as its hash alone, computed with the platform's SHA-256 rather than
 * by building cells, and again as the bytes change: only leaves whose 64 bytes changed and the
 * paths above them are hashed again. For roots, where no proof needs the cells: a pruned branch
 * (client/dispute/proof.ts) with this hash stands in for the tree, and the level-0 hash of a cell
 * holding it is the hash of the cell holding the tree.
 */
export class ByteTreeHasher {
    private copy = Buffer.alloc(0);
    /** The hashes of the last build, by level ([0] the leaves), for the nodes over the bytes given. */
    private levels: Buffer[][] = [];
    private readonly leafScratch = Buffer.alloc(2 + LEAF_BYTES);
    private readonly innerScratch = Buffer.alloc(2 + 2 * FAN_OUT + 32 * FAN_OUT);

    constructor(readonly depth: number) {}

    build(bytes: Uint8Array): SubtreeHash {
        if (bytes.length > capacityOf(this.depth))
            throw new RangeError(`${bytes.length} bytes do not fit a tree of ${capacityOf(this.depth)}`);
        const now = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        const count = Math.ceil(bytes.length / LEAF_BYTES);
        const old = this.copy;
        // which nodes changed, by level
        let changed: number[] = [];
        const leaves = (this.levels[0] ??= []);
        leaves.length = Math.min(leaves.length, count);
        for (let i = 0; i < count; i++) {
            const at = i * LEAF_BYTES;
            const end = Math.min(bytes.length, at + LEAF_BYTES);
            const full = end - at === LEAF_BYTES;
            if (leaves[i] !== undefined && full && end <= old.length && now.compare(old, at, end, at, end) === 0) continue;
            leaves[i] = now.compare(ZERO_BYTES, 0, end - at, at, end) === 0 ? zeroHash(0) : leafHash(this.leafScratch, now, at, end);
            changed.push(i);
        }
        if (old.length < bytes.length || this.copy.length !== bytes.length) {
            this.copy = Buffer.alloc(bytes.length);
            now.copy(this.copy);
        } else for (const i of changed) now.copy(this.copy, i * LEAF_BYTES, i * LEAF_BYTES, Math.min(bytes.length, (i + 1) * LEAF_BYTES));
        let width = count;
        for (let d = 1; d <= this.depth; d++) {
            const below = this.levels[d - 1];
            const level = (this.levels[d] ??= []);
            width = Math.ceil(width / FAN_OUT);
            // the parents of what changed, the nodes not built before (the bytes grew) and the last
            // node, whose children past the end are zero trees (the bytes may have shrunk)
            const dirty = new Uint8Array(width);
            for (const i of changed) dirty[Math.floor(i / FAN_OUT)] = 1;
            for (let p = level.length; p < width; p++) dirty[p] = 1;
            if (width > 0) dirty[width - 1] = 1;
            level.length = width;
            const filler = zeroHash(d - 1);
            changed = [];
            for (let p = 0; p < width; p++) {
                if (dirty[p] === 0) continue;
                const children = [0, 1, 2, 3].map((k) => below[FAN_OUT * p + k] ?? filler);
                level[p] = children.every((c) => c === filler) ? zeroHash(d) : innerHash(this.innerScratch, d, children);
                changed.push(p);
            }
        }
        return { hash: this.levels[this.depth]?.[0] ?? zeroHash(this.depth), depth: this.depth };
    }

    /**
     * The last build's tree as cells only along `paths` (a trie of child indexes from the tree's
     * root): the cells on a path are real, each subtree off them a pruned branch with its hash. Its
     * level-0 hash is the tree's, and a proof of those paths (client/dispute/proof.ts, prune) is the
     * same as from the whole tree's cells, for a few cells instead of all of them.
     */
    partial(paths: PathTrie): Cell {
        const node = (d: number, p: number, trie: PathTrie | undefined): Cell => {
            if (trie === undefined) return standIn({ hash: this.levels[d]?.[p] ?? zeroHash(d), depth: d });
            if (d === 0) {
                const leaf = Buffer.alloc(LEAF_BYTES);
                const from = Math.min(this.copy.length, p * LEAF_BYTES);
                this.copy.copy(leaf, 0, from, Math.min(this.copy.length, from + LEAF_BYTES));
                return beginCell().storeBuffer(leaf).endCell();
            }
            const b = beginCell();
            for (let k = 0; k < FAN_OUT; k++) b.storeRef(node(d - 1, FAN_OUT * p + k, trie.children.get(k)));
            return b.endCell();
        };
        return node(this.depth, 0, paths);
    }
}

/**
 * The output cell's hash, hex: outputCell(output).hash(), computed with the platform's SHA-256 over
 * the tree's hashes (ByteTreeHasher) instead of by building the tree's cells, six times faster (a
 * 2 MB output: about 150 ms against 1 s here). Workers, requesters and storage nodes hash every
 * output they commit, fetch or serve with it.
 */
export function outputHash(output: Uint8Array): string {
    const tree = new ByteTreeHasher(OUTPUT_DEPTH).build(output);
    // the output cell's representation: d1 = one reference, d2 = 2 × 4 data bytes (32 bits), the
    // length, then the tree's depth and hash
    const repr = Buffer.alloc(2 + 4 + 2 + 32);
    repr[0] = 1;
    repr[1] = 2 * 4;
    repr.writeUInt32BE(output.length, 2);
    repr.writeUInt16BE(tree.depth, 6);
    tree.hash.copy(repr, 8);
    return sha256(repr).toString('hex');
}

/** Paths as a trie of child indexes. */
export interface PathTrie {
    children: Map<number, PathTrie>;
}

/** The trie of `paths` (each a list of child indexes from one cell down). */
export function trieOf(paths: readonly (readonly number[])[]): PathTrie {
    const trie: PathTrie = { children: new Map() };
    for (const path of paths) {
        let node = trie;
        for (const step of path) {
            let next = node.children.get(step);
            if (next === undefined) node.children.set(step, (next = { children: new Map() }));
            node = next;
        }
    }
    return trie;
}

/** A pruned branch standing for a subtree known by its hash and depth (client/dispute/proof.ts, prunedBranch). */
export function standIn(t: SubtreeHash): Cell {
    return beginCell().storeUint(1, 8).storeUint(1, 8).storeBuffer(t.hash).storeUint(t.depth, 16).endCell({ exotic: true });
}
