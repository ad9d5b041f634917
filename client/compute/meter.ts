/**
 * Deterministic metering: rewrites a job's WebAssembly module with binaryen so that it counts its
 * own work in fuel, bounds its own call depth, and gives canonical NaNs, so that its verdict and
 * output are a function of (program, input, fuel limit, memory limit) alone. The semantics and the
 * cost table are in docs/metering.md; the static prices come from meter-costs.ts.
 *
 * The host sets the exported global `fog_fuel` to the job's fuel limit before the first call, and
 * after a trap reads `fog_trap`: TRAP_FUEL or TRAP_STACK for the meter's own traps, 0 for the
 * program's. The fuel used is the limit less what `fog_fuel` holds after a run that returned.
 */
import { constants as vmConstants, Script } from 'node:vm';
import { pathToFileURL } from 'node:url';
import type BinaryenApi from 'binaryen';
import { ProgramRefused, wasm } from './abi';
import {
    DEPTH_EXPORT,
    FUEL_EXPORT,
    GLOBAL_EXPORT,
    FUEL_PER_BYTE,
    FUEL_PER_GROW,
    FUEL_PER_HOST_CALL,
    FUEL_PER_PAGE,
    functionCosts,
    FunctionCosts,
    MAX_FUEL,
    STACK_BUDGET,
    START_EXPORT,
    TRAP_EXPORT,
    TRAP_FUEL,
    TRAP_STACK,
} from './meter-costs';

export * from './meter-costs';

export interface InstrumentOptions {
    /** The call-depth budget; default STACK_BUDGET. Tests lower it; jobs never do. */
    stackBudget?: number;
    /** For measuring the cost of each part (bench): leave out fuel, depth or NaN metering. Jobs use all three. */
    without?: { fuel?: boolean; depth?: boolean; nan?: boolean };
    /**
     * Where functions keep the fuel counter while they run: 'local' (jobs: a local, written back at
     * calls, returns and throws) or 'global' (every charge on the global: the reference the tests
     * compare 'local' with; the same fuel, slower).
     */
    counter?: 'local' | 'global';
}

export interface Instrumented {
    /** The metered module. */
    bytes: Uint8Array;
    /** Functions the module defines (all metered). */
    functions: number;
    /** Loops metered. */
    loops: number;
    /** The largest frame weight of any function. */
    maxWeight: number;
    /** Float operations whose results are canonicalized (after eliding those only NaN-blind operations consume). */
    canonicalized: number;
}

type B = typeof BinaryenApi;
type Ref = number;
/** binaryen.js's expression classes (Block, Loop, Call, ...): static getters and setters, untyped in its index.d.ts. */
type Wrappers = Record<string, Record<string, (expr: Ref, ...rest: number[]) => number>>;

let loading: Promise<B> | undefined;

/**
 * binaryen is an ES module with top-level await, so CommonJS can only import() it. A Function keeps
 * tsc from turning that import() into require(); under Jest (a vm context without a dynamic-import
 * hook) the main context's loader is used instead.
 */
export function loadBinaryen(): Promise<B> {
    loading ??= (async () => {
        const url = pathToFileURL(require.resolve('binaryen')).href;
        let mod: { default: B };
        try {
            mod = await (new Function('s', 'return import(s)') as (s: string) => Promise<{ default: B }>)(url);
        } catch {
            const load = new Script('(s) => import(s)', {
                importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
            }).runInThisContext() as (s: string) => Promise<{ default: B }>;
            mod = await load(url);
        }
        return mod.default;
    })();
    return loading;
}

/** The meter's globals after (or during) a run, from the instance's exports. */
export function meterState(instanceExports: Record<string, unknown>): { fuel: bigint; trap: number; depth: number } {
    const read = (name: string) => (instanceExports[name] as { value: number | bigint }).value;
    return { fuel: BigInt(read(FUEL_EXPORT)), trap: Number(read(TRAP_EXPORT)), depth: Number(read(DEPTH_EXPORT)) };
}

/** Sets the fuel limit before a run; throws a RangeError unless it is an integer from 0 to MAX_FUEL. */
export function setFuel(instanceExports: Record<string, unknown>, fuel: bigint): void {
    if (typeof fuel !== 'bigint' || fuel < 0n || fuel > MAX_FUEL) throw new RangeError(`fuel must be a bigint from 0 to ${MAX_FUEL}`);
    (instanceExports[FUEL_EXPORT] as { value: bigint }).value = fuel;
}

/**
 * Meters a program. Throws ProgramRefused ('invalid' or 'imports') for what cannot be made
 * deterministic or what the meter does not support; the same bytes are refused on every machine.
 */
export async function instrument(program: Uint8Array, options: InstrumentOptions = {}): Promise<Instrumented> {
    const budget = options.stackBudget ?? STACK_BUDGET;
    if (!Number.isInteger(budget) || budget < 1 || budget > 2 ** 30) throw new RangeError('stackBudget must be an integer from 1 to 2^30');
    if (!wasm.validate(program)) throw new ProgramRefused('invalid', 'not a valid WebAssembly module');
    const costs = functionCosts(program);
    const binaryen = await loadBinaryen();
    let module: BinaryenApi.Module;
    try {
        module = binaryen.readBinaryWithFeatures(program, binaryen.Features.All);
    } catch (err) {
        throw new ProgramRefused('invalid', `binaryen could not read the module: ${(err as Error).message}`);
    }
    try {
        return new Meter(binaryen, module, costs, budget, options.without ?? {}, options.counter ?? 'local').run();
    } finally {
        module.dispose();
    }
}

