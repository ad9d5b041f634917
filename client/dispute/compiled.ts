/**
 * The compiled prover: a job's program translated into a WebAssembly module that V8 compiles,
 * counting steps exactly as the reference interpreter (interpreter.ts) does and able to hand over
 * the whole machine at any of them, so that a dispute party reaches the states it must root
 * (docs/disputes.md, "The prover") at about the speed of the metered run instead of the
 * interpreter's, a few hundred times slower.
 *
 * The translation keeps the program's own instructions and control structure, but every operand
 * lives in a local of its own (the stack height at each instruction is static): local i of a
 * function and its operand at height h are i64 locals holding the value's bits, as the
 * interpreter keeps them (i32 and f32 in the low half). Float results are canonicalized as the
 * interpreter canonicalizes them; loads and stores of floats move bits. A frame's locals and the
 * operands under a call's arguments are spilled to a shadow stack (a second memory) before the
 * call, so that at any moment the frames of every caller are there to read.
 *
 * Steps are counted per straight-line segment: at each segment's first instruction the code adds
 * the segment's length (one step per instruction; a bulk operation's chunks computed from its
 * operands), and when the next step asked for falls inside the segment it spills its own frame and
 * calls the host, which builds the interpreter's machine at the segment's start (Machine.assume)
 * and lets the interpreter take the few steps left to each point asked for inside it. Fuel and the
 * call depth are charged where the interpreter charges them, so the handed-over state is the
 * interpreter's, field for field; tests/compiled.spec.ts compares their roots.
 *
 * A run that traps has halted before the next point asked for (a segment's check comes before any
 * of its steps). What the translation does not cover (a host function in a table) is refused at
 * build time, and what the engine cannot do that the interpreter does (a stack deeper than V8's, a
 * memory.grow the engine refuses) stops the run as unsupported: the caller replays those on the
 * interpreter. A party with a fault (a liar, in tests) never uses it.
 */
import { WasmMemory } from '../compute/abi';
import { FUEL_PER_BYTE, FUEL_PER_GROW, FUEL_PER_HOST_CALL, FUEL_PER_PAGE } from '../compute/meter-costs';
import { Assumed, CHUNK_BYTES, Machine, STATUS } from './interpreter';
import { Branch, Code, Module } from './module';

const PAGE = 65_536;
const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;
/** 2^64 - 1: no point asked for. */
const NONE = (1n << 64n) - 1n;

// ─── encoding ────────────────────────────────────────────────────────────────────────────────

function uleb(out: number[], v: number): void {
    v >>>= 0;
    do {
        let b = v & 0x7f;
        v >>>= 7;
        if (v !== 0) b |= 0x80;
        out.push(b);
    } while (v !== 0);
}

