/**
 * The reference interpreter: runs a job program instruction by instruction under the semantics of
 * docs/metering.md (fuel charged per region and at run time by the cost table, the call-depth
 * budget in weight units, canonical NaNs, the ABI's host functions), with no engine underneath.
 * It must give exactly what the metered V8 run gives (client/compute/programs.ts `runHere`): the
 * same verdict, output and fuel; tests/interpreter.spec.ts compares them. It also counts steps
 * (instructions executed), the index the dispute game bisects by (docs/disputes.md). It runs only
 * where a run must be replayed step by step; workers compute with V8.
 *
 * Values are kept as their bits, two 32-bit halves each (i32 and f32 in the low half), so loads,
 * stores and moves keep every bit, a NaN's payload included; float arithmetic goes through
 * JavaScript's doubles (exact for binary64, and for binary32 through Math.fround, since binary64
 * holds more than twice binary32's precision plus two bits) and canonicalizes NaN results.
 */
import { checkProgram, memoryCapPages, ProgramRefused, wasm } from '../compute/abi';
import {
    FUEL_PER_BYTE,
    FUEL_PER_GROW,
    FUEL_PER_HOST_CALL,
    FUEL_PER_PAGE,
    functionCosts,
    FunctionCosts,
    MAX_FUEL,
    STACK_BUDGET,
} from '../compute/meter-costs';
import { ComputeJob, ProgramFailed, ProgramFailureReason, ProgramResult } from '../compute/types';
import { Branch, Code, emptyModule, Module, readModule } from './module';

export type Interpreted = ProgramResult & { steps: bigint };

export interface InterpretOptions {
    /** The output cap, bytes; default MAX_OUTPUT_BYTES (the pool's). */
    maxOutputBytes?: number;
    /** The call-depth budget, weight units; default STACK_BUDGET. */
    stackBudget?: number;
}

const PAGE = 65_536;
/** The output cap: 16 MiB, the pool's default and the output tree's capacity. */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const CANONICAL_F32 = 0x7fc00000;
const CANONICAL_F64_HI = 0x7ff80000;

class Trap extends Error {
    constructor(
        readonly reason: ProgramFailureReason,
        message: string,
    ) {
        super(message);
    }
}

const trap = (message: string) => new Trap('trap', message);

// scratch for moving bits between representations
const scratch = new ArrayBuffer(8);
const S32 = new Int32Array(scratch);
const SF32 = new Float32Array(scratch);
const SF64 = new Float64Array(scratch);
const SI64 = new BigInt64Array(scratch);

const f32OfBits = (bits: number): number => {
    S32[0] = bits;
    return SF32[0];
};
const bitsOfF32 = (x: number): number => {
    if (x !== x) return CANONICAL_F32;
    SF32[0] = x;
    return S32[0];
};
const f64Of = (lo: number, hi: number): number => {
    S32[0] = lo;
    S32[1] = hi;
    return SF64[0];
};
const i64Of = (lo: number, hi: number): bigint => {
    S32[0] = lo;
    S32[1] = hi;
    return SI64[0];
};

/** Round half to even, for `nearest` (x already a float of the right width). */
function nearest(x: number): number {
    if (!Number.isFinite(x) || x === 0) return x;
    const r = Math.round(x);
    const even = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    return even === 0 ? (x < 0 ? -0 : 0) : even;
}

/** i64 (signed or not) to the nearest f32, rounded once (through 53 bits with a sticky bit). */
function f32OfI64(v: bigint): number {
    const negative = v < 0n;
    let m = negative ? -v : v;
    let shift = 0n;
    const bits = BigInt(m.toString(2).length);
    if (bits > 53n) {
        shift = bits - 53n;
        const sticky = m & ((1n << shift) - 1n) ? 1n : 0n;
        m = (m >> shift) | sticky;
    }
    const value = Number(m) * 2 ** Number(shift);
    return Math.fround(negative ? -value : value);
}

/** Truncates `x` toward zero into [lo, hi], or traps (or saturates when `sat`). */
function truncate(x: number, lo: number, hi: number, sat: boolean): number {
    if (x !== x) {
        if (sat) return 0;
        throw trap('invalid conversion to integer');
    }
    const t = Math.trunc(x);
    if (t < lo || t > hi) {
        if (sat) return t < lo ? lo : hi;
        throw trap('integer overflow');
    }
    return t;
}

function truncate64(x: number, signed: boolean, sat: boolean): bigint {
    if (x !== x) {
        if (sat) return 0n;
        throw trap('invalid conversion to integer');
    }
    const t = Math.trunc(x);
    const [lo, hiExclusive] = signed ? [-(2 ** 63), 2 ** 63] : [0, 2 ** 64];
    if (t < lo || t >= hiExclusive) {
        if (!sat) throw trap('integer overflow');
        return t < lo ? (signed ? -(2n ** 63n) : 0n) : signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
    }
    return BigInt(t);
}

/** A machine's status (the state's first field, docs/disputes.md): the entry to call next, the entry running, or halted. */
export const STATUS = {
    /** The start function is called by the next step. */
    callStart: 0,
    /** `run` is called by the next step. */
    callRun: 1,
    inStart: 2,
    inRun: 3,
    /** `run` returned: the output is the result. */
    returned: 4,
    /** The run failed: `reason` says why. */
    failed: 5,
} as const;

/** What a bulk step moves (STATUS's neighbour in the state): nothing, or the operation under way. */
export const BULK = { none: 0, init: 1, copyForward: 2, copyBackward: 3, fill: 4, readInput: 5, writeOutput: 6 } as const;

/** Chunks of a bulk operation: one per 64-byte leaf of the destination it writes. */
export const CHUNK_BYTES = 64;

/** How many chunks a bulk operation of `n` bytes to `dst` takes: each stops at a leaf boundary of the destination. */
export function chunksOf(dst: number, n: number): number {
    return n === 0 ? 0 : Math.floor((dst + n - 1) / CHUNK_BYTES) - Math.floor(dst / CHUNK_BYTES) + 1;
}