const FUEL = 'fog$fuel';
const TRAP = 'fog$trap';
const DEPTH = 'fog$depth';
const OUT_OF_FUEL = 'fog$out_of_fuel';
const OUT_OF_STACK = 'fog$out_of_stack';

/** How a child of an expression is read and replaced. */
interface Child {
    get(): Ref;
    set(value: Ref): void;
}

/** A float local of the program's (not a param), its writes and reads, for Meter.canonicalizeOnRead. */
interface FloatLocal {
    type: number;
    /** False if it is ever read or written as a loop's body or a return's value. */
    ok: boolean;
    /** Its local.set and local.tee. */
    sets: { expr: Ref; parent: Ref; setParent: (v: Ref) => void; loops: number; tee: boolean }[];
    gets: { expr: Ref; parent: Ref; setParent: (v: Ref) => void; loops: number }[];
}

/** The host functions whose cost grows with a length operand (the last one). */
const HOST_IO = new Set(['fog.read_input', 'fog.write_output']);

class Meter {
    private readonly ids: Record<string, number>;
    /** Operation → the lane shape of a float result that can be a NaN. */
    private readonly nanOps = new Map<string, 'f32' | 'f64' | 'f32x4' | 'f64x2'>();
    /** Operations whose result depends on an operand's NaN-ness only, never its bits. */
    private readonly nanBlind = new Set<string>();
    private readonly relaxed = new Set<string>();
    private readonly hostIo = new Set<string>();
    private canonicalized = 0;
    /** Simple function → its twin for direct calls. */
    private readonly direct = new Map<string, string>();
    private loops = 0;
    /** The function being metered. */
    private currentFunction: Ref = 0;
    /** Its local holding the fuel counter while it runs, or -1 when it charges the global itself. */
    private fuelLocal = -1;
    /** Whether a charge was emitted in it. */
    private charged = false;
    /** Charges and read-backs of the counter emitted so far (a subtree whose count moved writes the counter). */
    private counterWrites = 0;
    /** Rewritten expressions that write the function's counter (a charge, or a call's read-back inside). */
    private readonly counting = new Set<Ref>();
    /** Imported (host) functions: they never read or write the fuel counter. */
    private readonly imports = new Set<string>();
    /** Fog's own host functions (`fog.*`, not AssemblyScript's `env.abort`, which ends the run): each call is charged at run time. */
    private readonly fogHost = new Set<string>();
    /** Twins of simple functions that charge fuel (host I/O, bulk memory, grow): their callers write the counter back first. */
    private readonly chargingTwins = new Set<string>();

    constructor(
        private readonly b: B,
        private readonly m: BinaryenApi.Module,
        private readonly costs: FunctionCosts[],
        private readonly budget: number,
        private readonly without: NonNullable<InstrumentOptions['without']>,
        private readonly counter: NonNullable<InstrumentOptions['counter']>,
    ) {
        const ops = b as unknown as Record<string, number>;
        this.ids = ops;
        const shapes: [string, 'f32' | 'f64' | 'f32x4' | 'f64x2'][] = [
            ['Float32', 'f32'],
            ['Float64', 'f64'],
            ['VecF32x4', 'f32x4'],
            ['VecF64x2', 'f64x2'],
        ];
        // Operation numbers are per class (Unary, Binary, SIMDTernary), hence the class in each key.
        for (const [suffix, shape] of shapes) {
            for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Min', 'Max']) this.nanOps.set(`b${ops[op + suffix]}`, shape);
            for (const op of ['Sqrt', 'Ceil', 'Floor', 'Trunc', 'Nearest']) this.nanOps.set(`u${ops[op + suffix]}`, shape);
            for (const cmp of ['Eq', 'Ne', 'Lt', 'Le', 'Gt', 'Ge']) this.nanBlind.add(`b${ops[cmp + suffix]}`);
        }
        this.nanOps.set(`u${ops.PromoteFloat32}`, 'f64');
        this.nanOps.set(`u${ops.DemoteFloat64}`, 'f32');
        this.nanOps.set(`u${ops.DemoteZeroVecF64x2ToVecF32x4}`, 'f32x4');
        this.nanOps.set(`u${ops.PromoteLowVecF32x4ToVecF64x2}`, 'f64x2');
        for (const op of this.nanOps.keys()) this.nanBlind.add(op);
        for (const name of Object.keys(ops)) {
            if (/^Trunc(Sat)?[SU]Float(32|64)ToInt(32|64)$/.test(name) || /^TruncSat[SU]VecF/.test(name))
                this.nanBlind.add(`u${ops[name]}`);
            if (/^RelaxedTrunc/.test(name)) this.relaxed.add(`u${ops[name]}`);
            else if (/^Relaxed(Swizzle|Min|Max|Q15|DotI8x16I7x16SToVecI16x8)/.test(name)) this.relaxed.add(`b${ops[name]}`);
            else if (name.startsWith('Relaxed')) this.relaxed.add(`t${ops[name]}`);
        }
    }

