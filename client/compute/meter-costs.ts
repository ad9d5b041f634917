/**
 * The static side of metering: reads a module's code section and prices it by the cost table in
 * docs/metering.md. Everything here is a function of the program's bytes as the requester wrote
 * them (not of any toolkit's rewriting), so an independent interpreter can recompute it.
 */
import { ProgramRefused, WasmReader } from './abi';

// ─── the metered module's interface (meter.ts writes it; the host and the interpreter read it) ───

/** The exported mutable i64 global the host fills with the fuel limit. */
export const FUEL_EXPORT = 'fog_fuel';
/** The exported mutable i32 global that says why the meter trapped (0: it did not). */
export const TRAP_EXPORT = 'fog_trap';
/** The exported mutable i32 global holding the current call depth, in frame-weight units. */
export const DEPTH_EXPORT = 'fog_depth';
/**
 * The program's start function, if it has one, exported under this name instead of running at
 * instantiation (before the host could set the fuel): the host calls it after setting the fuel and
 * before `run`.
 */
export const START_EXPORT = 'fog_start';
/**
 * The exported function `(index: i32) → i64` that reads the program's global `index` as its bits
 * (i32 and f32 zero-extended, 0 for an index past the globals): the host reads the globals a run
 * ended with through it (client/compute/task.ts, `runToEnd`), floats included, whose NaN bits a
 * JavaScript number would not keep.
 */
export const GLOBAL_EXPORT = 'fog_global';
/** `fog_trap` after the fuel ran out. */
export const TRAP_FUEL = 1;
/** `fog_trap` after the call depth passed the budget. */
export const TRAP_STACK = 2;
/**
 * The call-depth budget, in frame-weight units (see FunctionCosts.weight). On a 4 MiB thread stack
 * (the pool's) V8 overflows natively at 332 000 units at the earliest (a 1 000-param recursion
 * under --liftoff-only): this leaves a factor of 3.3 (docs/metering.md, "Call depth").
 */
export const STACK_BUDGET = 100_000;
/** The most fuel a job may state: charges never wrap a signed 64-bit counter below this. */
export const MAX_FUEL = 2n ** 62n;

// ─── the cost table ───

/** Fuel for an instruction the table does not name. */
export const COST_DEFAULT = 1;
/** `call`, `return_call`. */
export const COST_CALL = 4;
/** `call_indirect`, `return_call_indirect`, `call_ref`, `return_call_ref`. */
export const COST_CALL_INDIRECT = 8;
/** Integer div/rem, float div and sqrt, scalar and SIMD. */
export const COST_DIVIDE = 4;
/** `memory.grow`, `table.grow`, before their charge by size. */
export const COST_GROW = 16;
/** `memory.copy`, `memory.fill`, `memory.init`, before their charge by size. */
export const COST_BULK = 4;
/** Run-time charge of `memory.grow`, per page asked for. */
export const FUEL_PER_PAGE = 1_024;
/**
 * Run-time charge of every `memory.grow` executed, besides its pages: the engine's call that grows a
 * memory took 3 to 85 µs in a pool thread (growing one page at a time to 1 GiB: about 70 µs each
 * past 256 MiB), about 2 × 10⁶ fuel at the calibration kernel's 3 × 10¹⁰ fuel/s (docs/metering.md).
 */
export const FUEL_PER_GROW = 2_000_000;
/**
 * Run-time charge of every call to one of Fog's host functions (`fog.input_size`, `fog.read_input`,
 * `fog.write_output`), besides its bytes: a call from a program into the host and back took about
 * 60 ns in a pool thread, about 2 000 fuel at the calibration kernel's rate.
 */
export const FUEL_PER_HOST_CALL = 2_000;
/**
 * Run-time charge of bulk memory (`memory.copy`, `memory.fill`, `memory.init`) and host I/O, per
 * byte. Copying ran at about 36 GB/s in a pool thread (1 MiB copies), filling faster: one fuel a
 * byte keeps them near the calibration kernel's fuel rate (one per 64 bytes, before, ran copies at
 * 5.6 × 10⁸ fuel/s).
 */