/** Builds the machine for a job, or says why the program is refused before it runs. */
export function load(job: ComputeJob, options: InterpretOptions = {}): Machine | ProgramFailed {
    const limit = job.fuel;
    if (typeof limit !== 'bigint' || limit < 0n || limit > MAX_FUEL) throw new RangeError(`fuel must be a bigint from 0 to ${MAX_FUEL}`);
    try {
        if (!wasm.validate(job.program)) throw new ProgramRefused('invalid', 'not a valid WebAssembly module');
        const shape = checkProgram(job.program, memoryCapPages(job.maxMemoryMb));
        const costs = functionCosts(job.program);
        const module = readModule(job.program);
        return new Machine(
            module,
            costs,
            job.input,
            shape.memory,
            limit,
            options.stackBudget ?? STACK_BUDGET,
            options.maxOutputBytes ?? MAX_OUTPUT_BYTES,
        );
    } catch (e) {
        if (e instanceof ProgramRefused) return { status: 'failed', reason: e.reason, message: e.message, fuel: 0n };
        throw e;
    }
}

/** Runs a job program on the reference interpreter. */
export function interpret(job: ComputeJob, options: InterpretOptions = {}): Interpreted {
    const machine = load(job, options);
    if (!(machine instanceof Machine)) return { ...machine, steps: 0n };
    const started = performance.now();
    machine.run();
    return machine.result(performance.now() - started);
}

/**
 * A numeric instruction (0x45..0xc4, or 0xfc00..0xfc07 for the saturating truncations) on its
 * operands' bits (uint64, i32 and f32 in the low half), as the machine executes it: the result's
 * bits, or the reason it trapped. For checking other implementations of the same semantics (the
 * verifier contract's).
 */
export function evaluateNumeric(op: number, operands: readonly bigint[]): bigint | ProgramFailureReason {
    evaluator ??= new Machine(emptyModule(), [], new Uint8Array(0), { initial: 0, maximum: 0 }, 0n, 0, 0);
    return evaluator.evaluate(op, operands);
}

let evaluator: Machine | undefined;

/** A running state another implementation reached, for Machine.assume. */
export interface Assumed {
    status: number;
    steps: number;
    fuel: bigint;
    depth: number;
    memory: Uint8Array;
    /** Each global's bits. */
    globals: readonly bigint[];
    dropped: readonly boolean[];
    output: Uint8Array;
    /** Every frame's operands, bottom first: value i is (stack[2i], stack[2i + 1]). */
    stack: Int32Array;
    /** Bottom first: the function, its next instruction, its locals, and how many operands it has on the stack. */
    frames: { func: number; pc: number; locals: Int32Array; height: number }[];
}

/** A frame of the call stack. Frames above the top stay as they were left: they are part of the state. */
export interface Frame {
    func: number;
    code: Code;
    /** Where this frame goes on: its next instruction (while a callee runs, the one after the call). */
    pc: number;
    /** Its locals: local i is (locals[2i], locals[2i + 1]). */
    locals: Int32Array;
    /** The value stack's height below its operands. */
    base: number;
    results: number;
    /** Its call-depth weight (0 for a simple function). */
    weight: number;
    /** The caller's function and where it goes on; -1 and 0 for an entry. */
    retFunc: number;
    retPc: number;
}

/** A frame: every frame is made here, so that all have one shape. */
function frameOf(
    func: number,
    code: Code,
    pc: number,
    locals: Int32Array,
    base: number,
    results: number,
    weight: number,
    retFunc: number,
    retPc: number,
): Frame {
    return { func, code, pc, locals, base, results, weight, retFunc, retPc };
}

/**
 * The machine: every part of its state is a field here, so a run can stop after any step and go
 * on later (`run(stopAt)`), and client/dispute/state.ts can build the state's cells at that step.
 * A step is one instruction, one entry call, or one chunk of a bulk operation; a halted machine
 * (returned or failed) steps no further.
 */
export class Machine {
    status: number;
    reason: ProgramFailureReason | undefined;
    message = '';
    private used = 0;
    private usedBig: bigint | undefined;
    steps = 0;
    private readonly limitN: number;
    depth = 0;
    /** The memory's size in bytes (a whole number of pages); `bytes` may be longer, zero past `size`. */
    size: number;
    bytes: Uint8Array;
    private view: DataView;
    readonly maxBytes: number;
    /** Global i is (globals[2i], globals[2i + 1]). */
    readonly globals: Int32Array;
    readonly tables: (number | null)[][];
    readonly dropped: boolean[];
    /** The output so far: its first `outLength` bytes. */
    out = new Uint8Array(1024);
    outLength = 0;
    /** The value stack: value i is (st[2i], st[2i + 1]); values at `sp` and above are left as they were. */
    st = new Int32Array(2 * 4096);
    sp = 0;
    /** The call stack: the first `fp` frames are live. */
    readonly frames: Frame[] = [];
    fp = 0;
    /**
     * The bulk operation under way (BULK), its destination (in memory, or the output for
     * write_output), its source, the bytes left and a value (fill's byte, init's segment).
     */
    bulk: number = BULK.none;
    bulkDst = 0;
    bulkSrc = 0;
    bulkLeft = 0;
    bulkValue = 0;
    private stopAt = Infinity;
    /** The step under way's value stack height, fuel, call depth and pc before it began: a trap puts them back. */
    private sp0 = 0;
    private used0 = 0;
    private big0: bigint | undefined;
    private depth0 = 0;
    private pc0 = 0;

