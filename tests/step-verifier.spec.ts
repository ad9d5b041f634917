/**
 * The one-step verifier (contracts/step.tact, in the StepVerifier contract) against the reference
 * interpreter: for every step sampled from real runs (every instruction class at least once, the
 * bulk chunks, entries, calls and returns, traps), the post-state root the contract computes from
 * the step's proof (client/dispute/proof.ts) is the interpreter's. Proofs of another state, proofs
 * missing a cell the step needs, and cells that are no proof are refused. Gas is measured per class
 * of step against the budget of docs/disputes.md.
 */
import { readFileSync } from 'node:fs';
import { beginCell, Cell, convertToMerkleProof, toNano, TupleItem } from '@ton/core';
import { Blockchain, GetMethodError, SandboxContract } from '@ton/sandbox';
import { mainnetConfig } from '../client/sandbox/config';
import { evaluateNumeric, load, Machine } from '../client/dispute/interpreter';
import { prune, proveStep, stepPaths, StepProof } from '../client/dispute/proof';
import { readRoot, StateCells, stateCell } from '../client/dispute/state';
import { cellHashInt } from '../client/dispute/cells';
import { isFloatArithmetic, nextOp, stepClass } from '../client/dispute/step-class';
import { computeAt } from '../client/sandbox/dispute';
import { ComputeJob } from '../client/compute/types';
import { exampleNamed } from '../examples/catalog';
import { StepVerifier } from '../wrappers/StepVerifier';
import { BULK_INPUT, BULK_PROGRAM, INTEGER_INPUT, INTEGER_PROGRAM } from './helpers/programs';
import { generateProgram, Rng } from './helpers/wasm-gen';
import { wat } from './helpers/wat';

/** The most gas one step may take (docs/disputes.md, "The one-step proof"). */
const STEP_GAS_BUDGET = 300_000n;

/** The fuel limit of the tests' machines unless given. */
const LIMIT = 10n ** 12n;

function machine(program: Uint8Array, input: Uint8Array, fuel = LIMIT): Machine {
    const m = load({ program, input, fuel, maxMemoryMb: 4 } as ComputeJob);
    if (!(m instanceof Machine)) throw new Error(`refused: ${m.reason}`);
    return m;
}

