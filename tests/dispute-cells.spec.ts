/**
 * Byte arrays as cell trees (client/dispute/cells.ts), the shape of the dispute machine's memory,
 * input and output (docs/disputes.md): the fast construction equals a naive one, shares zero
 * subtrees, commits to every byte, and the output cell commits to the length too.
 */
import { beginCell, Cell } from '@ton/core';
import {
    ByteTreeHasher,
    byteTree,
    capacityOf,
    LEAF_BYTES,
    MEMORY_DEPTH,
    OUTPUT_DEPTH,
    outputCell,
    outputHash,
    trieOf,
    zeroTree,
} from '../client/dispute/cells';
import { prune } from '../client/dispute/proof';

/** The tree built the long way: every leaf, every inner cell, nothing shared. */
function naive(bytes: Uint8Array, depth: number): Cell {
    const padded = Buffer.alloc(capacityOf(depth));
    padded.set(bytes);
    let level = Array.from({ length: 4 ** depth }, (_, i) =>
        beginCell()
            .storeBuffer(padded.subarray(i * LEAF_BYTES, (i + 1) * LEAF_BYTES))
            .endCell(),
    );
    while (level.length > 1) {
        const next: Cell[] = [];
        for (let i = 0; i < level.length; i += 4) {
            next.push(
                beginCell()
                    .storeRef(level[i])
                    .storeRef(level[i + 1])
                    .storeRef(level[i + 2])
                    .storeRef(level[i + 3])
                    .endCell(),
            );
        }
        level = next;
    }
    return level[0];
}

/** The distinct cells of a tree, by hash. */
function distinct(root: Cell): number {
    const seen = new Set<string>();
    const todo = [root];
    while (todo.length > 0) {
        const c = todo.pop()!;
        const h = c.hash().toString('hex');
        if (seen.has(h)) continue;
        seen.add(h);
        todo.push(...c.refs);
    }
    return seen.size;
}

/** Deterministic bytes from a seed. */
function bytesOf(n: number, seed: number): Uint8Array {
    const out = new Uint8Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
    }
    return out;
}

describe('byte arrays as cell trees', () => {
    it('builds the same tree as the naive construction, for every length up to and at the capacity', () => {
        for (const depth of [0, 1, 2, 3]) {
            for (const n of [0, 1, 63, 64, 65, 200, capacityOf(depth) - 1, capacityOf(depth)].filter((n) => n <= capacityOf(depth))) {
                const bytes = bytesOf(n, n + 7 * depth);
                expect([depth, n, byteTree(bytes, depth).hash().toString('hex')]).toEqual([
                    depth,
                    n,
                    naive(bytes, depth).hash().toString('hex'),
                ]);
            }
        }
    });

    it('shares equal subtrees: an all-zero 4 GiB memory is 14 distinct cells, and sparse data adds only its paths', () => {
        const empty = byteTree(new Uint8Array(0), MEMORY_DEPTH);
        expect(empty.hash()).toEqual(zeroTree(MEMORY_DEPTH).hash());
        expect(distinct(empty)).toBe(MEMORY_DEPTH + 1);
        expect(capacityOf(MEMORY_DEPTH)).toBe(2 ** 32);
        // one non-zero byte: its leaf and the 13 cells above it, beside the zero subtrees of levels 0 to 12
        const one = new Uint8Array(100);
        one[99] = 1;
        expect(distinct(byteTree(one, MEMORY_DEPTH))).toBe(MEMORY_DEPTH + 1 + MEMORY_DEPTH);
    });

    it('commits to every byte: changing any one changes the root', () => {
        const bytes = bytesOf(4 * LEAF_BYTES + 5, 3);
        const root = byteTree(bytes, 2).hash().toString('hex');
        for (const at of [0, 63, 64, 255, 256, bytes.length - 1]) {
            const changed = Uint8Array.from(bytes);
            changed[at] ^= 0x80;
            expect(byteTree(changed, 2).hash().toString('hex')).not.toBe(root);
        }
    });

    it('refuses bytes past the capacity and depths past a memory’s', () => {
        expect(() => byteTree(new Uint8Array(capacityOf(1) + 1), 1)).toThrow(new RangeError('257 bytes do not fit a tree of 256'));
        expect(() => byteTree(new Uint8Array(0), MEMORY_DEPTH + 1)).toThrow(new RangeError(`depth must be 0 to ${MEMORY_DEPTH}`));
    });

    it('the output cell commits to the length as well: trailing zeros make another result', () => {
        const text = Buffer.from('hello, fog');
        const padded = Buffer.concat([text, Buffer.alloc(1)]);
        expect(byteTree(text, OUTPUT_DEPTH).hash()).toEqual(byteTree(padded, OUTPUT_DEPTH).hash());
        expect(outputHash(text)).not.toBe(outputHash(padded));
        const cell = outputCell(text);
        expect(cell.beginParse().loadUint(32)).toBe(text.length);
        expect(outputHash(text)).toBe(cell.hash().toString('hex'));
        expect(outputHash(new Uint8Array(0))).toMatch(/^[0-9a-f]{64}$/);
    });

    it('hashes an output without building its cells to the output cell’s hash, at every length and for zeros', () => {
        for (const length of [0, 1, 63, 64, 65, 4 * LEAF_BYTES + 3, 100_003]) {
            const bytes = bytesOf(length, length);
            expect([length, outputHash(bytes)]).toEqual([length, outputCell(bytes).hash().toString('hex')]);
            const zeros = new Uint8Array(length);
            expect([length, outputHash(zeros)]).toEqual([length, outputCell(zeros).hash().toString('hex')]);
        }
        expect(() => outputHash(new Uint8Array(capacityOf(OUTPUT_DEPTH) + 1))).toThrow(RangeError);
    });

    it('hashes the tree without its cells, as the bytes change, grow and shrink, and builds it along given paths only', () => {
        const hasher = new ByteTreeHasher(4);
        let seed = 7;
        const byte = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
        let bytes = new Uint8Array(0);
        for (const length of [0, 1, 63, 64, 65, 700, 700, 700, 4096, 300, 3000, 0, capacityOf(4)]) {
            const next = new Uint8Array(length);
            next.set(bytes.subarray(0, length));
            // a few bytes changed, a stretch of zeros, the rest as it was
            for (let k = 0; k < 3 && length > 0; k++) next[byte() % length] = byte();
            if (length > 200) next.fill(0, 100, 200);
            bytes = next;
            const tree = byteTree(bytes, 4);
            const h = hasher.build(bytes);
            expect([length, h.hash.toString('hex'), h.depth]).toEqual([length, tree.hash().toString('hex'), tree.depth()]);
            // cells along two leaves' paths: the same level-0 hash, and the same proof of those paths
            const paths = [
                [0, 1, 2, 3],
                [3, 3, 0, 1],
            ];
            const partial = hasher.partial(trieOf(paths));
            expect(partial.hash(0).toString('hex')).toBe(tree.hash().toString('hex'));
            expect(prune(partial, paths).hash(0).toString('hex')).toBe(prune(tree, paths).hash(0).toString('hex'));
            expect(prune(partial, paths).equals(prune(tree, paths))).toBe(true);
        }
        expect(() => hasher.build(new Uint8Array(capacityOf(4) + 1))).toThrow(RangeError);
    });
});