    constructor(
        readonly m: Module,
        readonly costs: FunctionCosts[],
        readonly input: Uint8Array,
        memory: { initial: number; maximum: number },
        readonly limit: bigint,
        readonly budget: number,
        readonly maxOutput: number,
        source?: Machine,
        copyMemory = true,
    ) {
        this.limitN = limit > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(limit);
        this.size = memory.initial * PAGE;
        this.maxBytes = memory.maximum * PAGE;
        this.bytes = new Uint8Array(this.size);
        this.view = new DataView(this.bytes.buffer);
        this.globals = new Int32Array(2 * m.globals.length);
        m.globals.forEach((g, i) => {
            this.globals[2 * i] = Number(BigInt.asIntN(32, g.init));
            this.globals[2 * i + 1] = Number(BigInt.asIntN(32, g.init >> 32n));
        });
        this.tables = m.tables.map((t) => new Array<number | null>(t.min).fill(null));
        this.dropped = m.data.map(() => false);
        this.status = m.start === undefined ? STATUS.callRun : STATUS.callStart;
        if (source !== undefined) {
            // a copy (clone): every field as the source has it, what a step writes copied; built
            // by this constructor so that copies and originals share one shape, which keeps the
            // interpreter's loop fast
            Object.assign(this, source);
            this.bytes = copyMemory ? source.bytes.slice() : new Uint8Array(0);
            this.view = new DataView(this.bytes.buffer);
            this.globals = source.globals.slice();
            this.dropped = source.dropped.slice();
            this.out = source.out.slice();
            this.st = source.st.slice();
            this.frames = source.frames.map((f) =>
                frameOf(f.func, f.code, f.pc, f.locals.slice(), f.base, f.results, f.weight, f.retFunc, f.retPc),
            );
            return;
        }
        try {
            this.instantiate();
        } catch (e) {
            if (!(e instanceof Trap)) throw e;
            this.fail(e);
        }
    }

    /**
     * Halts this machine, loaded and not yet run, as a metered V8 run of its job ended (its halted
     * state, client/dispute/state.ts): that run's verdict, memory, globals (as bits) and output.
     * The data segments are left as instantiation left them, which is right for a program that
     * has no `data.drop` (the caller's to check); the step count stays 0 (a halted state has none).
     * The machine takes `end.memory` as its own (the caller's copy of the run's memory).
     */
    endAs(result: ProgramResult, end: { memory: Uint8Array; globals: readonly bigint[]; output: Uint8Array }): void {
        if (this.steps !== 0 || this.halted) throw new Error("only a machine that has not started can take a run's end");
        if (end.globals.length !== this.globals.length / 2) throw new RangeError('the run ended with another number of globals');
        if (end.memory.length % PAGE !== 0 || end.memory.length > this.maxBytes)
            throw new RangeError('the run ended with a memory of another shape');
        this.bytes = end.memory;
        this.view = new DataView(this.bytes.buffer);
        this.size = end.memory.length;
        end.globals.forEach((g, i) => {
            this.globals[2 * i] = Number(BigInt.asIntN(32, g));
            this.globals[2 * i + 1] = Number(BigInt.asIntN(32, g >> 32n));
        });
        this.out = end.output.slice();
        this.outLength = end.output.length;
        if (result.status === 'ok') {
            this.status = STATUS.returned;
            this.setFuel(result.fuel);
        } else {
            this.status = STATUS.failed;
            this.reason = result.reason;
            this.message = result.message;
        }
    }

    /**
     * Puts this machine, loaded and not yet run, in a running state that another implementation of
     * the same semantics reached (client/dispute/compiled.ts): no bulk operation under way, the
     * value stack made of each frame's operands in turn. The machine takes `s.memory` as its own.
     */
    assume(s: Assumed): void {
        if (this.steps !== 0 || this.halted) throw new Error('only a machine that has not started can take a state');
        if (s.memory.length % PAGE !== 0 || s.memory.length > this.maxBytes) throw new RangeError('a memory of another shape');
        if (s.globals.length !== this.globals.length / 2 || s.dropped.length !== this.dropped.length)
            throw new RangeError('another number of globals or data segments');
        this.status = s.status;
        this.steps = s.steps;
        this.setFuel(s.fuel);
        this.depth = s.depth;
        this.bytes = s.memory;
        this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
        this.size = s.memory.length;
        s.globals.forEach((g, i) => {
            this.globals[2 * i] = Number(BigInt.asIntN(32, g));
            this.globals[2 * i + 1] = Number(BigInt.asIntN(32, g >> 32n));
        });
        s.dropped.forEach((d, i) => (this.dropped[i] = d));
        this.out = s.output.length > 0 ? s.output.slice() : new Uint8Array(1024);
        this.outLength = s.output.length;
        const imported = this.m.hosts.length;
        let sp = 0;
        this.fp = 0;
        s.frames.forEach((f, k) => {
            const i = f.func - imported;
            const code = this.m.codes[i];
            if (code === undefined) throw new RangeError(`no function ${f.func}`);
            const weight = this.costs[i].simple ? 0 : this.costs[i].weight;
            const caller = s.frames[k - 1];
            const results = this.m.types[this.m.funcTypes[f.func]].results.length;
            this.frames[this.fp++] = frameOf(f.func, code, f.pc, f.locals, sp, results, weight, caller?.func ?? -1, caller?.pc ?? 0);
            sp += f.height;
        });
        if (s.stack.length !== 2 * sp) throw new RangeError('the value stack does not match the frames');
        while (this.st.length < s.stack.length) this.grow();
        this.st.set(s.stack);
        this.sp = sp;
    }

    /** Sets the fuel used: a number while it is a safe integer, else a bigint (as `charge` keeps it). */
    private setFuel(fuel: bigint): void {
        this.usedBig = fuel <= BigInt(Number.MAX_SAFE_INTEGER) ? undefined : fuel;
        this.used = this.usedBig === undefined ? Number(fuel) : 0;
    }

    /** Halts the machine as failed by `e`. */
    private fail(e: Trap): void {
        this.status = STATUS.failed;
        this.reason = e.reason;
        this.message = e.message;
    }

    /**
     * An independent copy of the machine at this step (a checkpoint): what a step writes is
     * copied, what no step changes (the module, the costs, the input, the tables) is shared.
     * Without `memory`, the copy has none yet: for a machine about to `assume` a state.
     */
    clone(memory = true): Machine {
        return new Machine(
            this.m,
            this.costs,
            this.input,
            { initial: 0, maximum: this.maxBytes / PAGE },
            this.limit,
            this.budget,
            this.maxOutput,
            this,
            memory,
        );
    }

    get halted(): boolean {
        return this.status >= STATUS.returned;
    }