    run(): Instrumented {
        const { b, m } = this;
        if (m.hasMemory() && m.getMemoryInfo().shared)
            throw new ProgramRefused('imports', 'shared memory (threads) is refused: it cannot be made deterministic');
        for (const name of [FUEL_EXPORT, TRAP_EXPORT, DEPTH_EXPORT, START_EXPORT, GLOBAL_EXPORT]) {
            if (m.getExport(name) !== 0) throw new ProgramRefused('invalid', `the export name ${name} is reserved for the meter`);
        }
        const globals = Array.from({ length: m.getNumGlobals() }, (_, i) => b.getGlobalInfo(m.getGlobalByIndex(i)));
        m.addGlobal(FUEL, b.i64, true, m.i64.const(0n));
        m.addGlobal(TRAP, b.i32, true, m.i32.const(0));
        m.addGlobal(DEPTH, b.i32, true, m.i32.const(0));

        const defined: number[] = [];
        for (let i = 0; i < m.getNumFunctions(); i++) {
            const func = m.getFunctionByIndex(i);
            const info = b.getFunctionInfo(func);
            if (info.module) {
                this.imports.add(info.name);
                if (info.module === 'fog') this.fogHost.add(info.name);
                if (HOST_IO.has(`${info.module}.${info.base}`)) this.hostIo.add(info.name);
            } else defined.push(func);
        }
        if (defined.length !== this.costs.length)
            throw new Error(`meter: binaryen sees ${defined.length} functions, the code section has ${this.costs.length}`);
        // Simple functions get a twin without the entry charge, for direct calls (whose callers paid it).
        defined.forEach((func, i) => {
            if (this.costs[i].simple) this.direct.set(b.getFunctionInfo(func).name, `${b.getFunctionInfo(func).name}$fog_direct`);
        });
        // simple functions first (they call no defined function): their callers must know which twins charge
        const order = defined.map((func, i) => i).sort((x, y) => Number(this.costs[y].simple) - Number(this.costs[x].simple));
        for (const i of order) this.meterFunction(defined[i], this.costs[i]);

        const trap = (code: number) => m.block(null, [m.global.set(TRAP, m.i32.const(code)), m.unreachable()]);
        m.addFunction(OUT_OF_FUEL, b.none, b.none, [], trap(TRAP_FUEL));
        m.addFunction(OUT_OF_STACK, b.none, b.none, [], trap(TRAP_STACK));
        const start = m.getStart();
        if (start !== 0) {
            // binaryen cannot remove a start function, only replace it: by one that does nothing.
            m.addFunctionExport(b.getFunctionInfo(start).name, START_EXPORT);
            m.setStart(m.addFunction('fog$no_start', b.none, b.none, [], m.nop()));
        }
        m.addGlobalExport(FUEL, FUEL_EXPORT);
        m.addGlobalExport(TRAP, TRAP_EXPORT);
        m.addGlobalExport(DEPTH, DEPTH_EXPORT);
        this.globalReader(globals);
        if (!m.validate()) throw new Error('meter: the instrumented module does not validate');
        return {
            bytes: m.emitBinary(),
            functions: defined.length,
            loops: this.loops,
            maxWeight: this.costs.reduce((max, c) => Math.max(max, c.weight), 0),
            canonicalized: this.canonicalized,
        };
    }

    /**
     * GLOBAL_EXPORT: the program's globals by index, as bits, through a binary search on the index
     * (as deep as log2 of their count). Only the host calls it, after a run; it charges nothing.
     */
    private globalReader(globals: BinaryenApi.GlobalInfo[]): void {
        const { b, m } = this;
        const bits = (g: BinaryenApi.GlobalInfo): Ref => {
            const get = m.global.get(g.name, g.type);
            if (g.type === b.i64) return get;
            if (g.type === b.i32) return m.i64.extend_u(get);
            if (g.type === b.f32) return m.i64.extend_u(m.i32.reinterpret(get));
            if (g.type === b.f64) return m.i64.reinterpret(get);
            return m.i64.const(0n);
        };
        const search = (lo: number, hi: number): Ref => {
            if (hi - lo === 1) return bits(globals[lo]);
            const mid = (lo + hi) >> 1;
            return m.if(m.i32.lt_u(m.local.get(0, b.i32), m.i32.const(mid)), search(lo, mid), search(mid, hi));
        };
        const body =
            globals.length === 0
                ? m.i64.const(0n)
                : m.if(m.i32.lt_u(m.local.get(0, b.i32), m.i32.const(globals.length)), search(0, globals.length), m.i64.const(0n));
        m.addFunction('fog$global', b.i32, b.i64, [], body);
        m.addFunctionExport('fog$global', GLOBAL_EXPORT);
    }

    /** `fuel -= cost; if (fuel < 0) trap` as statements, on the function's fuel local or the global; `cost` is an i64 expression. */
    private charge(cost: Ref): Ref[] {
        const { b, m } = this;
        if (this.without.fuel) return [];
        this.charged = true;
        this.counterWrites++;
        const f = this.fuelLocal;
        if (f >= 0) {
            return [
                m.if(
                    m.i64.lt_s(m.local.tee(f, m.i64.sub(m.local.get(f, b.i64), cost), b.i64), m.i64.const(0n)),
                    m.call(OUT_OF_FUEL, [], b.none),
                ),
            ];
        }
        return [
            m.global.set(FUEL, m.i64.sub(m.global.get(FUEL, b.i64), cost)),
            m.if(m.i64.lt_s(m.global.get(FUEL, b.i64), m.i64.const(0n)), m.call(OUT_OF_FUEL, [], b.none)),
        ];
    }