export const FUEL_PER_BYTE = 1;
/**
 * The heaviest function that can be "simple": no loops, no calls but to host functions. A direct
 * call to a simple function charges its entry cost in the caller, and it does not count in the depth.
 */
export const SIMPLE_MAX_WEIGHT = 1_024;
/** Frame weight of every function, before its params, locals and instructions. */
export const FRAME_OVERHEAD = 4;

/** What the meter needs to know of one defined function, in the module's order. */
export interface FunctionCosts {
    /** Fuel charged on entry: the instructions outside every loop. */
    entry: number;
    /** Fuel charged per iteration of each loop, in the order the `loop` opcodes appear. */
    loops: number[];
    /** Instructions in the body (`else`, `end`, `catch`, `catch_all` and `delegate` are not). */
    instructions: number;
    /** Param and local slots: one each, two for a v128. */
    slots: number;
    /** FRAME_OVERHEAD + slots + instructions: what a call adds to the depth counter. */
    weight: number;
    /** No loops, no calls but to imports, weight at most SIMPLE_MAX_WEIGHT (see there). */
    simple: boolean;
}

/** A body's prices before direct calls to simple functions are resolved. */
interface RawCosts extends FunctionCosts {
    /** Per region (-1: entry, k: loops[k]), the defined functions it calls directly, by index. */
    calls: [number, number][];
    /** Calls a defined function, directly or not. */
    callsOut: boolean;
}

const V128 = 0x7b;

/** The reader, plus what pricing a body needs: types, block types and memargs skipped. */
class Cursor extends WasmReader {
    /** Skips a value type; returns its first byte. */
    skipValueType(): number {
        const first = this.byte();
        if (first === 0x63 || first === 0x64) this.skipLeb();
        return first;
    }

    blockType(): void {
        const first = this.bytes[this.pos];
        if (first === 0x40) this.pos++;
        else if (first >= 0x40 && first <= 0x7f) this.skipValueType();
        else this.skipLeb();
    }

    memarg(): void {
        const align = this.u32();
        if (align & 0x40) this.u32();
        this.skipLeb();
    }
}

/** Prices every function the module defines. Throws ProgramRefused for what the meter does not support. */
export function functionCosts(bytes: Uint8Array): FunctionCosts[] {
    const c = new Cursor(bytes, 8);
    const typeSlots: number[] = [];
    const funcTypes: number[] = [];
    const raw: RawCosts[] = [];
    let importedFunctions = 0;
    while (c.pos < bytes.length) {
        const id = c.byte();
        const size = c.u32();
        const end = c.pos + size;
        if (id === 1) readTypes(c, typeSlots);
        if (id === 2) importedFunctions = countFunctionImports(c);
        if (id === 3) for (let n = c.u32(); n > 0; n--) funcTypes.push(c.u32());
        if (id === 10) {
            const count = c.u32();
            for (let i = 0; i < count; i++) {
                const bodySize = c.u32();
                const bodyEnd = c.pos + bodySize;
                raw.push(priceBody(c, bodyEnd, typeSlots[funcTypes[i]] ?? 0, importedFunctions));
                c.pos = bodyEnd;
            }
        }
        c.pos = end;
    }
    for (const f of raw) f.simple = f.loops.length === 0 && !f.callsOut && f.weight <= SIMPLE_MAX_WEIGHT;
    return raw.map(({ calls, callsOut: _, ...f }) => {
        for (const [region, callee] of calls) {
            const target = raw[callee];
            if (!target?.simple) continue;
            if (region < 0) f.entry += target.entry;
            else f.loops[region] += target.entry;
        }
        return f;
    });
}