    output(): Uint8Array {
        return this.out.slice(0, this.outLength);
    }

    /** What the run gave: the output, or the failure (charged the whole limit); `ms` is the caller's timing. */
    result(ms = 0): Interpreted {
        const steps = BigInt(this.steps);
        if (this.status === STATUS.returned) return { status: 'ok', output: this.output(), ms, fuel: this.fuelUsed(), steps };
        if (this.status !== STATUS.failed) throw new Error('the machine has not halted');
        // a failure at instantiation ran nothing; one after the first step is charged the whole limit
        return { status: 'failed', reason: this.reason!, message: this.message, fuel: this.steps === 0 ? 0n : this.limit, steps };
    }

    /** Element and data segments, as instantiation applies them (a segment out of bounds traps). */
    private instantiate(): void {
        for (const e of this.m.elements) {
            if (e.offset === undefined) continue;
            const table = this.tables[e.table];
            if (table === undefined || e.offset + e.funcs.length > table.length) throw trap('table initializer is out of bounds');
            e.funcs.forEach((f, i) => (table[e.offset! + i] = f));
        }
        this.m.data.forEach((d, i) => {
            if (d.offset === undefined) return;
            if (d.offset + d.bytes.length > this.size) throw trap('data segment is out of bounds');
            this.bytes.set(d.bytes, d.offset);
            this.dropped[i] = true; // an active segment is dropped once applied
        });
    }

    /** Fuel used, exact: a number while it is a safe integer, then a bigint. */
    fuelUsed(): bigint {
        return this.usedBig ?? BigInt(this.used);
    }

    private charge(fuel: number): void {
        if (this.usedBig === undefined && this.used + fuel <= Number.MAX_SAFE_INTEGER) {
            this.used += fuel;
            if (this.used > this.limitN) throw new Trap('fuel', 'the fuel ran out');
            return;
        }
        this.usedBig = (this.usedBig ?? BigInt(this.used)) + BigInt(fuel);
        if (this.usedBig > this.limit) throw new Trap('fuel', 'the fuel ran out');
    }

    // ─── the value stack ─────────────────────────────────────────────────────────────────────

    private grow(): void {
        const next = new Int32Array(this.st.length * 2);
        next.set(this.st);
        this.st = next;
    }

    private push(lo: number, hi = 0): void {
        if (2 * this.sp + 2 > this.st.length) this.grow();
        this.st[2 * this.sp] = lo;
        this.st[2 * this.sp + 1] = hi;
        this.sp++;
    }

    private pushI64(v: bigint): void {
        SI64[0] = BigInt.asIntN(64, v);
        this.push(S32[0], S32[1]);
    }

    private pushF64(x: number): void {
        if (x !== x) this.push(0, CANONICAL_F64_HI);
        else {
            SF64[0] = x;
            this.push(S32[0], S32[1]);
        }
    }

    private popI32(): number {
        this.sp--;
        return this.st[2 * this.sp];
    }

    private popI64(): bigint {
        this.sp--;
        return i64Of(this.st[2 * this.sp], this.st[2 * this.sp + 1]);
    }

    private popF32(): number {
        return f32OfBits(this.popI32());
    }

    private popF64(): number {
        this.sp--;
        return f64Of(this.st[2 * this.sp], this.st[2 * this.sp + 1]);
    }

    // ─── memory ──────────────────────────────────────────────────────────────────────────────

    private address(base: number, offset: number, size: number): number {
        const ea = (base >>> 0) + (offset >>> 0);
        if (ea + size > this.size) throw trap('memory access out of bounds');
        return ea;
    }

    private memoryGrow(pages: number): number {
        const before = this.size / PAGE;
        const after = this.size + pages * PAGE;
        if (after > this.maxBytes) return -1;
        if (after > this.bytes.length) {
            const capacity = Math.min(this.maxBytes, Math.max(after, 2 * this.bytes.length));
            const next = new Uint8Array(capacity);
            next.set(this.bytes.subarray(0, this.size));
            this.bytes = next;
            this.view = new DataView(next.buffer);
        }
        this.size = after;
        return before;
    }

    // ─── bulk operations ─────────────────────────────────────────────────────────────────────

    /**
     * Starts a bulk operation whose checks and fuel the current step has done: it takes one more
     * step per chunk. Done at once when those steps all fit before the machine must stop.
     */
    private startBulk(kind: number, dst: number, src: number, n: number, value: number): void {
        if (n === 0) return;
        const chunks = chunksOf(dst, n);
        if (this.steps + chunks <= this.stopAt) {
            this.steps += chunks;
            this.move(kind, dst, src, n, value);
            return;
        }
        this.bulk = kind;
        this.bulkDst = dst;
        this.bulkSrc = src;
        this.bulkLeft = n;
        this.bulkValue = value;
    }

    /** One chunk of the bulk operation under way: up to the destination's next leaf boundary (copying backward, down to its previous one). */
    private chunk(): void {
        const left = this.bulkLeft;
        if (this.bulk === BULK.copyBackward) {
            const end = this.bulkDst + left;
            const n = Math.min(left, ((end - 1) % CHUNK_BYTES) + 1);
            this.move(BULK.copyBackward, end - n, this.bulkSrc + left - n, n, 0);
            this.bulkLeft -= n;
        } else {
            const n = Math.min(left, CHUNK_BYTES - (this.bulkDst % CHUNK_BYTES));
            this.move(this.bulk, this.bulkDst, this.bulkSrc, n, this.bulkValue);
            this.bulkDst += n;
            this.bulkSrc += n;
            this.bulkLeft -= n;
        }
        if (this.bulkLeft === 0) {
            this.bulk = BULK.none;
            this.bulkDst = this.bulkSrc = this.bulkValue = 0;
        }
    }

