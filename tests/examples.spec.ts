/**
 * The example programs built by `npm run build` from examples/ (wabt and AssemblyScript): each
 * fits the ABI, computes what it says, and gives byte-identical output across runs and pool sizes.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DIST } from '../devnet/processes';
import { ComputePool } from '../worker/compute/pool';
import { runProgramDirect } from '../worker/compute/task';
import { checkProgram, memoryCapPages } from '../worker/compute/abi';

const program = (name: string) => readFileSync(join(DIST, 'examples', `${name}.wasm`));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function matmulInput(n: number, a?: number[], b?: number[]): Buffer {
    const buf = Buffer.alloc(4 + (a && b ? 16 * n * n : 0));
    buf.writeUInt32LE(n, 0);
    if (a && b) [...a, ...b].forEach((x, i) => buf.writeDoubleLE(x, 4 + 8 * i));
    return buf;
}

describe('example programs', () => {
    it.each(['upper', 'fnv-rounds', 'spin', 'matmul'])('%s fits the Fog ABI', (name) => {
        expect(() => checkProgram(program(name), memoryCapPages(256))).not.toThrow();
    });

    it('matmul (AssemblyScript) multiplies the matrices it is given, in the order a reference does', () => {
        const n = 3;
        const a = [1.5, -2, 0.25, 3, 4, -1, 0.1, 0.2, 0.3];
        const b = [2, 0, -1, 1, 1, 1, -3, 0.5, 2];
        const r = runProgramDirect({ program: program('matmul'), input: matmulInput(n, a, b), maxMemoryMb: 16, maxOutputBytes: 1 << 20 });
        expect(r.status).toBe('ok');
        const c = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * n + k] * b[k * n + j];
        expect(Buffer.from((r as { output: Uint8Array }).output)).toEqual(Buffer.from(c.buffer));
    });

    it('matmul gives the same bytes directly, on one thread and on two, run after run', async () => {
        const input = matmulInput(96); // generated from the fixed seed
        const direct = runProgramDirect({ program: program('matmul'), input, maxMemoryMb: 16, maxOutputBytes: 1 << 20 });
        expect(direct.status).toBe('ok');
        const expected = sha((direct as { output: Uint8Array }).output);
        expect((direct as { output: Uint8Array }).output.length).toBe(96 * 96 * 8);
        for (const threads of [1, 2]) {
            const pool = new ComputePool({ threads });
            try {
                const runs = await Promise.all([0, 1, 2].map(() => pool.run({ program: program('matmul'), input, maxCpuSeconds: 10, maxMemoryMb: 16 })));
                for (const r of runs) {
                    expect(r.status).toBe('ok');
                    expect(sha((r as { output: Uint8Array }).output)).toBe(expected);
                }
            } finally {
                await pool.close();
            }
        }
    });
});
