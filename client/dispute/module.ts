/**
 * The parts of a WebAssembly module the reference interpreter (interpreter.ts) runs: types,
 * imports, functions with their bodies decoded into flat arrays, tables, globals, the start
 * function, element and data segments. The module has passed WebAssembly.validate and the ABI
 * check (client/compute/abi.ts) before it gets here; what this reader does not support is refused
 * as 'invalid' (SIMD, exceptions, reference-type and table instructions, tail calls, atomics,
 * GC), never guessed at.
 */
import { ProgramRefused, WasmReader } from '../compute/abi';
import { DEPTH_EXPORT, FUEL_EXPORT, GLOBAL_EXPORT, START_EXPORT, TRAP_EXPORT } from '../compute/meter-costs';

/** Export names the meter reserves (docs/metering.md): a program exporting one is refused, here as there. */
const RESERVED_EXPORTS = new Set([FUEL_EXPORT, TRAP_EXPORT, DEPTH_EXPORT, START_EXPORT, GLOBAL_EXPORT]);

/** A value type's byte: i32 0x7f, i64 0x7e, f32 0x7d, f64 0x7c, funcref 0x70, externref 0x6f. */
export type ValType = number;

export interface FuncType {
    params: ValType[];
    results: ValType[];
}

/** A host function the ABI allows, by what it does. */
export type HostFunction = 'input_size' | 'read_input' | 'write_output' | 'abort';

/**
 * A branch with its label resolved statically (docs/disputes.md, "Steps"): where it goes, the
 * stack height it keeps below its values (relative to the frame's base) and how many values it
 * carries; a branch to a loop also charges the loop's region fuel. `target` -1 is the function's
 * own label: a return.
 */
export interface Branch {
    target: number;
    height: number;
    arity: number;
    /** The loop's index (its region fuel in FunctionCosts.loops), or -1 for a block, an if or the function. */
    loop: number;
}

/**
 * One function body, decoded, with its control flow resolved: instruction i is `op[i]` with
 * immediates `a[i]` and `b[i]`. Opcodes are the binary's, prefixed ones as 0xfc00 | sub; the typed
 * select is 0x1b. Immediates by opcode:
 * - `loop`: a = its index in opcode order (the meter's loop regions); `block`: none;
 * - `if`: a = where a false condition goes (after the `else`, or after the `end`);
 * - `else` (reached from the then-arm): a = after the matching `end`;
 * - `end`: a = 1 for the function's own end (a return), else 0;
 * - `br`, `br_if`, `return`: a = the branch's index in `branches`; `br_table`: a = the first of
 *   b consecutive branches, the default last;
 * - `call`: a = function; `call_indirect`: a = type, b = table; locals, globals: a = index;
 *   loads and stores: a = offset; consts: a, b = the low and high 32 bits; `memory.init`,
 *   `data.drop`: a = segment.
 */
export interface Code {
    op: Uint16Array;
    a: Int32Array;
    b: Int32Array;
    branches: Branch[];
    /**
     * The operand stack's height before each instruction, relative to the frame's base (meaningless
     * in code no path reaches: after an unconditional branch, until its block's `else` or `end`).
     */
    heights: Int32Array;
    /** Declared locals after the params, by type. */
    locals: ValType[];
}

export interface Module {
    types: FuncType[];
    /** Imported functions first, then defined ones: each function's type index. */
    funcTypes: number[];
    hosts: HostFunction[];
    codes: Code[];
    /** Each table's initial size (funcref tables only). */
    tables: { min: number; max: number | undefined }[];
    globals: { type: ValType; init: bigint }[];
    runIndex: number;
    start: number | undefined;
    elements: { table: number; offset: number | undefined; funcs: (number | null)[] }[];
    data: { offset: number | undefined; bytes: Uint8Array }[];
}

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;

const invalid = (what: string) => new ProgramRefused('invalid', `${what} is not supported by the interpreter`);

/** The reader, plus the value types the interpreter runs. */
class Reader extends WasmReader {
    valType(): ValType {
        const t = this.byte();
        if (t === I32 || t === I64 || t === F32 || t === F64 || t === 0x70) return t;
        throw invalid(`the value type 0x${t.toString(16)}`);
    }
}

/** A module with nothing in it (no `run` yet: runIndex -1). */
export function emptyModule(): Module {
    return {
        types: [],
        funcTypes: [],
        hosts: [],
        codes: [],
        tables: [],
        globals: [],
        runIndex: -1,
        start: undefined,
        elements: [],
        data: [],
    };
}

