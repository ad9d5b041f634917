/**
 * The parts of a WebAssembly module the reference interpreter (interpreter.ts) runs: types,
 * imports, functions with their bodies decoded into flat arrays, tables, globals, the start
 * function, element and data segments. The module has passed WebAssembly.validate and the ABI
 * check (client/compute/abi.ts) before it gets here; what this reader does not support is refused
 * as 'invalid' (SIMD, exceptions, reference-type and table instructions, tail calls, atomics,
 * GC), never guessed at.
 */
import { ProgramRefused, WasmReader } from '../compute/abi';
import { DEPTH_EXPORT, FUEL_EXPORT, START_EXPORT, TRAP_EXPORT } from '../compute/meter';

/** Export names the meter reserves (docs/metering.md): a program exporting one is refused, here as there. */
const RESERVED_EXPORTS = new Set([FUEL_EXPORT, TRAP_EXPORT, DEPTH_EXPORT, START_EXPORT]);

/** A value type's byte: i32 0x7f, i64 0x7e, f32 0x7d, f64 0x7c, funcref 0x70, externref 0x6f. */
export type ValType = number;

export interface FuncType {
    params: ValType[];
    results: ValType[];
}

/** A host function the ABI allows, by what it does. */
export type HostFunction = 'input_size' | 'read_input' | 'write_output' | 'abort';

/**
 * One function body, decoded: instruction i is `op[i]` with immediates `a[i]`, `b[i]`, `c[i]`.
 * Opcodes are the binary's, prefixed ones as 0xfc00 | sub. For `block`, `loop` and `if`: `a` is
 * the matching `end`'s index, `b` the block's params and `c` its results; an `if`'s `else` index
 * is in `elses`. For `loop`, `loopIndex` numbers it in opcode order (the meter's loop regions).
 */
export interface Code {
    op: Uint16Array;
    a: Int32Array;
    b: Int32Array;
    c: Int32Array;
    elses: Map<number, number>;
    loopIndex: Map<number, number>;
    /** br_table's labels, the default last, by instruction index. */
    tables: Map<number, number[]>;
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

/** Reads a module (validated, ABI-checked) for the interpreter. */
export function readModule(bytes: Uint8Array): Module {
    const r = new Reader(bytes, 8);
    const m: Module = {
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
                    m.codes.push(decodeBody(r, bodyEnd, m, locals, imported));
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

function decodeBody(r: Reader, end: number, m: Module, locals: ValType[], _imported: number): Code {
    const op: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const elses = new Map<number, number>();
    const loopIndex = new Map<number, number>();
    const tables = new Map<number, number[]>();
    const open: number[] = [];
    let loops = 0;
    const push = (o: number, x = 0, y = 0, z = 0) => {
        op.push(o);
        a.push(x);
        b.push(y);
        c.push(z);
        return op.length - 1;
    };
    const memarg = () => {
        const align = r.u32();
        if (align & 0x40) throw invalid('a second memory');
        return r.u32() | 0;
    };
    while (r.pos < end) {
        const code = r.byte();
        switch (code) {
            case 0x02:
            case 0x03:
            case 0x04: {
                const [p, q] = blockType(r, m);
                const i = push(code, -1, p, q);
                if (code === 0x03) loopIndex.set(i, loops++);
                open.push(i);
                break;
            }
            case 0x05:
                elses.set(open[open.length - 1], push(code));
                break;
            case 0x0b: {
                const i = push(code);
                const started = open.pop();
                if (started !== undefined) a[started] = i;
                break;
            }
            case 0x0c:
            case 0x0d:
            case 0x10:
            case 0x20:
            case 0x21:
            case 0x22:
            case 0x23:
            case 0x24:
                push(code, r.u32());
                break;
            case 0x0e: {
                const labels = Array.from({ length: r.u32() + 1 }, () => r.u32());
                tables.set(push(code), labels);
                break;
            }
            case 0x11: {
                const type = r.u32();
                push(code, type, r.u32());
                break;
            }
            case 0x1c:
                for (let n = r.u32(); n > 0; n--) r.valType();
                push(0x1b);
                break;
            case 0x3f:
            case 0x40:
                if (r.byte() !== 0) throw invalid('a second memory');
                push(code);
                break;
            case 0x41:
                push(code, Number(r.sleb(32)));
                break;
            case 0x42: {
                const v = BigInt.asUintN(64, r.sleb(64));
                push(code, Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
                break;
            }
            case 0x43:
                push(code, Buffer.from(r.bytesOf(4)).readInt32LE(0));
                break;
            case 0x44: {
                const bytes = Buffer.from(r.bytesOf(8));
                push(code, bytes.readInt32LE(0), bytes.readInt32LE(4));
                break;
            }
            case 0xfc: {
                const sub = r.u32();
                if (sub <= 7) push(0xfc00 | sub);
                else if (sub === 8) {
                    const segment = r.u32();
                    if (r.byte() !== 0) throw invalid('a second memory');
                    push(0xfc08, segment);
                } else if (sub === 9) push(0xfc09, r.u32());
                else if (sub === 10) {
                    if (r.byte() !== 0 || r.byte() !== 0) throw invalid('a second memory');
                    push(0xfc0a);
                } else if (sub === 11) {
                    if (r.byte() !== 0) throw invalid('a second memory');
                    push(0xfc0b);
                } else throw invalid(`the instruction 0xfc ${sub} (table instructions)`);
                break;
            }
            default:
                if (code >= 0x28 && code <= 0x3e) push(code, memarg());
                else if (
                    (code >= 0x45 && code <= 0xc4) ||
                    code === 0x00 ||
                    code === 0x01 ||
                    code === 0x0f ||
                    code === 0x1a ||
                    code === 0x1b
                )
                    push(code);
                else throw invalid(`the opcode 0x${code.toString(16)}`);
        }
    }
    return {
        op: Uint16Array.from(op),
        a: Int32Array.from(a),
        b: Int32Array.from(b),
        c: Int32Array.from(c),
        elses,
        loopIndex,
        tables,
        locals,
    };
}
