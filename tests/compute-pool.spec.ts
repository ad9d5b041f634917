import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ComputePool, ComputeQueueFull } from '../client/compute/pool';
import { MAX_FUEL, TRAP_FUEL, TRAP_STACK } from '../client/compute/meter';
import { classifyFailure, WorkerFault } from '../client/compute/task';
import { wasm } from '../client/compute/abi';
import { calibrationKernel, measureFuelRate } from '../client/compute/calibrate';
import { MeteredPrograms, runHere } from '../client/compute/programs';
import { ComputeJob, RunResult } from '../client/compute/types';
import { wat } from './helpers/wat';

const HOST = `
    (import "fog" "input_size" (func $size (result i32)))
    (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
    (import "fog" "write_output" (func $write (param i32 i32)))`;

/** A module importing `memory` as fog.memory and the three host functions, with `body` after them. */
const program = (body: string, memory = '(memory 1)') => wat(`(module (import "fog" "memory" ${memory}) ${HOST} ${body})`);

/** Reads the input 7 bytes at a time (exercising read_input's offset) and writes it back upper-cased. */
const UPPER = `
    (func (export "run") (local $off i32) (local $k i32) (local $i i32) (local $c i32)
        (block $done (loop $chunk
            (local.set $k (call $read (i32.const 0) (local.get $off) (i32.const 7)))
            (br_if $done (i32.eqz (local.get $k)))
            (local.set $i (i32.const 0))
            (block $upper (loop $byte
                (br_if $upper (i32.ge_u (local.get $i) (local.get $k)))
                (local.set $c (i32.load8_u (local.get $i)))
                (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
                    (then (i32.store8 (local.get $i) (i32.sub (local.get $c) (i32.const 32)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $byte)))
            (call $write (i32.const 0) (local.get $k))
            (local.set $off (i32.add (local.get $off) (local.get $k)))
            (br $chunk))))`;

/** 50 rounds over the input of an FNV-1a hash and an f64 recurrence; writes h (i32) and x (f64). */
const HASH = `
    (func (export "run") (local $n i32) (local $r i32) (local $i i32) (local $b i32) (local $h i32) (local $x f64)
        (local.set $n (call $read (i32.const 16) (i32.const 0) (call $size)))
        (local.set $h (i32.const 0x811c9dc5))
        (local.set $x (f64.const 1))
        (block $rounds (loop $round
            (br_if $rounds (i32.ge_u (local.get $r) (i32.const 50)))
            (local.set $i (i32.const 0))
            (block $bytes (loop $byte
                (br_if $bytes (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $b (i32.load8_u offset=16 (local.get $i)))
                (local.set $h (i32.mul (i32.xor (local.get $h) (local.get $b)) (i32.const 16777619)))
                (local.set $x (f64.sqrt (f64.add
                    (f64.add (f64.mul (local.get $x) (f64.const 1.0000001)) (f64.convert_i32_u (local.get $b)))
                    (f64.convert_i32_u (local.get $r)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $byte)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $round)))
        (i32.store (i32.const 0) (local.get $h))
        (f64.store (i32.const 4) (local.get $x))
        (call $write (i32.const 0) (i32.const 12)))`;

/** HASH in JavaScript: the bytes the program must produce. */
function expectedHash(input: Uint8Array): Uint8Array {
    let h = 0x811c9dc5;
    let x = 1;
    for (let r = 0; r < 50; r++) {
        for (const b of input) {
            h = Math.imul(h ^ b, 16777619);
            x = Math.sqrt(x * 1.0000001 + b + r);
        }
    }
    const out = Buffer.alloc(12);
    out.writeInt32LE(h | 0, 0);
    out.writeDoubleLE(x, 4);
    return new Uint8Array(out);
}