/** Reads a module (validated, ABI-checked) for the interpreter. */
export function readModule(bytes: Uint8Array): Module {
    const r = new Reader(bytes, 8);
    const m = emptyModule();
    while (r.pos < bytes.length) {
        const id = r.byte();
        const size = r.u32();
        const end = r.pos + size;
        switch (id) {
            case 1:
                for (let n = r.u32(); n > 0; n--) {
                    if (r.byte() !== 0x60) throw invalid('a type other than a function type');
                    const params = Array.from({ length: r.u32() }, () => r.valType());
                    const results = Array.from({ length: r.u32() }, () => r.valType());
                    m.types.push({ params, results });
                }
                break;
            case 2:
                for (let n = r.u32(); n > 0; n--) {
                    const module = r.name();
                    const name = r.name();
                    const kind = r.byte();
                    if (kind === 0x00) {
                        m.funcTypes.push(r.u32());
                        if (module === 'env' && name === 'abort') m.hosts.push('abort');
                        else if (module === 'fog' && (name === 'input_size' || name === 'read_input' || name === 'write_output'))
                            m.hosts.push(name);
                        else throw new ProgramRefused('imports', `forbidden import ${module}.${name}`);
                    } else if (kind === 0x02) {
                        const flags = r.byte();
                        r.u32();
                        if (flags & 1) r.u32();
                    } else throw new ProgramRefused('imports', `forbidden import ${module}.${name}`);
                }
                break;
            case 3:
                for (let n = r.u32(); n > 0; n--) m.funcTypes.push(r.u32());
                break;
            case 4:
                for (let n = r.u32(); n > 0; n--) {
                    if (r.byte() !== 0x70) throw invalid('a table of anything but funcref');
                    const flags = r.byte();
                    const min = r.u32();
                    m.tables.push({ min, max: flags & 1 ? r.u32() : undefined });
                }
                break;
            case 6:
                for (let n = r.u32(); n > 0; n--) {
                    const type = r.valType();
                    r.byte(); // mutability
                    m.globals.push({ type, init: constExpr(r, m) });
                }
                break;
            case 7:
                for (let n = r.u32(); n > 0; n--) {
                    const name = r.name();
                    const kind = r.byte();
                    const index = r.u32();
                    if (name === 'run' && kind === 0) m.runIndex = index;
                    if (RESERVED_EXPORTS.has(name))
                        throw new ProgramRefused('invalid', `the export name ${name} is reserved for the meter`);
                }
                break;
            case 8:
                m.start = r.u32();
                break;
            case 9:
                for (let n = r.u32(); n > 0; n--) m.elements.push(elementSegment(r, m));
                break;
            case 10: {
                const imported = m.hosts.length;
                const count = r.u32();
                for (let i = 0; i < count; i++) {
                    const bodySize = r.u32();
                    const bodyEnd = r.pos + bodySize;
                    const locals: ValType[] = [];
                    for (let groups = r.u32(); groups > 0; groups--) {
                        const n = r.u32();
                        const t = r.valType();
                        for (let k = 0; k < n; k++) locals.push(t);
                    }
                    m.codes.push(decodeBody(r, bodyEnd, m, locals, imported + i));
                    r.pos = bodyEnd;
                }
                break;
            }
            case 11:
                for (let n = r.u32(); n > 0; n--) {
                    const mode = r.u32();
                    if (mode === 1) m.data.push({ offset: undefined, bytes: r.bytesOf(r.u32()) });
                    else {
                        if (mode === 2 && r.u32() !== 0) throw invalid('a second memory');
                        const offset = Number(BigInt.asUintN(32, constExpr(r, m)));
                        m.data.push({ offset, bytes: r.bytesOf(r.u32()) });
                    }
                }
                break;
            case 0:
            case 5:
            case 12:
                break;
            default:
                throw invalid(`section ${id}`);
        }
        r.pos = end;
    }
    if (m.runIndex < 0) throw new ProgramRefused('invalid', 'the module must export a function "run"');
    return m;
}

/** A constant expression's value, as the bits of its type (i32/f32 in the low 32 bits). */
function constExpr(r: Reader, m: Module): bigint {
    const stack: bigint[] = [];
    for (;;) {
        const op = r.byte();
        switch (op) {
            case 0x0b:
                return stack.pop() ?? 0n;
            case 0x41:
                stack.push(BigInt.asUintN(32, r.sleb(32)));
                break;
            case 0x42:
                stack.push(BigInt.asUintN(64, r.sleb(64)));
                break;
            case 0x43:
                stack.push(BigInt(Buffer.from(r.bytesOf(4)).readUInt32LE(0)));
                break;
            case 0x44:
                stack.push(Buffer.from(r.bytesOf(8)).readBigUInt64LE(0));
                break;
            case 0x23:
                stack.push(m.globals[r.u32()]?.init ?? 0n);
                break;
            case 0xd0:
                r.byte();
                stack.push(-1n);
                break;
            case 0xd2:
                stack.push(BigInt(r.u32()));
                break;
            case 0x6a:
            case 0x6b:
            case 0x6c:
            case 0x7c:
            case 0x7d:
            case 0x7e: {
                const y = stack.pop()!;
                const x = stack.pop()!;
                const wide = op >= 0x7c;
                const v = op === 0x6a || op === 0x7c ? x + y : op === 0x6b || op === 0x7d ? x - y : x * y;
                stack.push(BigInt.asUintN(wide ? 64 : 32, v));
                break;
            }
            default:
                throw invalid(`the constant-expression opcode 0x${op.toString(16)}`);
        }
    }
}

