/**
 * The meter (client/compute/meter.ts): fuel is exactly what docs/metering.md's cost table says,
 * the call depth traps at the same depth in every V8 tier, NaNs come out canonical, what cannot be
 * made deterministic is refused, and the examples' outputs do not change.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProgram, Host, memoryCapPages, ProgramRefused, wasm } from '../client/compute/abi';
import { DIST } from '../client/paths';
import {
    COST_CALL,
    FUEL_PER_HOST_CALL,
    instrument,
    InstrumentOptions,
    meterState,
    setFuel,
    START_EXPORT,
    STACK_BUDGET,
    TRAP_FUEL,
    TRAP_STACK,
} from '../client/compute/meter';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { wat } from './helpers/wat';

interface Metered {
    status: 'ok' | 'trap';
    output: Buffer;
    fuelUsed: bigint;
    trap: number;
    exports: Record<string, unknown>;
}

/** One run the way the host will do it: instantiate, set the fuel, start, run, read the meter. */
function runMetered(bytes: Uint8Array, input: Uint8Array, fuel: bigint): Metered {
    const shape = checkProgram(bytes, memoryCapPages(256));
    const memory = new wasm.Memory(shape.memory);
    const host = new Host(memory, input, 64 << 20);
    const { exports } = new wasm.Instance(new wasm.Module(bytes), host.imports);
    setFuel(exports, fuel);
    let status: Metered['status'] = 'ok';
    try {
        if (typeof exports[START_EXPORT] === 'function') (exports[START_EXPORT] as () => void)();
        (exports.run as () => void)();
    } catch (err) {
        if (!(err instanceof Error && err.name === 'RuntimeError')) throw err;
        status = 'trap';
    }
    const state = meterState(exports);
    return { status, output: Buffer.from(host.result()), fuelUsed: fuel - state.fuel, trap: state.trap, exports };
}

/** The same run without the meter. */
function runPlain(bytes: Uint8Array, input: Uint8Array): Buffer {
    const memory = new wasm.Memory(checkProgram(bytes, memoryCapPages(256)).memory);
    const host = new Host(memory, input, 64 << 20);
    (new wasm.Instance(new wasm.Module(bytes), host.imports).exports.run as () => void)();
    return Buffer.from(host.result());
}

const LIMIT = 10n ** 15n;

// Entry: call $size (COST_CALL), local.set, block, loop, and the host call's FUEL_PER_HOST_CALL at
// run time. Each iteration: local.get ×2, i32.ge_u, br_if, local.get, i32.const, i32.add,
// local.set, br = 9. The loop body runs N + 1 times.
const COUNTER = `(module
  (import "fog" "memory" (memory 1))
  (import "fog" "input_size" (func $size (result i32)))
  (func (export "run") (local $i i32) (local $n i32)
    (local.set $n (call $size))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))`;
const counterFuel = (n: number) => BigInt(COST_CALL + 3 + FUEL_PER_HOST_CALL + 9 * (n + 1));