    /** Whether `root` contains an expression of kind `id` (iteratively). */
    private contains(root: Ref, id: number): boolean {
        const todo = [root];
        while (todo.length > 0) {
            const expr = todo.pop()!;
            if (this.b.getExpressionId(expr) === id) return true;
            for (const kid of this.children(expr)) {
                const e = kid.get();
                if (e !== 0) todo.push(e);
            }
        }
        return false;
    }

    /**
     * A call (or throw) in a function that keeps the fuel counter in a local: the counter is written
     * to the global after the operands (so their charges count) and just before control leaves, and
     * read back when the call returns. `kids` are the operands in evaluation order (for an indirect
     * call, the target last).
     */
    private aroundCall(expr: Ref, kids: Child[], local: (type: number) => number, returns: boolean): Ref {
        const { b, m } = this;
        const f = this.fuelLocal;
        const type = b.getExpressionType(expr);
        if (type === b.unreachable && returns) return expr; // an operand never finishes: no call happens
        const save = () => m.global.set(FUEL, m.local.get(f, b.i64));
        const before: Ref[] = [];
        // the write-back goes after the last operand that changes the counter (a charge, or a call's
        // read-back); operands after it change nothing, and none is moved unless it must be
        let last: Child | undefined;
        for (const kid of kids) if (kid.get() !== 0 && this.counting.has(kid.get())) last = kid;
        if (last === undefined) before.push(save());
        else {
            const value = last.get();
            const t = b.getExpressionType(value);
            if (t === b.unreachable) return expr;
            const s = local(t);
            last.set(m.block(null, [m.local.set(s, value), save(), m.local.get(s, t)], t));
        }
        if (!returns) return before.length === 0 ? expr : m.block(null, [...before, expr], b.unreachable);
        const reload = m.local.set(f, m.global.get(FUEL, b.i64));
        this.counterWrites++;
        if (type === b.none) return m.block(null, [...before, expr, reload], b.none);
        const r = local(type);
        return m.block(null, [...before, m.local.set(r, expr), reload, m.local.get(r, type)], type);
    }

    private staticCharge(fuel: number): Ref[] {
        return fuel > 0 ? this.charge(this.m.i64.const(BigInt(fuel))) : [];
    }

    private meterFunction(func: Ref, costs: FunctionCosts): void {
        const { b, m } = this;
        const info = b.getFunctionInfo(func);
        const scratch = new Map<number, number>();
        const local = (type: number) => {
            let index = scratch.get(type);
            if (index === undefined) {
                index = (b as unknown as { _BinaryenFunctionAddVar(f: Ref, t: number): number })._BinaryenFunctionAddVar(func, type);
                scratch.set(type, index);
            }
            return index;
        };
        const weight = costs.weight;
        const depth = !this.without.depth && !costs.simple;
        // The program's own locals: params first, then declared vars; the meter's scratch locals come after.
        this.currentFunction = func;
        const ownLocals = { first: b.expandType(info.params).length, end: b.expandType(info.params).length + info.vars.length };
        // The fuel counter lives in a local while the function runs (a register, where the global is a
        // load and a store), written back before every call, return and throw, read back after a call.
        // Not in simple functions (they charge rarely, and their twins must not need a caller's write-back
        // unless they charge), nor in functions that catch exceptions (a catch would need a read-back).
        const cached = this.counter === 'local' && !this.without.fuel && !costs.simple && !this.contains(info.body, b.TryId);
        this.fuelLocal = cached
            ? (b as unknown as { _BinaryenFunctionAddVar(f: Ref, t: number): number })._BinaryenFunctionAddVar(func, b.i64)
            : -1;
        this.charged = false;
        this.counting.clear();
        const leaveDepth = () => (!depth ? m.nop() : m.global.set(DEPTH, m.i32.sub(m.global.get(DEPTH, b.i32), m.i32.const(weight))));
        const leave = () =>
            !cached ? leaveDepth() : m.block(null, [m.global.set(FUEL, m.local.get(this.fuelLocal, b.i64)), leaveDepth()], b.none);
        const body = this.walk(info.body, costs, local, leave, ownLocals);
        const twin = this.direct.get(info.name);
        if (twin !== undefined) {
            m.addFunction(twin, info.params, info.results, b.getFunctionInfo(func).vars, m.copyExpression(body));
            if (this.charged) this.chargingTwins.add(twin);
        }
        const enter = cached ? [m.local.set(this.fuelLocal, m.global.get(FUEL, b.i64))] : [];
        enter.push(...this.staticCharge(costs.entry));
        if (depth)
            enter.push(
                m.global.set(DEPTH, m.i32.add(m.global.get(DEPTH, b.i32), m.i32.const(weight))),
                m.if(m.i32.gt_u(m.global.get(DEPTH, b.i32), m.i32.const(this.budget)), m.call(OUT_OF_STACK, [], b.none)),
            );
        const type = b.getExpressionType(body);
        let metered: Ref;
        if (type === b.none) metered = m.block(null, [...enter, body, leave()], b.none);
        else if (type === b.unreachable) metered = m.block(null, [...enter, body], b.unreachable);
        else {
            const result = local(info.results);
            metered = m.block(null, [...enter, m.local.set(result, body), leave(), m.local.get(result, info.results)], info.results);
        }
        (b as unknown as { Function: { setBody(f: Ref, body: Ref): void } }).Function.setBody(func, metered);
    }

