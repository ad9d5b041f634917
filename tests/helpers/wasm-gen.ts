/**
 * A seeded generator of random, valid job programs (WebAssembly text) for differential tests: a few
 * functions of random straight-line integer and float expressions over params, locals and globals,
 * loads and stores into a small memory, bounded counter-driven loops (br_if, br_table), ifs,
 * switches, multi-value blocks, direct calls to earlier functions and calls through a table;
 * `run` reads its input into memory, calls the last function and writes its locals, the globals and
 * the memory it used with fog.write_output. The same seed gives the same program; no Math.random.
 */

type ValType = 'i32' | 'i64' | 'f32' | 'f64';
const TYPES: ValType[] = ['i32', 'i64', 'f32', 'f64'];

/** A small, fast, seeded PRNG (mulberry32). */
export class Rng {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0;
    }

    /** A uniform 32-bit unsigned integer. */
    u32(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (t ^ (t >>> 14)) >>> 0;
    }

    /** An integer in [0, n). */
    int(n: number): number {
        return this.u32() % n;
    }

    /** True with probability p. */
    chance(p: number): boolean {
        return this.u32() / 2 ** 32 < p;
    }

    pick<T>(items: readonly T[]): T {
        return items[this.int(items.length)];
    }

    bytes(n: number): Uint8Array {
        return Uint8Array.from({ length: n }, () => this.int(256));
    }
}

const INT_UNARY = ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s'];
const INT_BINARY = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const INT_DIV = ['div_s', 'div_u', 'rem_s', 'rem_u'];
const INT_COMPARE = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const FLOAT_UNARY = ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'];
const FLOAT_BINARY = ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'];
const FLOAT_COMPARE = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];

/** Interesting constants: edges of each type, as WAT literals. */
const CONSTANTS: Record<ValType, string[]> = {
    i32: ['0', '1', '-1', '2', '31', '32', '0x7fffffff', '0x80000000', '0xff', '0x8000', '0x12345678', '-7'],
    i64: [
        '0',
        '1',
        '-1',
        '63',
        '64',
        '0x7fffffffffffffff',
        '0x8000000000000000',
        '0xffffffff',
        '0x20000020000001',
        '-3',
        '0x123456789abcdef',
    ],
    f32: [
        '0',
        '-0',
        '1',
        '-1',
        '0.5',
        '1.5',
        '-2.5',
        'inf',
        '-inf',
        'nan',
        'nan:0x200001',
        '-nan:0x1',
        '3.4028235e38',
        '1e-45',
        '2147483648',
        '-2147483904',
    ],
    f64: [
        '0',
        '-0',
        '1',
        '-1',
        '0.5',
        '2.5',
        '-3.5',
        'inf',
        '-inf',
        'nan',
        'nan:0x4000000000001',
        '-nan',
        '1e308',
        '5e-324',
        '9007199254740993',
        '-9.2233720368547758e18',
    ],
};

/** The size of the memory region generated code touches: addresses are masked below this. */
const REGION = 2048;

interface Func {
    name: string;
    params: ValType[];
    result: ValType;
    /** Rough upper bound of the instructions one call executes, calls included. */
    cost: number;
}

interface Scope {
    params: ValType[];
    /** Locals that random statements may read and write (after the params in index order). */
    locals: ValType[];
    /** Loop counters and scratch locals, declared after `locals`; never written by random statements. */
    extra: ValType[];
    /** How many loops enclose the current point (their iteration counts multiply costs). */
    loopDepth: number;
    /** The product of the iteration bounds of the enclosing loops. */
    multiplier: number;
    /** Functions this one may call. */
    callees: Func[];
    /** Estimated cost of what has been generated so far. */
    cost: number;
    labels: number;
}

export interface GeneratedProgram {
    wat: string;
    input: Uint8Array;
}

export interface GeneratorOptions {
    /** Functions besides `run` (default 2 to 4). */
    functions?: number;
}

/** Generates a program and an input for it from `seed`. */
export function generateProgram(seed: number, options: GeneratorOptions = {}): GeneratedProgram {
    return new Generator(new Rng(seed)).program(options);
}

class Generator {
    private globals: ValType[] = [];
    private funcs: Func[] = [];
    private tableType: { params: ValType[]; result: ValType } = { params: ['i32'], result: 'i32' };