    /** Moves `n` bytes for a bulk operation (checked before it started). */
    private move(kind: number, dst: number, src: number, n: number, value: number): void {
        switch (kind) {
            case BULK.init:
                this.bytes.set(this.m.data[value].bytes.subarray(src, src + n), dst);
                return;
            case BULK.copyForward:
            case BULK.copyBackward:
                this.bytes.copyWithin(dst, src, src + n);
                return;
            case BULK.fill:
                this.bytes.fill(value, dst, dst + n);
                return;
            case BULK.readInput:
                this.bytes.set(this.input.subarray(src, src + n), dst);
                return;
            case BULK.writeOutput: {
                const end = this.outLength + n;
                if (end > this.out.length) {
                    const next = new Uint8Array(Math.min(this.maxOutput, Math.max(end, 2 * this.out.length)));
                    next.set(this.out.subarray(0, this.outLength));
                    this.out = next;
                }
                this.out.set(this.bytes.subarray(src, src + n), this.outLength);
                this.outLength = end;
                return;
            }
        }
    }

    // ─── host functions ──────────────────────────────────────────────────────────────────────

    private host(index: number): void {
        switch (this.m.hosts[index]) {
            case 'input_size':
                this.charge(FUEL_PER_HOST_CALL);
                this.push(this.input.length | 0);
                return;
            case 'read_input': {
                const len = this.popI32() >>> 0;
                const offset = this.popI32() >>> 0;
                const dst = this.popI32() >>> 0;
                this.charge(FUEL_PER_HOST_CALL + len * FUEL_PER_BYTE);
                const start = Math.min(offset, this.input.length);
                const n = Math.min(len, this.input.length - start);
                if (dst + n > this.size) throw trap('read_input: memory access out of bounds');
                this.push(n);
                this.startBulk(BULK.readInput, dst, start, n, 0);
                return;
            }
            case 'write_output': {
                const len = this.popI32() >>> 0;
                const src = this.popI32() >>> 0;
                this.charge(FUEL_PER_HOST_CALL + len * FUEL_PER_BYTE);
                if (src + len > this.size) throw trap('write_output: memory access out of bounds');
                if (this.outLength + len > this.maxOutput)
                    throw new Trap('output-limit', `output exceeds the cap of ${this.maxOutput} bytes`);
                this.startBulk(BULK.writeOutput, this.outLength, src, len, 0);
                return;
            }
            case 'abort':
                throw trap('abort');
        }
    }

    // ─── execution ───────────────────────────────────────────────────────────────────────────

    /** Runs until the machine halts or has taken `stopAt` steps. */
    run(stopAt = Infinity): void {
        this.stopAt = stopAt;
        while (!this.halted && this.steps < stopAt) {
            try {
                this.execute();
            } catch (e) {
                if (!(e instanceof Trap)) throw e;
                // a trapping step changes nothing but the status and the step count
                this.sp = this.sp0;
                this.used = this.used0;
                this.usedBig = this.big0;
                this.depth = this.depth0;
                if (this.fp > 0) this.frames[this.fp - 1].pc = this.pc0;
                this.fail(e);
            }
        }
    }

    /** Calls function `func` with its arguments on the stack; `charged`: whether its entry fuel is charged (not for a direct call to a simple function, whose caller's region paid it). */
    private enter(func: number, charged: boolean, retFunc: number, retPc: number): void {
        const i = func - this.m.hosts.length;
        const cost = this.costs[i];
        const code = this.m.codes[i];
        const type = this.m.types[this.m.funcTypes[func]];
        if (charged) this.charge(cost.entry);
        let weight = 0;
        if (!cost.simple) {
            weight = cost.weight;
            this.depth += weight;
            if (this.depth > this.budget) throw new Trap('stack', 'the call depth passed the budget');
        }
        const params = type.params.length;
        const locals = new Int32Array(2 * (params + code.locals.length));
        this.sp -= params;
        locals.set(this.st.subarray(2 * this.sp, 2 * (this.sp + params)));
        this.frames[this.fp++] = frameOf(func, code, 0, locals, this.sp, type.results.length, weight, retFunc, retPc);
    }

    /** Returns from the top frame; its results are the top values. */
    private leave(): void {
        const f = this.frames[--this.fp];
        const from = this.sp - f.results;
        this.st.copyWithin(2 * f.base, 2 * from, 2 * this.sp);
        this.sp = f.base + f.results;
        this.depth -= f.weight;
        if (this.fp === 0) this.status = this.status === STATUS.inStart ? STATUS.callRun : STATUS.returned;
    }