function elementSegment(r: Reader, m: Module): Module['elements'][number] {
    const flags = r.u32();
    const passive = (flags & 1) !== 0;
    const explicitTable = (flags & 2) !== 0;
    const usesExprs = (flags & 4) !== 0;
    let table = 0;
    let offset: number | undefined;
    if (!passive) {
        if (explicitTable) table = r.u32();
        offset = Number(BigInt.asUintN(32, constExpr(r, m)));
    } else if (explicitTable) {
        // declarative (3 or 7): nothing to initialize
    }
    if (passive || explicitTable) {
        if (usesExprs) r.valType();
        else if (r.byte() !== 0x00) throw invalid('an element kind other than funcref');
    }
    const funcs: (number | null)[] = [];
    for (let n = r.u32(); n > 0; n--) {
        if (usesExprs) {
            const v = constExpr(r, m);
            funcs.push(v < 0n ? null : Number(v));
        } else funcs.push(r.u32());
    }
    return { table, offset: passive ? undefined : offset, funcs: passive && explicitTable ? [] : funcs };
}

/** Params and results of a block type. */
function blockType(r: Reader, m: Module): [number, number] {
    const first = r.bytes[r.pos];
    if (first === 0x40) {
        r.pos++;
        return [0, 0];
    }
    if (first === I32 || first === I64 || first === F32 || first === F64 || first === 0x70 || first === 0x6f) {
        r.pos++;
        return [0, 1];
    }
    const t = m.types[Number(r.sleb(33))];
    if (t === undefined) throw new ProgramRefused('invalid', 'a block type out of range');
    return [t.params.length, t.results.length];
}

/** A label open while a body is decoded. */
interface Open {
    op: number;
    at: number;
    height: number;
    params: number;
    results: number;
    /** Branches to this block or if, whose target is known only at its end. */
    pending: Branch[];
    loop: number;
    /** An if's `else`, once read. */
    else?: number;
}

/**
 * The operand stack's change by an instruction other than control and calls (which decodeBody
 * handles), from its opcode (0xfc00 | sub for prefixed ones).
 */
function stackEffect(op: number): number {
    if (op === 0x01 || op === 0x40 || op === 0x22 || (op >= 0x28 && op <= 0x35) || op === 0x45 || op === 0x50) return 0;
    if (op === 0x1a || op === 0x21 || op === 0x24) return -1;
    if (op === 0x1b) return -2;
    if (op === 0x20 || op === 0x23 || op === 0x3f || (op >= 0x41 && op <= 0x44)) return 1;
    if (op >= 0x36 && op <= 0x3e) return -2;
    if (op === 0xfc08 || op === 0xfc0a || op === 0xfc0b) return -3;
    if (op >= 0xfc00) return 0; // saturating truncations, data.drop
    if (op <= 0x66) return -1; // comparisons (the two eqz are above)
    const unary = (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) || (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f);
    if (unary || op >= 0xa7) return 0; // unary arithmetic, conversions, reinterpretations, sign extension
    return -1; // binary arithmetic
}