    constructor(private readonly rng: Rng) {}

    program(options: GeneratorOptions): GeneratedProgram {
        const rng = this.rng;
        const out: string[] = [];
        out.push('(module');
        out.push('  (import "fog" "memory" (memory 1 2))');
        out.push('  (import "fog" "input_size" (func $input_size (result i32)))');
        out.push('  (import "fog" "read_input" (func $read_input (param i32 i32 i32) (result i32)))');
        out.push('  (import "fog" "write_output" (func $write_output (param i32 i32)))');
        this.globals = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(TYPES));
        this.globals.forEach((t, i) => out.push(`  (global $g${i} (mut ${t}) (${t}.const ${rng.pick(CONSTANTS[t])}))`));
        this.tableType = { params: [rng.pick(TYPES), rng.pick(TYPES)], result: rng.pick(TYPES) };
        out.push(`  (type $tt (func (param ${this.tableType.params.join(' ')}) (result ${this.tableType.result})))`);
        const count = options.functions ?? 2 + rng.int(3);
        const bodies: string[] = [];
        const tableFuncs: Func[] = [];
        for (let i = 0; i < count; i++) {
            const inTable = i < 2;
            const params = inTable ? [...this.tableType.params] : Array.from({ length: rng.int(4) }, () => rng.pick(TYPES));
            const result = inTable ? this.tableType.result : rng.pick(TYPES);
            const func: Func = { name: `$f${i}`, params, result, cost: 0 };
            bodies.push(this.func(func, [...this.funcs]));
            this.funcs.push(func);
            if (inTable) tableFuncs.push(func);
        }
        // the table: the two functions of type $tt, then a function of another type, then null slots
        const other = this.funcs.find((f) => f.params.join() !== this.tableType.params.join() || f.result !== this.tableType.result);
        const elems = [...tableFuncs.map((f) => f.name), ...(other ? [other.name] : [])];
        out.push(`  (table ${elems.length + 2} ${elems.length + 2} funcref)`);
        out.push(`  (elem (i32.const 0) ${elems.join(' ')})`);
        out.push(...bodies);
        out.push(this.run());
        out.push(')');
        // the input: random bytes, with float bit patterns worth testing planted among them
        const input = rng.bytes(256);
        const view = new DataView(input.buffer);
        const planted32 = [0x7fc00000, 0xffc00001, 0x7f800001, 0x7fa00000, 0x80000000, 0x7f800000, 0x00000001, 0x4b000000];
        const planted64 = [0x7ff80000_00000000n, 0xfff00000_00000001n, 0x7ff40000_0000abcdn, 0x80000000_00000000n, 0x43300000_00000000n];
        for (let k = 0; k < 8; k++) {
            if (rng.chance(0.5)) view.setUint32(4 * rng.int(64), rng.pick(planted32), true);
            if (rng.chance(0.5)) view.setBigUint64(8 * rng.int(32), rng.pick(planted64), true);
        }
        return { wat: out.join('\n'), input };
    }

    private func(func: Func, callees: Func[]): string {
        const rng = this.rng;
        const locals = Array.from({ length: 2 + rng.int(5) }, () => rng.pick(TYPES));
        const scope: Scope = { params: func.params, locals, extra: [], loopDepth: 0, multiplier: 1, callees, cost: 4, labels: 0 };
        const stmts: string[] = [];
        // locals start from the params and the memory, so they carry the input
        locals.forEach((t, i) => {
            if (rng.chance(0.6)) stmts.push(`(local.set ${func.params.length + i} ${this.expr(t, scope, 2)})`);
        });
        const n = 3 + rng.int(6);
        for (let i = 0; i < n; i++) stmts.push(this.stmt(scope, 0));
        stmts.push(this.expr(func.result, scope, 3));
        func.cost = scope.cost;
        const params = func.params.map((t) => ` (param ${t})`).join('');
        const decl = [...locals, ...scope.extra].map((t) => ` (local ${t})`).join('');
        return `  (func ${func.name}${params} (result ${func.result})${decl}\n    ${stmts.join('\n    ')})`;
    }

    private run(): string {
        const rng = this.rng;
        const last = this.funcs[this.funcs.length - 1];
        const locals = [last.result, ...Array.from({ length: 2 + rng.int(3) }, () => rng.pick(TYPES))];
        const scope: Scope = { params: [], locals, extra: [], loopDepth: 0, multiplier: 1, callees: this.funcs, cost: 0, labels: 0 };
        const stmts: string[] = [];
        stmts.push(`(drop (call $read_input (i32.const 0) (i32.const 0) (call $input_size)))`);
        const args = last.params.map((t) => this.expr(t, scope, 2)).join(' ');
        stmts.push(`(local.set 0 (call ${last.name} ${args}))`);
        for (let i = 0; i < 2 + rng.int(3); i++) stmts.push(this.stmt(scope, 0));
        // the digest: every local and global, then the region the program used
        let at = REGION;
        [...locals.map((t, i) => [t, `(local.get ${i})`]), ...this.globals.map((t, i) => [t, `(global.get $g${i})`])].forEach(
            ([t, get]) => {
                stmts.push(`(${t}.store (i32.const ${at}) ${get})`);
                at += 8;
            },
        );
        stmts.push(`(call $write_output (i32.const 0) (i32.const ${at}))`);
        const decl = [...locals, ...scope.extra].map((t) => ` (local ${t})`).join('');
        return `  (func (export "run")${decl}\n    ${stmts.join('\n    ')})`;
    }

    /** A local that random statements may use, of type t, or undefined. */
    private localOf(t: ValType, scope: Scope, writable: boolean): number | undefined {
        const candidates: number[] = [];
        if (!writable || this.rng.chance(0.3)) scope.params.forEach((p, i) => p === t && candidates.push(i));
        scope.locals.forEach((l, i) => l === t && candidates.push(scope.params.length + i));
        return candidates.length === 0 ? undefined : this.rng.pick(candidates);
    }

    private newScratch(t: ValType, scope: Scope): number {
        scope.extra.push(t);
        return scope.params.length + scope.locals.length + scope.extra.length - 1;
    }

    /** A masked address in the region, aligned or not, and an offset immediate. */
    private address(scope: Scope, width: number): string {
        const rng = this.rng;
        const offset = rng.pick([0, 0, 1, 3, 8, 17]);
        const mask = (REGION - 32) & ~(rng.chance(0.5) ? width - 1 : 0);
        const base = rng.chance(0.3) ? `(i32.const ${rng.int(REGION - 32)})` : this.expr('i32', scope, 1);
        return `${offset ? ` offset=${offset}` : ''} (i32.and ${base} (i32.const ${mask}))`;
    }

    private load(t: ValType, scope: Scope): string {
        const rng = this.rng;
        const variants: Record<ValType, [string, number][]> = {
            i32: [
                ['load', 4],
                ['load8_s', 1],
                ['load8_u', 1],
                ['load16_s', 2],
                ['load16_u', 2],
            ],
            i64: [
                ['load', 8],
                ['load8_s', 1],
                ['load8_u', 1],
                ['load16_s', 2],
                ['load16_u', 2],
                ['load32_s', 4],
                ['load32_u', 4],
            ],
            f32: [['load', 4]],
            f64: [['load', 8]],
        };
        const [op, width] = rng.pick(variants[t]);
        return `(${t}.${op}${this.address(scope, width)})`;
    }

    private store(scope: Scope): string {
        const rng = this.rng;
        const t = rng.pick(TYPES);
        const variants: Record<ValType, [string, number][]> = {
            i32: [
                ['store', 4],
                ['store8', 1],
                ['store16', 2],
            ],
            i64: [
                ['store', 8],
                ['store8', 1],
                ['store16', 2],
                ['store32', 4],
            ],
            f32: [['store', 4]],
            f64: [['store', 8]],
        };
        const [op, width] = rng.pick(variants[t]);
        return `(${t}.${op}${this.address(scope, width)} ${this.expr(t, scope, 3)})`;
    }

    /** A random expression of type t, at most `depth` deep. */
    private expr(t: ValType, scope: Scope, depth: number): string {
        const rng = this.rng;
        scope.cost += 2 * scope.multiplier;
        const leaf = depth <= 0 || rng.chance(0.25);
        if (leaf) {
            const local = this.localOf(t, scope, false);
            const r = rng.int(10);
            if (r < 5 && local !== undefined) return `(local.get ${local})`;
            if (r < 7) {
                const g = this.globals.indexOf(t);
                if (g >= 0) return `(global.get $g${g})`;
            }
            if (r < 8) return this.load(t, scope);
            return `(${t}.const ${this.randomConst(t)})`;
        }
        const d = depth - 1;
        const isInt = t === 'i32' || t === 'i64';
        const r = rng.int(20);
        if (r < 6) {
            if (isInt) return `(${t}.${rng.pick(INT_BINARY)} ${this.expr(t, scope, d)} ${this.expr(t, scope, d)})`;
            return `(${t}.${rng.pick(FLOAT_BINARY)} ${this.expr(t, scope, d)} ${this.expr(t, scope, d)})`;
        }
        if (r < 8) {
            if (isInt) {
                const op = rng.pick(INT_UNARY);
                if (op === 'eqz')
                    return t === 'i32' ? `(i32.eqz ${this.expr(t, scope, d)})` : `(i64.extend_i32_u (i64.eqz ${this.expr(t, scope, d)}))`;
                return `(${t}.${op} ${this.expr(t, scope, d)})`;
            }
            return `(${t}.${rng.pick(FLOAT_UNARY)} ${this.expr(t, scope, d)})`;
        }
        if (r < 9 && isInt) {
            // division: usually by a divisor that cannot trap, sometimes by anything
            const op = rng.pick(INT_DIV);
            const divisor = rng.chance(0.97)
                ? `(${t}.or (${t}.and ${this.expr(t, scope, d)} (${t}.const 0x7fff)) (${t}.const 1))`
                : this.expr(t, scope, d);
            return `(${t}.${op} ${this.expr(t, scope, d)} ${divisor})`;
        }
        if (r < 12) return this.convert(t, scope, d);
        if (r < 13 && t === 'i32') {
            const c = rng.pick(TYPES);
            const op = c === 'i32' || c === 'i64' ? rng.pick(INT_COMPARE) : rng.pick(FLOAT_COMPARE);
            return `(${c}.${op} ${this.expr(c, scope, d)} ${this.expr(c, scope, d)})`;
        }
        if (r < 14) return `(select ${this.expr(t, scope, d)} ${this.expr(t, scope, d)} ${this.expr('i32', scope, d)})`;
        if (r < 16) return this.call(t, scope, d);
        if (r < 17) {
            const local = this.localOf(t, scope, true);
            if (local !== undefined) return `(local.tee ${local} ${this.expr(t, scope, d)})`;
        }
        if (r < 18) {
            // an if with a result
            return `(if (result ${t}) ${this.expr('i32', scope, d)} (then ${this.expr(t, scope, d)}) (else ${this.expr(t, scope, d)}))`;
        }
        if (r < 19 && t === 'i32') return rng.chance(0.5) ? '(memory.size)' : this.load(t, scope);
        return this.load(t, scope);
    }

    private randomConst(t: ValType): string {
        const rng = this.rng;
        if (rng.chance(0.5)) return rng.pick(CONSTANTS[t]);
        switch (t) {
            case 'i32':
                return String(rng.u32() | 0);
            case 'i64':
                return ((BigInt(rng.u32()) << 32n) | BigInt(rng.u32())).toString();
            case 'f32':
            case 'f64':
                return ((rng.u32() / 2 ** 32 - 0.5) * 2 ** (rng.int(80) - 40)).toPrecision(rng.int(17) + 1);
        }
    }

    /** A conversion into type t from another type. */
    private convert(t: ValType, scope: Scope, d: number): string {
        const rng = this.rng;
        const e = (from: ValType) => this.expr(from, scope, d);
        const choices: Record<ValType, (() => string)[]> = {
            i32: [
                () => `(i32.wrap_i64 ${e('i64')})`,
                () => `(i32.trunc_sat_f32_${rng.pick(['s', 'u'])} ${e('f32')})`,
                () => `(i32.trunc_sat_f64_${rng.pick(['s', 'u'])} ${e('f64')})`,
                () => `(i32.reinterpret_f32 ${e('f32')})`,
                () =>
                    rng.chance(0.05)
                        ? `(i32.trunc_f64_${rng.pick(['s', 'u'])} ${e('f64')})`
                        : `(i32.trunc_f64_s (f64.const ${rng.int(1000)}.5))`,
            ],
            i64: [
                () => `(i64.extend_i32_${rng.pick(['s', 'u'])} ${e('i32')})`,
                () => `(i64.extend32_s ${e('i64')})`,
                () => `(i64.trunc_sat_f32_${rng.pick(['s', 'u'])} ${e('f32')})`,
                () => `(i64.trunc_sat_f64_${rng.pick(['s', 'u'])} ${e('f64')})`,
                () => `(i64.reinterpret_f64 ${e('f64')})`,
                () =>
                    rng.chance(0.05)
                        ? `(i64.trunc_f32_${rng.pick(['s', 'u'])} ${e('f32')})`
                        : `(i64.trunc_f32_u (f32.const ${rng.int(1000)}))`,
            ],
            f32: [
                () => `(f32.convert_i32_${rng.pick(['s', 'u'])} ${e('i32')})`,
                () => `(f32.convert_i64_${rng.pick(['s', 'u'])} ${e('i64')})`,
                () => `(f32.demote_f64 ${e('f64')})`,
                () => `(f32.reinterpret_i32 ${e('i32')})`,
            ],
            f64: [
                () => `(f64.convert_i32_${rng.pick(['s', 'u'])} ${e('i32')})`,
                () => `(f64.convert_i64_${rng.pick(['s', 'u'])} ${e('i64')})`,
                () => `(f64.promote_f32 ${e('f32')})`,
                () => `(f64.reinterpret_i64 ${e('i64')})`,
            ],
        };
        return rng.pick(choices[t])();
    }

    /** A call of a function returning t, directly or through the table; or a load if there is none cheap enough. */
    private call(t: ValType, scope: Scope, d: number): string {
        const rng = this.rng;
        const budget = 4_000;
        const candidates = scope.callees.filter((f) => f.result === t && f.cost * scope.multiplier <= budget);
        if (candidates.length === 0) return this.load(t, scope);
        const f = rng.pick(candidates);
        scope.cost += f.cost * scope.multiplier;
        const args = f.params.map((p) => this.expr(p, scope, d)).join(' ');
        const tt = this.tableType;
        const tableFuncs = scope.callees.filter((g) => g.params.join() === tt.params.join() && g.result === tt.result);
        if (t === tt.result && tableFuncs.length > 0 && rng.chance(0.4)) {
            const worst = Math.max(...tableFuncs.map((g) => g.cost));
            if (worst * scope.multiplier <= budget) {
                scope.cost += worst * scope.multiplier;
                const targs = tt.params.map((p) => this.expr(p, scope, d)).join(' ');
                // usually an entry of the right type; sometimes any slot (wrong type, null, out of range: traps)
                const index = rng.chance(0.97)
                    ? `(i32.const ${rng.int(tableFuncs.length)})`
                    : `(i32.and ${this.expr('i32', scope, d)} (i32.const 7))`;
                return `(call_indirect (type $tt) ${targs} ${index})`;
            }
        }
        return `(call ${f.name} ${args})`;
    }

    /** A random statement (leaves the stack as it found it). */
    private stmt(scope: Scope, nesting: number): string {
        const rng = this.rng;
        const r = rng.int(20);
        if (r < 6) {
            const t = rng.pick(TYPES);
            const local = this.localOf(t, scope, true);
            if (local !== undefined) return `(local.set ${local} ${this.expr(t, scope, 3)})`;
        }
        if (r < 9) return this.store(scope);
        if (r < 10 && this.globals.length > 0) {
            const g = rng.int(this.globals.length);
            return `(global.set $g${g} ${this.expr(this.globals[g], scope, 2)})`;
        }
        if (r < 12 && nesting < 2) {
            const then = this.block(scope, nesting + 1, 1 + rng.int(3));
            const els = rng.chance(0.5) ? ` (else ${this.block(scope, nesting + 1, 1 + rng.int(2))})` : '';
            return `(if ${this.expr('i32', scope, 2)} (then ${then})${els})`;
        }
        if (r < 15 && nesting < 2) return this.loop(scope, nesting);
        if (r < 16 && nesting < 2) return this.switch(scope, nesting);
        if (r < 17) return this.multiValue(scope);
        if (r < 18) {
            const len = `(i32.and ${this.expr('i32', scope, 1)} (i32.const 63))`;
            const dst = `(i32.and ${this.expr('i32', scope, 1)} (i32.const ${REGION - 64}))`;
            scope.cost += 64 * scope.multiplier;
            if (rng.chance(0.5)) return `(memory.fill ${dst} ${this.expr('i32', scope, 1)} ${len})`;
            return `(memory.copy ${dst} (i32.and ${this.expr('i32', scope, 1)} (i32.const ${REGION - 64})) ${len})`;
        }
        if (r < 19) return `(drop ${this.expr(rng.pick(TYPES), scope, 3)})`;
        return this.store(scope);
    }

    private block(scope: Scope, nesting: number, n: number): string {
        return Array.from({ length: n }, () => this.stmt(scope, nesting)).join(' ');
    }

    /** A loop run 1 to 4 times by a counter of its own: br_if back, br_table back or out, or br_if out at the top. */
    private loop(scope: Scope, nesting: number): string {
        const rng = this.rng;
        const k = 1 + rng.int(4);
        const c = this.newScratch('i32', scope);
        const label = scope.labels++;
        const saved = scope.multiplier;
        scope.multiplier *= k + 1;
        scope.loopDepth++;
        const body = this.block(scope, nesting + 1, 1 + rng.int(3));
        scope.loopDepth--;
        scope.multiplier = saved;
        const dec = `(local.set ${c} (i32.sub (local.get ${c}) (i32.const 1)))`;
        const init = `(local.set ${c} (i32.const ${k}))`;
        switch (rng.int(3)) {
            case 0:
                return `${init} (loop $l${label} ${body} ${dec} (br_if $l${label} (local.get ${c})))`;
            case 1:
                return `${init} (block $b${label} (loop $l${label} ${body} ${dec} (br_table $l${label} $b${label} (i32.eqz (local.get ${c})))))`;
            default:
                return `${init} (block $b${label} (loop $l${label} (br_if $b${label} (i32.eqz (local.get ${c}))) ${dec} ${body} (br $l${label})))`;
        }
    }

    /** A switch: br_table over nested blocks on a random selector, with a default; each case does some work. */
    private switch(scope: Scope, nesting: number): string {
        const rng = this.rng;
        const cases = 2 + rng.int(3);
        const labels = Array.from({ length: cases }, () => `$s${scope.labels++}`);
        const targets = Array.from({ length: 1 + rng.int(5) }, () => rng.pick(labels));
        const selector = rng.chance(0.5) ? `(i32.and ${this.expr('i32', scope, 2)} (i32.const 7))` : this.expr('i32', scope, 2);
        let code = `(br_table ${targets.join(' ')} ${rng.pick(labels)} ${selector})`;
        for (const label of labels) code = `(block ${label} ${code}) ${this.block(scope, nesting + 1, 1)}`;
        return code;
    }

    /** A block with params and two results, taken apart into locals. */
    private multiValue(scope: Scope): string {
        const rng = this.rng;
        const [a, b, p] = [rng.pick(TYPES), rng.pick(TYPES), rng.pick(TYPES)];
        const la = this.newScratch(a, scope);
        const lb = this.newScratch(b, scope);
        const lp = this.newScratch(p, scope);
        const exit = rng.chance(0.5)
            ? ` (br_if 0 ${this.expr(a, scope, 1)} ${this.expr(b, scope, 1)} ${this.expr('i32', scope, 1)}) (drop) (drop)`
            : '';
        const block = `(block (param ${p}) (result ${a} ${b}) (local.set ${lp})${exit} ${this.expr(a, scope, 2)} ${this.expr(b, scope, 2)})`;
        const use = (l: number, t: ValType) => {
            const target = this.localOf(t, scope, true);
            return target === undefined ? '' : ` (local.set ${target} (local.get ${l}))`;
        };
        return `${this.expr(p, scope, 2)} ${block} (local.set ${lb}) (local.set ${la})${use(la, a)}${use(lb, b)}`;
    }
}
