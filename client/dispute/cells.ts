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
export const LEAF_BYTES = 64;
/** References of an inner cell. */
export const FAN_OUT = 4;
/** The depth of a memory's tree: 4^13 leaves of 64 bytes are 2^32 bytes. */
export const MEMORY_DEPTH = 13;
/** The depth of the output's tree: 4^9 leaves of 64 bytes are 16 MiB, the output cap. */
export const OUTPUT_DEPTH = 9;

const zeros: Cell[] = [];

/** The tree of `depth` levels above the leaves holding only zero bytes. */
export function zeroTree(depth: number): Cell {
    if (zeros.length === 0) zeros.push(beginCell().storeBuffer(Buffer.alloc(LEAF_BYTES)).endCell());
    while (zeros.length <= depth) {
        const below = zeros[zeros.length - 1];
        zeros.push(beginCell().storeRef(below).storeRef(below).storeRef(below).storeRef(below).endCell());
    }
    return zeros[depth];
}

/** The bytes a tree of `depth` levels holds. */
export function capacityOf(depth: number): number {
    return LEAF_BYTES * FAN_OUT ** depth;
}

/** The tree of `depth` levels holding `bytes` from offset 0, zero-padded; throws a RangeError if they do not fit. */
export function byteTree(bytes: Uint8Array, depth: number): Cell {
    if (!Number.isInteger(depth) || depth < 0 || depth > MEMORY_DEPTH) throw new RangeError(`depth must be 0 to ${MEMORY_DEPTH}`);
    if (bytes.length > capacityOf(depth)) throw new RangeError(`${bytes.length} bytes do not fit a tree of ${capacityOf(depth)}`);
    // the leaves that hold data, then each level above them, up to the root; the rest are zero trees
    let level: Cell[] = [];
    for (let at = 0; at < bytes.length; at += LEAF_BYTES) {
        const leaf = Buffer.alloc(LEAF_BYTES);
        leaf.set(bytes.subarray(at, at + LEAF_BYTES));
        level.push(leaf.every((b) => b === 0) ? zeroTree(0) : beginCell().storeBuffer(leaf).endCell());
    }
    for (let d = 1; d <= depth; d++) {
        const next: Cell[] = [];
        for (let i = 0; i < level.length; i += FAN_OUT) {
            const b = beginCell();
            for (let k = 0; k < FAN_OUT; k++) b.storeRef(level[i + k] ?? zeroTree(d - 1));
            next.push(b.endCell());
        }
        level = next;
    }
    return level[0] ?? zeroTree(depth);
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