    /**
     * Rewrites one body, children before parents (iteratively: bodies can nest deeper than the
     * JavaScript stack). Loops are numbered in pre-order, which is the order of their opcodes.
     */
    private walk(
        root: Ref,
        costs: FunctionCosts,
        local: (type: number) => number,
        leave: () => Ref,
        ownLocals: { first: number; end: number },
    ): Ref {
        const { b } = this;
        const wrapped = new Map<Ref, Ref>();
        let loopIndex = 0;
        const loopOf = new Map<Ref, number>();
        const floatLocals = new Map<number, FloatLocal>();
        let result = root;
        const stack: { expr: Ref; kids: Child[]; next: number; setParent: (v: Ref) => void; loops: number; writes: number }[] = [];
        const push = (expr: Ref, setParent: (v: Ref) => void, parent: Ref, loops: number) => {
            const id = b.getExpressionId(expr);
            if (id === b.LoopId) loopOf.set(expr, loopIndex++);
            if (!this.without.nan && (id === b.LocalGetId || id === b.LocalSetId)) {
                const info = b.getExpressionInfo(expr) as BinaryenApi.LocalGetInfo;
                const type = id === b.LocalGetId ? info.type : this.localType(expr);
                if (info.index >= ownLocals.first && info.index < ownLocals.end && (type === b.f32 || type === b.f64)) {
                    let site = floatLocals.get(info.index);
                    if (site === undefined) floatLocals.set(info.index, (site = { type, ok: true, sets: [], gets: [] }));
                    const parentId = parent === 0 ? -1 : b.getExpressionId(parent);
                    // a Loop's body and a Return's value are moved by visit(), and so may be a write of the local
                    // that is a call's or a throw's operand (aroundCall wraps the last operand that writes the
                    // fuel counter; a read never does): their setters go stale
                    const call =
                        parentId === b.CallId || parentId === b.CallIndirectId || parentId === b.CallRefId || parentId === b.ThrowId;
                    if (parentId === b.LoopId || parentId === b.ReturnId || (call && id === b.LocalSetId)) site.ok = false;
                    else if (id === b.LocalGetId) site.gets.push({ expr, parent, setParent, loops });
                    else site.sets.push({ expr, parent, setParent, loops, tee: Boolean((b as unknown as Wrappers).LocalSet.isTee(expr)) });
                }
            }
            stack.push({ expr, kids: this.children(expr), next: 0, setParent, loops, writes: this.counterWrites });
        };
        push(root, (v) => (result = v), 0, 0);
        while (stack.length > 0) {
            const top = stack[stack.length - 1];
            if (top.next < top.kids.length) {
                const kid = top.kids[top.next++];
                const expr = kid.get();
                if (expr !== 0) push(expr, (v) => kid.set(v), top.expr, top.loops + (b.getExpressionId(top.expr) === b.LoopId ? 1 : 0));
                continue;
            }
            stack.pop();
            const replaced = this.visit(top.expr, top.kids, costs, local, leave, loopOf, wrapped);
            if (this.counterWrites !== top.writes) this.counting.add(replaced);
            top.setParent(replaced);
        }
        if (loopIndex !== costs.loops.length)
            throw new Error(`meter: binaryen sees ${loopIndex} loops, the code has ${costs.loops.length}`);
        this.loops += loopIndex;
        this.canonicalizeOnRead(floatLocals, wrapped, local);
        return result;
    }

    /** The type of a local.set's local: its value's type (a set is not a tee, whose own type says). */
    private localType(set: Ref): number {
        const b = this.b;
        return b.getExpressionType((b as unknown as Wrappers).LocalSet.getValue(set));
    }

    /** An operation that sees only whether its operands are NaNs, never their bits. */
    private isNanBlind(expr: Ref): boolean {
        const { b, ids } = this;
        const w = b as unknown as Wrappers;
        const id = b.getExpressionId(expr);
        if (id === ids.UnaryId) return this.nanBlind.has(`u${w.Unary.getOp(expr)}`);
        if (id === ids.BinaryId) return this.nanBlind.has(`b${w.Binary.getOp(expr)}`);
        if (id === ids.SIMDTernaryId) return this.nanBlind.has(`t${w.SIMDTernary.getOp(expr)}`);
        return false;
    }