describe('fuel', () => {
    it('is exactly the cost table: a loop of N iterations uses 2 007 + 9 (N + 1)', async () => {
        const { bytes } = await instrument(await wat(COUNTER));
        for (const n of [0, 1, 10, 1_000, 100_000]) {
            const r = runMetered(bytes, new Uint8Array(n), LIMIT);
            expect(r).toMatchObject({ status: 'ok', trap: 0 });
            expect(r.fuelUsed).toBe(counterFuel(n));
        }
    });

    it('runs to the end on exactly the fuel it needs, and traps as fuel on one less', async () => {
        const { bytes } = await instrument(await wat(COUNTER));
        const input = new Uint8Array(1_000);
        const exact = runMetered(bytes, input, counterFuel(1_000));
        expect(exact).toMatchObject({ status: 'ok', trap: 0, fuelUsed: counterFuel(1_000) });
        const short = runMetered(bytes, input, counterFuel(1_000) - 1n);
        expect(short).toMatchObject({ status: 'trap', trap: TRAP_FUEL });
    });

    it('charges memory.fill by size and memory.grow by page, at run time', async () => {
        const program = await wat(`(module
          (import "fog" "memory" (memory 1 100))
          (import "fog" "input_size" (func $size (result i32)))
          (func (export "run")
            (memory.fill (i32.const 0) (i32.const 7) (call $size))
            (drop (memory.grow (i32.const 3)))))`);
        const { bytes } = await instrument(program);
        // entry: i32.const ×2, call (4), memory.fill (4), i32.const, memory.grow (16), drop = 28; input_size's call 2,000
        const used = (n: number) => runMetered(bytes, new Uint8Array(n), LIMIT).fuelUsed;
        // memory.grow 3 at run time: 2,000,000 for the call, 1,024 a page
        expect(used(0)).toBe(28n + 2_000n + 2_000_000n + 3n * 1024n);
        expect(used(6_400)).toBe(28n + 2_000n + 2_000_000n + 3n * 1024n + 6_400n);
        expect(used(6_463)).toBe(28n + 2_000n + 2_000_000n + 3n * 1024n + 6_463n);
    });

    it('meters the start function: it runs after the host sets the fuel', async () => {
        const program = await wat(`(module
          (import "fog" "memory" (memory 1))
          (func $start (local $i i32)
            (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10)))))
          (start $start)
          (func (export "run")))`);
        const { bytes } = await instrument(program);
        const r = runMetered(bytes, new Uint8Array(0), LIMIT);
        // start: loop (1) + 10 × 7; run: nothing
        expect(r).toMatchObject({ status: 'ok', fuelUsed: 71n });
        expect(runMetered(bytes, new Uint8Array(0), 70n)).toMatchObject({ status: 'trap', trap: TRAP_FUEL });
    });

    // Charges in call operands (a loop inside a block operand, nested calls), in callees, through a
    // table, and in a callee that throws to a caller that catches: each function keeps the counter
    // in a local, and every fuel count must equal the reference's, which charges the global itself.
    const CALLS = `(module
      (import "fog" "memory" (memory 1))
      (import "fog" "input_size" (func $size (result i32)))
      (import "fog" "write_output" (func $out (param i32 i32)))
      (type $pair (func (param i32 i32) (result i32)))
      (table 2 2 funcref)
      (elem (i32.const 0) $spin $twice)
      (func $spin (param $n i32) (param $x i32) (result i32) (local $i i32)
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (i32.add (local.get $i) (local.get $x)))
      (func $twice (param $a i32) (param $b i32) (result i32)
        (call $spin (local.get $a) (call $spin (local.get $b) (local.get $a))))
      (func (export "run") (local $r i32) (local $j i32)
        (local.set $r
          (call $twice
            (call $spin (call $size) (i32.const 1))
            (block (result i32)
              (loop $k (br_if $k (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (call $size))))
              (local.get $j))))
        (local.set $r (call_indirect (type $pair) (i32.and (local.get $r) (i32.const 255)) (i32.const 3) (i32.const 1)))
        (i32.store (i32.const 0) (local.get $r))
        (call $out (i32.const 0) (i32.const 4))))`;
    const THROWS = `(module
      (import "fog" "memory" (memory 1))
      (import "fog" "input_size" (func $size (result i32)))
      (import "fog" "write_output" (func $out (param i32 i32)))
      (tag $done (param i32))
      (func $work (param $n i32) (local $i i32)
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (throw $done (local.get $i)))
      (func $middle (param $n i32) (local $i i32)
        (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
        (call $work (local.get $n)))
      (func (export "run") (local $got i32) (local $i i32)
        (try (do (call $middle (call $size))) (catch $done (local.set $got)))
        (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $got))))
        (i32.store (i32.const 0) (local.get $got))
        (call $out (i32.const 0) (i32.const 4))))`;

    const FLOAT_ARGUMENT = `(module (import "fog" "memory" (memory 1))
      (func $g (param f64) (loop))
      (func $f (local f64)
        (call $g (local.get 0))
        (loop $l (br_if 1 (i32.const 0)) (local.set 0 (f64.min (f64.const 0) (f64.const 0)))))
      (func (export "run") (call $f)))`;
    const FLOAT_LAST_ARGUMENT = `(module (import "fog" "memory" (memory 1))
      (func $g (param f64) (result f64) (loop) (f64.const 0))
      (func $f (local f64)
        (local.set 0 (f64.mul (f64.const 0) (f64.const 0)))
        (local.set 0 (f64.max (f64.const 0) (call $g (local.get 0)))))
      (func (export "run") (call $f)))`;

    it('keeps the counter in a local without changing a count: calls, operands, tables, exceptions and every example use the fuel the reference charges on the global', async () => {
        const programs: [string, Uint8Array, Uint8Array[]][] = [
            ['calls', await wat(CALLS), [0, 1, 7, 300].map((n) => new Uint8Array(n))],
            ['throws', await wat(THROWS, { exceptions: true }), [0, 1, 7, 300].map((n) => new Uint8Array(n))],
            // a float local canonicalized where it is read, passed to a call: the write-back must survive
            // the read's rewriting (the interpreter's differential test found both losing the caller's charges)
            ['float local as an argument', await wat(FLOAT_ARGUMENT), [new Uint8Array(0)]],
            ['float local as the last argument, result canonicalized', await wat(FLOAT_LAST_ARGUMENT), [new Uint8Array(0)]],
        ];
        for (const e of EXAMPLES) programs.push([e.name, readFileSync(exampleNamed(e.name).program), [await e.defaultInput()]]);
        for (const [name, program, inputs] of programs) {
            const [local, global] = await Promise.all([instrument(program), instrument(program, { counter: 'global' })]);
            for (const input of inputs) {
                const [a, b] = [runMetered(local.bytes, input, LIMIT), runMetered(global.bytes, input, LIMIT)];
                expect({ name, input: input.length, status: a.status, fuel: a.fuelUsed, output: a.output }).toEqual({
                    name,
                    input: input.length,
                    status: 'ok',
                    fuel: b.fuelUsed,
                    output: b.output,
                });
                // and the limit holds exactly: one fuel less runs out
                expect(runMetered(local.bytes, input, a.fuelUsed - 1n)).toMatchObject({ status: 'trap', trap: TRAP_FUEL });
            }
        }
    });
});