function countFunctionImports(c: Cursor): number {
    let functions = 0;
    for (let n = c.u32(); n > 0; n--) {
        c.skip(c.u32());
        c.skip(c.u32());
        const kind = c.byte();
        if (kind === 0x00) {
            functions++;
            c.u32();
        } else if (kind === 0x01) {
            c.skipValueType();
            limits(c);
        } else if (kind === 0x02) limits(c);
        else if (kind === 0x03) {
            c.skipValueType();
            c.byte();
        } else if (kind === 0x04) {
            c.byte();
            c.u32();
        } else throw new ProgramRefused('invalid', `unknown import kind 0x${kind.toString(16)}`);
    }
    return functions;
}

function limits(c: Cursor): void {
    const flags = c.byte();
    c.skipLeb();
    if (flags & 0x01) c.skipLeb();
}

function readTypes(c: Cursor, typeSlots: number[]): void {
    const readSub = (form: number) => {
        if (form === 0x50 || form === 0x4f) {
            for (let n = c.u32(); n > 0; n--) c.u32();
            form = c.byte();
        }
        if (form !== 0x60) throw new ProgramRefused('invalid', 'struct and array types are not part of the Fog ABI');
        let slots = 0;
        for (let n = c.u32(); n > 0; n--) slots += c.skipValueType() === V128 ? 2 : 1;
        for (let n = c.u32(); n > 0; n--) c.skipValueType();
        typeSlots.push(slots);
    };
    for (let n = c.u32(); n > 0; n--) {
        const form = c.byte();
        if (form === 0x4e) for (let m = c.u32(); m > 0; m--) readSub(c.byte());
        else readSub(form);
    }
}

// Scalar opcodes (one byte) priced COST_DIVIDE: i32/i64 div and rem, f32/f64 sqrt and div.
const DIVIDES = new Set([0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82, 0x91, 0x95, 0x9f, 0xa3]);
// SIMD (0xFD) opcodes priced COST_DIVIDE: f32x4.sqrt, f32x4.div, f64x2.sqrt, f64x2.div.
const SIMD_DIVIDES = new Set([0xe3, 0xe7, 0xef, 0xf3]);

/**
 * One body: its locals, then instructions up to the function's final `end`. Loop regions nest as
 * the `loop`/`end` pairs do; every other block kind stays in the region around it.
 */
