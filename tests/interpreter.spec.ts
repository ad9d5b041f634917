/**
 * The reference interpreter (client/dispute/interpreter.ts) against the metered V8 run
 * (client/compute/programs.ts, runHere; the pool where the main thread's stack is too small): the
 * same verdict, failure reason, output bytes and fuel on hand-written programs for every class of
 * instruction and their edge cases, on seeded random programs (helpers/wasm-gen.ts) and on the
 * shipped examples with small inputs. A difference is reported with its program's label and input.
 * Each comparison also checks the halted state a dispute party opens with from the V8 run
 * (client/dispute/opening.ts, haltedCell) against the interpreter's, and the steps against the bound
 * a match bisects up to (docs/disputes.md, "Steps bounded by fuel").
 */
import { readFileSync } from 'node:fs';
import { interpret, Interpreted, load, Machine } from '../client/dispute/interpreter';
import { readRoot, stateCell } from '../client/dispute/state';
import { haltedCell } from '../client/dispute/opening';
import { MAX_FUEL } from '../client/compute/meter';
import { ComputePool } from '../client/compute/pool';
import { runHere } from '../client/compute/programs';
import { ComputeJob, ProgramFailed, ProgramResult, RunResult } from '../client/compute/types';
import { exampleNamed, mlpAverageInput, mlpShardInput, runExample } from '../examples/catalog';
import { frameParts } from '../client/inputs';
import { generateProgram } from './helpers/wasm-gen';
import { wat } from './helpers/wat';
import { RECURSE } from './helpers/programs';

const CAP = 1 << 20;
const LIMIT = 10n ** 15n;

interface Verdict {
    status: string;
    reason?: string;
    output?: string;
    fuel: bigint;
}

function verdict(r: ProgramResult | RunResult): Verdict {
    if (r.status === 'ok') return { status: 'ok', fuel: r.fuel, output: Buffer.from(r.output).toString('hex') };
    return { status: 'failed', reason: r.reason, fuel: 'fuel' in r ? r.fuel : -1n };
}

interface Options {
    fuel?: bigint;
    cap?: number;
    maxMemoryMb?: number;
    /** Whether to compare the halted states too (default true; compareCases's halves do not: the whole batch did). */
    halted?: boolean;
}

/** Differences found by a test, each a readable line; the test expects none. */
type Found = string[];

const hex = (b: Uint8Array) =>
    b.length > 64 ? `${Buffer.from(b.subarray(0, 64)).toString('hex')}… (${b.length} bytes)` : Buffer.from(b).toString('hex');
const show = (v: Verdict) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

function job(program: Uint8Array, input: Uint8Array, o: Options): ComputeJob {
    return { program, input, fuel: o.fuel ?? LIMIT, maxMemoryMb: o.maxMemoryMb ?? 1 };
}

/** Checks the interpreter against an expected V8 result; records a difference in `found`. */
function check(found: Found, label: string, j: ComputeJob, expected: ProgramResult | RunResult, cap: number): Interpreted {
    return checkMachine(found, label, j, expected, cap).got;
}

/** `check`, also giving the interpreter's halted machine (undefined for a program refused before it runs). */
function checkMachine(
    found: Found,
    label: string,
    j: ComputeJob,
    expected: ProgramResult | RunResult,
    cap: number,
): { got: Interpreted; machine?: Machine } {
    const loaded = load(j, { maxOutputBytes: cap });
    const machine = loaded instanceof Machine ? loaded : undefined;
    machine?.run();
    const got: Interpreted = machine?.result() ?? { ...(loaded as ProgramFailed), steps: 0n };
    const [a, b] = [verdict(expected), verdict(got)];
    if (show(a) !== show(b)) {
        if (a.output !== undefined && b.output !== undefined && a.output !== b.output) {
            let at = 0;
            while (a.output[at] === b.output[at]) at++;
            const byte = at >> 1;
            const near = (o: string) => o.slice(Math.max(0, 2 * byte - 16), 2 * byte + 24);
            found.push(`${label}: outputs differ from byte ${byte}: v8 …${near(a.output)}… / interpreter …${near(b.output)}…`);
        }
        found.push(`${label} (input ${hex(j.input)}, fuel ${j.fuel}): v8 ${show(a).slice(0, 300)} / interpreter ${show(b).slice(0, 300)}`);
    }
    if (typeof got.steps !== 'bigint' || got.steps < 0n) found.push(`${label}: steps ${String(got.steps)}`);
    // the bound a dispute match bisects up to (docs/disputes.md, "Steps bounded by fuel"), checked
    // against the fuel the run used: a run that returned, or the fuel charged before a failure
    if (machine !== undefined && BigInt(machine.steps) > 2n * machine.fuelUsed() + 16n)
        found.push(`${label}: ${machine.steps} steps on ${machine.fuelUsed()} fuel, past the bound`);
    return { got, machine };
}

/**
 * Runs a job both ways and compares: the verdicts, and the halted state the V8 run gives (a
 * party's opening, client/dispute/opening.ts haltedCell) against the interpreter's.
 */
async function compare(found: Found, label: string, program: Uint8Array, input: Uint8Array, o: Options = {}) {
    const j = job(program, input, o);
    const v8 = await runHere(j, o.cap ?? CAP);
    const { got: interpreted, machine } = checkMachine(found, label, j, v8, o.cap ?? CAP);
    if (machine !== undefined && o.halted !== false) {
        const opened = await haltedCell(j, { maxOutputBytes: o.cap ?? CAP });
        const root = stateCell(machine).hash().toString('hex');
        // it gives every one but a program's with data.drop (which the run does not expose)
        if (opened === undefined) {
            if (!machine.m.codes.some((c) => c.op.includes(0xfc09))) found.push(`${label}: no halted state from the V8 run`);
        } else if (opened.hash().toString('hex') !== root)
            found.push(
                `${label}: the halted state from V8 ${show(readRoot(opened) as never)} / interpreter ${show(readRoot(stateCell(machine)) as never)}`,
            );
    }
    return { v8, interpreted };
}