/** Endless recursion through a function of the given shape; `count` is how deep it got. */
function recursion(shape: 'small' | 'locals' | 'params' | 'operands'): string {
    const bump = '(global.set $count (i32.add (global.get $count) (i32.const 1)))';
    const head = '(module (import "fog" "memory" (memory 1)) (global $count (export "count") (mut i32) (i32.const 0))';
    switch (shape) {
        case 'small':
            return `${head} (func $r ${bump} (call $r)) (func (export "run") (call $r)))`;
        case 'locals': {
            const n = 2_000;
            const touch = Array.from({ length: 20 }, (_, i) => `(local.set ${i * 97} (i64.const ${i}))`).join(' ');
            return `${head} (func $r (local ${'i64 '.repeat(n)}) ${bump} ${touch} (call $r)) (func (export "run") (call $r)))`;
        }
        case 'params': {
            const n = 1_000;
            const args = Array.from({ length: n }, (_, i) => `(local.get ${i})`).join(' ');
            const zeros = '(i64.const 0) '.repeat(n);
            return `${head} (func $r (param ${'i64 '.repeat(n)}) ${bump} (call $r ${args})) (func (export "run") (call $r ${zeros})))`;
        }
        case 'operands': {
            // 500 values wait on the operand stack while the recursive call runs.
            const n = 500;
            return `${head} (func $r (result i64) ${bump} ${'(i64.const 1) '.repeat(n)} (call $r) ${'(i64.add) '.repeat(n)}) (func (export "run") (drop (call $r))))`;
        }
    }
}

const SHAPES = ['small', 'locals', 'params', 'operands'] as const;