function sleb(out: number[], v: bigint): void {
    for (;;) {
        const b = Number(v & 0x7fn);
        v >>= 7n;
        if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

function vec(out: number[], items: number[][]): void {
    uleb(out, items.length);
    for (const i of items) out.push(...i);
}

/** A name (of an import or export): its length, then its bytes (the names here are short ASCII). */
const nameBytes = (s: string): number[] => [s.length, ...Buffer.from(s)];

/** A section: its id, then what `fill` writes, sized. */
function section(out: number[], id: number, fill: (body: number[]) => void): void {
    const body: number[] = [];
    fill(body);
    out.push(id);
    uleb(out, body.length);
    for (const b of body) out.push(b);
}

// ─── numeric signatures ──────────────────────────────────────────────────────────────────────

/** Operand and result types of a numeric instruction (0xfc00 | sub for the saturating truncations). */
function signature(op: number): { params: number[]; result: number } {
    const un = (t: number, r = t) => ({ params: [t], result: r });
    const bin = (t: number, r = t) => ({ params: [t, t], result: r });
    if (op >= 0xfc00) return un(op & 0xff & 2 ? F64 : F32, (op & 0xff) >= 4 ? I64 : I32);
    if (op === 0x45) return un(I32);
    if (op <= 0x4f) return bin(I32, I32);
    if (op === 0x50) return un(I64, I32);
    if (op <= 0x5a) return bin(I64, I32);
    if (op <= 0x60) return bin(F32, I32);
    if (op <= 0x66) return bin(F64, I32);
    if (op <= 0x69) return un(I32);
    if (op <= 0x78) return bin(I32);
    if (op <= 0x7b) return un(I64);
    if (op <= 0x8a) return bin(I64);
    if (op <= 0x91) return un(F32);
    if (op <= 0x98) return bin(F32);
    if (op <= 0x9f) return un(F64);
    if (op <= 0xa6) return bin(F64);
    const conversions: Record<number, [number, number]> = {
        0xa7: [I64, I32],
        0xa8: [F32, I32],
        0xa9: [F32, I32],
        0xaa: [F64, I32],
        0xab: [F64, I32],
        0xac: [I32, I64],
        0xad: [I32, I64],
        0xae: [F32, I64],
        0xaf: [F32, I64],
        0xb0: [F64, I64],
        0xb1: [F64, I64],
        0xb2: [I32, F32],
        0xb3: [I32, F32],
        0xb4: [I64, F32],
        0xb5: [I64, F32],
        0xb6: [F64, F32],
        0xb7: [I32, F64],
        0xb8: [I32, F64],
        0xb9: [I64, F64],
        0xba: [I64, F64],
        0xbb: [F32, F64],
        0xc0: [I32, I32],
        0xc1: [I32, I32],
        0xc2: [I64, I64],
        0xc3: [I64, I64],
        0xc4: [I64, I64],
    };
    const c = conversions[op];
    if (c === undefined) throw new Error(`no signature for 0x${op.toString(16)}`);
    return un(c[0], c[1]);
}

/** Float results the interpreter canonicalizes: all but abs, neg and copysign (bit operations), and the reinterpretations. */
function canonicalizes(op: number): boolean {
    return ![0x8b, 0x8c, 0x98, 0x99, 0x9a, 0xa6].includes(op);
}

// ─── the module ──────────────────────────────────────────────────────────────────────────────

/** Where things are in the second memory: data segments' dropped flags, the shadow stack, the input, the output. */
interface Layout {
    dropped: number;
    shadow: number;
    shadowEnd: number;
    input: number;
    output: number;
    pages: number;
}

/** A frame record on the shadow stack: func:u32 pc:u32 height:u32 pad:u32, then the locals' bits, then the operands'. */
const HEADER = 16;

/** What the host needs to know of each compiled function. */
interface Shape {
    /** Params and locals. */
    locals: number;
    /** The deepest operand stack. */
    maxHeight: number;
}

/**
 * Translates the machine's program (loaded, at step 0). Undefined when the translation does not
 * cover it: the caller interprets.
 */
export function compileProgram(m0: Machine): { bytes: Uint8Array; layout: Layout; shapes: Shape[] } | undefined {
    const m = m0.m;
    const imported = m.hosts.length;
    for (const t of m0.tables) if (t.some((f) => f !== null && f < imported)) return undefined;
    const defined = m.codes.length;
    const layout = layoutOf(m0, m.data.length);
    const extraTypes = m.types.length;
    // types: the program's, then snap (pc: i32, segment: i64) -> (), then () -> ()
    const typeOf = (params: number[], results: number[]) => {
        const t = [0x60];
        uleb(t, params.length);
        t.push(...params);
        uleb(t, results.length);
        t.push(...results);
        return t;
    };
    const types: number[][] = m.types.map((t) => typeOf(t.params, t.results));
    types.push(typeOf([I32, I64], []));
    types.push(typeOf([], []));
    const SNAP_TYPE = extraTypes;
    const VOID_TYPE = extraTypes + 1;
    const fn = (g: number) => 1 + (g - imported);
    const wrapper = (g: number) => 1 + defined + (g - imported);
    const INIT = 1 + 2 * defined;
    // globals: the program's as i64 bits, then steps, next, used, depth, sfp, outLen, bail
    const G = m.globals.length;
    const STEPS = G;
    const NEXT = G + 1;
    const USED = G + 2;
    const DEPTH = G + 3;
    const SFP = G + 4;
    const OUTLEN = G + 5;
    const BAIL = G + 6;

    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    section(out, 1, (b) => {
        vec(b, types);
    });
    // imports: fog.snap
    section(out, 2, (b) => {
        b.push(1);
        b.push(...nameBytes('fog'), ...nameBytes('snap'), 0x00);
        uleb(b, SNAP_TYPE);
    });
    // functions: compiled bodies, wrappers, init
    section(out, 3, (b) => {
        uleb(b, 2 * defined + 1);
        for (let pass = 0; pass < 2; pass++) for (let i = 0; i < defined; i++) uleb(b, m.funcTypes[imported + i]);
        uleb(b, VOID_TYPE);
    });
    // tables, as instantiation left them
    section(out, 4, (b) => {
        uleb(b, m0.tables.length);
        m0.tables.forEach((t, i) => {
            const max = m.tables[i].max;
            b.push(0x70, max === undefined ? 0 : 1);
            uleb(b, t.length);
            if (max !== undefined) uleb(b, max);
        });
    });
    // memories: the program's, then the host's
    section(out, 5, (b) => {
        b.push(2, 1);
        uleb(b, m0.size / PAGE);
        uleb(b, m0.maxBytes / PAGE);
        b.push(0);
        uleb(b, layout.pages);
    });
    // globals
    section(out, 6, (b) => {
        uleb(b, G + 7);
        for (let i = 0; i < G; i++) {
            b.push(I64, 1, 0x42);
            sleb(b, (BigInt(m0.globals[2 * i + 1]) << 32n) | BigInt(m0.globals[2 * i] >>> 0));
            b.push(0x0b);
        }
        for (let i = 0; i < 7; i++) {
            b.push(i === SFP - G || i === OUTLEN - G || i === BAIL - G ? I32 : I64, 1);
            if (i === SFP - G) {
                b.push(0x41);
                sleb(b, BigInt(layout.shadow));
            } else if (i === OUTLEN - G || i === BAIL - G) b.push(0x41, 0);
            else b.push(0x42, 0);
            b.push(0x0b);
        }
    });
    // exports
    section(out, 7, (b) => {
        const items: number[][] = [];
        const add = (s: string, kind: number, index: number) => {
            const e = [...nameBytes(s), kind];
            uleb(e, index);
            items.push(e);
        };
        add('mem', 2, 0);
        add('aux', 2, 1);
        add('run', 0, wrapper(m.runIndex));
        if (m.start !== undefined) add('start', 0, wrapper(m.start));
        add('init', 0, INIT);
        for (let i = 0; i < G + 7; i++) add(`g${i}`, 3, i);
        vec(b, items);
    });
    // elements: each table's entries, as the wrappers that charge a call's entry
    if (m0.tables.length > 0)
        section(out, 9, (b) => {
            uleb(b, m0.tables.length);
            m0.tables.forEach((t, i) => {
                b.push(0x06);
                uleb(b, i);
                b.push(0x41, 0, 0x0b, 0x70);
                uleb(b, t.length);
                for (const f of t) {
                    if (f === null) b.push(0xd0, 0x70, 0x0b);
                    else {
                        b.push(0xd2);
                        uleb(b, wrapper(f));
                        b.push(0x0b);
                    }
                }
            });
        });
    // data count
    section(out, 12, (b) => {
        uleb(b, m.data.length);
    });
    // code
    const shapes: Shape[] = [];
    const bodies: number[][] = [];
    for (let i = 0; i < defined; i++) {
        const compiled = new FunctionCompiler(m0, i, layout, { fn, STEPS, NEXT, USED, DEPTH, SFP, OUTLEN, BAIL }).compile();
        shapes.push(compiled.shape);
        bodies.push(compiled.body);
    }
    for (let i = 0; i < defined; i++) {
        const g = imported + i;
        const type = m.types[m.funcTypes[g]];
        const body: number[] = [0];
        chargeCode(body, BigInt(m0.costs[i].entry), USED, m0.limit);
        type.params.forEach((_, p) => {
            body.push(0x20);
            uleb(body, p);
        });
        body.push(0x10);
        uleb(body, fn(g));
        body.push(0x0b);
        bodies.push(body);
    }
    {
        const body: number[] = [0];
        m0.dropped.forEach((d, i) => {
            if (!d) return;
            body.push(0xfc);
            uleb(body, 9);
            uleb(body, i);
        });
        body.push(0x0b);
        bodies.push(body);
    }
    section(out, 10, (b) => {
        uleb(b, bodies.length);
        for (const body of bodies) {
            uleb(b, body.length);
            for (const x of body) b.push(x);
        }
    });
    // data: every segment passive (the program's memory is copied in as instantiation left it)
    section(out, 11, (b) => {
        uleb(b, m.data.length);
        for (const d of m.data) {
            b.push(0x01);
            uleb(b, d.bytes.length);
            for (const x of d.bytes) b.push(x);
        }
    });
    return { bytes: Uint8Array.from(out), layout, shapes };
}

function layoutOf(m0: Machine, segments: number): Layout {
    const align = (n: number) => Math.ceil(n / 8) * 8;
    const dropped = 0;
    const shadow = align(segments);
    // a record takes 16 bytes and 8 a local or operand; a non-simple frame weighs 4 plus at least
    // its locals and instructions, so the frames the budget allows fit in 24 bytes a unit, plus
    // one simple frame on top (SIMPLE_MAX_WEIGHT) and the entry
    const shadowEnd = shadow + 24 * m0.budget + 64 * 1024;
    const input = shadowEnd;
    const output = align(input + m0.input.length);
    const pages = Math.ceil((output + m0.maxOutput) / PAGE) + 1;
    return { dropped, shadow, shadowEnd, input, output, pages };
}

/** used += fuel; trap past the limit. */
function chargeCode(out: number[], fuel: bigint, USED: number, limit: bigint): void {
    if (fuel === 0n) return;
    out.push(0x23);
    uleb(out, USED);
    out.push(0x42);
    sleb(out, fuel);
    out.push(0x7c, 0x24);
    uleb(out, USED);
    out.push(0x23);
    uleb(out, USED);
    out.push(0x42);
    sleb(out, BigInt.asIntN(64, limit));
    out.push(0x56, 0x04, 0x40, 0x00, 0x0b);
}

interface Globals {
    fn: (g: number) => number;
    STEPS: number;
    NEXT: number;
    USED: number;
    DEPTH: number;
    SFP: number;
    OUTLEN: number;
    BAIL: number;
}

/** Is the instruction's step count known only when it runs (a bulk operation, or a host call that moves bytes)? */
function dynamic(m: Module, op: number, a: number): boolean {
    if (op === 0xfc08 || op === 0xfc0a || op === 0xfc0b) return true;
    return op === 0x10 && a < m.hosts.length && (m.hosts[a] === 'read_input' || m.hosts[a] === 'write_output');
}

/** Does a new segment start after the instruction (control, calls, bulk)? */
function endsSegment(op: number): boolean {
    return (
        op === 0x03 ||
        op === 0x04 ||
        op === 0x05 ||
        op === 0x0b ||
        (op >= 0x0c && op <= 0x11) ||
        op === 0xfc08 ||
        op === 0xfc0a ||
        op === 0xfc0b
    );
}

class FunctionCompiler {
    private readonly m: Module;
    private readonly code: Code;
    private readonly func: number;
    private readonly params: number[];
    private readonly results: number[];
    private readonly localTypes: number[];
    private readonly maxHeight: number;
    private readonly out: number[] = [];
    /** Local indices. */
    private readonly L: number;
    private readonly slot0: number;
    private readonly fb: number;
    private readonly t: number[];
    private readonly ti: number;
    private readonly tf32: number;
    private readonly tf64: number;
    /** The compiled labels open, innermost last: where a branch to each goes in the program. */
    private readonly labels: number[] = [];
    private readonly ends: Int32Array;

    constructor(
        private readonly m0: Machine,
        private readonly index: number,
        private readonly layout: Layout,
        private readonly g: Globals,
    ) {
        this.m = m0.m;
        this.code = this.m.codes[index];
        this.func = this.m.hosts.length + index;
        const type = this.m.types[this.m.funcTypes[this.func]];
        this.params = type.params;
        this.results = type.results;
        this.localTypes = [...type.params, ...this.code.locals];
        let max = 0;
        for (const h of this.code.heights) max = Math.max(max, h);
        this.maxHeight = max + 1;
        const P = this.params.length;
        this.L = this.localTypes.length;
        this.slot0 = P + this.L;
        this.fb = this.slot0 + this.maxHeight;
        this.t = [this.fb + 1, this.fb + 2, this.fb + 3, this.fb + 4];
        this.ti = this.fb + 5;
        this.tf32 = this.fb + 6;
        this.tf64 = this.fb + 7;
        // each opener's matching end
        this.ends = new Int32Array(this.code.op.length).fill(-1);
        const open: number[] = [];
        this.code.op.forEach((op, pc) => {
            if (op === 0x02 || op === 0x03 || op === 0x04) open.push(pc);
            else if (op === 0x0b && open.length > 0) this.ends[open.pop()!] = pc;
        });
    }

    private get recordSize(): number {
        return HEADER + 8 * (this.L + this.maxHeight);
    }

    compile(): { body: number[]; shape: Shape } {
        const o = this.out;
        const P = this.params.length;
        // locals: L + maxHeight i64, fb i32, 4 i64 temps, i32, f32, f64
        const groups: number[][] = [
            [this.L + this.maxHeight, I64],
            [1, I32],
            [4, I64],
            [1, I32],
            [1, F32],
            [1, F64],
        ];
        const decl: number[] = [];
        uleb(decl, groups.length);
        for (const [n, t] of groups) {
            uleb(decl, n);
            decl.push(t);
        }
        this.prologue();
        for (let p = 0; p < P; p++) {
            this.get(p);
            this.toBits(this.params[p]);
            this.setLocal(p);
        }
        this.body();
        o.push(0x0b);
        return { body: [...decl, ...o], shape: { locals: this.L, maxHeight: this.maxHeight } };
    }

    // ─── small emitters ───

    /** An instruction with one index immediate (local.get/set/tee, global.get/set). */
    private indexed(opcode: number, index: number): void {
        this.out.push(opcode);
        uleb(this.out, index);
    }
    private get(local: number): void {
        this.indexed(0x20, local);
    }
    private set(local: number): void {
        this.indexed(0x21, local);
    }
    private getGlobal(g: number): void {
        this.indexed(0x23, g);
    }
    private setGlobal(g: number): void {
        this.indexed(0x24, g);
    }
    private i32(v: number): void {
        this.out.push(0x41);
        sleb(this.out, BigInt(v | 0));
    }
    private i64(v: bigint): void {
        this.out.push(0x42);
        sleb(this.out, BigInt.asIntN(64, v));
    }
    private local(i: number): number {
        return this.params.length + i;
    }
    private slot(h: number): number {
        return this.slot0 + h;
    }
    private getLocal(i: number): void {
        this.get(this.local(i));
    }
    private setLocal(i: number): void {
        this.set(this.local(i));
    }
    private getSlot(h: number): void {
        this.get(this.slot(h));
    }
    private setSlot(h: number): void {
        this.set(this.slot(h));
    }
    /** A memarg on the host's memory. */
    private aux(align: number, offset: number): void {
        this.out.push(0x40 | align, 1);
        uleb(this.out, offset);
    }
    /** bits (i64) → a value of type t */
    private fromBits(t: number): void {
        if (t === I32) this.out.push(0xa7);
        else if (t === F32) this.out.push(0xa7, 0xbe);
        else if (t === F64) this.out.push(0xbf);
    }
    /** a value of type t → bits (i64) */
    private toBits(t: number): void {
        if (t === I32) this.out.push(0xad);
        else if (t === F32) this.out.push(0xbc, 0xad);
        else if (t === F64) this.out.push(0xbd);
    }
    private charge(fuel: bigint): void {
        chargeCode(this.out, fuel, this.g.USED, this.m0.limit);
    }
    /** Traps as unsupported (not a halt of the program). */
    private bail(): void {
        this.i32(1);
        this.setGlobal(this.g.BAIL);
        this.out.push(0x00);
    }

    private prologue(): void {
        const o = this.out;
        // fb = sfp; sfp += record; bail past the shadow stack's end
        this.getGlobal(this.g.SFP);
        this.indexed(0x22, this.fb);
        this.i32(this.recordSize);
        o.push(0x6a);
        this.setGlobal(this.g.SFP);
        this.getGlobal(this.g.SFP);
        this.i32(this.layout.shadowEnd);
        o.push(0x4b, 0x04, 0x40);
        this.bail();
        o.push(0x0b);
        this.get(this.fb);
        this.i32(this.func);
        o.push(0x36);
        this.aux(2, 0);
        const cost = this.m0.costs[this.index];
        if (!cost.simple) {
            this.getGlobal(this.g.DEPTH);
            this.i64(BigInt(cost.weight));
            o.push(0x7c);
            this.setGlobal(this.g.DEPTH);
            this.getGlobal(this.g.DEPTH);
            this.i64(BigInt(this.m0.budget));
            o.push(0x55, 0x04, 0x40, 0x00, 0x0b);
        }
    }

    private epilogue(): void {
        this.get(this.fb);
        this.setGlobal(this.g.SFP);
        const cost = this.m0.costs[this.index];
        if (!cost.simple) {
            this.getGlobal(this.g.DEPTH);
            this.i64(BigInt(cost.weight));
            this.out.push(0x7d);
            this.setGlobal(this.g.DEPTH);
        }
    }

    /** Writes this frame's pc, operand count, locals and its first `height` operands to its record. */
    private spill(pc: number, height: number): void {
        const o = this.out;
        this.get(this.fb);
        this.i32(pc);
        o.push(0x36);
        this.aux(2, 4);
        this.get(this.fb);
        this.i32(height);
        o.push(0x36);
        this.aux(2, 8);
        for (let i = 0; i < this.L; i++) {
            this.get(this.fb);
            this.getLocal(i);
            o.push(0x37);
            this.aux(3, HEADER + 8 * i);
        }
        for (let h = 0; h < height; h++) {
            this.get(this.fb);
            this.getSlot(h);
            o.push(0x37);
            this.aux(3, HEADER + 8 * (this.L + h));
        }
    }

    /** The segment check: `steps + n > next` hands the state at `pc` to the host; then steps += n. `n` on the stack (i64) when `n` is undefined, in t[3] after. */
    private check(pc: number, n: number | undefined): void {
        const o = this.out;
        const len = this.t[3];
        if (n === undefined) this.set(len);
        this.getGlobal(this.g.STEPS);
        if (n === undefined) this.get(len);
        else this.i64(BigInt(n));
        o.push(0x7c);
        this.getGlobal(this.g.NEXT);
        o.push(0x56, 0x04, 0x40);
        this.spill(pc, this.code.heights[pc]);
        this.i32(pc);
        if (n === undefined) this.get(len);
        else this.i64(BigInt(n));
        o.push(0x10, 0x00, 0x0b);
        this.getGlobal(this.g.STEPS);
        if (n === undefined) this.get(len);
        else this.i64(BigInt(n));
        o.push(0x7c);
        this.setGlobal(this.g.STEPS);
    }

    /** 1 + the chunks of a bulk operation of n bytes to dst, both u32 in the i64 locals t[0] and t[1] → on the stack. */
    private bulkSteps(): void {
        const o = this.out;
        const [dst, n] = this.t;
        // select(1, 2 + ((dst + n - 1) >> 6) - (dst >> 6), n == 0)
        this.i64(1n);
        this.i64(2n);
        this.get(dst);
        this.get(n);
        o.push(0x7c);
        this.i64(1n);
        o.push(0x7d);
        this.i64(BigInt(Math.log2(CHUNK_BYTES)));
        o.push(0x88, 0x7c);
        this.get(dst);
        this.i64(BigInt(Math.log2(CHUNK_BYTES)));
        o.push(0x88, 0x7d);
        this.get(n);
        o.push(0x50, 0x1b);
    }

    /** Returns from the function with the top `results` operands of height `h`. */
    private ret(h: number): void {
        const R = this.results.length;
        this.results.forEach((t, k) => {
            this.getSlot(h - R + k);
            this.fromBits(t);
        });
        this.epilogue();
        this.out.push(0x0f);
    }

    /** Takes a branch with operand height `h`; `extra`: compiled labels opened inside the program's innermost. */
    private branch(br: Branch, h: number, extra: number): void {
        if (br.loop >= 0) this.charge(BigInt(this.m0.costs[this.index].loops[br.loop]));
        if (br.target < 0) return this.ret(h);
        for (let k = 0; k < br.arity; k++) {
            const from = h - br.arity + k;
            const to = br.height + k;
            if (from === to) continue;
            this.getSlot(from);
            this.setSlot(to);
        }
        const at = this.labels.lastIndexOf(br.target);
        if (at < 0) throw new Error(`no label for ${br.target}`);
        this.out.push(0x0c);
        uleb(this.out, this.labels.length - 1 - at + extra);
    }

    private body(): void {
        const { code, m, out: o } = this;
        const n = code.op.length;
        const imported = m.hosts.length;
        const isLeader = (pc: number) => pc === 0 || endsSegment(code.op[pc - 1]) || dynamic(m, code.op[pc], code.a[pc]);
        let dead = false;
        let deadDepth = 0;
        for (let pc = 0; pc < n; pc++) {
            const op = code.op[pc];
            const a = code.a[pc];
            if (dead) {
                if (op === 0x02 || op === 0x03 || op === 0x04) deadDepth++;
                else if (op === 0x0b) {
                    if (deadDepth > 0) deadDepth--;
                    else if (a === 1)
                        return; // the function's end, unreachable
                    else {
                        o.push(0x0b);
                        this.labels.pop();
                        dead = false;
                    }
                } else if (op === 0x05 && deadDepth === 0) {
                    o.push(0x05);
                    dead = false;
                }
                continue;
            }
            const h = code.heights[pc];
            if (isLeader(pc) && !dynamic(m, op, a)) {
                let len = 1;
                while (pc + len < n && !isLeader(pc + len)) len++;
                this.check(pc, len);
            }
            switch (op) {
                case 0x00:
                    o.push(0x00);
                    dead = true;
                    break;
                case 0x01:
                    break;
                case 0x02:
                    o.push(0x02, 0x40);
                    this.labels.push(this.ends[pc] + 1);
                    break;
                case 0x03:
                    this.charge(BigInt(this.m0.costs[this.index].loops[a]));
                    o.push(0x03, 0x40);
                    this.labels.push(pc + 1);
                    break;
                case 0x04:
                    this.getSlot(h - 1);
                    o.push(0xa7, 0x04, 0x40);
                    this.labels.push(this.ends[pc] + 1);
                    break;
                case 0x05:
                    o.push(0x05);
                    break;
                case 0x0b:
                    if (a === 1) {
                        this.ret(h);
                        return;
                    }
                    o.push(0x0b);
                    this.labels.pop();
                    break;
                case 0x0c:
                    this.branch(code.branches[a], h, 0);
                    dead = true;
                    break;
                case 0x0f:
                    this.branch(code.branches[a], h, 0);
                    dead = true;
                    break;
                case 0x0d:
                    this.getSlot(h - 1);
                    o.push(0xa7, 0x04, 0x40);
                    this.branch(code.branches[a], h - 1, 1);
                    o.push(0x0b);
                    break;
                case 0x0e: {
                    const count = code.b[pc];
                    for (let k = 0; k < count; k++) o.push(0x02, 0x40);
                    this.getSlot(h - 1);
                    o.push(0xa7, 0x0e);
                    uleb(o, count - 1);
                    for (let k = 0; k < count - 1; k++) uleb(o, k);
                    uleb(o, count - 1);
                    for (let k = 0; k < count; k++) {
                        o.push(0x0b);
                        this.branch(code.branches[a + k], h - 1, count - 1 - k);
                    }
                    dead = true;
                    break;
                }
                case 0x10:
                    if (a < imported) this.host(pc, a, h);
                    else this.call(pc, a, h);
                    break;
                case 0x11: {
                    const type = m.types[a];
                    const P = type.params.length;
                    this.spill(pc + 1, h - 1 - P);
                    type.params.forEach((t, k) => {
                        this.getSlot(h - 1 - P + k);
                        this.fromBits(t);
                    });
                    this.getSlot(h - 1);
                    o.push(0xa7, 0x11);
                    uleb(o, a);
                    uleb(o, code.b[pc]);
                    for (let k = type.results.length - 1; k >= 0; k--) {
                        this.toBits(type.results[k]);
                        this.setSlot(h - 1 - P + k);
                    }
                    break;
                }
                case 0x1a:
                    break;
                case 0x1b:
                    this.getSlot(h - 3);
                    this.getSlot(h - 2);
                    this.getSlot(h - 1);
                    o.push(0xa7, 0x1b);
                    this.setSlot(h - 3);
                    break;
                case 0x20:
                    this.getLocal(a);
                    this.setSlot(h);
                    break;
                case 0x21:
                case 0x22:
                    this.getSlot(h - 1);
                    this.setLocal(a);
                    break;
                case 0x23:
                    this.getGlobal(a);
                    this.setSlot(h);
                    break;
                case 0x24:
                    this.getSlot(h - 1);
                    this.setGlobal(a);
                    break;
                case 0x3f:
                    o.push(0x3f, 0x00, 0xad);
                    this.setSlot(h);
                    break;
                case 0x40:
                    this.grow(h);
                    break;
                case 0x41:
                case 0x43:
                    this.i64(BigInt(a >>> 0));
                    this.setSlot(h);
                    break;
                case 0x42:
                case 0x44:
                    this.i64((BigInt(code.b[pc]) << 32n) | BigInt(a >>> 0));
                    this.setSlot(h);
                    break;
                case 0xfc08:
                case 0xfc0a:
                case 0xfc0b:
                    this.bulk(pc, op, a, h);
                    break;
                case 0xfc09:
                    o.push(0xfc, 0x09);
                    uleb(o, a);
                    this.i32(this.layout.dropped + a);
                    this.i32(1);
                    o.push(0x3a);
                    this.aux(0, 0);
                    break;
                default:
                    if (op >= 0x28 && op <= 0x35) this.load(op, a, h);
                    else if (op >= 0x36 && op <= 0x3e) this.store(op, a, h);
                    else this.numeric(op, h);
            }
        }
    }

    private call(pc: number, g: number, h: number): void {
        const m = this.m;
        const type = m.types[m.funcTypes[g]];
        const P = type.params.length;
        const cost = this.m0.costs[g - m.hosts.length];
        this.spill(pc + 1, h - P);
        if (!cost.simple) this.charge(BigInt(cost.entry));
        type.params.forEach((t, k) => {
            this.getSlot(h - P + k);
            this.fromBits(t);
        });
        this.out.push(0x10);
        uleb(this.out, this.g.fn(g));
        for (let k = type.results.length - 1; k >= 0; k--) {
            this.toBits(type.results[k]);
            this.setSlot(h - P + k);
        }
    }

    private host(pc: number, g: number, h: number): void {
        const o = this.out;
        const [dst, n, x] = this.t;
        const u32 = (slot: number, into: number) => {
            this.getSlot(slot);
            this.i64(0xffffffffn);
            o.push(0x83);
            this.set(into);
        };
        switch (this.m.hosts[g]) {
            case 'input_size':
                this.charge(BigInt(FUEL_PER_HOST_CALL));
                this.i64(BigInt(this.m0.input.length | 0) & 0xffffffffn);
                this.setSlot(h);
                return;
            case 'abort':
                o.push(0x00);
                return;
            case 'read_input': {
                // (dst, offset, len) → n = min(len, input - min(offset, input)) bytes copied
                const length = BigInt(this.m0.input.length);
                u32(h - 3, dst);
                u32(h - 2, x);
                this.get(x);
                this.i64(length);
                this.get(x);
                this.i64(length);
                o.push(0x54, 0x1b);
                this.set(x);
                u32(h - 1, n);
                this.get(n);
                this.i64(length);
                this.get(x);
                o.push(0x7d);
                this.get(n);
                this.i64(length);
                this.get(x);
                o.push(0x7d, 0x54, 0x1b);
                this.set(n);
                this.bulkSteps();
                this.check(pc, undefined);
                // FUEL_PER_HOST_CALL + len, then input[x, x + n) to memory[dst]
                this.getGlobal(this.g.USED);
                this.i64(BigInt(FUEL_PER_HOST_CALL));
                this.getSlot(h - 1);
                this.i64(0xffffffffn);
                o.push(0x83);
                this.i64(BigInt(FUEL_PER_BYTE));
                o.push(0x7e, 0x7c, 0x7c);
                this.setGlobal(this.g.USED);
                this.overLimit();
                this.get(dst);
                o.push(0xa7);
                this.get(x);
                this.i64(BigInt(this.layout.input));
                o.push(0x7c, 0xa7);
                this.get(n);
                o.push(0xa7, 0xfc);
                uleb(o, 10);
                o.push(0x00, 0x01);
                this.get(n);
                this.setSlot(h - 3);
                return;
            }
            case 'write_output': {
                // (src, len) → output[outLen, outLen + len)
                this.getGlobal(this.g.OUTLEN);
                o.push(0xad);
                this.set(dst);
                u32(h - 1, n);
                this.bulkSteps();
                this.check(pc, undefined);
                this.getGlobal(this.g.USED);
                this.i64(BigInt(FUEL_PER_HOST_CALL));
                this.get(n);
                this.i64(BigInt(FUEL_PER_BYTE));
                o.push(0x7e, 0x7c, 0x7c);
                this.setGlobal(this.g.USED);
                this.overLimit();
                // the output cap
                this.get(dst);
                this.get(n);
                o.push(0x7c);
                this.i64(BigInt(this.m0.maxOutput));
                o.push(0x56, 0x04, 0x40, 0x00, 0x0b);
                this.get(dst);
                this.i64(BigInt(this.layout.output));
                o.push(0x7c, 0xa7);
                this.getSlot(h - 2);
                o.push(0xa7);
                this.get(n);
                o.push(0xa7, 0xfc);
                uleb(o, 10);
                o.push(0x01, 0x00);
                this.get(dst);
                this.get(n);
                o.push(0x7c, 0xa7);
                this.setGlobal(this.g.OUTLEN);
                return;
            }
        }
    }

    /** Traps when the fuel used passed the limit. */
    private overLimit(): void {
        this.getGlobal(this.g.USED);
        this.i64(this.m0.limit);
        this.out.push(0x56, 0x04, 0x40, 0x00, 0x0b);
    }

    private bulk(pc: number, op: number, segment: number, h: number): void {
        const o = this.out;
        const [dst, n] = this.t;
        this.getSlot(h - 3);
        this.i64(0xffffffffn);
        o.push(0x83);
        this.set(dst);
        this.getSlot(h - 1);
        this.i64(0xffffffffn);
        o.push(0x83);
        this.set(n);
        this.bulkSteps();
        this.check(pc, undefined);
        this.getGlobal(this.g.USED);
        this.get(n);
        this.i64(BigInt(FUEL_PER_BYTE));
        o.push(0x7e, 0x7c);
        this.setGlobal(this.g.USED);
        this.overLimit();
        this.getSlot(h - 3);
        o.push(0xa7);
        this.getSlot(h - 2);
        o.push(0xa7);
        this.getSlot(h - 1);
        o.push(0xa7, 0xfc);
        if (op === 0xfc08) {
            uleb(o, 8);
            uleb(o, segment);
            o.push(0x00);
        } else if (op === 0xfc0a) o.push(10, 0x00, 0x00);
        else o.push(11, 0x00);
    }

    private grow(h: number): void {
        const o = this.out;
        const [pages, before] = this.t;
        this.getSlot(h - 1);
        this.i64(0xffffffffn);
        o.push(0x83);
        this.set(pages);
        this.getGlobal(this.g.USED);
        this.i64(BigInt(FUEL_PER_GROW));
        this.get(pages);
        this.i64(BigInt(FUEL_PER_PAGE));
        o.push(0x7e, 0x7c, 0x7c);
        this.setGlobal(this.g.USED);
        this.overLimit();
        o.push(0x3f, 0x00, 0xad);
        this.set(before);
        this.get(pages);
        o.push(0xa7, 0x40, 0x00);
        this.indexed(0x22, this.ti);
        // refused by the engine where the interpreter grows: unsupported
        this.i32(-1);
        o.push(0x46);
        this.get(before);
        this.get(pages);
        o.push(0x7c);
        this.i64(16n);
        o.push(0x86);
        this.i64(BigInt(this.m0.maxBytes));
        o.push(0x58, 0x71, 0x04, 0x40);
        this.bail();
        o.push(0x0b);
        this.get(this.ti);
        o.push(0xad);
        this.setSlot(h - 1);
    }

    private load(op: number, offset: number, h: number): void {
        const o = this.out;
        this.getSlot(h - 1);
        o.push(0xa7);
        // float loads move bits
        const native = op === 0x2a ? 0x28 : op === 0x2b ? 0x29 : op;
        const align = { 0x28: 2, 0x29: 3, 0x2c: 0, 0x2d: 0, 0x2e: 1, 0x2f: 1, 0x30: 0, 0x31: 0, 0x32: 1, 0x33: 1, 0x34: 2, 0x35: 2 }[
            native
        ]!;
        o.push(native, align);
        uleb(o, offset);
        if (native <= 0x28 || (native >= 0x2c && native <= 0x2f)) o.push(0xad);
        this.setSlot(h - 1);
    }

    private store(op: number, offset: number, h: number): void {
        const o = this.out;
        this.getSlot(h - 2);
        o.push(0xa7);
        this.getSlot(h - 1);
        const native = op === 0x38 ? 0x36 : op === 0x39 ? 0x37 : op;
        if (native === 0x36 || native === 0x3a || native === 0x3b) o.push(0xa7);
        const align = { 0x36: 2, 0x37: 3, 0x3a: 0, 0x3b: 1, 0x3c: 0, 0x3d: 1, 0x3e: 2 }[native]!;
        o.push(native, align);
        uleb(o, offset);
    }

    private numeric(op: number, h: number): void {
        const o = this.out;
        if (op >= 0xbc && op <= 0xbf) return; // reinterpretations: the bits stay
        const sig = signature(op);
        const k = sig.params.length;
        sig.params.forEach((t, i) => {
            this.getSlot(h - k + i);
            this.fromBits(t);
        });
        if (op >= 0xfc00) {
            o.push(0xfc);
            uleb(o, op & 0xff);
        } else o.push(op);
        const r = sig.result;
        if ((r === F32 || r === F64) && canonicalizes(op)) {
            // select(canonical, bits, x != x)
            const tmp = r === F32 ? this.tf32 : this.tf64;
            this.set(tmp);
            this.i64(r === F32 ? 0x7fc00000n : 0x7ff8000000000000n);
            this.get(tmp);
            this.toBits(r);
            this.get(tmp);
            this.get(tmp);
            o.push(r === F32 ? 0x5c : 0x62, 0x1b);
            this.setSlot(h - k);
            return;
        }
        this.toBits(r);
        this.setSlot(h - k);
    }
}

/** The engine's WebAssembly API, the part used here (the tsconfig's lib has no WebAssembly types). */
interface Engine {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
    RuntimeError: new (message?: string) => Error;
    CompileError: new (message?: string) => Error;
}
const engine = (globalThis as unknown as { WebAssembly: Engine }).WebAssembly;
interface WasmGlobal {
    value: number | bigint;
}

/** Why a compiled run could not go on (a stack deeper than the engine's, a grow the engine refused): the caller interprets the points left. */
export class Unsupported extends Error {}

/** A job's program compiled for one machine's run (its input and limits); each `run` starts again from step 0. */
export class CompiledProgram {
    private readonly module: object;
    /** The step count where the last run ended (halted, or stopped past its last point). */
    private lastSteps = 0;

    private constructor(
        private readonly m0: Machine,
        private readonly layout: Layout,
        private readonly shapes: Shape[],
        bytes: Uint8Array,
    ) {
        this.module = new engine.Module(bytes);
    }

    /** Compiles the program of a machine at step 0; undefined where the translation does not cover it. */
    static of(m0: Machine): CompiledProgram | undefined {
        if (m0.steps !== 0 || m0.halted) return undefined;
        const compiled = compileProgram(m0);
        if (compiled === undefined) return undefined;
        try {
            return new CompiledProgram(m0.clone(), compiled.layout, compiled.shapes, compiled.bytes);
        } catch (e) {
            // an engine without multi-memory
            if (e instanceof engine.CompileError) return undefined;
            throw e;
        }
    }

    /**
     * The step at which the run halts, as the interpreter counts it, from one compiled run to the
     * end: exact for a run that returns; for one that traps (or runs out of fuel), the end of the
     * straight-line segment it trapped in, since a segment's steps are counted before they run.
     */
    haltingStep(): number {
        this.run([Number.MAX_SAFE_INTEGER], () => undefined);
        return this.lastSteps;
    }

    /**
     * Runs the program from step 0 and calls `visit` with the interpreter's machine at each of
     * `points` (ascending, distinct) in turn: at exactly that step, or halted before it by the
     * interpreter's last few steps. `visit` must not keep the machine (a clone it may). Returns the
     * points the compiled run halted before, which `visit` did not see. Throws Unsupported where the
     * engine cannot go on: the points `visit` did not see are the caller's to interpret.
     */
    run(points: readonly number[], visit: (step: number, machine: Machine) => void): number[] {
        for (let i = 0; i < points.length; i++)
            if (!Number.isSafeInteger(points[i]) || points[i] < 0 || (i > 0 && points[i] <= points[i - 1]))
                throw new RangeError('the points must be ascending, distinct step numbers');
        try {
            return this.play(points, visit);
        } catch (e) {
            // the engine's stack, wherever it ran out (in the program's recursion, or around it)
            if (e instanceof RangeError && /call stack/i.test(e.message))
                throw new Unsupported(`the compiled run cannot go on: ${e.message}`);
            throw e;
        }
    }

    private play(points: readonly number[], visit: (step: number, machine: Machine) => void): number[] {
        const { m0, layout, shapes } = this;
        const G = m0.m.globals.length;
        let pending = 0;
        let status: number = STATUS.callRun;
        const instance = new engine.Instance(this.module, {
            fog: { snap: (_pc: number, length: bigint) => snap(Number(length)) },
        });
        const exports = instance.exports;
        const global = (i: number) => exports[`g${i}`] as WasmGlobal;
        const mem = exports.mem as WasmMemory;
        const aux = exports.aux as WasmMemory;
        const steps = () => Number(global(G).value as bigint);
        const setNext = () => (global(G + 1).value = pending < points.length ? BigInt(points[pending]) : NONE);

        /** The machine in the state the compiled run holds: the frames from the shadow stack, bottom first. */
        const machine = (): Machine => {
            const bytes = new Uint8Array(aux.buffer);
            const view = new DataView(aux.buffer);
            const frames: Assumed['frames'] = [];
            const operands: Int32Array[] = [];
            const sfp = global(G + 4).value as number;
            for (let at = layout.shadow; at < sfp;) {
                const func = view.getUint32(at, true);
                const shape = shapes[func - m0.m.hosts.length];
                const height = view.getUint32(at + 8, true);
                const values = at + HEADER + 8 * shape.locals;
                frames.push({
                    func,
                    pc: view.getUint32(at + 4, true),
                    locals: new Int32Array(aux.buffer.slice(at + HEADER, values)),
                    height,
                });
                operands.push(new Int32Array(aux.buffer.slice(values, values + 8 * height)));
                at += HEADER + 8 * (shape.locals + shape.maxHeight);
            }
            const stack = new Int32Array(operands.reduce((sum, v) => sum + v.length, 0));
            let k = 0;
            for (const v of operands) {
                stack.set(v, k);
                k += v.length;
            }
            const outLength = global(G + 5).value as number;
            const m = m0.clone(false);
            m.assume({
                status,
                steps: steps(),
                fuel: global(G + 2).value as bigint,
                depth: Number(global(G + 3).value as bigint),
                memory: new Uint8Array(mem.buffer).slice(),
                globals: Array.from({ length: G }, (_, i) => BigInt.asUintN(64, global(i).value as bigint)),
                dropped: Array.from(m0.dropped, (_, i) => bytes[layout.dropped + i] !== 0),
                output: bytes.slice(layout.output, layout.output + outLength),
                stack,
                frames,
            });
            return m;
        };
        /** A segment check's host side: the machine at the segment's start, then the interpreter to each point inside it. */
        const snap = (length: number) => {
            const m = machine();
            const end = m.steps + length;
            while (pending < points.length && points[pending] < end) {
                m.run(points[pending]);
                visit(points[pending], m);
                pending++;
            }
            setNext();
        };

        new Uint8Array(mem.buffer).set(m0.bytes.subarray(0, m0.size));
        const bytes = new Uint8Array(aux.buffer);
        bytes.set(m0.input, layout.input);
        m0.dropped.forEach((d, i) => (bytes[layout.dropped + i] = d ? 1 : 0));
        (exports.init as () => void)();
        const entries: [number, number, string][] = [[STATUS.callRun, STATUS.inRun, 'run']];
        if (m0.m.start !== undefined) entries.unshift([STATUS.callStart, STATUS.inStart, 'start']);
        try {
            for (const [before, during, name] of entries) {
                // the points at this step: the machine between entries, no frame
                status = before;
                while (pending < points.length && points[pending] <= steps()) {
                    visit(points[pending], machine());
                    pending++;
                }
                setNext();
                status = during;
                global(G).value = BigInt(steps() + 1);
                (exports[name] as () => void)();
            }
        } catch (e) {
            if (e instanceof engine.RuntimeError && global(G + 6).value === 0) {
                this.lastSteps = steps();
                return points.slice(pending);
            }
            if (e instanceof engine.RuntimeError) throw new Unsupported(`the compiled run cannot go on: ${e.message}`);
            throw e;
        }
        this.lastSteps = steps();
        return points.slice(pending);
    }
}