describe('the one-step verifier contract', () => {
    let blockchain: Blockchain;
    let verifier: SandboxContract<StepVerifier>;
    const gas = new Map<string, bigint>();

    beforeAll(async () => {
        blockchain = await Blockchain.create({ config: mainnetConfig() });
        const deployer = await blockchain.treasury('deployer');
        verifier = blockchain.openContract(await StepVerifier.fromInit());
        await verifier.send(deployer.getSender(), { value: toNano('1') }, null);
    });

    afterAll(() => {
        const rows = [...gas.entries()].sort((a, b) => Number(b[1] - a[1]));
        // the figures docs/disputes.md reports
        console.log(`most gas a step took, by class:\n${rows.map(([k, g]) => `  ${k}: ${g}`).join('\n')}`);
    });

    /** Runs the verifier's getter on a step's proof: the post root, or the exit code it threw. */
    async function verify(proof: Cell, pre: bigint): Promise<{ post?: bigint; exitCode: number; gasUsed: bigint }> {
        const stack: TupleItem[] = [
            { type: 'cell', cell: proof },
            { type: 'int', value: pre },
        ];
        try {
            const r = await blockchain.runGetMethod(verifier.address, 'step', stack);
            return { post: r.stackReader.readBigNumber(), exitCode: r.exitCode, gasUsed: r.gasUsed };
        } catch (e) {
            if (e instanceof GetMethodError) return { exitCode: e.exitCode, gasUsed: e.gasUsed };
            throw e;
        }
    }

    /** Proves the machine's next step and checks the contract computes the interpreter's post root. */
    async function check(m: Machine, cells: StateCells, label: string): Promise<StepProof> {
        const kind = stepClass(m);
        const p = proveStep(m, cells);
        const r = await verify(p.proof, p.preRoot);
        expect([label, p.step, kind, r.exitCode, r.post]).toEqual([label, p.step, kind, 0, p.postRoot]);
        if (r.gasUsed > (gas.get(kind) ?? 0n)) gas.set(kind, r.gasUsed);
        expect(r.gasUsed).toBeLessThan(STEP_GAS_BUDGET);
        return p;
    }

    /** Whether the machine's next step may be its last: a return, or a branch, in the entry's own frame (the halting step writes the canonical halted state). */
    const mayHalt = (m: Machine) => m.fp === 1 && [0x0b, 0x0c, 0x0d, 0x0e, 0x0f].includes(nextOp(m));

    /**
     * Checks sampled steps of a run: the first step of each opcode and of each class, every `every`-th
     * step, every step that may halt the run, and every step while `all` holds.
     */
    async function checkRun(label: string, m: Machine, every: number, all = (_m: Machine) => false): Promise<number> {
        const cells = new StateCells(m);
        const seen = new Set<string>();
        let checked = 0;
        while (!m.halted) {
            const key = `${stepClass(m)}:${nextOp(m)}`;
            if (!seen.has(key) || m.steps % every === 0 || all(m) || mayHalt(m)) {
                seen.add(key);
                await check(m, cells, label);
                checked++;
            } else m.run(m.steps + 1);
        }
        return checked;
    }

    it('agrees with the interpreter on every integer instruction, both mixers called indirectly, every load and store width across a leaf', async () => {
        const m = machine(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        const checked = await checkRun('integers', m, 211, (x) => x.steps > 34_440);
        expect(checked).toBeGreaterThan(200);
        expect(m.result().status).toBe('ok');
    });

    it('agrees on every step of the bulk operations: reads of the input, overlapping copies both ways, fills, init from data, writes to the output', async () => {
        const m = machine(await wat(BULK_PROGRAM), BULK_INPUT);
        const checked = await checkRun('bulk', m, 1);
        expect(checked).toBe(m.steps);
    });

    it('agrees on sampled steps of the integer examples', async () => {
        const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
        await checkRun('upper', machine(readFileSync(exampleNamed('upper').program), Buffer.from('Hello, verifier!')), 3);
        await checkRun(
            'fnv-rounds',
            machine(readFileSync(exampleNamed('fnv-rounds').program), Buffer.concat([u32(2), Buffer.alloc(70, 5)])),
            211,
        );
    });

    it('agrees on sampled steps of the float examples: matmul, and mlp-infer on its default input', async () => {
        const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
        await checkRun('matmul', machine(readFileSync(exampleNamed('matmul').program), u32(3)), 97);
        // mlp-infer runs 1.5 million steps: 40 random ones, each reached straight
        const e = exampleNamed('mlp-infer');
        const m = machine(readFileSync(e.program), await e.defaultInput());
        const rng = new Rng(5);
        const steps = Array.from({ length: 40 }, () => rng.int(1_500_000)).sort((x, y) => x - y);
        const cells = new StateCells(m);
        for (const step of steps) {
            m.run(step);
            if (!m.halted) await check(m, cells, 'mlp-infer');
        }
    });

    it('agrees on sampled steps of generated programs, their float arithmetic included', async () => {
        let floats = 0;
        // the first step of each kind across all the programs, and every 401st
        const seen = new Set<string>();
        for (let seed = 1; seed <= 16; seed++) {
            const g = generateProgram(seed);
            const m = machine(await wat(g.wat), g.input);
            const cells = new StateCells(m);
            while (!m.halted) {
                const key = `${stepClass(m)}:${nextOp(m)}`;
                if (seen.has(key) && m.steps % 401 !== 0) {
                    m.run(m.steps + 1);
                    continue;
                }
                seen.add(key);
                if (isFloatArithmetic(nextOp(m))) floats++;
                await check(m, cells, `generated ${seed}`);
            }
        }
        expect(floats).toBeGreaterThan(0);
    });

    it('agrees on every step of host calls made through a table (call_indirect to imports)', async () => {
        const program = await wat(`(module
            (import "fog" "memory" (memory 1))
            (import "fog" "input_size" (func $size (result i32)))
            (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
            (import "fog" "write_output" (func $write (param i32 i32)))
            (type $size (func (result i32)))
            (type $read (func (param i32 i32 i32) (result i32)))
            (type $write (func (param i32 i32)))
            (table 3 3 funcref)
            (elem (i32.const 0) $size $read $write)
            (func (export "run")
                (drop (call_indirect (type $read) (i32.const 70) (i32.const 1)
                    (call_indirect (type $size) (i32.const 0)) (i32.const 1)))
                (call_indirect (type $write) (i32.const 60) (i32.const 100) (i32.const 2))))`);
        const m = machine(program, Buffer.from('a table of host functions'));
        const checked = await checkRun('host table', m, 1);
        expect(checked).toBe(m.steps);
        expect(m.result().status).toBe('ok');
    });

    it('agrees on every step of a start function that leaves values and a frame behind it, then run', async () => {
        // the start function's return empties the call stack without halting: its frame and the
        // values it dropped are cleared, and run starts from a clean stack
        const program = await wat(`(module
            (import "fog" "memory" (memory 1))
            (global $g (mut i64) (i64.const 0))
            (func $helper (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
            (func $start
                (i64.const 5) (i64.const 6) (i64.const 7)
                (global.set $g (call $helper (i64.const 3) (i64.const 4)))
                (drop) (drop) (drop))
            (start $start)
            (func (export "run") (i64.store (i32.const 0) (i64.add (global.get $g) (i64.const 1)))))`);
        const m = machine(program, Buffer.alloc(0));
        const checked = await checkRun('start', m, 1);
        expect(checked).toBe(m.steps);
        expect(m.result().status).toBe('ok');
    });

    it('keeps the heaviest steps within the budget: 16 values moved by a call, a return and a branch (one over 300 values it drops, cleared as a range), a 64-byte chunk, popcnt of all ones, a store across leaves, float square roots and divisions at the ends of the range', async () => {
        const sixteen = (x: string) => Array.from({ length: 16 }, () => x).join(' ');
        const program = await wat(`(module
            (import "fog" "memory" (memory 1))
            (type $wide (func (param ${sixteen('i64')}) (result ${sixteen('i64')})))
            (func $wide (type $wide)
                (i64.const 1) (i64.const 2) (i64.const 3)
                ${Array.from({ length: 16 }, (_, i) => `(local.get ${i})`).join(' ')}
                (return))
            (func (export "run")
                (call $wide ${sixteen('(i64.const -1)')})
                ${sixteen('(drop)')}
                (block $b (result ${sixteen('i64')})
                    (i64.const 7) (i64.const 8)
                    ${sixteen('(i64.const -2)')}
                    (br $b))
                ${sixteen('(drop)')}
                (block $deep (result ${sixteen('i64')})
                    ${Array.from({ length: 300 }, () => '(i64.const 5)').join(' ')}
                    ${sixteen('(i64.const -3)')}
                    (br $deep))
                ${sixteen('(drop)')}
                (drop (i64.popcnt (i64.const -1)))
                (i64.store (i32.const 60) (i64.const -1))
                (memory.fill (i32.const 64) (i32.const 7) (i32.const 64))
                (drop (f64.sqrt (f64.const 1.7976931348623157e308)))
                (drop (f64.div (f64.const 4.9e-324) (f64.const 1.7e308)))
                (drop (f64.div (f64.const 1.7e308) (f64.const 4.9e-324)))
                (drop (f64.add (f64.const 1e308) (f64.const -1e-308)))
                (drop (f64.mul (f64.const 2.2250738585072014e-308) (f64.const 0.9999999999999999)))
                (drop (f32.nearest (f32.const 8388607.5)))
                (drop (i64.trunc_sat_f64_u (f64.const 1e19)))
                (drop (f32.convert_i64_u (i64.const -1)))
                (drop (f32.demote_f64 (f64.const 1e-310)))))`);
        const m = machine(program, Buffer.alloc(0));
        const cells = new StateCells(m);
        let most = 0n;
        while (!m.halted) {
            const kind = stepClass(m);
            await check(m, cells, 'heaviest');
            most = gas.get(kind)! > most ? gas.get(kind)! : most;
        }
        expect(m.result().status).toBe('ok');
        expect(most).toBeLessThan(STEP_GAS_BUDGET);
    });

    it('keeps within the budget a branch that moves 16 values down across the top level of the stack tree, clearing 65,600 slots', async () => {
        const sixteen = (x: string) => Array.from({ length: 16 }, () => x).join(' ');
        const program = await wat(`(module
            (import "fog" "memory" (memory 1))
            (func (export "run")
                (block $deep (result ${sixteen('i64')})
                    ${Array.from({ length: 65_600 }, () => '(i64.const 5)').join(' ')}
                    ${sixteen('(i64.const -3)')}
                    (br $deep))
                ${sixteen('(drop)')}))`);
        const m = machine(program, Buffer.alloc(0));
        // to the branch: the entry, the block, and every constant
        m.run(2 + 65_600 + 16);
        expect(nextOp(m)).toBe(0x0c);
        expect(m.sp).toBe(65_616);
        await check(m, new StateCells(m), 'deep branch');
        expect(readRoot(stateCell(m)).sp).toBe(16);
    });

    it('proves traps: each fails the run with its reason, into the canonical halted state (no steps, stack or frames; the whole fuel limit)', async () => {
        const traps: [string, string, bigint?][] = [
            ['division by zero', '(drop (i32.div_s (i32.const 1) (i32.const 0)))'],
            ['overflowing division', '(drop (i64.div_s (i64.const 0x8000000000000000) (i64.const -1)))'],
            ['unreachable', 'unreachable'],
            ['a load past the memory', '(drop (i64.load (i32.const 65530)))'],
            ['a store past the memory', '(i32.store (i32.const 65535) (i32.const 1))'],
            ['a null element', '(drop (call_indirect (type $t) (i32.const 1) (i32.const 1)))'],
            ['an element out of the table', '(drop (call_indirect (type $t) (i32.const 1) (i32.const 9)))'],
            ['a signature mismatch', '(call_indirect (type $v) (i32.const 0))'],
            ['recursion past the budget', '(call $down)'],
            ['the fuel', '(loop $l (br $l))', 100_000n],
            ['a bulk copy out of bounds', '(memory.copy (i32.const 65000) (i32.const 0) (i32.const 1000))'],
            [
                'the fuel at a branch back to a loop carrying a value over another',
                '(local $x i64) (i64.const 0) (loop $l (param i64) (local.set $x) (i64.const 7) (i64.add (local.get $x) (i64.const 1)) (br $l))',
                100_000n,
            ],
            ['a NaN truncated to an integer', '(drop (i32.trunc_f64_s (f64.const nan)))'],
            ['a float out of the integer range', '(drop (i64.trunc_f32_u (f32.const -1)))'],
            ['env.abort', '(call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))'],
        ];
        for (const [label, body, fuel] of traps) {
            const program = await wat(`(module
                (import "fog" "memory" (memory 1))
                (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
                (type $t (func (param i32) (result i32)))
                (type $v (func))
                (table 2 2 funcref)
                (elem (i32.const 0) $id)
                (func $id (type $t) (local.get 0))
                (func $down (call $down))
                (func (export "run") ${body}))`);
            const m = machine(program, Buffer.alloc(0), fuel);
            const whole = machine(program, Buffer.alloc(0), fuel);
            whole.run();
            expect([label, whole.status]).toEqual([label, 5]);
            m.run(whole.steps - 1);
            const p = await check(m, new StateCells(m), label);
            const after = stateCell(m);
            const post = readRoot(after);
            expect([label, post.status, post.steps, post.fuel, post.sp, post.fp, post.func, post.pc, post.depth]).toEqual([
                label,
                5,
                0n,
                fuel ?? LIMIT,
                0,
                0,
                0,
                0,
                0,
            ]);
            expect(after.refs[1].hash()).toEqual(stateCell(whole).refs[1].hash());
            expect(after.refs[2].hash()).toEqual(stateCell(whole).refs[2].hash());
            expect(p.postRoot).toBe(cellHashInt(after));
        }
    });

    it('refuses a proof of another state, a proof missing a cell the step reads, and a cell that is no proof', async () => {
        const m = machine(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        m.run(500);
        const cells = new StateCells(m);
        const pre = cells.cell();
        const paths = stepPaths(m);
        const proof = convertToMerkleProof(prune(pre, paths));
        // the right proof, checked against another root
        expect((await verify(proof, cellHashInt(pre) ^ 1n)).exitCode).toBe(701);
        // for 30 steps of every kind, each path cut short by one cell: a step that needs the cell
        // opens a pruned branch and throws; none computes a wrong root
        let refused = 0;
        for (let step = 0; step < 30; step++) {
            const before = cells.cell();
            const touched = stepPaths(m);
            m.run(m.steps + 1);
            const post = cellHashInt(cells.cell());
            for (let i = 0; i < touched.length; i++) {
                const cut = touched.map((p, k) => (k === i ? p.slice(0, -1) : p));
                const r = await verify(convertToMerkleProof(prune(before, cut)), cellHashInt(before));
                expect([step, i, r.exitCode === 0 ? r.post : 'refused']).toEqual([step, i, r.exitCode === 0 ? post : 'refused']);
                if (r.exitCode !== 0) refused++;
            }
        }
        expect(refused).toBeGreaterThanOrEqual(30);
        // an ordinary cell, and a Merkle proof of a different tree
        expect(
            (await verify(beginCell().storeUint(3, 8).storeUint(cellHashInt(pre), 256).storeUint(0, 16).endCell(), cellHashInt(pre)))
                .exitCode,
        ).toBe(700);
        expect((await verify(convertToMerkleProof(beginCell().storeUint(1, 8).endCell()), cellHashInt(pre))).exitCode).toBe(701);
        // the pruned tree without its proof cell does not even deserialize: a root may not have pruned branches
        await expect(verify(prune(pre, paths), cellHashInt(pre))).rejects.toThrow(/non-zero level/);
    });

    it('computes every float instruction bit for bit as the interpreter does: special values, subnormals, rounding ties, random bits', async () => {
        const rng = new Rng(11);
        const f32 = (x: number) => {
            const b = Buffer.alloc(4);
            b.writeFloatBE(x);
            return BigInt(b.readUInt32BE());
        };
        const f64 = (x: number) => {
            const b = Buffer.alloc(8);
            b.writeDoubleBE(x);
            return b.readBigUInt64BE();
        };
        // the most telling first: binary instructions pair every value with the first six
        const specials = [
            0,
            -0,
            1,
            Infinity,
            NaN,
            2.5,
            -1,
            0.5,
            -0.5,
            1.5,
            -2.5,
            3.5,
            0.1,
            1 / 3,
            2 ** 23 + 0.5,
            2 ** 52 + 0.5,
            2 ** 24 + 1,
            2 ** 31,
            -(2 ** 31),
            2 ** 32,
            2 ** 63,
            2 ** 64,
            -(2 ** 63),
            4294967295.5,
            -0.9,
            1e-40,
            1e-310,
            3.4e38,
            1.7e308,
            -Infinity,
        ];
        const values32 = [
            ...specials.map(f32),
            0x7f7fffffn,
            0x00800000n,
            0x007fffffn,
            0x00000001n,
            0x80000001n,
            0x7fc00001n,
            0xffc00000n,
            0x7f800001n,
            0x4b000001n,
        ];
        const values64 = [
            ...specials.map(f64),
            0x7fefffffffffffffn,
            0x0010000000000000n,
            0x000fffffffffffffn,
            1n,
            0x8000000000000001n,
            0x7ff8000000000001n,
            0xfff8000000000000n,
            0x7ff0000000000001n,
        ];
        for (let i = 0; i < 24; i++) {
            values32.push(BigInt(rng.int(2 ** 16)) * 65536n + BigInt(rng.int(2 ** 16)));
            values64.push((BigInt(rng.int(2 ** 30)) << 34n) | (BigInt(rng.int(2 ** 30)) << 4n) | BigInt(rng.int(16)));
        }
        const ints32 = [0n, 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn, 0x01000001n, 0xfffffffbn, 16777217n];
        const ints64 = [
            ...ints32,
            0xffffffffffffffffn,
            0x8000000000000000n,
            0x7fffffffffffffffn,
            0x0020000000000001n,
            0x1fffffffffffffffn,
            0xfffffffffffffc01n,
        ];
        const entries: [number, bigint, bigint][] = [];
        // binary instructions: every value against the first six, and FOG_FLOAT_PAIRS random pairs
        // more per instruction (default 48; the contract runs about a thousand entries a second here)
        const pairs = Number(process.env.FOG_FLOAT_PAIRS ?? 48);
        const binary = (ops: number[], values: bigint[]) => {
            for (const op of ops) {
                for (const x of values) for (const y of values.slice(0, 6)) entries.push([op, x, y]);
                for (let i = 0; i < pairs; i++) entries.push([op, values[rng.int(values.length)], values[rng.int(values.length)]]);
            }
        };
        const unary = (ops: number[], values: bigint[]) => {
            for (const op of ops) for (const x of values) entries.push([op, x, 0n]);
        };
        const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
        binary([...range(0x5b, 0x60), ...range(0x92, 0x98)], values32);
        binary([...range(0x61, 0x66), ...range(0xa0, 0xa6)], values64);
        unary([...range(0x8b, 0x91), 0xa8, 0xa9, 0xae, 0xaf, 0xbb, 0xfc00, 0xfc01, 0xfc04, 0xfc05], values32);
        unary([...range(0x99, 0x9f), 0xaa, 0xab, 0xb0, 0xb1, 0xb6, 0xfc02, 0xfc03, 0xfc06, 0xfc07], values64);
        unary([0xb2, 0xb3, 0xb7, 0xb8], ints32);
        unary([0xb4, 0xb5, 0xb9, 0xba], ints64);
        // in batches of 700: seven entries a cell, each cell's reference the next
        const mismatches: string[] = [];
        const hex = (v: bigint | string) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);
        for (let at = 0; at < entries.length; at += 700) {
            const batch = entries.slice(at, at + 700);
            let cell: Cell | undefined;
            for (let i = Math.ceil(batch.length / 7) - 1; i >= 0; i--) {
                const b = beginCell();
                for (const [op, x, y] of batch.slice(7 * i, 7 * i + 7)) b.storeUint(op, 16).storeUint(x, 64).storeUint(y, 64);
                if (cell !== undefined) b.storeRef(cell);
                cell = b.endCell();
            }
            const r = await blockchain.runGetMethod(verifier.address, 'numerics', [{ type: 'cell', cell: cell! }], {
                gasLimit: 100_000_000n,
            });
            let s = r.stackReader.readCell().beginParse();
            for (let i = 0; i < batch.length; i++) {
                if (i > 0 && i % 7 === 0) s = s.loadRef().beginParse();
                const ok = s.loadBit();
                const value = s.loadUintBig(64);
                const [op, x, y] = batch[i];
                const want = evaluateNumeric(op, isBinaryOp(op) ? [x, y] : [x]);
                const got = ok ? value : 'trap';
                if (got !== want)
                    mismatches.push(`op 0x${op.toString(16)} (${hex(x)}, ${hex(y)}): contract ${hex(got)}, interpreter ${hex(want)}`);
            }
        }
        expect(mismatches.slice(0, 20)).toEqual([]);
        expect(entries.length).toBeGreaterThan(10_000);
    });

    it('verifies a step in a transaction, within the gas budget', async () => {
        const m = machine(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        m.run(34_400);
        const cells = new StateCells(m);
        const sender = await blockchain.treasury('mover');
        for (let i = 0; i < 5; i++) {
            const p = proveStep(m, cells);
            const r = await verifier.send(
                sender.getSender(),
                { value: toNano('0.2') },
                { $$type: 'VerifyStep', queryId: 0n, pre: p.preRoot, proof: p.proof },
            );
            const compute = computeAt(r, verifier.address);
            expect(compute?.exitCode).toBe(0);
            expect(compute!.gasUsed).toBeLessThan(STEP_GAS_BUDGET);
            expect(await verifier.getPost()).toBe(p.postRoot);
        }
    });
});

/** Whether a numeric instruction takes two operands. */
function isBinaryOp(op: number): boolean {
    return (
        (op >= 0x46 && op <= 0x4f) ||
        (op >= 0x51 && op <= 0x66) ||
        (op >= 0x6a && op <= 0x78) ||
        (op >= 0x7c && op <= 0x8a) ||
        (op >= 0x92 && op <= 0x98) ||
        (op >= 0xa0 && op <= 0xa6)
    );
}