describe('call depth', () => {
    const depthOf = (bytes: Uint8Array) => {
        const r = runMetered(bytes, new Uint8Array(0), LIMIT);
        return { status: r.status, trap: r.trap, count: (r.exports.count as { value: number }).value };
    };

    it('traps as stack at the same depth fresh and after 50 warm runs', async () => {
        // A low budget: this runs on Jest's main thread, whose native stack is small.
        const options: InstrumentOptions = { stackBudget: 20_000 };
        const { bytes } = await instrument(await wat(recursion('small')), options);
        const fresh = depthOf(bytes);
        expect(fresh).toMatchObject({ status: 'trap', trap: TRAP_STACK });
        // weight of $r: overhead 4 + 0 slots + 5 instructions, on `run` (4 + 1 call)
        expect(fresh.count).toBe(Math.floor((20_000 - 5) / 9));
        for (let i = 0; i < 50; i++) expect(depthOf(bytes)).toEqual(fresh);
    });

    it('traps as stack, never as a native overflow, at the same depth under --liftoff-only, --no-liftoff and default flags, on a pool-sized thread stack', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'fog-meter-'));
        const files: string[] = [];
        for (const shape of SHAPES) {
            const file = join(dir, `${shape}.wasm`);
            writeFileSync(file, (await instrument(await wat(recursion(shape)))).bytes);
            files.push(file);
        }
        // The pool's threads have a 4 MiB stack (THREAD_LIMITS in client/compute/pool.ts).
        const script = `
            const { Worker } = require('node:worker_threads');
            const code = \`
                const { workerData, parentPort } = require('node:worker_threads');
                const fs = require('node:fs');
                const out = [];
                for (const file of workerData) {
                    const mem = new WebAssembly.Memory({ initial: 1 });
                    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(file)), { fog: { memory: mem } });
                    exports.fog_fuel.value = 10n ** 15n;
                    let error = '';
                    try { exports.run(); } catch (e) { error = e.constructor.name + ': ' + e.message; }
                    out.push({ trap: exports.fog_trap.value, count: exports.count.value, error });
                }
                parentPort.postMessage(out);\`;
            const w = new Worker(code, { eval: true, workerData: ${JSON.stringify(files)}, resourceLimits: { stackSizeMb: 4 } });
            w.on('message', (m) => process.stdout.write(JSON.stringify(m)));
            w.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });`;
        const results = ['--liftoff-only', '--no-liftoff', '--no-wasm-lazy-compilation'].map(
            (flag) =>
                JSON.parse(execFileSync(process.execPath, [flag, '-e', script], { encoding: 'utf-8' })) as {
                    trap: number;
                    count: number;
                    error: string;
                }[],
        );
        for (const r of results.flat())
            expect(r).toMatchObject({ trap: TRAP_STACK, error: expect.stringMatching(/RuntimeError: unreachable/) });
        expect(results[1]).toEqual(results[0]);
        expect(results[2]).toEqual(results[0]);
        process.stdout.write(
            `depth at STACK_BUDGET ${STACK_BUDGET} per shape ${SHAPES.join(', ')}: ${results[0].map((r) => r.count).join(', ')}\n`,
        );
    });
});

describe('NaN', () => {
    it('comes out as the canonical NaN from 0/0, sqrt(-1), propagation and demotion', async () => {
        const program = await wat(`(module
          (import "fog" "memory" (memory 1))
          (import "fog" "write_output" (func $out (param i32 i32)))
          (func (export "run")
            (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
            (f64.store (i32.const 8) (f64.sqrt (f64.const -1)))
            (f64.store (i32.const 16) (f64.add (f64.reinterpret_i64 (i64.const 0xfff4000000000001)) (f64.const 1)))
            (f32.store (i32.const 24) (f32.demote_f64 (f64.reinterpret_i64 (i64.const 0xfff8000000000123))))
            (f64.store (i32.const 32) (f64.mul (f64.div (f64.const 0) (f64.const 0)) (f64.const 2)))
            (f64.store (i32.const 40) (f64.abs (f64.reinterpret_i64 (i64.const 0xfff8000000000123))))
            (call $out (i32.const 0) (i32.const 48))))`);
        const { bytes } = await instrument(program);
        const out = runMetered(bytes, new Uint8Array(0), LIMIT).output;
        expect(out.readUInt32LE(0)).toBe(0x7fc00000);
        expect(out.readBigUInt64LE(8)).toBe(0x7ff8000000000000n);
        expect(out.readBigUInt64LE(16)).toBe(0x7ff8000000000000n);
        expect(out.readUInt32LE(24)).toBe(0x7fc00000);
        expect(out.readBigUInt64LE(32)).toBe(0x7ff8000000000000n);
        // abs is a bit operation: deterministic, left alone
        expect(out.readBigUInt64LE(40)).toBe(0x7ff8000000000123n);
    });

    it('is canonical from an accumulator canonicalized where it is read, and a loaded NaN keeps its bits', async () => {
        // $s starts as a loaded NaN and $t as 0; a loop of n rounds adds to both (a tee on $t), then
        // both are stored. The meter moves their canonicalization out of the loop (to the reads).
        const program = await wat(`(module
          (import "fog" "memory" (memory 1))
          (import "fog" "read_input" (func $in (param i32 i32 i32) (result i32)))
          (import "fog" "write_output" (func $out (param i32 i32)))
          (func (export "run") (local $s f64) (local $t f64) (local $n i32)
            (drop (call $in (i32.const 0) (i32.const 0) (i32.const 12)))
            (local.set $s (f64.load (i32.const 0)))
            (local.set $n (i32.load (i32.const 8)))
            (block $done (loop $l
              (br_if $done (i32.eqz (local.get $n)))
              (local.set $s (f64.add (local.get $s) (f64.const 1)))
              (drop (f64.ne (local.tee $t (f64.add (local.get $t) (f64.div (f64.const 0) (f64.const 0)))) (f64.const 0)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br $l)))
            (f64.store (i32.const 16) (local.get $s))
            (f64.store (i32.const 24) (local.get $t))
            (call $out (i32.const 16) (i32.const 16))))`);
        const metered = await instrument(program);
        for (const rounds of [0, 2]) {
            const input = Buffer.alloc(12);
            input.writeBigUInt64LE(0x7ff8000000000123n, 0);
            input.writeUInt32LE(rounds, 8);
            const out = runMetered(metered.bytes, input, LIMIT).output;
            expect(out.readBigUInt64LE(0)).toBe(rounds === 0 ? 0x7ff8000000000123n : 0x7ff8000000000000n);
            expect(out.readBigUInt64LE(8)).toBe(rounds === 0 ? 0n : 0x7ff8000000000000n);
        }
    });

    it('comes out canonical per lane from SIMD float arithmetic', async () => {
        const program = await wat(`(module
          (import "fog" "memory" (memory 1))
          (import "fog" "write_output" (func $out (param i32 i32)))
          (func (export "run")
            (v128.store (i32.const 0) (f32x4.div (v128.const f32x4 0 1 0 4) (v128.const f32x4 0 2 0 2)))
            (call $out (i32.const 0) (i32.const 16))))`);
        const out = runMetered((await instrument(program)).bytes, new Uint8Array(0), LIMIT).output;
        expect([0, 4, 8, 12].map((i) => out.readUInt32LE(i))).toEqual([0x7fc00000, 0x3f000000, 0x7fc00000, 0x40000000]);
    });
});