    /** Takes steps until `stopAt`, a halt, or a trap (thrown). */
    private execute(): void {
        const m = this.m;
        const imported = m.hosts.length;
        const stopAt = this.stopAt;
        const st = () => this.st;
        while (this.steps < stopAt) {
            if (this.bulk !== BULK.none) {
                this.steps++;
                this.chunk();
                continue;
            }
            if (this.fp === 0) {
                if (this.halted) return;
                this.steps++;
                this.sp0 = this.sp;
                this.used0 = this.used;
                this.big0 = this.usedBig;
                this.depth0 = this.depth;
                const entry = this.status === STATUS.callStart ? m.start! : m.runIndex;
                this.status = this.status === STATUS.callStart ? STATUS.inStart : STATUS.inRun;
                this.enter(entry, true, -1, 0);
                continue;
            }
            const f = this.frames[this.fp - 1];
            const code = f.code;
            this.sp0 = this.sp;
            this.used0 = this.used;
            this.big0 = this.usedBig;
            this.depth0 = this.depth;
            this.pc0 = f.pc;
            const pc = f.pc++;
            const op = code.op[pc];
            const a = code.a[pc];
            this.steps++;
            switch (op) {
                case 0x00:
                    throw trap('unreachable');
                case 0x01:
                case 0x02:
                    break;
                case 0x03:
                    this.charge(this.costs[f.func - imported].loops[a]);
                    break;
                case 0x04:
                    if (this.popI32() === 0) f.pc = a;
                    break;
                case 0x05:
                    f.pc = a;
                    break;
                case 0x0b:
                    if (a === 1) this.leave();
                    break;
                case 0x0c:
                case 0x0f:
                    this.branch(f, code.branches[a]);
                    break;
                case 0x0d:
                    if (this.popI32() !== 0) this.branch(f, code.branches[a]);
                    break;
                case 0x0e: {
                    const i = this.popI32() >>> 0;
                    this.branch(f, code.branches[a + Math.min(i, code.b[pc] - 1)]);
                    break;
                }
                case 0x10:
                    if (a < imported) this.host(a);
                    else this.enter(a, !this.costs[a - imported].simple, f.func, f.pc);
                    break;
                case 0x11: {
                    const i = this.popI32() >>> 0;
                    const table = this.tables[code.b[pc]];
                    if (table === undefined || i >= table.length) throw trap('table index is out of bounds');
                    const func = table[i];
                    if (func === null || func === undefined) throw trap('null function');
                    const want = m.types[a];
                    const got = m.types[m.funcTypes[func]];
                    if (!sameType(want, got)) throw trap('function signature mismatch');
                    if (func < imported) this.host(func);
                    else this.enter(func, true, f.func, f.pc);
                    break;
                }
                case 0x1a:
                    this.sp--;
                    break;
                case 0x1b: {
                    const cond = this.popI32();
                    this.sp--;
                    if (cond === 0) {
                        const s = st();
                        s[2 * this.sp - 2] = s[2 * this.sp];
                        s[2 * this.sp - 1] = s[2 * this.sp + 1];
                    }
                    break;
                }
                case 0x20:
                    this.push(f.locals[2 * a], f.locals[2 * a + 1]);
                    break;
                case 0x21:
                case 0x22: {
                    const s = st();
                    f.locals[2 * a] = s[2 * this.sp - 2];
                    f.locals[2 * a + 1] = s[2 * this.sp - 1];
                    if (op === 0x21) this.sp--;
                    break;
                }
                case 0x23:
                    this.push(this.globals[2 * a], this.globals[2 * a + 1]);
                    break;
                case 0x24:
                    this.sp--;
                    this.globals[2 * a] = this.st[2 * this.sp];
                    this.globals[2 * a + 1] = this.st[2 * this.sp + 1];
                    break;
                case 0x3f:
                    this.push(this.size / PAGE);
                    break;
                case 0x40: {
                    const pages = this.popI32() >>> 0;
                    this.charge(FUEL_PER_GROW + pages * FUEL_PER_PAGE);
                    this.push(this.memoryGrow(pages));
                    break;
                }
                case 0x41:
                    this.push(a);
                    break;
                case 0x42:
                case 0x44:
                    this.push(a, code.b[pc]);
                    break;
                case 0x43:
                    this.push(a);
                    break;
                default:
                    if (op >= 0x28 && op <= 0x3e) this.memoryOp(op, a);
                    else if (op >= 0xfc00) this.prefixed(op & 0xff, a);
                    else this.numeric(op);
            }
            if (this.fp === 0) return; // an entry returned
        }
    }

    /** Takes a resolved branch from frame `f`: keeps its values at the label's height, then jumps (or returns). */
    private branch(f: Frame, br: Branch): void {
        // the loop's fuel first: a step that traps must not have moved anything
        if (br.loop >= 0) this.charge(this.costs[f.func - this.m.hosts.length].loops[br.loop]);
        const height = f.base + br.height;
        const from = this.sp - br.arity;
        this.st.copyWithin(2 * height, 2 * from, 2 * this.sp);
        this.sp = height + br.arity;
        if (br.target < 0) return this.leave();
        f.pc = br.target;
    }

    private memoryOp(op: number, offset: number): void {
        const v = this.view;
        if (op <= 0x35) {
            const base = this.popI32();
            switch (op) {
                case 0x28:
                case 0x2a:
                    this.push(v.getInt32(this.address(base, offset, 4), true));
                    return;
                case 0x29:
                case 0x2b: {
                    const ea = this.address(base, offset, 8);
                    this.push(v.getInt32(ea, true), v.getInt32(ea + 4, true));
                    return;
                }
                case 0x2c:
                    this.push(v.getInt8(this.address(base, offset, 1)));
                    return;
                case 0x2d:
                    this.push(v.getUint8(this.address(base, offset, 1)));
                    return;
                case 0x2e:
                    this.push(v.getInt16(this.address(base, offset, 2), true));
                    return;
                case 0x2f:
                    this.push(v.getUint16(this.address(base, offset, 2), true));
                    return;
                case 0x30:
                    this.pushI64(BigInt(v.getInt8(this.address(base, offset, 1))));
                    return;
                case 0x31:
                    this.pushI64(BigInt(v.getUint8(this.address(base, offset, 1))));
                    return;
                case 0x32:
                    this.pushI64(BigInt(v.getInt16(this.address(base, offset, 2), true)));
                    return;
                case 0x33:
                    this.pushI64(BigInt(v.getUint16(this.address(base, offset, 2), true)));
                    return;
                case 0x34:
                    this.pushI64(BigInt(v.getInt32(this.address(base, offset, 4), true)));
                    return;
                case 0x35:
                    this.pushI64(BigInt(v.getUint32(this.address(base, offset, 4), true)));
                    return;
            }
        }
        this.sp--;
        const lo = this.st[2 * this.sp];
        const hi = this.st[2 * this.sp + 1];
        const base = this.popI32();
        switch (op) {
            case 0x36:
            case 0x38:
                v.setInt32(this.address(base, offset, 4), lo, true);
                return;
            case 0x37:
            case 0x39: {
                const ea = this.address(base, offset, 8);
                v.setInt32(ea, lo, true);
                v.setInt32(ea + 4, hi, true);
                return;
            }
            case 0x3a:
            case 0x3c:
                v.setInt8(this.address(base, offset, 1), lo);
                return;
            case 0x3b:
            case 0x3d:
                v.setInt16(this.address(base, offset, 2), lo, true);
                return;
            case 0x3e:
                v.setInt32(this.address(base, offset, 4), lo, true);
                return;
        }
    }