    /**
     * Moves a float local's canonicalization from its writes to its reads where that is cheaper.
     * A local whose writes of canonicalized results drop the canonicalization holds raw results;
     * a flag (a scratch i32 local) says whether its value came from such a write (1) or from any
     * other (0: a load, a call, a constant..., whose bits are kept). Every read whose consumer could
     * see a NaN's bits becomes `select(canonical, x, x ≠ x & flag)`; reads by NaN-blind operations
     * see the same NaN-ness either way. So every read sees exactly the bits it saw before: the
     * output cannot change. Done where the canonicalized writes weigh more than those reads, a
     * site weighing 8^(loops around it): an accumulator written in a loop and read after it.
     * (Constants that are not NaNs need no flag: canonical or not, their bits are the same.)
     */
    private canonicalizeOnRead(floatLocals: Map<number, FloatLocal>, wrapped: Map<Ref, Ref>, local: (type: number) => number): void {
        const { b, m } = this;
        const w = b as unknown as Wrappers;
        const weight = (loops: number) => 8 ** Math.min(loops, 20);
        for (const site of floatLocals.values()) {
            if (!site.ok) continue;
            let writes = 0;
            let flagged = false;
            for (const set of site.sets) {
                const value = w.LocalSet.getValue(set.expr);
                if (wrapped.has(value)) writes += weight(set.loops);
                else if (
                    b.getExpressionId(value) !== b.ConstId ||
                    Number.isNaN((b.getExpressionInfo(value) as BinaryenApi.ConstInfo).value)
                )
                    flagged = true;
            }
            const blind = (parent: Ref) => parent !== 0 && this.isNanBlind(parent);
            const reads = site.gets.filter((get) => !blind(get.parent));
            const teeReads = site.sets.filter((set) => set.tee && !blind(set.parent));
            if (writes === 0 || [...reads, ...teeReads].reduce((sum, read) => sum + weight(read.loops), 0) >= writes) continue;
            const type = site.type;
            const flag = flagged
                ? (b as unknown as { _BinaryenFunctionAddVar(f: Ref, t: number): number })._BinaryenFunctionAddVar(
                      this.currentFunction,
                      b.i32,
                  )
                : -1;
            /** `x`, canonicalized if it is a NaN (and, with a flag, came from a canonicalized write). */
            const read = (x: Ref) => {
                const t = local(type);
                const get = () => m.local.get(t, type);
                const nan = type === b.f32 ? m.f32.const_bits(0x7fc00000) : m.f64.const_bits(0x7ff8000000000000n);
                const isNan = type === b.f32 ? m.f32.ne(get(), get()) : m.f64.ne(get(), get());
                this.canonicalized++;
                return m.select(flag >= 0 ? m.i32.and(isNan, m.local.get(flag, b.i32)) : isNan, nan, m.local.tee(t, x, type));
            };
            for (const set of site.sets) {
                const value = w.LocalSet.getValue(set.expr);
                const original = wrapped.get(value);
                if (original !== undefined) {
                    w.LocalSet.setValue(set.expr, original);
                    this.canonicalized--;
                }
                // a constant that is not a NaN has the same bits canonical or not: no flag needed
                const isConst =
                    original === undefined &&
                    b.getExpressionId(value) === b.ConstId &&
                    !Number.isNaN((b.getExpressionInfo(value) as BinaryenApi.ConstInfo).value);
                // the flag is written after the local, so that reads inside the value see the old pair
                const flagSet = flag >= 0 && !isConst ? m.local.set(flag, m.i32.const(original !== undefined ? 1 : 0)) : 0;
                const index = w.LocalSet.getIndex(set.expr);
                if (!set.tee) {
                    if (flagSet !== 0) set.setParent(m.block(null, [set.expr, flagSet], b.none));
                } else if (flagSet !== 0) {
                    const get = m.local.get(index, type);
                    set.setParent(
                        m.block(
                            null,
                            [m.local.set(index, w.LocalSet.getValue(set.expr)), flagSet, blind(set.parent) ? get : read(get)],
                            type,
                        ),
                    );
                } else if (!isConst && !blind(set.parent)) set.setParent(read(set.expr));
            }
            for (const get of reads) get.setParent(read(get.expr));
        }
    }