const LOOP = '(func (export "run") (loop $forever (br $forever)))';
const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const job = (program: Uint8Array, input = new Uint8Array(), limits: Partial<ComputeJob> = {}): ComputeJob => ({
    program,
    input,
    fuel: MAX_FUEL,
    maxMemoryMb: 2,
    ...limits,
});
const direct = (j: ComputeJob, maxOutputBytes = 1 << 20) => runHere(j, maxOutputBytes);
/** A failure with `reason`, and a message equal to `message` (a string) or matching it (a RegExp); a verdict also carries its fuel. */
const failed = (reason: string, message: string | RegExp = /./) =>
    expect.objectContaining({
        status: 'failed',
        reason,
        message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
const ok = (output: Uint8Array) => ({ status: 'ok', output, ms: expect.any(Number), fuel: expect.any(BigInt) });
const elapsed = async (run: () => Promise<RunResult>) => {
    const start = Date.now();
    const result = await run();
    return { result, ms: Date.now() - start };
};

describe('ComputePool', () => {
    let pool: ComputePool;
    let single: ComputePool;
    let upper: Uint8Array;
    let hash: Uint8Array;
    let loop: Uint8Array;

    beforeAll(async () => {
        pool = new ComputePool({ threads: 2 });
        single = new ComputePool({ threads: 1, maxQueue: 1, maxOutputBytes: 1_000, wallSeconds: 0.3 });
        [upper, hash, loop] = await Promise.all([program(UPPER), program(HASH), program(LOOP)]);
    });
    afterAll(async () => {
        await Promise.all([pool.close(), single.close()]);
    });

    describe('running programs', () => {
        it('runs a transform: the output is the input upper-cased', async () => {
            const input = bytes('hello, fog! the quick brown fox');
            expect(await pool.run(job(upper, input))).toEqual(ok(bytes('HELLO, FOG! THE QUICK BROWN FOX')));
            expect(await pool.run(job(upper))).toEqual(ok(new Uint8Array()));
        });

        it('gives byte-identical output across runs, thread counts and the direct runner', async () => {
            const input = Uint8Array.from({ length: 4_000 }, (_, i) => (i * 7919) & 0xff);
            const expected = expectedHash(input);
            const runs = await Promise.all([...Array.from({ length: 10 }, () => pool.run(job(hash, input))), single.run(job(hash, input))]);
            for (const result of [...runs, await direct(job(hash, input))]) expect(result).toEqual(ok(expected));
            // the fuel too: the meter's count, not the machine's
            expect(new Set(runs.map((r) => (r as { fuel: bigint }).fuel)).size).toBe(1);
        });

        it('runs 8 jobs on 2 threads, each with its own output', async () => {
            const inputs = Array.from({ length: 8 }, (_, i) => bytes(`job ${i}: ${'abc'.repeat(i * 50)}`));
            const results = await Promise.all(inputs.map((input) => pool.run(job(upper, input))));
            results.forEach((result, i) => expect(result).toEqual(ok(bytes(Buffer.from(inputs[i]).toString().toUpperCase()))));
        });

        it('reports an AssemblyScript abort as a trap with its message, file, line and column', async () => {
            const as = await wat(`(module
                (import "fog" "memory" (memory 1))
                (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
                (data (i32.const 12) "\\0a\\00\\00\\00h\\00e\\00l\\00l\\00o\\00")
                (data (i32.const 44) "\\08\\00\\00\\00a\\00.\\00t\\00s\\00")
                (func (export "run") (call $abort (i32.const 16) (i32.const 48) (i32.const 7) (i32.const 3))))`);
            expect(await pool.run(job(as))).toEqual(failed('trap', 'abort: hello at a.ts:7:3 (memory at 1 of 32 pages)'));
        });
    });

    describe('limits', () => {
        it("stops an infinite loop at the worker's wall-clock limit, then serves the next job on the same thread", async () => {
            const { result, ms } = await elapsed(() => single.run(job(loop)));
            expect(result).toEqual({ status: 'failed', reason: 'timeout', message: "exceeded this worker's wall-clock limit of 0.3 s" });
            expect(ms).toBeGreaterThanOrEqual(290);
            expect(ms).toBeLessThan(3_000);
            expect(await single.run(job(upper, bytes('still here')))).toEqual(ok(bytes('STILL HERE')));
        });

        it('counts the time limit from when a thread starts the job, not from when it was queued', async () => {
            const input = bytes('queued');
            const [first, second] = await Promise.all([single.run(job(loop)), single.run(job(hash, input))]);
            expect(first).toEqual(failed('timeout'));
            expect(second).toEqual(ok(expectedHash(input)));
        });

        it("keeps memory within the cap (or the module's own maximum): memory.grow fails past it", async () => {
            const grow = `(func (export "run")
                (i32.store (i32.const 0) (memory.grow (i32.const 0xffff)))
                (block $full (loop $more
                    (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                    (br $more)))
                (i32.store (i32.const 4) (memory.size))
                (call $write (i32.const 0) (i32.const 8)))`;
            const pages = (result: RunResult) =>
                result.status === 'ok' ? Array.from(new Int32Array(result.output.slice().buffer)) : result;
            expect(pages(await pool.run(job(await program(grow), undefined, { maxMemoryMb: 2 })))).toEqual([-1, 32]);
            expect(pages(await pool.run(job(await program(grow, '(memory 1 4)'), undefined, { maxMemoryMb: 2 })))).toEqual([-1, 4]);
        });

        it('fails a memory bomb that traps when memory.grow fails, giving the memory it had', async () => {
            const bomb = await program(`(func (export "run") (loop $more
                (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
                (br $more)))`);
            expect(await pool.run(job(bomb, undefined, { maxMemoryMb: 2 }))).toEqual(
                failed('trap', 'unreachable (memory at 17 of 32 pages)'),
            );
            expect(await pool.run(job(upper, bytes('ok')))).toEqual(ok(bytes('OK')));
        });

        it('refuses a module whose memory minimum is above the cap', async () => {
            const big = await program(LOOP, '(memory 100)');
            expect(await pool.run(job(big, undefined, { maxMemoryMb: 1 }))).toEqual(
                failed('memory', 'fog.memory needs 100 pages, above the cap of 16'),
            );
        });

        it('refuses tables without a maximum or over the entry cap, which would live outside the memory cap', async () => {
            const unbounded = await program(`(table 10000000 funcref) ${LOOP}`);
            expect(await pool.run(job(unbounded))).toEqual(failed('memory', /^a table without a maximum/));
            const big = await program(`(table 600000 600000 funcref) (table 600000 600000 externref) ${LOOP}`);
            expect(await pool.run(job(big))).toEqual(failed('memory', /^tables of 1200000 entries/));
            const small = await program(`(table 10 10 funcref) ${UPPER}`);
            expect(await pool.run(job(small, bytes('t')))).toEqual(ok(bytes('T')));
        });

        it('refuses a type moving more than 16 values at once (the dispute verifier’s bound); 16 run', async () => {
            const typeOf = (n: number) => `(type (func (param ${'i32 '.repeat(n)}) (result ${'i32 '.repeat(n)})))`;
            const wide = await program(`${typeOf(17)} ${UPPER}`);
            expect(await pool.run(job(wide, bytes('t')))).toEqual(failed('invalid', /moves more than 16 values at once/));
            const edge = await program(`${typeOf(16)} ${UPPER}`);
            expect(await pool.run(job(edge, bytes('t')))).toEqual(ok(bytes('T')));
        });

        it('refuses an imported run function (the dispute machine enters only functions of the module)', async () => {
            const importedRun = await wat(
                `(module (import "fog" "memory" (memory 1)) (import "fog" "input_size" (func $size (result i32))) (export "run" (func $size)))`,
            );
            expect(await pool.run(job(importedRun))).toEqual(failed('invalid', '"run" must be a function of the module, not an import'));
            // (an imported start function cannot pass validation and the import check: no host function has the type () -> ())
        });

        it('fails output over the cap as output-limit; exactly the cap is fine', async () => {
            expect(await single.run(job(upper, new Uint8Array(1_000).fill(97)))).toEqual(ok(new Uint8Array(1_000).fill(65)));
            expect(await single.run(job(upper, new Uint8Array(1_001)))).toEqual(
                failed('output-limit', 'output exceeds the cap of 1000 bytes'),
            );
        });
    });

    describe('metering', () => {
        // 2 007 + 9 (N + 1) fuel for N iterations (docs/metering.md, the cost table's worked example)
        const COUNT = `(func (export "run") (local $i i32) (local $n i32)
            (local.set $n (call $size))
            (block $done (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next))))`;

        it('runs with exactly the fuel it needs, fails as fuel with one less, and reports the fuel used', async () => {
            const count = await program(COUNT);
            const input = new Uint8Array(1_000);
            const used = ((await pool.run(job(count, input))) as { fuel: bigint }).fuel;
            expect(used).toBe(2_007n + 9n * 1_001n);
            expect(await pool.run(job(count, input, { fuel: used }))).toEqual({ ...ok(new Uint8Array()), fuel: used });
            expect(await pool.run(job(count, input, { fuel: used - 1n }))).toEqual({
                status: 'failed',
                reason: 'fuel',
                message: 'the fuel ran out',
                fuel: used - 1n,
            });
            // an endless loop ends on its fuel, the same on every machine, not on a clock
            expect(await single.run(job(loop, undefined, { fuel: 1_000_000n }))).toEqual(failed('fuel'));
        });

        it('gives a program refused before it runs zero fuel', async () => {
            expect(await pool.run(job(bytes('not wasm')))).toEqual({
                status: 'failed',
                reason: 'invalid',
                message: 'not a valid WebAssembly module',
                fuel: 0n,
            });
        });

        it('charges a run that fails after it started its whole limit: a trap, a stack overflow, an output flood', async () => {
            const trap = await wat(`(module (import "fog" "memory" (memory 1))
              (func (export "run") (local $i i32)
                (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100))))
                (unreachable)))`);
            const deep = await wat(`(module (import "fog" "memory" (memory 1)) (func $r (call $r)) (func (export "run") (call $r)))`);
            const flood = await wat(`(module (import "fog" "memory" (memory 1))
              (import "fog" "write_output" (func $out (param i32 i32)))
              (func (export "run") (loop $l (call $out (i32.const 0) (i32.const 65536)) (br $l))))`);
            for (const [program, reason] of [
                [trap, 'trap'],
                [deep, 'stack'],
                [flood, 'output-limit'],
            ] as const) {
                for (const limit of [100_000_000n, 123_456_789n]) {
                    const expected = { status: 'failed', reason, fuel: limit };
                    expect(await single.run(job(program, undefined, { fuel: limit }))).toMatchObject(expected);
                    expect(await pool.run(job(program, undefined, { fuel: limit }))).toMatchObject(expected);
                }
            }
        });

        it('makes a verdict only of what the program did: a failed allocation or a native stack overflow is the worker’s fault', () => {
            const classify =
                (err: unknown, trap = 0) =>
                () =>
                    classifyFailure(err, trap, 3, 16);
            expect(classify(new RangeError('WebAssembly.Memory(): could not allocate memory'))).toThrow(
                new WorkerFault(
                    'this machine could not allocate what the program asked for: WebAssembly.Memory(): could not allocate memory',
                ),
            );
            expect(classify(new RangeError('Array buffer allocation failed'))).toThrow(WorkerFault);
            expect(classify(new RangeError('Maximum call stack size exceeded'))).toThrow(/native stack overflowed before the meter/);
            expect(classify(new wasm.RuntimeError('unreachable'))()).toEqual({
                status: 'failed',
                reason: 'trap',
                message: 'unreachable (memory at 3 of 16 pages)',
            });
            expect(classify(new wasm.RuntimeError('unreachable'), TRAP_FUEL)()).toMatchObject({ reason: 'fuel' });
            expect(classify(new wasm.RuntimeError('unreachable'), TRAP_STACK)()).toMatchObject({ reason: 'stack' });
        });

        it('meters a program once, keeping a bounded number of them', async () => {
            const programs = new MeteredPrograms({ maxPrograms: 2 });
            const first = await programs.meter(upper);
            expect(await programs.meter(Uint8Array.from(upper))).toBe(first);
            await programs.meter(hash);
            await programs.meter(loop);
            expect(programs.size).toBe(2);
            expect(await programs.meter(upper)).not.toBe(first);
        });

        it('grows memory one page at a time to the cap about as fast in a thread as in this one', async () => {
            // past half the thread's old-generation limit, V8 ran a full GC at every grow (pool.ts, THREAD_LIMITS)
            const grower = await program(`(func (export "run")
                (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
                (i32.store (i32.const 0) (memory.size))
                (call $write (i32.const 0) (i32.const 4)))`);
            const growJob = job(grower, undefined, { maxMemoryMb: 160 });
            const pages = Uint8Array.from(Buffer.from(Uint32Array.of(160 * 16).buffer));
            await direct(growJob); // meters it once, outside the timing
            const start = performance.now();
            expect(await direct(growJob)).toEqual(ok(pages));
            const directMs = performance.now() - start;
            const { result, ms } = await elapsed(() => pool.run(growJob));
            expect(result).toEqual(ok(pages));
            expect(ms).toBeLessThan(Math.max(10 * directMs, 1_000));
            expect(ms).toBeLessThan(8_000);
        });
    });

    describe('refused and failing programs', () => {
        it('fails a run whose host failure the program caught with exception handling', async () => {
            const sneaky = await wat(
                `(module (import "fog" "memory" (memory 1)) ${HOST} (func (export "run")
                    (try (do (call $write (i32.const 0) (i32.const 2000))) (catch_all))
                    (call $write (i32.const 0) (i32.const 1))))`,
                { exceptions: true },
            );
            expect(await single.run(job(sneaky))).toEqual(failed('output-limit', 'output exceeds the cap of 1000 bytes'));
            expect(await direct(job(sneaky), 1_000)).toEqual(failed('output-limit'));
        });

        it('refuses bytes that are not WebAssembly as invalid', async () => {
            expect(await pool.run(job(bytes('not wasm')))).toEqual(failed('invalid', 'not a valid WebAssembly module'));
            const truncated = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 9);
            expect(await pool.run(job(truncated))).toEqual(failed('invalid'));
        });

        it('refuses a module without a parameterless run export as invalid', async () => {
            const withParam = await program('(func (export "run") (param i32))');
            expect(await pool.run(job(withParam))).toEqual(failed('invalid', '"run" must take no parameters, not (i32) -> ()'));
        });

        it("reports unreachable and an out-of-bounds host access as traps, and endless recursion as the meter's stack trap", async () => {
            expect(await pool.run(job(await program('(func (export "run") unreachable)')))).toEqual(failed('trap', /unreachable/));
            const oob = await program('(func (export "run") (call $write (i32.const 65530) (i32.const 100)))');
            expect(await pool.run(job(oob))).toEqual(failed('trap', 'write_output: memory access out of bounds (memory at 1 of 32 pages)'));
            const deep = await program('(func $f (call $f)) (func (export "run") (call $f))');
            expect(await pool.run(job(deep))).toEqual(failed('stack', 'the call depth passed the budget'));
        });

        it('refuses a forbidden import, naming it', async () => {
            const wasi = await program(
                '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (func (export "run"))',
            );
            expect(await pool.run(job(wasi))).toEqual(failed('imports', 'forbidden import wasi_snapshot_preview1.fd_write (function)'));
            const clock = await program('(import "env" "now" (func (result f64))) (func (export "run"))');
            expect(await pool.run(job(clock))).toEqual(failed('imports', 'forbidden import env.now (function)'));
        });

        it('refuses a host function imported with the wrong type', async () => {
            const wide = await wat(
                '(module (import "fog" "memory" (memory 1)) (import "fog" "input_size" (func (result i64))) (func (export "run")))',
            );
            expect(await pool.run(job(wide))).toEqual(failed('imports', 'fog.input_size must have type () -> (i32), not () -> (i64)'));
        });

        it('refuses a module that defines its memory, or imports it under another name', async () => {
            const own = await wat('(module (memory (export "memory") 1) (func (export "run")))');
            expect(await pool.run(job(own))).toEqual(failed('imports', 'the module defines its own memory: import it as fog.memory'));
            // env.memory is AssemblyScript's name for the same import; any other name is refused
            const env = await wat('(module (import "env" "memory" (memory 1)) (func (export "run")))');
            expect(await pool.run(job(env))).toMatchObject({ status: 'ok' });
            const other = await wat('(module (import "js" "mem" (memory 1)) (func (export "run")))');
            expect(await pool.run(job(other))).toEqual(failed('imports', 'forbidden import js.mem (memory)'));
            const both = await wat('(module (import "fog" "memory" (memory 1)) (import "env" "memory" (memory 1)) (func (export "run")))');
            expect(await pool.run(job(both))).toMatchObject({ status: 'failed' });
            const none = await wat('(module (func (export "run")))');
            expect(await pool.run(job(none))).toEqual(failed('imports', 'the module must import its memory as fog.memory'));
        });
    });

    describe('cancellation and backpressure', () => {
        it('cancels a running job when its signal aborts, and one whose signal already aborted', async () => {
            const controller = new AbortController();
            setTimeout(() => controller.abort(), 50);
            const { result, ms } = await elapsed(() => pool.run(job(loop), controller.signal));
            expect(result).toEqual(failed('cancelled', 'cancelled by the caller'));
            expect(ms).toBeLessThan(2_000);
            expect(await pool.run(job(upper), controller.signal)).toEqual(failed('cancelled'));
            expect(await pool.run(job(upper, bytes('after')))).toEqual(ok(bytes('AFTER')));
        });

        it('cancels a queued job, and refuses a job beyond maxQueue with ComputeQueueFull', async () => {
            const controller = new AbortController();
            const running = single.run(job(loop));
            const queued = single.run(job(upper, bytes('q')), controller.signal);
            expect(single.queued).toBe(1);
            await expect(single.run(job(upper))).rejects.toThrow(new ComputeQueueFull(1));
            await expect(single.run(job(upper))).rejects.toThrow('the compute queue is full (maxQueue 1): retry later');
            controller.abort();
            expect(await queued).toEqual(failed('cancelled'));
            expect(await running).toEqual(failed('timeout'));
            expect(single.queued).toBe(0);
            expect(await single.run(job(upper, bytes('next')))).toEqual(ok(bytes('NEXT')));
        });

        it('ends jobs in flight as cancelled on close, then refuses new ones', async () => {
            const closing = new ComputePool({ threads: 1 });
            const running = closing.run(job(loop));
            const queued = closing.run(job(upper));
            await new Promise((resolve) => setTimeout(resolve, 50));
            await closing.close();
            expect(await running).toEqual(failed('cancelled', 'the compute pool closed'));
            expect(await queued).toEqual(failed('cancelled', 'the compute pool closed'));
            await expect(closing.run(job(upper))).rejects.toThrow('the compute pool is closed');
        });
    });

    describe('options', () => {
        it('defaults to one thread per core, a queue of 256 and a 16 MiB output cap', async () => {
            const defaults = new ComputePool();
            expect(defaults.options).toEqual({
                threads: availableParallelism(),
                maxQueue: 256,
                maxOutputBytes: 16 * 1024 * 1024,
                wallSeconds: 600,
            });
            await defaults.close();
        });

        it('refuses bad pool options with exact messages', () => {
            expect(() => new ComputePool({ threads: 0 })).toThrow(new RangeError('threads must be a positive integer'));
            expect(() => new ComputePool({ threads: 1.5 })).toThrow('threads must be a positive integer');
            expect(() => new ComputePool({ maxQueue: -1 })).toThrow(new RangeError('maxQueue must be a non-negative integer'));
            expect(() => new ComputePool({ maxOutputBytes: 0 })).toThrow(
                new RangeError('maxOutputBytes must be an integer from 1 to 1073741824'),
            );
            expect(() => new ComputePool({ wallSeconds: 0 })).toThrow(
                new RangeError('wallSeconds must be a number above 0 and at most 86400'),
            );
        });

        it('measures its fuel rate with a kernel whose fuel depends only on its iteration count', async () => {
            const rate = await measureFuelRate(pool, 50);
            expect(rate.ms).toBeGreaterThanOrEqual(50);
            expect(rate.fuelPerSecond).toBeCloseTo(Number(rate.fuel) / (rate.ms / 1000), 3);
            // the kernel is an ordinary metered program: the same fuel on every run and thread, linear in its count
            const kernel = await calibrationKernel();
            const fuelOf = async (iterations: number, on: ComputePool) => {
                const input = Buffer.alloc(4);
                input.writeUInt32LE(iterations);
                const r = await on.run(job(kernel, input));
                if (r.status !== 'ok') throw new Error(r.message);
                return r.fuel;
            };
            const [f0, f1, f2, again] = await Promise.all([
                fuelOf(0, pool),
                fuelOf(1_000, pool),
                fuelOf(2_000, pool),
                fuelOf(1_000, single),
            ]);
            expect(again).toBe(f1);
            expect(f2 - f1).toBe(f1 - f0);
            expect(f1 - f0).toBeGreaterThan(1_000n * 10n);
        });

        it('refuses malformed jobs with exact messages', async () => {
            await expect(pool.run(job(upper, undefined, { fuel: -1n }))).rejects.toThrow(
                new RangeError('fuel must be a bigint from 0 to 4611686018427387904'),
            );
            for (const maxMemoryMb of [0, 1.5, 4_097]) {
                await expect(pool.run(job(upper, undefined, { maxMemoryMb }))).rejects.toThrow(
                    new RangeError('maxMemoryMb must be an integer from 1 to 4096'),
                );
            }
            await expect(pool.run({ ...job(upper), program: [1, 2] as unknown as Uint8Array })).rejects.toThrow(
                new TypeError('program must be a Uint8Array'),
            );
        });
    });
});