    /** See evaluateNumeric. */
    evaluate(op: number, operands: readonly bigint[]): bigint | ProgramFailureReason {
        this.sp = 0;
        for (const v of operands) this.pushI64(v);
        try {
            if (op >= 0xfc00) this.prefixed(op & 0xff, 0);
            else this.numeric(op);
        } catch (e) {
            if (e instanceof Trap) return e.reason;
            throw e;
        }
        this.sp--;
        return BigInt.asUintN(64, i64Of(this.st[2 * this.sp], this.st[2 * this.sp + 1]));
    }

    private prefixed(sub: number, a: number): void {
        if (sub <= 7) {
            // saturating truncation
            const signed = sub % 2 === 0;
            if (sub <= 3) {
                const x = sub <= 1 ? this.popF32() : this.popF64();
                this.push(signed ? truncate(x, -2147483648, 2147483647, true) : truncate(x, 0, 4294967295, true) | 0);
            } else {
                const x = sub <= 5 ? this.popF32() : this.popF64();
                this.pushI64(truncate64(x, signed, true));
            }
            return;
        }
        if (sub === 9) {
            this.dropped[a] = true;
            return;
        }
        const n = this.popI32() >>> 0;
        const src = this.popI32();
        const dst = this.popI32() >>> 0;
        this.charge(n * FUEL_PER_BYTE);
        switch (sub) {
            case 8: {
                const length = this.dropped[a] ? 0 : this.m.data[a].bytes.length;
                if ((src >>> 0) + n > length || dst + n > this.size) throw trap('memory access out of bounds');
                return this.startBulk(BULK.init, dst, src >>> 0, n, a);
            }
            case 10:
                if ((src >>> 0) + n > this.size || dst + n > this.size) throw trap('memory access out of bounds');
                return this.startBulk(dst > src >>> 0 ? BULK.copyBackward : BULK.copyForward, dst, src >>> 0, n, 0);
            case 11:
                if (dst + n > this.size) throw trap('memory access out of bounds');
                return this.startBulk(BULK.fill, dst, 0, n, src & 0xff);
        }
    }

    private numeric(op: number): void {
        if (op <= 0x66) return this.compare(op);
        if (op <= 0x78) return this.i32op(op);
        if (op <= 0x8a) return this.i64op(op);
        if (op <= 0x98) return this.f32op(op);
        if (op <= 0xa6) return this.f64op(op);
        return this.convert(op);
    }

    private compare(op: number): void {
        if (op === 0x45) return this.push(this.popI32() === 0 ? 1 : 0);
        if (op === 0x50) return this.push(this.popI64() === 0n ? 1 : 0);
        let r: boolean;
        if (op <= 0x4f) {
            const y = this.popI32();
            const x = this.popI32();
            const [ux, uy] = [x >>> 0, y >>> 0];
            r = [x === y, x !== y, x < y, ux < uy, x > y, ux > uy, x <= y, ux <= uy, x >= y, ux >= uy][op - 0x46];
        } else if (op <= 0x5a) {
            const y = this.popI64();
            const x = this.popI64();
            const [ux, uy] = [BigInt.asUintN(64, x), BigInt.asUintN(64, y)];
            r = [x === y, x !== y, x < y, ux < uy, x > y, ux > uy, x <= y, ux <= uy, x >= y, ux >= uy][op - 0x51];
        } else {
            const wide = op >= 0x61;
            const y = wide ? this.popF64() : this.popF32();
            const x = wide ? this.popF64() : this.popF32();
            r = [x === y, x !== y, x < y, x > y, x <= y, x >= y][op - (wide ? 0x61 : 0x5b)];
        }
        this.push(r ? 1 : 0);
    }

    private i32op(op: number): void {
        if (op <= 0x69) {
            const x = this.popI32();
            if (op === 0x67) return this.push(Math.clz32(x));
            if (op === 0x68) return this.push(x === 0 ? 32 : 31 - Math.clz32(x & -x));
            let n = 0;
            for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
            return this.push(n);
        }
        const y = this.popI32();
        const x = this.popI32();
        switch (op) {
            case 0x6a:
                return this.push((x + y) | 0);
            case 0x6b:
                return this.push((x - y) | 0);
            case 0x6c:
                return this.push(Math.imul(x, y));
            case 0x6d:
                if (y === 0) throw trap('divide by zero');
                if (x === -2147483648 && y === -1) throw trap('divide result unrepresentable');
                return this.push((x / y) | 0);
            case 0x6e:
                if (y === 0) throw trap('divide by zero');
                return this.push(((x >>> 0) / (y >>> 0)) | 0);
            case 0x6f:
                if (y === 0) throw trap('remainder by zero');
                return this.push((x % y) | 0);
            case 0x70:
                if (y === 0) throw trap('remainder by zero');
                return this.push(((x >>> 0) % (y >>> 0)) | 0);
            case 0x71:
                return this.push(x & y);
            case 0x72:
                return this.push(x | y);
            case 0x73:
                return this.push(x ^ y);
            case 0x74:
                return this.push(x << (y & 31));
            case 0x75:
                return this.push(x >> (y & 31));
            case 0x76:
                return this.push((x >>> (y & 31)) | 0);
            case 0x77: {
                const k = y & 31;
                return this.push(k === 0 ? x : (x << k) | (x >>> (32 - k)));
            }
            case 0x78: {
                const k = y & 31;
                return this.push(k === 0 ? x : (x >>> k) | (x << (32 - k)));
            }
        }
    }