    /** One expression, its children already rewritten: returns what replaces it. */
    private visit(
        expr: Ref,
        kids: Child[],
        costs: FunctionCosts,
        local: (type: number) => number,
        leave: () => Ref,
        loopOf: Map<Ref, number>,
        wrapped: Map<Ref, Ref>,
    ): Ref {
        const { b, m, ids } = this;
        const w = b as unknown as Wrappers;
        const id = b.getExpressionId(expr);
        switch (id) {
            case ids.LoopId: {
                const body = w.Loop.getBody(expr);
                const fuel = costs.loops[loopOf.get(expr) as number];
                if (fuel > 0) w.Loop.setBody(expr, m.block(null, [...this.staticCharge(fuel), body], b.getExpressionType(body)));
                return expr;
            }
            case ids.ReturnId: {
                const value = w.Return.getValue(expr);
                if (value === 0) return m.block(null, [leave(), expr], b.unreachable);
                const type = b.getExpressionType(value);
                if (type === b.unreachable) return expr;
                const t = local(type);
                w.Return.setValue(expr, m.local.get(t, type));
                return m.block(null, [m.local.set(t, value), leave(), expr], b.unreachable);
            }
            case ids.CallId: {
                const call = b.getExpressionInfo(expr) as BinaryenApi.CallInfo;
                if (call.isReturn) throw new ProgramRefused('invalid', 'tail calls (return_call) are not supported by the meter');
                const n = call.operands.length;
                const twin = this.direct.get(call.target);
                if (twin !== undefined) w.Call.setTarget(expr, twin as unknown as number);
                if (this.hostIo.has(call.target) && n > 0) {
                    // the call into the host, then its bytes
                    const fuel = (len: Ref) => this.m.i64.add(this.perBytes(len), this.m.i64.const(BigInt(FUEL_PER_HOST_CALL)));
                    w.Call.setOperandAt(expr, n - 1, this.chargeBySize(w.Call.getOperandAt(expr, n - 1), local, fuel));
                } else if (this.fogHost.has(call.target) && n === 0) {
                    return this.m.block(null, [...this.staticCharge(FUEL_PER_HOST_CALL), expr], b.getExpressionType(expr));
                }
                if (this.fuelLocal < 0 || this.imports.has(call.target) || (twin !== undefined && !this.chargingTwins.has(twin)))
                    return expr;
                return this.aroundCall(expr, kids, local, true);
            }
            case ids.CallIndirectId:
                if (w.CallIndirect.isReturn(expr))
                    throw new ProgramRefused('invalid', 'tail calls (return_call_indirect) are not supported by the meter');
                return this.fuelLocal < 0 ? expr : this.aroundCall(expr, kids, local, true);
            case ids.CallRefId:
                if (w.CallRef.isReturn(expr))
                    throw new ProgramRefused('invalid', 'tail calls (return_call_ref) are not supported by the meter');
                return this.fuelLocal < 0 ? expr : this.aroundCall(expr, kids, local, true);
            case ids.ThrowId:
                // a catch in a caller reads the global: it must hold this function's charges
                return this.fuelLocal < 0 ? expr : this.aroundCall(expr, kids, local, false);
            case ids.MemoryGrowId:
                w.MemoryGrow.setDelta(
                    expr,
                    this.chargeBySize(w.MemoryGrow.getDelta(expr), local, (pages) =>
                        m.i64.add(m.i64.mul(m.i64.extend_u(pages), m.i64.const(BigInt(FUEL_PER_PAGE))), m.i64.const(BigInt(FUEL_PER_GROW))),
                    ),
                );
                return expr;
            case ids.TableGrowId:
                w.TableGrow.setDelta(
                    expr,
                    this.chargeBySize(w.TableGrow.getDelta(expr), local, (n) => m.i64.extend_u(n)),
                );
                return expr;
            case ids.MemoryCopyId:
                w.MemoryCopy.setSize(
                    expr,
                    this.chargeBySize(w.MemoryCopy.getSize(expr), local, (n) => this.perBytes(n)),
                );
                return expr;
            case ids.MemoryFillId:
                w.MemoryFill.setSize(
                    expr,
                    this.chargeBySize(w.MemoryFill.getSize(expr), local, (n) => this.perBytes(n)),
                );
                return expr;
            case ids.MemoryInitId:
                w.MemoryInit.setSize(
                    expr,
                    this.chargeBySize(w.MemoryInit.getSize(expr), local, (n) => this.perBytes(n)),
                );
                return expr;
            case ids.LoadId:
            case ids.StoreId:
                if ((b.getExpressionInfo(expr) as BinaryenApi.LoadInfo).isAtomic) {
                    throw new ProgramRefused('invalid', 'atomic instructions (threads) are refused: their results depend on scheduling');
                }
                return expr;
            case ids.UnaryId:
            case ids.BinaryId:
            case ids.SIMDTernaryId: {
                const op =
                    id === ids.UnaryId
                        ? `u${w.Unary.getOp(expr)}`
                        : id === ids.BinaryId
                          ? `b${w.Binary.getOp(expr)}`
                          : `t${w.SIMDTernary.getOp(expr)}`;
                if (this.relaxed.has(op)) throw new ProgramRefused('invalid', 'relaxed SIMD is refused: its results differ between CPUs');
                if (this.nanBlind.has(op)) {
                    // The operand's NaN bits cannot reach the result: undo its canonicalization.
                    for (const kid of kids) {
                        const original = wrapped.get(kid.get());
                        if (original === undefined) continue;
                        kid.set(original);
                        this.canonicalized--;
                    }
                }
                const shape = this.nanOps.get(op);
                if (shape === undefined) return expr;
                const canonical = this.canonicalize(expr, shape, local);
                wrapped.set(canonical, expr);
                return canonical;
            }
            default:
                return expr;
        }
    }

    /** i64 of n × FUEL_PER_BYTE, `n` an unsigned i32. */
    private perBytes(n: Ref): Ref {
        const m = this.m;
        const bytes = m.i64.extend_u(n);
        return FUEL_PER_BYTE === 1 ? bytes : m.i64.mul(bytes, m.i64.const(BigInt(FUEL_PER_BYTE)));
    }

    /** `size` evaluated once into a scratch local, charged `fuel(size)`, then yielded. */
    private chargeBySize(size: Ref, local: (type: number) => number, fuel: (n: Ref) => Ref): Ref {
        const { b, m } = this;
        if (b.getExpressionType(size) !== b.i32) return size;
        const t = local(b.i32);
        return m.block(null, [m.local.set(t, size), ...this.charge(fuel(m.local.get(t, b.i32))), m.local.get(t, b.i32)], b.i32);
    }

    /** `x` with a NaN result (per lane) replaced by the canonical positive quiet NaN. */
    private canonicalize(x: Ref, shape: 'f32' | 'f64' | 'f32x4' | 'f64x2', local: (type: number) => number): Ref {
        const { b, m } = this;
        const type = b.getExpressionType(x);
        if (type === b.unreachable || this.without.nan) return x;
        this.canonicalized++;
        const t = local(type);
        const get = () => m.local.get(t, type);
        switch (shape) {
            case 'f32':
                return m.select(m.f32.ne(get(), get()), m.f32.const_bits(0x7fc00000), m.local.tee(t, x, type));
            case 'f64':
                return m.select(m.f64.ne(get(), get()), m.f64.const_bits(0x7ff8000000000000n), m.local.tee(t, x, type));
            case 'f32x4':
                return m.v128.bitselect(
                    m.v128.const(splat([0x00, 0x00, 0xc0, 0x7f], 4)),
                    m.local.tee(t, x, type),
                    m.f32x4.ne(get(), get()),
                );
            case 'f64x2':
                return m.v128.bitselect(
                    m.v128.const(splat([0, 0, 0, 0, 0, 0, 0xf8, 0x7f], 2)),
                    m.local.tee(t, x, type),
                    m.f64x2.ne(get(), get()),
                );
        }
    }