function decodeBody(r: Reader, end: number, m: Module, locals: ValType[], func: number): Code {
    const op: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    const heights: number[] = [];
    const branches: Branch[] = [];
    const type = m.types[m.funcTypes[func]];
    const open: Open[] = [];
    let loops = 0;
    // the operand stack's height before the next instruction, relative to the frame's base; after
    // an unconditional branch it is meaningless until the block's `else` or `end` (that code never runs)
    let height = 0;
    // the height before the instruction being read
    let before = 0;
    const push = (o: number, x = 0, y = 0) => {
        heights.push(before);
        op.push(o);
        a.push(x);
        b.push(y);
        return op.length - 1;
    };
    const branch = (depth: number): number => {
        const label = open[open.length - 1 - depth];
        let br: Branch;
        if (label === undefined) br = { target: -1, height: 0, arity: type.results.length, loop: -1 };
        else if (label.op === 0x03) br = { target: label.at + 1, height: label.height, arity: label.params, loop: label.loop };
        else {
            br = { target: -2, height: label.height, arity: label.results, loop: -1 };
            label.pending.push(br);
        }
        return branches.push(br) - 1;
    };
    const memarg = () => {
        const align = r.u32();
        if (align & 0x40) throw invalid('a second memory');
        return r.u32() | 0;
    };
    const signature = (index: number) => {
        const t = m.types[index];
        if (t === undefined) throw new ProgramRefused('invalid', 'a type index out of range');
        return t;
    };
    while (r.pos < end) {
        const code = r.byte();
        before = height;
        switch (code) {
            case 0x02:
            case 0x03:
            case 0x04: {
                const [params, results] = blockType(r, m);
                if (code === 0x04) height--;
                const at = push(code, code === 0x03 ? loops : 0);
                open.push({ op: code, at, height: height - params, params, results, pending: [], loop: code === 0x03 ? loops++ : -1 });
                break;
            }
            case 0x05: {
                const label = open[open.length - 1];
                const at = push(code);
                a[label.at] = at + 1;
                label.else = at;
                height = label.height + label.params;
                break;
            }
            case 0x0b: {
                const label = open.pop();
                const at = push(code, label === undefined ? 1 : 0);
                if (label !== undefined) {
                    if (label.op === 0x04 && label.else === undefined) a[label.at] = at + 1;
                    if (label.else !== undefined) a[label.else] = at + 1;
                    for (const br of label.pending) br.target = at + 1;
                    height = label.height + label.results;
                }
                break;
            }
            case 0x0c:
                push(code, branch(r.u32()));
                break;
            case 0x0d:
                height--;
                push(code, branch(r.u32()));
                break;
            case 0x0e: {
                height--;
                const depths = Array.from({ length: r.u32() + 1 }, () => r.u32());
                const first = branches.length;
                for (const d of depths) branch(d);
                push(code, first, depths.length);
                break;
            }
            case 0x0f:
                push(code, branch(open.length));
                break;
            case 0x10: {
                const callee = r.u32();
                const t = signature(m.funcTypes[callee]);
                height += t.results.length - t.params.length;
                push(code, callee);
                break;
            }
            case 0x11: {
                const index = r.u32();
                const t = signature(index);
                height += t.results.length - t.params.length - 1;
                push(code, index, r.u32());
                break;
            }
            case 0x1c:
                for (let n = r.u32(); n > 0; n--) r.valType();
                push(0x1b);
                height += stackEffect(0x1b);
                break;
            case 0x20:
            case 0x21:
            case 0x22:
            case 0x23:
            case 0x24:
                height += stackEffect(code);
                push(code, r.u32());
                break;
            case 0x3f:
            case 0x40:
                if (r.byte() !== 0) throw invalid('a second memory');
                height += stackEffect(code);
                push(code);
                break;
            case 0x41:
                height++;
                push(code, Number(r.sleb(32)));
                break;
            case 0x42: {
                const v = BigInt.asUintN(64, r.sleb(64));
                height++;
                push(code, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
                break;
            }
            case 0x43:
                height++;
                push(code, Buffer.from(r.bytesOf(4)).readInt32LE(0));
                break;
            case 0x44: {
                const bytes = Buffer.from(r.bytesOf(8));
                height++;
                push(code, bytes.readInt32LE(0), bytes.readInt32LE(4));
                break;
            }
            case 0xfc: {
                const sub = r.u32();
                let at: number;
                if (sub <= 7) at = push(0xfc00 | sub);
                else if (sub === 8) {
                    const segment = r.u32();
                    if (r.byte() !== 0) throw invalid('a second memory');
                    at = push(0xfc08, segment);
                } else if (sub === 9) at = push(0xfc09, r.u32());
                else if (sub === 10) {
                    if (r.byte() !== 0 || r.byte() !== 0) throw invalid('a second memory');
                    at = push(0xfc0a);
                } else if (sub === 11) {
                    if (r.byte() !== 0) throw invalid('a second memory');
                    at = push(0xfc0b);
                } else throw invalid(`the instruction 0xfc ${sub} (table instructions)`);
                height += stackEffect(op[at]);
                break;
            }
            default:
                if (code >= 0x28 && code <= 0x3e) push(code, memarg());
                else if ((code >= 0x45 && code <= 0xc4) || code === 0x00 || code === 0x01 || code === 0x1a || code === 0x1b) push(code);
                else throw invalid(`the opcode 0x${code.toString(16)}`);
                if (code !== 0x00) height += stackEffect(code);
        }
    }
    return { op: Uint16Array.from(op), a: Int32Array.from(a), b: Int32Array.from(b), branches, heights: Int32Array.from(heights), locals };
}
