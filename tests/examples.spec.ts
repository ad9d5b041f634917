/**
 * The example programs built by `npm run build` from examples/ (wabt and AssemblyScript): each
 * fits the ABI, computes what it says, and gives byte-identical output across runs and pool sizes.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DIST } from '../client/processes';
import { ComputePool } from '../client/compute/pool';
import { MAX_FUEL } from '../client/compute/meter';
import { runHere } from '../client/compute/programs';
import { checkProgram, memoryCapPages } from '../client/compute/abi';
import { EXAMPLES, heldOutDigits, mlpInferInput, mlpTrainInput, modelAccuracy, runExample } from '../examples/catalog';
import { DIGITS_FILE, encodeDataset, generateDigits } from '../examples/data/digits';

const program = (name: string) => readFileSync(join(DIST, 'examples', `${name}.wasm`));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function matmulInput(n: number, a?: number[], b?: number[]): Buffer {
    const buf = Buffer.alloc(4 + (a && b ? 16 * n * n : 0));
    buf.writeUInt32LE(n, 0);
    if (a && b) [...a, ...b].forEach((x, i) => buf.writeDoubleLE(x, 4 + 8 * i));
    return buf;
}

describe('example programs', () => {
    it.each(['spin', ...EXAMPLES.map((e) => e.name)])('%s fits the Fog ABI', (name) => {
        expect(() => checkProgram(program(name), memoryCapPages(256))).not.toThrow();
    });

    it('matmul (AssemblyScript) multiplies the matrices it is given, in the order a reference does', async () => {
        const n = 3;
        const a = [1.5, -2, 0.25, 3, 4, -1, 0.1, 0.2, 0.3];
        const b = [2, 0, -1, 1, 1, 1, -3, 0.5, 2];
        const r = await runHere({ program: program('matmul'), input: matmulInput(n, a, b), fuel: MAX_FUEL, maxMemoryMb: 16 }, 1 << 20);
        expect(r.status).toBe('ok');
        const c = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * n + k] * b[k * n + j];
        expect(Buffer.from((r as { output: Uint8Array }).output)).toEqual(Buffer.from(c.buffer));
    });

    // every example, on its default input: two direct runs, then three at once on pools of one and two threads
    it.each(EXAMPLES.map((e) => e.name))('%s gives the same bytes directly, on one thread and on two, run after run', async (name) => {
        const example = EXAMPLES.find((e) => e.name === name)!;
        const input = await example.defaultInput();
        const expected = sha(await runExample(name, input));
        expect(sha(await runExample(name, input))).toBe(expected);
        for (const threads of [1, 2]) {
            const pool = new ComputePool({ threads });
            try {
                const runs = await Promise.all(
                    [0, 1, 2].map(() => pool.run({ program: program(name), input, fuel: MAX_FUEL, maxMemoryMb: 256 })),
                );
                for (const r of runs) {
                    expect(r.status).toBe('ok');
                    expect(sha((r as { output: Uint8Array }).output)).toBe(expected);
                }
            } finally {
                await pool.close();
            }
        }
        expect(example.summary(await runExample(name, input))).toBeTruthy();
    });

    it('fnv-rounds computes 64-bit FNV-1a over its input, as many rounds as it says', async () => {
        const input = Buffer.alloc(300, 9);
        input.writeUInt32LE(7, 0);
        let h = 0xcbf29ce484222325n;
        for (let r = 0; r < 7; r++) for (const b of input) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
        const expected = Buffer.alloc(8);
        expected.writeBigUInt64LE(h);
        expect(await runExample('fnv-rounds', input)).toEqual(expected);
    });

    it('matmul outputs n² f64 for a generated n×n pair', async () => {
        expect((await runExample('matmul', matmulInput(96))).length).toBe(96 * 96 * 8);
    });
});

describe('the MLP examples', () => {
    it('the shipped digits are exactly what the generator makes', () => {
        expect(encodeDataset(generateDigits()).equals(readFileSync(DIGITS_FILE))).toBe(true);
    });

    let model: Buffer;
    beforeAll(async () => {
        model = await runExample('mlp-train', mlpTrainInput());
    });

    it('mlp-train learns the digits: well above chance on samples it never saw', async () => {
        const a = modelAccuracy(model);
        expect(a).toMatchObject({ trained: 1200, heldOut: 300 });
        expect(a.heldOutRight / a.heldOut).toBeGreaterThan(0.9);
        expect(a.trainRight / a.trained).toBeGreaterThan(0.95);
        // header, 64·32 + 32 + 32·10 + 10 f64 weights, the four counts
        expect(model.length).toBe(20 + 8 * (64 * 32 + 32 + 32 * 10 + 10) + 16);
        // another seed is another model, still a good one
        const other = await runExample('mlp-train', mlpTrainInput({ seed: 2 }));
        expect(other.equals(model)).toBe(false);
        expect(modelAccuracy(other).heldOutRight / 300).toBeGreaterThan(0.9);
    });

    it('mlp-infer reads the held-out digits as the model scored them, with the probabilities of a reference forward pass', async () => {
        const { features, labels } = heldOutDigits(300);
        const lines = (await runExample('mlp-infer', mlpInferInput(model, features))).toString().trim().split('\n');
        expect(lines).toHaveLength(300);
        const right = lines.filter((l, i) => Number(l.split(' ')[0]) === labels[i]).length;
        expect(right).toBe(modelAccuracy(model).heldOutRight);
        // the same forward pass in TypeScript, from the model's bytes
        const f64 = (at: number, n: number) => Array.from({ length: n }, (_, i) => model.readDoubleLE(at + 8 * i));
        const [d, h, c] = [64, 32, 10];
        const w1 = f64(20, h * d),
            b1 = f64(20 + 8 * h * d, h),
            w2 = f64(20 + 8 * (h * d + h), c * h),
            b2 = f64(20 + 8 * (h * d + h + c * h), c);
        features.slice(0, 50).forEach((x, s) => {
            const hidden = b1.map((b, j) =>
                Math.max(
                    0,
                    x.reduce((acc, v, i) => acc + w1[j * d + i] * (v / 16), b),
                ),
            );
            const z = b2.map((b, k) => hidden.reduce((acc, v, j) => acc + w2[k * h + j] * v, b));
            const best = z.indexOf(Math.max(...z));
            const p = 1 / z.reduce((acc, v) => acc + Math.exp(v - z[best]), 0);
            const [label, pct] = lines[s].split(' ');
            expect(Number(label)).toBe(best);
            expect(Math.abs(parseFloat(pct) - 100 * p)).toBeLessThanOrEqual(0.051);
        });
        // the counts mlp-train appends are optional
        const bare = model.subarray(0, model.length - 16);
        expect((await runExample('mlp-infer', mlpInferInput(bare, features.slice(0, 5)))).toString()).toBe(
            lines.slice(0, 5).join('\n') + '\n',
        );
    });

    it('refuse malformed input with a message that says what is wrong', async () => {
        const fails = (name: string, input: Buffer, maxMemoryMb = 64) =>
            runHere({ program: program(name), input, fuel: MAX_FUEL, maxMemoryMb }, 1 << 20);
        expect(await fails('mlp-train', Buffer.alloc(10))).toMatchObject({
            status: 'failed',
            reason: 'trap',
            message: expect.stringContaining('input shorter than its header'),
        });
        const truncated = mlpTrainInput().subarray(0, 5000);
        expect(await fails('mlp-train', truncated)).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('dataset length does not match'),
        });
        const badLabel = mlpTrainInput();
        badLabel[20 + 8 + 64] = 10; // the first sample's label
        expect(await fails('mlp-train', badLabel)).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('label out of range'),
        });
        expect(await fails('mlp-train', mlpTrainInput({ rate: 0 }))).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('learning rate must be'),
        });
        // a header claiming a huge network is refused before anything is allocated for it
        const huge = Buffer.alloc(40);
        huge.write('FOGM', 0, 'latin1');
        [4096, 1024, 256, 16].forEach((v, i) => huge.writeUInt32LE(v, 4 + 4 * i));
        expect(await fails('mlp-infer', huge, 2)).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('truncated weights'),
        });
        expect(await fails('mlp-infer', Buffer.from('hello'))).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('not a Fog model'),
        });
        expect(await fails('mlp-infer', mlpInferInput(model, [new Uint8Array(63)]))).toMatchObject({
            reason: 'trap',
            message: expect.stringContaining('do not match'),
        });
    });
});