    /** The children of an expression in evaluation order, with setters. */
    private children(expr: Ref): Child[] {
        const b = this.b;
        const ids = this.ids;
        const id = b.getExpressionId(expr);
        const cls = (name: string) => (b as unknown as Wrappers)[name];
        const fields = (name: string, ...names: string[]): Child[] => {
            const c = cls(name);
            return names.map((f) => ({ get: () => c['get' + f](expr), set: (v: Ref) => void c['set' + f](expr, v) }));
        };
        const list = (name: string, count: string, at: string): Child[] => {
            const c = cls(name);
            return Array.from({ length: c[`get${count}`](expr) }, (_, i) => ({
                get: () => c[`get${at}At`](expr, i),
                set: (v: Ref) => void c[`set${at}At`](expr, i, v),
            }));
        };
        switch (id) {
            case ids.BlockId:
                return list('Block', 'NumChildren', 'Child');
            case ids.IfId:
                return fields('If', 'Condition', 'IfTrue', 'IfFalse');
            case ids.LoopId:
                return fields('Loop', 'Body');
            case ids.BreakId:
                return fields('Break', 'Value', 'Condition');
            case ids.SwitchId:
                return fields('Switch', 'Value', 'Condition');
            case ids.CallId:
                return list('Call', 'NumOperands', 'Operand');
            case ids.CallIndirectId:
                return [...list('CallIndirect', 'NumOperands', 'Operand'), ...fields('CallIndirect', 'Target')];
            case ids.CallRefId:
                return [...list('CallRef', 'NumOperands', 'Operand'), ...fields('CallRef', 'Target')];
            case ids.LocalSetId:
                return fields('LocalSet', 'Value');
            case ids.GlobalSetId:
                return fields('GlobalSet', 'Value');
            case ids.LoadId:
                return fields('Load', 'Ptr');
            case ids.StoreId:
                return fields('Store', 'Ptr', 'Value');
            case ids.UnaryId:
                return fields('Unary', 'Value');
            case ids.BinaryId:
                return fields('Binary', 'Left', 'Right');
            case ids.SelectId:
                return fields('Select', 'IfTrue', 'IfFalse', 'Condition');
            case ids.DropId:
                return fields('Drop', 'Value');
            case ids.ReturnId:
                return fields('Return', 'Value');
            case ids.MemoryGrowId:
                return fields('MemoryGrow', 'Delta');
            case ids.SIMDExtractId:
                return fields('SIMDExtract', 'Vec');
            case ids.SIMDReplaceId:
                return fields('SIMDReplace', 'Vec', 'Value');
            case ids.SIMDShuffleId:
                return fields('SIMDShuffle', 'Left', 'Right');
            case ids.SIMDTernaryId:
                return fields('SIMDTernary', 'A', 'B', 'C');
            case ids.SIMDShiftId:
                return fields('SIMDShift', 'Vec', 'Shift');
            case ids.SIMDLoadId:
                return fields('SIMDLoad', 'Ptr');
            case ids.SIMDLoadStoreLaneId:
                return fields('SIMDLoadStoreLane', 'Ptr', 'Vec');
            case ids.MemoryInitId:
                return fields('MemoryInit', 'Dest', 'Offset', 'Size');
            case ids.MemoryCopyId:
                return fields('MemoryCopy', 'Dest', 'Source', 'Size');
            case ids.MemoryFillId:
                return fields('MemoryFill', 'Dest', 'Value', 'Size');
            case ids.RefIsNullId:
                return fields('RefIsNull', 'Value');
            case ids.RefAsId:
                return fields('RefAs', 'Value');
            case ids.RefEqId:
                return fields('RefEq', 'Left', 'Right');
            case ids.TableGetId:
                return fields('TableGet', 'Index');
            case ids.TableSetId:
                return fields('TableSet', 'Index', 'Value');
            case ids.TableGrowId:
                return fields('TableGrow', 'Value', 'Delta');
            case ids.TryId:
                return [...fields('Try', 'Body'), ...list('Try', 'NumCatchBodies', 'CatchBody')];
            case ids.ThrowId:
                return list('Throw', 'NumOperands', 'Operand');
            case ids.TupleMakeId:
                return list('TupleMake', 'NumOperands', 'Operand');
            case ids.TupleExtractId:
                return fields('TupleExtract', 'Tuple');
            case ids.NopId:
            case ids.LocalGetId:
            case ids.GlobalGetId:
            case ids.ConstId:
            case ids.MemorySizeId:
            case ids.UnreachableId:
            case ids.PopId:
            case ids.RefNullId:
            case ids.RefFuncId:
            case ids.DataDropId:
            case ids.ElemDropId:
            case ids.TableSizeId:
            case ids.RethrowId:
                return [];
            case ids.AtomicRMWId:
            case ids.AtomicCmpxchgId:
            case ids.AtomicWaitId:
            case ids.AtomicNotifyId:
            case ids.AtomicFenceId:
                throw new ProgramRefused('invalid', 'atomic instructions (threads) are refused: their results depend on scheduling');
            default:
                throw new ProgramRefused('invalid', `an instruction the meter does not support (binaryen expression id ${id})`);
        }
    }
}

function splat(lane: number[], lanes: number): number[] {
    return Array.from({ length: lanes }, () => lane).flat();
}