function priceBody(c: Cursor, end: number, paramSlots: number, importedFunctions: number): RawCosts {
    let slots = paramSlots;
    for (let groups = c.u32(); groups > 0; groups--) {
        const n = c.u32();
        slots += n * (c.skipValueType() === V128 ? 2 : 1);
    }
    const loops: number[] = [];
    // The region each open block charges to: -1 is the function's entry, k is loops[k].
    const control: { loop: boolean; region: number }[] = [{ loop: false, region: -1 }];
    let region = -1;
    let entry = 0;
    let instructions = 0;
    const calls: [number, number][] = [];
    let callsOut = false;
    const charge = (fuel: number) => {
        instructions++;
        if (region < 0) entry += fuel;
        else loops[region] += fuel;
    };
    while (c.pos < end && control.length > 0) {
        const op = c.byte();
        switch (op) {
            case 0x02:
            case 0x04:
            case 0x06:
                c.blockType();
                charge(COST_DEFAULT);
                control.push({ loop: false, region });
                break;
            case 0x03:
                c.blockType();
                charge(COST_DEFAULT);
                loops.push(0);
                region = loops.length - 1;
                control.push({ loop: true, region });
                break;
            case 0x05: // else
            case 0x19: // catch_all
                break;
            case 0x07: // catch
                c.u32();
                break;
            case 0x0b: // end
            case 0x18: {
                // delegate
                if (op === 0x18) c.u32();
                control.pop();
                region = control.length > 0 ? control[control.length - 1].region : -1;
                break;
            }
            case 0x08:
            case 0x09:
            case 0x0c:
            case 0x0d:
            case 0x20:
            case 0x21:
            case 0x22:
            case 0x23:
            case 0x24:
            case 0x25:
            case 0x26:
            case 0xd2:
            case 0xd5:
            case 0xd6:
                c.u32();
                charge(COST_DEFAULT);
                break;
            case 0x0e:
                for (let n = c.u32() + 1; n > 0; n--) c.u32();
                charge(COST_DEFAULT);
                break;
            case 0x10:
            case 0x12: {
                const callee = c.u32() - importedFunctions;
                if (callee >= 0) {
                    callsOut = true;
                    if (op === 0x10) calls.push([region, callee]);
                }
                charge(COST_CALL);
                break;
            }
            case 0x11:
            case 0x13:
                c.u32();
                c.u32();
                callsOut = true;
                charge(COST_CALL_INDIRECT);
                break;
            case 0x14:
            case 0x15:
                c.u32();
                callsOut = true;
                charge(COST_CALL_INDIRECT);
                break;
            case 0x1c:
                for (let n = c.u32(); n > 0; n--) c.skipValueType();
                charge(COST_DEFAULT);
                break;
            case 0x1f:
                throw new ProgramRefused('invalid', 'try_table (exceptions with exnref) is not supported by the meter');
            case 0x3f:
                c.u32();
                charge(COST_DEFAULT);
                break;
            case 0x40:
                c.u32();
                charge(COST_GROW);
                break;
            case 0x41:
            case 0x42:
                c.skipLeb();
                charge(COST_DEFAULT);
                break;
            case 0x43:
                c.skip(4);
                charge(COST_DEFAULT);
                break;
            case 0x44:
                c.skip(8);
                charge(COST_DEFAULT);
                break;
            case 0xd0:
                c.skipLeb();
                charge(COST_DEFAULT);
                break;
            case 0xfb:
                throw new ProgramRefused('invalid', 'GC instructions are not part of the Fog ABI');
            case 0xfc:
                charge(prefixFC(c));
                break;
            case 0xfd:
                charge(prefixFD(c));
                break;
            case 0xfe:
                throw new ProgramRefused('invalid', 'atomic instructions (threads) are refused: their results depend on scheduling');
            default:
                if (op >= 0x28 && op <= 0x3e) c.memarg();
                else if (!(
                    op <= 0x01 ||
                    op === 0x0a ||
                    op === 0x0f ||
                    op === 0x1a ||
                    op === 0x1b ||
                    (op >= 0x45 && op <= 0xc4) ||
                    op === 0xd1 ||
                    op === 0xd3 ||
                    op === 0xd4
                )) {
                    throw new ProgramRefused('invalid', `unknown opcode 0x${op.toString(16)}`);
                }
                charge(DIVIDES.has(op) ? COST_DIVIDE : COST_DEFAULT);
        }
    }
    return { entry, loops, instructions, slots, weight: FRAME_OVERHEAD + slots + instructions, simple: false, calls, callsOut };
}

function prefixFC(c: Cursor): number {
    const sub = c.u32();
    if (sub <= 7) return COST_DEFAULT;
    switch (sub) {
        case 8:
            c.u32();
            c.u32();
            return COST_BULK;
        case 9:
        case 13:
            c.u32();
            return COST_DEFAULT;
        case 10:
            c.u32();
            c.u32();
            return COST_BULK;
        case 11:
            c.u32();
            return COST_BULK;
        case 15:
            c.u32();
            return COST_GROW;
        case 16:
            c.u32();
            return COST_DEFAULT;
        case 12:
        case 14:
        case 17:
            throw new ProgramRefused('invalid', 'table.init, table.copy and table.fill are not supported by the meter');
        default:
            throw new ProgramRefused('invalid', `unknown opcode 0xfc ${sub}`);
    }
}

function prefixFD(c: Cursor): number {
    const sub = c.u32();
    if (sub <= 11 || sub === 92 || sub === 93) c.memarg();
    else if (sub === 12 || sub === 13) c.skip(16);
    else if (sub >= 21 && sub <= 34) c.skip(1);
    else if (sub >= 84 && sub <= 91) {
        c.memarg();
        c.skip(1);
    } else if (sub >= 0x100) {
        throw new ProgramRefused('invalid', 'relaxed SIMD is refused: its results differ between CPUs');
    }
    return SIMD_DIVIDES.has(sub) ? COST_DIVIDE : COST_DEFAULT;
}