describe('refusals', () => {
    const refused = async (text: string, features: Parameters<typeof wat>[1], reason: string, message: RegExp) => {
        const error = await instrument(await wat(text, features)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ProgramRefused);
        expect(error).toMatchObject({ reason, message: expect.stringMatching(message) });
    };

    it('refuses shared memory', () =>
        refused(
            '(module (import "fog" "memory" (memory 1 1 shared)) (func (export "run")))',
            { threads: true },
            'imports',
            /shared memory/,
        ));

    it('refuses atomics, even on an unshared memory', () =>
        refused(
            '(module (import "fog" "memory" (memory 1 1)) (func (export "run") (drop (i32.atomic.load (i32.const 0)))))',
            { threads: true },
            'invalid',
            /atomic/,
        ));

    it('refuses relaxed SIMD', () =>
        refused(
            '(module (import "fog" "memory" (memory 1)) (func (export "run") (drop (f32x4.relaxed_madd (v128.const i64x2 0 0) (v128.const i64x2 0 0) (v128.const i64x2 0 0)))))',
            { relaxed_simd: true },
            'invalid',
            /relaxed SIMD|not a valid/,
        ));

    it('refuses tail calls', () =>
        refused(
            '(module (import "fog" "memory" (memory 1)) (func $f (return_call $f)) (func (export "run") (call $f)))',
            { tail_call: true },
            'invalid',
            /tail calls/,
        ));

    it('refuses a program that already exports a name the meter uses', () =>
        refused(
            '(module (import "fog" "memory" (memory 1)) (global (export "fog_fuel") i32 (i32.const 0)) (func (export "run")))',
            {},
            'invalid',
            /reserved/,
        ));
});

describe('examples', () => {
    it.each(EXAMPLES.map((e) => e.name))('%s gives the same output bytes metered', async (name) => {
        const example = EXAMPLES.find((e) => e.name === name)!;
        const program = readFileSync(join(DIST, 'examples', `${name}.wasm`));
        const input = await example.defaultInput();
        const r = runMetered((await instrument(program)).bytes, input, LIMIT);
        expect(r).toMatchObject({ status: 'ok', trap: 0 });
        expect(r.output.equals(runPlain(program, input))).toBe(true);
        expect(r.fuelUsed).toBeGreaterThan(0n);
    });
});