/** Compares a batch of cases run in one go; if V8 fails, splits the batch to reach each failing case on its own. */
async function compareCases(found: Found, label: string, program: Uint8Array, cases: Uint8Array[], o: Options = {}): Promise<void> {
    const { v8 } = await compare(found, `${label} ×${cases.length}`, program, Buffer.concat(cases), o);
    if (v8.status === 'failed' && cases.length > 1) {
        const half = cases.length >> 1;
        await compareCases(found, label, program, cases.slice(0, half), { ...o, halted: false });
        await compareCases(found, label, program, cases.slice(half), { ...o, halted: false });
    }
}

function expectNone(found: Found): void {
    expect(found.slice(0, 30)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Values

const u32 = (...n: number[]) => Buffer.from(Uint32Array.from(n, (x) => x >>> 0).buffer);
type Val = 'i32' | 'i64' | 'f32' | 'f64';
/** A value as an 8-byte slot: i32 and f32 in its low 4 bytes. */
function slot(type: Val, v: number | bigint): Buffer {
    const b = Buffer.alloc(8);
    if (type === 'i32' || type === 'f32') b.writeUInt32LE(Number(BigInt.asUintN(32, BigInt(v))));
    else b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    return b;
}
const f32bits = (x: number) => Buffer.from(Float32Array.of(x).buffer).readUInt32LE();
const f64bits = (x: number) => Buffer.from(Float64Array.of(x).buffer).readBigUInt64LE();

const I32 = [
    0, 1, 2, 3, 7, -1, -2, -7, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001,
    0x12345678, 0xdeadbeef,
];
const I64 = [
    0n,
    1n,
    2n,
    7n,
    -1n,
    -2n,
    -7n,
    31n,
    32n,
    63n,
    64n,
    65n,
    0x80n,
    0x8000n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x100000000n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    -(2n ** 63n) + 1n,
    0x123456789abcdef0n,
    0x20000020000001n,
    0x8000008000000001n,
    0x7fffff4000000001n,
    0xfffffe0000000001n,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    0x7ffffffffffffc00n,
    0x7ffffffffffffdffn,
];
const F64_NUMBERS = [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    3.5,
    -3.5,
    0.49999999999999994,
    -0.49999999999999994,
    4503599627370495.5,
    4503599627370497,
    2 ** 52,
    2 ** 53,
    2 ** 53 + 2,
    1e308,
    -1e308,
    1.7976931348623157e308,
    Infinity,
    -Infinity,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2 ** 31,
    2 ** 31 - 0.5,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 31) - 0.5,
    -(2 ** 31) + 0.5,
    2 ** 32,
    2 ** 32 - 1,
    2 ** 32 - 0.5,
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    -(2 ** 64),
    -1024,
    3.4028235677973366e38,
    3.4028234663852886e38,
    1.401298464324817e-45,
    7.006492321624085e-46,
    0.1,
    -0.9,
    1e-310,
];
const F64_NANS = [
    0x7ff8000000000000n,
    0xfff8000000000000n,
    0x7ff0000000000001n,
    0x7ff4000000000abcn,
    0xfff0000000000123n,
    0x7fffffffffffffffn,
];
const F64 = [...F64_NUMBERS.map(f64bits), ...F64_NANS];
const F32_NUMBERS = [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    1.5,
    -1.5,
    2.5,
    -2.5,
    8388607.5,
    8388609,
    2 ** 23,
    2 ** 24,
    2 ** 24 + 2,
    3.4028234663852886e38,
    -3.4028234663852886e38,
    Infinity,
    -Infinity,
    1.401298464324817e-45,
    -1.401298464324817e-45,
    1.1754943508222875e-38,
    2 ** 31,
    -(2 ** 31),
    2147483520,
    -2147483904,
    2 ** 32,
    4294967040,
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    9223371487098961920,
    0.1,
    -0.9,
    -1024,
];
const F32_NANS = [0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00abc, 0xff800123, 0x7fffffff];
const F32 = [...F32_NUMBERS.map(f32bits), ...F32_NANS];
const VALUES: Record<Val, (number | bigint)[]> = { i32: I32, i64: I64, f32: F32, f64: F64 };
/** Fewer values, for the pairs of binary operations. */
const PAIR_VALUES: Record<Val, (number | bigint)[]> = {
    i32: I32,
    i64: I64.filter((_, i) => i % 3 !== 2 || i < 12),
    f32: F32.filter((_, i) => i % 2 === 0 || i >= F32_NUMBERS.length - 4),
    f64: F64.filter((_, i) => i % 2 === 0 || i >= F64_NUMBERS.length - 4),
};

// ---------------------------------------------------------------------------------------------
// Programs

const HOST = `
    (import "fog" "input_size" (func $size (result i32)))
    (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
    (import "fog" "write_output" (func $write (param i32 i32)))`;
const hosted = (body: string, memory = '(memory 1)') => wat(`(module (import "fog" "memory" ${memory}) ${HOST} ${body})`);

/**
 * One operation over cases of 16 bytes (its operands in 8-byte slots), read from the input to
 * address 0: each result stored to 32768 + 8 i, all written out at the end.
 */
function opProgram(op: string, params: Val[], result: Val): Promise<Uint8Array> {
    const operands = params.map((t, k) => `(${t}.load offset=${8 * k} (local.get $p))`).join(' ');
    return hosted(`
        (func (export "run") (local $n i32) (local $i i32) (local $p i32)
            (local.set $n (i32.shr_u (call $read (i32.const 0) (i32.const 0) (call $size)) (i32.const 4)))
            (block $done (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $p (i32.shl (local.get $i) (i32.const 4)))
                (${result}.store (i32.add (i32.const 32768) (i32.shl (local.get $i) (i32.const 3))) (${op} ${operands}))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            (call $write (i32.const 32768) (i32.shl (local.get $n) (i32.const 3))))`);
}

function casesFor(params: Val[]): Uint8Array[] {
    if (params.length === 1) return VALUES[params[0]].map((v) => Buffer.concat([slot(params[0], v), Buffer.alloc(8)]));
    const [a, b] = params;
    return PAIR_VALUES[a].flatMap((x) => PAIR_VALUES[b].map((y) => Buffer.concat([slot(a, x), slot(b, y)])));
}

const INT_BINARY = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const INT_COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const FLOAT_BINARY = ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'];
const FLOAT_COMPARE = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
const FLOAT_UNARY = ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'];

/** Every numeric operation: [opcode, params, result]. */
const OPERATIONS: [string, Val[], Val][] = [
    ...(['i32', 'i64'] as const).flatMap((t): [string, Val[], Val][] => [
        ...INT_BINARY.map((op): [string, Val[], Val] => [`${t}.${op}`, [t, t], t]),
        ...INT_COMPARE.map((op): [string, Val[], Val] => [`${t}.${op}`, [t, t], 'i32']),
        ...['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s'].map((op): [string, Val[], Val] => [`${t}.${op}`, [t], t]),
        [`${t}.eqz`, [t], 'i32'],
    ]),
    ['i64.extend32_s', ['i64'], 'i64'],
    ...(['f32', 'f64'] as const).flatMap((t): [string, Val[], Val][] => [
        ...FLOAT_BINARY.map((op): [string, Val[], Val] => [`${t}.${op}`, [t, t], t]),
        ...FLOAT_COMPARE.map((op): [string, Val[], Val] => [`${t}.${op}`, [t, t], 'i32']),
        ...FLOAT_UNARY.map((op): [string, Val[], Val] => [`${t}.${op}`, [t], t]),
    ]),
    ['i32.wrap_i64', ['i64'], 'i32'],
    ['i64.extend_i32_s', ['i32'], 'i64'],
    ['i64.extend_i32_u', ['i32'], 'i64'],
    ...(['i32', 'i64'] as const).flatMap((i) =>
        (['f32', 'f64'] as const).flatMap((f) =>
            ['s', 'u'].flatMap((s): [string, Val[], Val][] => [
                [`${i}.trunc_${f}_${s}`, [f], i],
                [`${i}.trunc_sat_${f}_${s}`, [f], i],
                [`${f}.convert_${i}_${s}`, [i], f],
            ]),
        ),
    ),
    ['f32.demote_f64', ['f64'], 'f32'],
    ['f64.promote_f32', ['f32'], 'f64'],
    ['i32.reinterpret_f32', ['f32'], 'i32'],
    ['i64.reinterpret_f64', ['f64'], 'i64'],
    ['f32.reinterpret_i32', ['i32'], 'f32'],
    ['f64.reinterpret_i64', ['i64'], 'f64'],
];

describe('the interpreter against the metered V8 run', () => {
    describe('numeric operations on edge values (NaN bits, signed zeros, overflow, traps)', () => {
        const groups: [string, (op: string) => boolean][] = [
            ['i32', (op) => op.startsWith('i32.') && !/trunc|wrap|reinterpret/.test(op)],
            ['i64', (op) => op.startsWith('i64.') && !/trunc|extend_i32|reinterpret/.test(op)],
            ['f32', (op) => op.startsWith('f32.') && !/convert|demote|reinterpret/.test(op)],
            ['f64', (op) => op.startsWith('f64.') && !/convert|promote|reinterpret/.test(op)],
            ['conversions', (op) => /trunc_|wrap|extend_i32|convert|demote|promote|reinterpret/.test(op)],
        ];
        it.each(groups)('%s', async (_name, include) => {
            const found: Found = [];
            for (const [op, params, result] of OPERATIONS.filter(([op]) => include(op))) {
                await compareCases(found, op, await opProgram(op, params, result), casesFor(params));
            }
            expectNone(found);
        });

        it('NaN-producing arithmetic stored from locals, after promote and demote, and NaNs from the input moved bit for bit', async () => {
            const program = await hosted(`
                (func (export "run") (local $x f64) (local $y f32) (local $z f64) (local $i i32)
                    (drop (call $read (i32.const 256) (i32.const 0) (i32.const 16)))
                    (local.set $x (f64.load (i32.const 256)))
                    (local.set $y (f32.load (i32.const 264)))
                    (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0)))
                    (f64.store (i32.const 8) (f64.sqrt (f64.const -1)))
                    (f64.store (i32.const 16) (f64.sub (f64.const inf) (f64.const inf)))
                    (f32.store (i32.const 24) (f32.mul (f32.const inf) (f32.const 0)))
                    (f32.store (i32.const 28) (f32.sqrt (local.get $y)))
                    (f64.store (i32.const 32) (f64.add (local.get $x) (f64.const 1)))
                    (f64.store (i32.const 40) (f64.copysign (local.get $x) (f64.const -1)))
                    (f64.store (i32.const 48) (f64.abs (local.get $x)))
                    (f64.store (i32.const 56) (f64.neg (local.get $x)))
                    (f32.store (i32.const 64) (f32.neg (local.get $y)))
                    (f32.store (i32.const 68) (f32.abs (local.get $y)))
                    (f32.store (i32.const 72) (f32.copysign (local.get $y) (f32.const -0)))
                    (f64.store (i32.const 80) (f64.promote_f32 (local.get $y)))
                    (f32.store (i32.const 88) (f32.demote_f64 (local.get $x)))
                    (f64.store (i32.const 96) (select (local.get $x) (f64.const 1) (i32.const 1)))
                    (f64.store (i32.const 104) (f64.min (local.get $x) (f64.const -0)))
                    (f64.store (i32.const 112) (f64.max (f64.const nan:0x1234) (f64.const 1)))
                    (f64.store (i32.const 120) (f64.nearest (local.get $x)))
                    ;; an accumulator in a loop, read after it (canonicalized where read)
                    (local.set $z (f64.const 1))
                    (loop $l
                        (local.set $z (f64.mul (local.get $z) (local.get $x)))
                        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3))))
                    (f64.store (i32.const 128) (local.get $z))
                    (local.set $z (local.get $x))
                    (f64.store (i32.const 136) (local.get $z))
                    (f64.store (i32.const 144) (f64.reinterpret_i64 (i64.or (i64.reinterpret_f64 (local.get $x)) (i64.const 1))))
                    (f32.store (i32.const 152) (f32.convert_i64_u (i64.const -1)))
                    (f32.store (i32.const 156) (f32.convert_i64_s (i64.const 0x20000020000001)))
                    (call $write (i32.const 0) (i32.const 160)))`);
            const found: Found = [];
            for (const x of [...F64_NANS, f64bits(2.5), f64bits(-0), f64bits(Infinity)]) {
                for (const y of [...F32_NANS, f32bits(-1), f32bits(0.25)]) {
                    await compare(found, 'nans', program, Buffer.concat([slot('f64', x), slot('f32', y)]));
                }
            }
            expectNone(found);
        });
    });

    describe('memory', () => {
        const ADDRESSES = [0, 1, 2, 3, 5, 7, 8, 32767, 65520, 65527, 65528, 65529, 65530, 65531, 65532, 65533, 65534, 65535, 65536, 65537];
        const FAR = [0x7fffffff, 0xfffffff8, 0xfffffffc, 0xffffffff];
        const PATTERN = '"\\01\\82\\f3\\74\\85\\96\\a7\\b8\\c9\\da\\eb\\fc\\0d\\1e\\2f\\30"';
        const LOADS: [string, Val][] = [
            ['i32.load', 'i32'],
            ['i32.load8_s', 'i32'],
            ['i32.load8_u', 'i32'],
            ['i32.load16_s', 'i32'],
            ['i32.load16_u', 'i32'],
            ['i64.load', 'i64'],
            ['i64.load8_s', 'i64'],
            ['i64.load8_u', 'i64'],
            ['i64.load16_s', 'i64'],
            ['i64.load16_u', 'i64'],
            ['i64.load32_s', 'i64'],
            ['i64.load32_u', 'i64'],
            ['f32.load', 'f32'],
            ['f64.load', 'f64'],
        ];

        it('loads of every width and sign, unaligned, at the end of memory and past it, with offsets', async () => {
            const found: Found = [];
            for (const [op, type] of LOADS) {
                for (const offset of [0, 3, 65530, 0xfffffff0]) {
                    const program = await hosted(`
                        (data (i32.const 0) ${PATTERN}) (data (i32.const 65520) ${PATTERN})
                        (func (export "run") (local $n i32) (local $i i32)
                            (local.set $n (i32.shr_u (call $read (i32.const 16384) (i32.const 0) (call $size)) (i32.const 2)))
                            (block $done (loop $next
                                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                                (${type}.store (i32.add (i32.const 32768) (i32.shl (local.get $i) (i32.const 3)))
                                    (${op} offset=${offset} (i32.load (i32.add (i32.const 16384) (i32.shl (local.get $i) (i32.const 2))))))
                                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                                (br $next)))
                            (call $write (i32.const 32768) (i32.shl (local.get $n) (i32.const 3))))`);
                    await compareCases(
                        found,
                        `${op} offset=${offset}`,
                        program,
                        [...ADDRESSES, ...FAR].map((a) => u32(a)),
                    );
                }
            }
            expectNone(found);
        });

        it('stores of every width, unaligned, at the end of memory and past it (a trapping store writes nothing)', async () => {
            const STORES: [string, Val][] = [
                ['i32.store', 'i32'],
                ['i32.store8', 'i32'],
                ['i32.store16', 'i32'],
                ['i64.store', 'i64'],
                ['i64.store8', 'i64'],
                ['i64.store16', 'i64'],
                ['i64.store32', 'i64'],
                ['f32.store', 'f32'],
                ['f64.store', 'f64'],
            ];
            const found: Found = [];
            for (const [op, type] of STORES) {
                for (const offset of [0, 5]) {
                    const program = await hosted(`
                        (data (i32.const 0) ${PATTERN}) (data (i32.const 65520) ${PATTERN})
                        (func (export "run") (local $n i32) (local $i i32) (local $p i32)
                            (local.set $n (i32.shr_u (call $read (i32.const 16384) (i32.const 0) (call $size)) (i32.const 4)))
                            (block $done (loop $next
                                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                                (local.set $p (i32.add (i32.const 16384) (i32.shl (local.get $i) (i32.const 4))))
                                (${op} offset=${offset} (i32.load (local.get $p)) (${type}.load offset=8 (local.get $p)))
                                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                                (br $next)))
                            (call $write (i32.const 0) (i32.const 32))
                            (call $write (i32.const 65504) (i32.const 32)))`);
                    const values =
                        type === 'f32'
                            ? [F32_NANS[3], f32bits(-0)]
                            : type === 'f64'
                              ? [F64_NANS[3], f64bits(-2.5)]
                              : [-1n, 0x0102030405060708n];
                    const cases = [...ADDRESSES, ...FAR].flatMap((a) => values.map((v) => Buffer.concat([slot('i64', a), slot(type, v)])));
                    await compareCases(found, `${op} offset=${offset}`, program, cases);
                }
            }
            expectNone(found);
        });

        it('memory.grow (granted, past the maximum, past the cap, huge) and memory.size, then accesses in and past the new pages', async () => {
            const body = `
                (func (export "run") (local $n i32) (local $r i32)
                    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 8)))
                    (local.set $r (memory.grow (i32.load (i32.const 0))))
                    (i32.store (i32.const 16) (local.get $r))
                    (i32.store (i32.const 20) (memory.size))
                    (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)) (i32.const 0x5a))
                    (i32.store (i32.const 24) (i32.load8_u (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))))
                    (i32.store (i32.const 28) (memory.grow (i32.load (i32.const 4))))
                    (i32.store (i32.const 32) (memory.size))
                    (call $write (i32.const 16) (i32.const 20))
                    (if (i32.load (i32.const 8)) (then (drop (i32.load (i32.mul (memory.size) (i32.const 65536)))))))`;
            const found: Found = [];
            const pairs = [
                [0, 0],
                [1, 0],
                [3, 1],
                [4, 0],
                [5, 0],
                [2, 2],
                [2, 3],
                [0xffffffff, 1],
                [0x10000, 0],
                [0x8000, 0],
            ];
            for (const memory of ['(memory 1 5)', '(memory 1)', '(memory 2 2)', '(memory 0)']) {
                const program = await hosted(body, memory);
                for (const [a, b] of pairs) {
                    for (const probe of [0, 1]) {
                        for (const maxMemoryMb of [1, 2]) {
                            await compare(found, `grow ${memory} cap ${maxMemoryMb} MiB`, program, u32(a, b, probe), { maxMemoryMb });
                        }
                    }
                }
            }
            // failed grows of 2^32 - 1 pages in a loop charge past 2^53 fuel: exact arithmetic needed
            const grows = await hosted(`
                (func (export "run") (local $i i32)
                    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))
                    (block $done (loop $l
                        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
                        (drop (memory.grow (i32.const -1)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $l)))
                    (call $write (i32.const 0) (i32.const 4)))`);
            for (const n of [1, 2_100, 2_101, 3_001]) {
                const { v8 } = await compare(found, `grow -1 ×${n}`, grows, u32(n), { fuel: MAX_FUEL });
                if (v8.status === 'ok' && n > 2_000) {
                    await compare(found, `grow -1 ×${n} on exactly its fuel`, grows, u32(n), { fuel: v8.fuel });
                    await compare(found, `grow -1 ×${n} on one fuel less`, grows, u32(n), { fuel: v8.fuel - 1n });
                }
            }
            for (const fuel of [2n ** 53n + 1n, MAX_FUEL - 1n, MAX_FUEL - 12_345n])
                await compare(found, `grow -1 ×3001 limit ${fuel}`, grows, u32(3_001), { fuel });
            expectNone(found);
        });

        it('memory.fill, memory.copy (overlapping both ways), memory.init from passive data, data.drop; bounds at the end', async () => {
            const program = await hosted(`
                (data (i32.const 0) "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz!?")
                (data (i32.const 65472) "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz!?")
                (data $p "passive-segment:0123")
                (data $q "")
                (func (export "run") (local $op i32) (local $a i32) (local $b i32) (local $c i32)
                    (drop (call $read (i32.const 1024) (i32.const 0) (i32.const 16)))
                    (local.set $op (i32.load (i32.const 1024)))
                    (local.set $a (i32.load (i32.const 1028)))
                    (local.set $b (i32.load (i32.const 1032)))
                    (local.set $c (i32.load (i32.const 1036)))
                    (block $done (block $drop_empty (block $drop (block $init (block $copy (block $fill
                        (br_table $fill $copy $init $drop $drop_empty $done (local.get $op)))
                        (memory.fill (local.get $a) (local.get $b) (local.get $c)) (br $done))
                        (memory.copy (local.get $a) (local.get $b) (local.get $c)) (br $done))
                        (memory.init $p (local.get $a) (local.get $b) (local.get $c)) (br $done))
                        (data.drop $p) (memory.init $p (local.get $a) (local.get $b) (local.get $c)) (br $done))
                        (data.drop $q) (data.drop $q) (memory.init $q (local.get $a) (local.get $b) (local.get $c)))
                    (call $write (i32.const 0) (i32.const 64))
                    (call $write (i32.const 65472) (i32.const 64)))`);
            const found: Found = [];
            const cases: number[][] = [
                [0, 3, 0x1ff, 10],
                [0, 0, 0, 0],
                [0, 65530, 7, 6],
                [0, 65530, 7, 7],
                [0, 65536, 7, 0],
                [0, 65537, 7, 0],
                [0, 10, 7, 0xffffffff],
                [1, 0, 1, 20],
                [1, 1, 0, 20],
                [1, 5, 5, 30],
                [1, 65500, 0, 36],
                [1, 65500, 0, 37],
                [1, 0, 65500, 36],
                [1, 0, 65500, 37],
                [1, 65536, 65536, 0],
                [1, 65537, 0, 0],
                [1, 0, 65537, 0],
                [1, 0xffffffff, 0, 2],
                [2, 0, 0, 20],
                [2, 4, 3, 17],
                [2, 4, 3, 18],
                [2, 4, 20, 0],
                [2, 4, 21, 0],
                [2, 65530, 0, 6],
                [2, 65530, 0, 7],
                [2, 65536, 20, 0],
                [3, 0, 0, 0],
                [3, 0, 0, 1],
                [3, 0, 1, 0],
                [4, 0, 0, 0],
                [5, 0, 0, 0],
            ];
            for (const c of cases) await compare(found, `bulk ${c.join(' ')}`, program, u32(...c));
            expectNone(found);
        });

        it('read_input and write_output at the edges: past the input, past the memory, and the output cap', async () => {
            const found: Found = [];
            const reader = await hosted(`
                (func (export "run") (local $got i32)
                    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 12)))
                    (local.set $got (call $read (i32.load (i32.const 0)) (i32.load (i32.const 4)) (i32.load (i32.const 8))))
                    (i32.store (i32.const 100) (local.get $got))
                    (call $write (i32.const 100) (i32.const 4))
                    (call $write (i32.const 0) (i32.const 64))
                    (call $write (i32.const 65504) (i32.const 32)))`);
            const tail = Buffer.from('0123456789abcdefghij');
            for (const [dst, offset, len] of [
                [16, 0, 32],
                [16, 12, 100],
                [16, 32, 5],
                [16, 33, 5],
                [16, 0xffffffff, 4],
                [16, 4, 0xffffffff],
                [65530, 12, 6],
                [65530, 12, 7],
                [65536, 32, 10],
                [65536, 12, 1],
                [65537, 40, 0],
                [0xffffffff, 12, 2],
            ]) {
                await compare(found, `read_input ${dst} ${offset} ${len}`, reader, Buffer.concat([u32(dst, offset, len), tail]));
            }
            const writer = await hosted(`
                (func (export "run") (local $i i32)
                    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 12)))
                    (block $done (loop $l
                        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
                        (call $write (i32.load (i32.const 4)) (i32.load (i32.const 8)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $l))))`);
            for (const [n, src, len] of [
                [10, 0, 100],
                [11, 0, 100],
                [1, 0, 1000],
                [1, 0, 1001],
                [1000, 0, 0],
                [1, 65436, 100],
                [1, 65437, 100],
                [1, 65536, 0],
                [1, 65537, 0],
                [1, 0xffffffff, 1],
            ]) {
                await compare(found, `write_output ×${n} ${src} ${len} cap 1000`, writer, u32(n, src, len), { cap: 1000 });
            }
            expectNone(found);
        });
    });

    describe('control', () => {
        it('block, loop and if with params and multiple results, br_table with a default, nested loops, br out of nested blocks', async () => {
            const program = await hosted(`
                (func $pair (param $x i32) (result i32 i64)
                    (i32.mul (local.get $x) (i32.const 3)) (i64.extend_i32_s (local.get $x)))
                (func $swap (param i64 f64) (result f64 i64) (local.get 1) (local.get 0))
                (func $case (param $x i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
                    (block $d (block $c3 (block $c2 (block $c1 (block $c0
                        (br_table $c0 $c1 $c2 $c3 $c1 $d (i32.and (local.get $x) (i32.const 7))))
                        ;; case 0: nested loops, (x >> 3 & 3) × (x >> 5 & 3) iterations
                        (block $out (loop $outer
                            (br_if $out (i32.ge_u (local.get $i) (i32.and (i32.shr_u (local.get $x) (i32.const 3)) (i32.const 3))))
                            (local.set $j (i32.const 0))
                            (loop $inner
                                (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $j))))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br_if $inner (i32.lt_u (local.get $j) (i32.and (i32.shr_u (local.get $x) (i32.const 5)) (i32.const 3)))))
                            (local.set $i (i32.add (local.get $i) (i32.const 1)))
                            (br $outer)))
                        (return (i32.add (local.get $s) (i32.const 1000))))
                        ;; cases 1 and 4: a multi-value block taking a param, and br with two values out of it
                        (call $pair (local.get $x))
                        (block $b (param i32 i64) (result i32 i64)
                            (br_if $b (i32.eqz (i32.and (local.get $x) (i32.const 8))))
                            (drop) (drop) (i32.const 7) (i64.const 9))
                        (i32.wrap_i64)
                        (i32.add)
                        (return))
                        ;; case 2: a loop with a param and a result, counting down
                        (i32.and (local.get $x) (i32.const 0xff))
                        (loop $l (param i32) (result i32)
                            (local.set $s (i32.add (local.get $s) (i32.const 1)))
                            (i32.sub (i32.const 1))
                            (local.tee $i)
                            (br_if $l (i32.gt_s (local.get $i) (i32.const 0))))
                        (return (i32.add (local.get $s) (i32.const 2000))))
                    ;; case 3: if with params and results, and values swapped through a call
                    (i32.const 5) (local.get $x)
                    (if (param i32) (result i32 i32) (i32.and (local.get $x) (i32.const 16))
                        (then (i32.const 1) (i32.add))
                        (else (i32.const 2) (i32.mul) (i32.const 3)))
                    (i32.add)
                    (i64.extend_i32_u (call $swap (i64.const 5) (f64.const 2.5)) (drop))
                    (i32.wrap_i64) (i32.add)
                    (return))
                    ;; default (5, 6, 7): unreachable not taken, a br past it
                    (block $skip (br $skip) (unreachable))
                    (i32.const -1))
                (func (export "run") (local $n i32) (local $i i32)
                    (local.set $n (i32.shr_u (call $read (i32.const 0) (i32.const 0) (call $size)) (i32.const 2)))
                    (block $done (loop $next
                        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                        (i32.store (i32.add (i32.const 32768) (i32.shl (local.get $i) (i32.const 2)))
                            (call $case (i32.load (i32.shl (local.get $i) (i32.const 2)))))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $next)))
                    (call $write (i32.const 32768) (i32.shl (local.get $n) (i32.const 2))))`);
            const found: Found = [];
            const xs = Array.from({ length: 256 }, (_, i) => i).concat([0xffffffff, 0x80000000, 0x7fffffff, 0x123]);
            await compareCases(
                found,
                'control',
                program,
                xs.map((x) => u32(x)),
            );
            for (const x of [0, 1, 2, 3, 4, 5, 0x7e, 0xff, 0x1a, 0x19]) await compare(found, `control ${x}`, program, u32(x));
            expectNone(found);
        });

        it('call_indirect: right type, wrong type, null and out-of-range elements; unreachable; globals', async () => {
            const program = await hosted(`
                (type $bin (func (param i32 i32) (result i32)))
                (type $un (func (param i32) (result i32)))
                (table 6 6 funcref)
                (elem (i32.const 0) $add $sub $neg)
                (elem (i32.const 4) $mul)
                (global $calls (mut i32) (i32.const 0))
                (global $k i64 (i64.const 0x1122334455667788))
                (func $add (type $bin) (global.set $calls (i32.add (global.get $calls) (i32.const 1))) (i32.add (local.get 0) (local.get 1)))
                (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
                (func $mul (type $bin) (local $i i32)
                    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3))))
                    (i32.mul (local.get 0) (local.get 1)))
                (func $neg (type $un) (i32.sub (i32.const 0) (local.get 0)))
                (func (export "run")
                    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 12)))
                    (if (i32.eq (i32.load (i32.const 8)) (i32.const 1)) (then (unreachable)))
                    (i32.store (i32.const 16)
                        (if (result i32) (i32.load (i32.const 4))
                            (then (call_indirect (type $un) (i32.const 9) (i32.load (i32.const 0))))
                            (else (call_indirect (type $bin) (i32.const 9) (i32.const 4) (i32.load (i32.const 0))))))
                    (i32.store (i32.const 20) (global.get $calls))
                    (i64.store (i32.const 24) (global.get $k))
                    (call $write (i32.const 16) (i32.const 16)))`);
            const found: Found = [];
            for (const idx of [0, 1, 2, 3, 4, 5, 6, 7, 0xffffffff, 0x80000000]) {
                for (const unary of [0, 1]) await compare(found, `call_indirect ${idx} unary ${unary}`, program, u32(idx, unary, 0));
            }
            await compare(found, 'unreachable', program, u32(0, 0, 1));
            expectNone(found);
        });

        it('a start function runs first and is metered; one that traps fails the run; env.abort fails it', async () => {
            const found: Found = [];
            const started = await hosted(`
                (global $g (mut i32) (i32.const 1))
                (func $start (local $i i32)
                    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10))))
                    (global.set $g (i32.add (global.get $g) (local.get $i)))
                    (i32.store (i32.const 0) (call $size)))
                (start $start)
                (func (export "run")
                    (i32.store (i32.const 4) (global.get $g))
                    (call $write (i32.const 0) (i32.const 8)))`);
            const { v8 } = await compare(found, 'start', started, u32(1, 2, 3));
            if (v8.status === 'ok') {
                for (const fuel of [v8.fuel, v8.fuel - 1n, 0n, 70n, 71n, 2_000n])
                    await compare(found, `start on ${fuel}`, started, u32(1, 2, 3), { fuel });
            } else found.push('start: V8 did not run it');
            const trapping = await hosted(`
                (func $start (i32.store (i32.const 0) (i32.const 1)) (if (call $size) (then (unreachable))))
                (start $start)
                (func (export "run") (call $write (i32.const 0) (i32.const 4)))`);
            await compare(found, 'trapping start', trapping, u32(1));
            await compare(found, 'trapping start, not taken', trapping, new Uint8Array(0));
            const aborting = await wat(`(module
                (import "fog" "memory" (memory 1))
                (import "fog" "write_output" (func $write (param i32 i32)))
                (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
                (func (export "run")
                    (call $write (i32.const 0) (i32.const 4))
                    (call $abort (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 2))
                    (call $write (i32.const 0) (i32.const 4))))`);
            await compare(found, 'abort', aborting, new Uint8Array(0));
            expectNone(found);
        });

        it('refusals before running (fuel 0): bad imports, memory over the cap, tail calls, no run, not wasm; fuel 0 itself', async () => {
            const found: Found = [];
            const refused: [string, Uint8Array][] = [
                [
                    'forbidden import',
                    await wat(`(module (import "fog" "memory" (memory 1)) (import "fog" "clock" (func)) (func (export "run")))`),
                ],
                ['own memory', await wat(`(module (memory 1) (func (export "run")))`)],
                ['memory over the cap', await wat(`(module (import "fog" "memory" (memory 17)) (func (export "run")))`)],
                ['no run', await wat(`(module (import "fog" "memory" (memory 1)) (func (export "go")))`)],
                ['run with params', await wat(`(module (import "fog" "memory" (memory 1)) (func (export "run") (param i32)))`)],
                [
                    'tail call',
                    await wat(
                        `(module (import "fog" "memory" (memory 1)) (func $f (return_call $g)) (func $g) (func (export "run") (call $f)))`,
                        {
                            tail_call: true,
                        },
                    ),
                ],
                ...(await Promise.all(
                    ['fog_fuel', 'fog_trap', 'fog_depth', 'fog_start', 'fog_global'].map(
                        async (name) =>
                            [
                                `reserved export ${name}`,
                                await wat(
                                    `(module (import "fog" "memory" (memory 1)) (global (export "${name}") i32 (i32.const 0)) (func (export "run")))`,
                                ),
                            ] as [string, Uint8Array],
                    ),
                )),
                ['not wasm', Buffer.from('\0asm\x01\0\0\0garbage')],
            ];
            for (const [label, program] of refused) await compare(found, label, program, new Uint8Array(0));
            const empty = await wat(`(module (import "fog" "memory" (memory 1)) (func (export "run")))`);
            const tiny = await wat(
                `(module (import "fog" "memory" (memory 1)) (func (export "run") (i32.store (i32.const 0) (i32.const 1))))`,
            );
            for (const fuel of [0n, 1n, 2n, 3n]) {
                await compare(found, `empty run on ${fuel}`, empty, new Uint8Array(0), { fuel });
                await compare(found, `tiny run on ${fuel}`, tiny, new Uint8Array(0), { fuel });
            }
            expectNone(found);
        });

        it('fuel at the boundary: exactly the fuel used runs, one less fails as fuel', async () => {
            const found: Found = [];
            const counter = await hosted(`
                (func (export "run") (local $i i32) (local $n i32)
                    (local.set $n (call $size))
                    (block $done (loop $next
                        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $next))))`);
            for (const n of [0, 1, 10, 1000]) {
                const { v8 } = await compare(found, `counter ${n}`, counter, new Uint8Array(n));
                if (v8.status !== 'ok') continue;
                expect(v8.fuel).toBe(BigInt(2_007 + 9 * (n + 1)));
                await compare(found, `counter ${n} exact`, counter, new Uint8Array(n), { fuel: v8.fuel });
                await compare(found, `counter ${n} one less`, counter, new Uint8Array(n), { fuel: v8.fuel - 1n });
            }
            expectNone(found);
        });
    });

    // Found by the random programs (seeds 11, 292, 1221, 1271, 1388 of 3 000): the meter's counter kept
    // in a local (meter.ts) loses the caller's charges when a call's operand reads a float local that
    // the meter canonicalizes where read. Its own reference, instrument(…, { counter: 'global' }),
    // charges 17 and 18 here, as the cost table does and the interpreter does; the metered V8 run 11 and 6.
    describe('float locals canonicalized where read, passed to a call', () => {
        const cases: [string, string, bigint][] = [
            [
                'written in a loop left by br_if to the function',
                `(func $g (param f64) (loop))
                (func $f (local f64)
                    (call $g (local.get 0))
                    (loop $l
                        (br_if 1 (i32.const 0))
                        (local.set 0 (f64.min (f64.const 0) (f64.const 0)))))
                (func (export "run") (call $f))`,
                // run: call 4; $f entry: local.get, call 4, loop = 6; its loop: 6; $g: loop 1
                17n,
            ],
            [
                'written before the call, its result canonicalized',
                `(func $g (param f64) (result f64) (loop) (f64.const 0))
                (func $f (local f64)
                    (local.set 0 (f64.mul (f64.const 0) (f64.const 0)))
                    (local.set 0 (f64.max (f64.const 0) (call $g (local.get 0)))))
                (func (export "run") (call $f))`,
                // run: call 4; $f: 4 + f64.const, local.get, call 4, f64.max, local.set = 12; $g: loop, f64.const = 2
                18n,
            ],
        ];
        it.each(cases)('%s: the cost table’s fuel', async (label, body, fuel) => {
            const program = await hosted(body);
            const found: Found = [];
            await compare(found, label, program, new Uint8Array(0));
            await compare(found, `${label}, exact`, program, new Uint8Array(0), { fuel });
            await compare(found, `${label}, one less`, program, new Uint8Array(0), { fuel: fuel - 1n });
            expect(interpret(job(program, new Uint8Array(0), {})).fuel).toBe(fuel);
            expectNone(found);
        });
    });

    describe('call depth (V8 side in a pool thread, whose stack holds the budget)', () => {
        let pool: ComputePool;
        beforeAll(() => {
            pool = new ComputePool({ threads: 1, maxOutputBytes: CAP });
        });
        afterAll(() => pool.close());

        const MUTUAL = `
            (type $t (func (param i32 f64) (result f64)))
            (table 2 2 funcref)
            (elem (i32.const 0) $even $odd)
            (func $even (type $t) (local $a i64) (local $b i64)
                (if (result f64) (i32.eqz (local.get 0)) (then (local.get 1))
                    (else (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (f64.mul (local.get 1) (f64.const 1.5)) (i32.const 1)))))
            (func $odd (type $t)
                (f64.add (call_indirect (type $t) (i32.sub (local.get 0) (i32.const 1)) (local.get 1) (i32.const 0)) (f64.const 1)))
            (func (export "run")
                (drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))
                (f64.store (i32.const 8) (call $even (i32.load (i32.const 0)) (f64.const 1)))
                (call $write (i32.const 8) (i32.const 8)))`;

        it.each([
            ['direct recursion', RECURSE],
            ['mutual recursion through the table', MUTUAL],
        ])('%s: the same verdict up to and past the budget', async (label, body) => {
            const program = await hosted(body);
            const found: Found = [];
            const viaPool = async (n: number) => {
                const j = job(program, u32(n), {});
                const v8 = await pool.run(j);
                check(found, `${label} ${n}`, j, v8, CAP);
                return v8;
            };
            // the deepest n V8 runs: binary search
            let [lo, hi] = [0, 200_000];
            expect((await viaPool(lo)).status).toBe('ok');
            expect(await viaPool(hi)).toMatchObject({ status: 'failed', reason: 'stack' });
            while (hi - lo > 1) {
                const mid = (lo + hi) >> 1;
                if ((await viaPool(mid)).status === 'ok') lo = mid;
                else hi = mid;
            }
            for (const n of [lo - 1, lo, hi, hi + 1, 1, 2, 100, 1_000_000, 0xffffffff]) await viaPool(n);
            expectNone(found);
        });
    });

    describe('random programs (tests/helpers/wasm-gen.ts)', () => {
        // FOG_INTERPRETER_SEEDS seeds, in chunks of 60 (240 by default)
        const SEEDS = Math.max(60, Math.ceil(Number(process.env.FOG_INTERPRETER_SEEDS ?? 240) / 60) * 60);
        const chunk = 60;
        it.each(Array.from({ length: SEEDS / chunk }, (_, k) => [k * chunk + 1, (k + 1) * chunk]))('seeds %d to %d', async (from, to) => {
            const found: Found = [];
            for (let seed = from; seed <= to; seed++) {
                const g = generateProgram(seed);
                const program = await wat(g.wat);
                // the halted states on every other seed and on the runs one fuel short (each comparison costs tens of ms)
                const { v8 } = await compare(found, `seed ${seed}`, program, g.input, { fuel: 10_000_000n, halted: seed % 2 === 1 });
                if (v8.status === 'ok' && seed % 4 === 0) {
                    await compare(found, `seed ${seed} exact fuel`, program, g.input, { fuel: v8.fuel, halted: false });
                    await compare(found, `seed ${seed} one less`, program, g.input, { fuel: v8.fuel - 1n });
                }
                if (seed % 10 === 0)
                    await compare(found, `seed ${seed} small fuel`, program, g.input, { fuel: BigInt(seed * 37), halted: false });
            }
            expectNone(found);
        });
    });

    describe('the examples on small inputs', () => {
        const u32b = (...n: number[]) => Buffer.from(u32(...n));
        const cases: [string, Buffer][] = [
            ['upper', Buffer.from('Hello, Fog! ÿ µ àéî z{|}~ 0123')],
            ['upper', Buffer.alloc(0)],
            ['fnv-rounds', Buffer.concat([u32b(3), Buffer.alloc(64, 7)])],
            ['fnv-rounds', Buffer.concat([u32b(0), Buffer.from('abc')])],
            ['fnv-rounds', u32b(2)],
            ['matmul', u32b(8)],
            ['matmul', u32b(16)],
            ['matmul', u32b(1)],
            ['concat', frameParts([Buffer.from('map '), Buffer.alloc(0), Buffer.from('reduce')])],
            // a training shard and its reduce, small: 12 digits, 4 hidden units
            ['mlp-shard', mlpShardInput(12, 4)],
        ];
        it.each(cases)('%s', async (name, input) => {
            const found: Found = [];
            const program = readFileSync(exampleNamed(name).program);
            const { v8, interpreted } = await compare(found, name, program, input, { maxMemoryMb: 256, cap: 64 << 20 });
            expect(v8.status).toBe('ok');
            expect(interpreted.steps).toBeGreaterThan(0n);
            if (v8.status === 'ok') {
                await compare(found, `${name} exact`, program, input, { maxMemoryMb: 256, cap: 64 << 20, fuel: v8.fuel });
                await compare(found, `${name} one less`, program, input, { maxMemoryMb: 256, cap: 64 << 20, fuel: v8.fuel - 1n });
            }
            expectNone(found);
        });

        it('mlp-average', async () => {
            const found: Found = [];
            const shard = await runExample('mlp-shard', mlpShardInput(12, 4));
            const program = readFileSync(exampleNamed('mlp-average').program);
            const { v8 } = await compare(found, 'mlp-average', program, mlpAverageInput([shard, shard], 8), {
                maxMemoryMb: 256,
                cap: 64 << 20,
            });
            expect(v8.status).toBe('ok');
            expectNone(found);
        });

        // mlp-infer and meme on their default inputs: see the measurement in the report; run when fast enough
        it.each(['mlp-infer', 'meme'])('%s on its default input', async (name) => {
            const found: Found = [];
            const e = exampleNamed(name);
            const program = readFileSync(e.program);
            const input = await e.defaultInput();
            const { v8, interpreted } = await compare(found, name, program, input, { maxMemoryMb: 256, cap: 64 << 20 });
            expect(v8.status).toBe('ok');
            expect(interpreted.steps).toBeGreaterThan(0n);
            expectNone(found);
        });
    });
});