    private i64op(op: number): void {
        if (op <= 0x7b) {
            const x = BigInt.asUintN(64, this.popI64());
            if (op === 0x79) return this.pushI64(BigInt(64 - (x === 0n ? 0 : x.toString(2).length)));
            if (op === 0x7a) {
                if (x === 0n) return this.pushI64(64n);
                let n = 0n;
                for (let v = x; (v & 1n) === 0n; v >>= 1n) n++;
                return this.pushI64(n);
            }
            let n = 0n;
            for (let v = x; v !== 0n; v &= v - 1n) n++;
            return this.pushI64(n);
        }
        const y = this.popI64();
        const x = this.popI64();
        const ux = BigInt.asUintN(64, x);
        const uy = BigInt.asUintN(64, y);
        const k = uy & 63n;
        switch (op) {
            case 0x7c:
                return this.pushI64(x + y);
            case 0x7d:
                return this.pushI64(x - y);
            case 0x7e:
                return this.pushI64(x * y);
            case 0x7f:
                if (y === 0n) throw trap('divide by zero');
                if (x === -(2n ** 63n) && y === -1n) throw trap('divide result unrepresentable');
                return this.pushI64(x / y);
            case 0x80:
                if (y === 0n) throw trap('divide by zero');
                return this.pushI64(ux / uy);
            case 0x81:
                if (y === 0n) throw trap('remainder by zero');
                return this.pushI64(x % y);
            case 0x82:
                if (y === 0n) throw trap('remainder by zero');
                return this.pushI64(ux % uy);
            case 0x83:
                return this.pushI64(x & y);
            case 0x84:
                return this.pushI64(x | y);
            case 0x85:
                return this.pushI64(x ^ y);
            case 0x86:
                return this.pushI64(x << k);
            case 0x87:
                return this.pushI64(x >> k);
            case 0x88:
                return this.pushI64(ux >> k);
            case 0x89:
                return this.pushI64(k === 0n ? x : (ux << k) | (ux >> (64n - k)));
            case 0x8a:
                return this.pushI64(k === 0n ? x : (ux >> k) | (ux << (64n - k)));
        }
    }

    private f32op(op: number): void {
        if (op <= 0x91) {
            const bits = this.popI32();
            if (op === 0x8b) return this.push(bits & 0x7fffffff);
            if (op === 0x8c) return this.push(bits ^ -2147483648);
            const x = f32OfBits(bits);
            const r = [Math.ceil, Math.floor, Math.trunc, nearest, Math.sqrt][op - 0x8d](x);
            return this.push(bitsOfF32(Math.fround(r)));
        }
        if (op === 0x98) {
            const y = this.popI32();
            const x = this.popI32();
            return this.push((x & 0x7fffffff) | (y & -2147483648));
        }
        const y = this.popF32();
        const x = this.popF32();
        const r = [x + y, x - y, x * y, x / y, Math.min(x, y), Math.max(x, y)][op - 0x92];
        this.push(bitsOfF32(Math.fround(r)));
    }

    private f64op(op: number): void {
        if (op <= 0x9f) {
            this.sp--;
            const lo = this.st[2 * this.sp];
            const hi = this.st[2 * this.sp + 1];
            if (op === 0x99) return this.push(lo, hi & 0x7fffffff);
            if (op === 0x9a) return this.push(lo, hi ^ -2147483648);
            const x = f64Of(lo, hi);
            return this.pushF64([Math.ceil, Math.floor, Math.trunc, nearest, Math.sqrt][op - 0x9b](x));
        }
        if (op === 0xa6) {
            this.sp--;
            const yhi = this.st[2 * this.sp + 1];
            this.sp--;
            const lo = this.st[2 * this.sp];
            const hi = this.st[2 * this.sp + 1];
            return this.push(lo, (hi & 0x7fffffff) | (yhi & -2147483648));
        }
        const y = this.popF64();
        const x = this.popF64();
        this.pushF64([x + y, x - y, x * y, x / y, Math.min(x, y), Math.max(x, y)][op - 0xa0]);
    }

    private convert(op: number): void {
        switch (op) {
            case 0xa7:
                return this.push(Number(BigInt.asIntN(32, this.popI64())));
            case 0xa8:
                return this.push(truncate(this.popF32(), -2147483648, 2147483647, false));
            case 0xa9:
                return this.push(truncate(this.popF32(), 0, 4294967295, false) | 0);
            case 0xaa:
                return this.push(truncate(this.popF64(), -2147483648, 2147483647, false));
            case 0xab:
                return this.push(truncate(this.popF64(), 0, 4294967295, false) | 0);
            case 0xac:
                return this.pushI64(BigInt(this.popI32()));
            case 0xad:
                return this.pushI64(BigInt(this.popI32() >>> 0));
            case 0xae:
                return this.pushI64(truncate64(this.popF32(), true, false));
            case 0xaf:
                return this.pushI64(truncate64(this.popF32(), false, false));
            case 0xb0:
                return this.pushI64(truncate64(this.popF64(), true, false));
            case 0xb1:
                return this.pushI64(truncate64(this.popF64(), false, false));
            case 0xb2:
                return this.push(bitsOfF32(Math.fround(this.popI32())));
            case 0xb3:
                return this.push(bitsOfF32(Math.fround(this.popI32() >>> 0)));
            case 0xb4:
                return this.push(bitsOfF32(f32OfI64(this.popI64())));
            case 0xb5:
                return this.push(bitsOfF32(f32OfI64(BigInt.asUintN(64, this.popI64()))));
            case 0xb6:
                return this.push(bitsOfF32(Math.fround(this.popF64())));
            case 0xb7:
                return this.pushF64(this.popI32());
            case 0xb8:
                return this.pushF64(this.popI32() >>> 0);
            case 0xb9:
                return this.pushF64(Number(this.popI64()));
            case 0xba:
                return this.pushF64(Number(BigInt.asUintN(64, this.popI64())));
            case 0xbb:
                return this.pushF64(this.popF32());
            case 0xbc:
            case 0xbd:
            case 0xbe:
            case 0xbf:
                return; // reinterpretations: the bits stay as they are
            case 0xc0:
                return this.push((this.popI32() << 24) >> 24);
            case 0xc1:
                return this.push((this.popI32() << 16) >> 16);
            case 0xc2:
                return this.pushI64(BigInt.asIntN(8, this.popI64()));
            case 0xc3:
                return this.pushI64(BigInt.asIntN(16, this.popI64()));
            case 0xc4:
                return this.pushI64(BigInt.asIntN(32, this.popI64()));
        }
    }
}

function sameType(x: { params: number[]; results: number[] }, y: { params: number[]; results: number[] } | undefined): boolean {
    return (
        y !== undefined &&
        x.params.length === y.params.length &&
        x.results.length === y.results.length &&
        x.params.every((t, i) => t === y.params[i]) &&
        x.results.every((t, i) => t === y.results[i])
    );
}
