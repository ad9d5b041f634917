/// # The Fog program ABI
///
/// A job program is a WebAssembly module. It sees nothing of the machine it runs on: no clock, no
/// randomness, no files, no environment. Its output is a function of its bytes and its input only,
/// so honest workers produce byte-identical output.
///
/// ## Memory
/// The module imports its one linear memory, and defines none:
///
///     (import "fog" "memory" (memory MIN))        ;; or (memory MIN MAX)
///
/// `env.memory` is accepted as the same import (it is what AssemblyScript's `--importMemory` emits).
///
/// The host creates it with `initial = MIN` and `maximum = min(MAX, cap)` pages of 64 KiB, where
/// `cap = maxMemoryMb * 16` is the job's memory cap. `memory.grow` past the maximum returns -1, so
/// the memory never exceeds the cap. Refused before any code runs: MIN above the cap ('memory'); a
/// memory the module defines itself, a shared or 64-bit memory, or a second memory ('imports').
///
/// ## Tables and types
/// Every table the module defines declares a maximum, and the maxima add up to at most 1 000 000
/// entries; otherwise it is refused as 'memory' (tables live on the engine's heap, outside the memory
/// cap). Struct and array types (the GC proposal) are refused as 'invalid' for the same reason.
///
/// ## Host functions
/// Pointers, offsets and lengths are unsigned 32-bit integers.
///
///     (func $input_size (import "fog" "input_size") (result i32))
///         The input's length in bytes.
///     (func $read_input (import "fog" "read_input") (param $dst i32) (param $offset i32) (param $len i32) (result i32))
///         Copies up to `len` input bytes, starting at input byte `offset`, to memory at `dst`;
///         returns how many it copied (0 at or past the end). Traps if they do not fit at `dst`.
///     (func $write_output (import "fog" "write_output") (param $src i32) (param $len i32))
///         Appends `len` bytes of memory at `src` to the output. Traps if they lie outside memory;
///         fails the run as 'output-limit' if the output would exceed the worker's output cap.
///     (func $abort (import "env" "abort") (param $msg i32) (param $file i32) (param $line i32) (param $col i32))
///         AssemblyScript's default abort: fails the run as a 'trap' whose message carries the
///         message, the file, the line and the column (`msg` and `file` are AssemblyScript strings).
///
/// A module imports only the functions it uses. Any other import, or one of these with another
/// type, is refused as 'imports', naming the import. A host function's failure is final: a program
/// that catches it (exception handling) cannot call the host again, and the run fails with it.
///
/// ## Values moved at once
/// No function type or block type takes or gives more than 16 values: a call, a return or a branch
/// moves at most 16, which keeps the dispute game's one-step proof of it within its gas budget
/// (docs/disputes.md, "The one-step proof"). A module with such a type is refused as 'invalid'.
///
/// ## Entry point
/// The module exports `run`, a function of its own (not an import) without parameters; what it
/// returns is ignored. A start function, if any (also its own), runs first, under the same limits.
/// The output is every byte written with `write_output`, in order. A module without such a `run`,
/// or with an imported one or an imported start function, is refused as 'invalid'.
///
/// ## Metering
/// The host runs the module metered (meter.ts, docs/metering.md): it counts its own fuel against
/// the job's fuel limit and its own call depth against a fixed budget, and every float operation
/// that can make a NaN gives the canonical one. Refused before any code runs, as 'invalid' (or
/// 'imports' for a shared memory): atomics, relaxed SIMD, GC instructions, tail calls and the
/// other features the meter cannot make deterministic; and the export names `fog_fuel`,
/// `fog_trap`, `fog_depth`, `fog_start` and `fog_global`, which the meter reserves.
///
/// ## Failures
/// 'invalid' (not WebAssembly, no `run`, or refused by the meter), 'imports', 'memory' (over the
/// cap: tables or the memory's minimum), 'trap' (unreachable, out-of-bounds access, division by
/// zero, abort; the message ends with the memory's size, e.g. "(memory at 17 of 32 pages)"),
/// 'output-limit', 'fuel' (the fuel limit ran out), 'stack' (the call depth passed the budget).
/// A host that cannot allocate what a program within the caps asks for is not a verdict: the run
/// fails as the worker's fault (task.ts, WorkerFault), and the worker does not commit.
/// Each is a verdict: the same on every honest worker, with the fuel used. From the pool,
/// 'timeout' (the worker's own wall-clock limit) and 'cancelled' are not verdicts: a worker
/// never commits them.
///
/// ## Determinism
/// The output, the verdict and the fuel used are a function of the program, its input, its fuel
/// limit and its memory cap. NaNs are canonical and the call depth is the meter's, not the
/// engine's, so the caveats of bare WebAssembly (NaN bits, stack depth, relaxed SIMD) do not apply.

import { ProgramFailureReason } from './types';

/** The size of a WebAssembly page. */
export const PAGE_BYTES = 65_536;

/** The largest memory cap: a 32-bit memory's 65 536 pages. */
export const MAX_MEMORY_MB = 4_096;

/** The memory cap in pages for `maxMemoryMb`; throws a RangeError unless it is an integer from 1 to 4096. */
export function memoryCapPages(maxMemoryMb: number): number {
    if (!Number.isInteger(maxMemoryMb) || maxMemoryMb < 1 || maxMemoryMb > MAX_MEMORY_MB) {
        throw new RangeError(`maxMemoryMb must be an integer from 1 to ${MAX_MEMORY_MB}`);
    }
    return maxMemoryMb * (1_048_576 / PAGE_BYTES);
}

/** The most values a type may take or give: what a call, a return or a branch moves in one step of the dispute game. */
export const MAX_TYPE_VALUES = 16;

/** The most table entries a module may declare, over all its tables. */
export const MAX_TABLE_ENTRIES = 1_000_000;

/** A program the ABI refuses, before or while it runs; `reason` is the run's failure reason. */
export class ProgramRefused extends Error {
    constructor(
        readonly reason: ProgramFailureReason,
        message: string,
    ) {
        super(message);
        this.name = 'ProgramRefused';
    }
}

/** The part of the WebAssembly JS API the host uses (the tsconfig's lib has no WebAssembly types). */
export interface WasmApi {
    validate(bytes: Uint8Array): boolean;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: HostImports) => { readonly exports: Record<string, unknown> };
    Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
    RuntimeError: new (message?: string) => Error;
}

/** A WebAssembly.Memory. */
export interface WasmMemory {
    readonly buffer: ArrayBuffer;
}

/** The import object handed to the instance: module name → field name → value. */
export type HostImports = Record<string, Record<string, unknown>>;

/** The engine's WebAssembly namespace. */
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The host functions, `module.field` → type. */
const HOST_FUNCTIONS = new Map([
    ['fog.input_size', '() -> (i32)'],
    ['fog.read_input', '(i32, i32, i32) -> (i32)'],
    ['fog.write_output', '(i32, i32) -> ()'],
    ['env.abort', '(i32, i32, i32, i32) -> ()'],
]);

/** The output of one run: grows by doubling, never beyond the cap. */
class OutputBuffer {
    private bytes = new Uint8Array(256);
    private length = 0;

    constructor(private readonly cap: number) {}

    /** Appends `chunk`, or throws ProgramRefused('output-limit') if the output would exceed the cap. */
    append(chunk: Uint8Array): void {
        const needed = this.length + chunk.length;
        if (needed > this.cap) throw new ProgramRefused('output-limit', `output exceeds the cap of ${this.cap} bytes`);
        if (needed > this.bytes.length) {
            const grown = new Uint8Array(Math.min(this.cap, Math.max(needed, this.bytes.length * 2)));
            grown.set(this.bytes.subarray(0, this.length));
            this.bytes = grown;
        }
        this.bytes.set(chunk, this.length);
        this.length = needed;
    }

    /** The output so far, in a buffer of its own (so it can be transferred). */
    result(): Uint8Array {
        return this.bytes.slice(0, this.length);
    }
}

/**
 * The host side of one run: the imports (the memory and the host functions over `input`) and the
 * output. A host function fails by throwing; WebAssembly exception handling can catch that, so the
 * first failure is also kept in `fault`, every later host call throws it again, and the run fails
 * with it even if `run` returns.
 */
export class Host {
    readonly imports: HostImports;
    /** The first failure a host function raised, if any. */
    fault: Error | undefined;
    private readonly output: OutputBuffer;

    constructor(
        private readonly memory: WasmMemory,
        input: Uint8Array,
        maxOutputBytes: number,
    ) {
        this.output = new OutputBuffer(maxOutputBytes);
        this.imports = {
            fog: {
                memory,
                input_size: this.guard((): number => input.length | 0),
                read_input: this.guard((dst: number, offset: number, len: number): number => {
                    const start = Math.min(offset >>> 0, input.length);
                    const chunk = input.subarray(start, start + (len >>> 0));
                    this.view(dst >>> 0, chunk.length, 'read_input').set(chunk);
                    return chunk.length;
                }),
                write_output: this.guard((src: number, len: number): void => {
                    this.output.append(this.view(src >>> 0, len >>> 0, 'write_output'));
                }),
            },
            env: {
                // AssemblyScript's --importMemory names it env.memory: the same one memory
                memory,
                abort: this.guard((msg: number, file: number, line: number, col: number): never => {
                    const where = `${readAsString(memory, file)}:${line >>> 0}:${col >>> 0}`;
                    throw new wasm.RuntimeError(`abort: ${readAsString(memory, msg)} at ${where}`);
                }),
            },
        };
    }

    /** Everything the program wrote, in a buffer of its own (so it can be transferred). */
    result(): Uint8Array {
        return this.output.result();
    }

    /** Out-of-bounds accesses throw a WebAssembly.RuntimeError, as the engine does for the module's own. */
    private view(ptr: number, len: number, what: string): Uint8Array {
        const buffer = this.memory.buffer;
        if (ptr + len > buffer.byteLength) throw new wasm.RuntimeError(`${what}: memory access out of bounds`);
        return new Uint8Array(buffer, ptr, len);
    }

    private guard<A extends number[], R>(fn: (...args: A) => R): (...args: A) => R {
        return (...args: A): R => {
            if (this.fault !== undefined) throw this.fault;
            try {
                return fn(...args);
            } catch (err) {
                this.fault = err instanceof Error ? err : new Error(String(err));
                throw this.fault;
            }
        };
    }
}

/** An AssemblyScript string (UTF-16, its byte length in the 4 bytes before it), or a placeholder. */
function readAsString(memory: WasmMemory, ptr: number): string {
    const buffer = memory.buffer;
    const at = ptr >>> 0;
    if (at === 0) return '(null)';
    if (at < 4 || at + 4 > buffer.byteLength) return '(unreadable)';
    const bytes = new DataView(buffer).getUint32(at - 4, true);
    if (at + bytes > buffer.byteLength || bytes % 2 !== 0) return '(unreadable)';
    return Buffer.from(buffer, at, Math.min(bytes, 2_048)).toString('utf16le');
}

/** What the host needs from a program that passed the checks. */
export interface ProgramShape {
    /** The imported memory's limits, in pages, with the cap applied. */
    memory: { initial: number; maximum: number };
}

/**
 * Checks a validated module against the ABI and the memory cap (in pages), before any of its code
 * runs. Throws ProgramRefused('imports' | 'memory' | 'invalid') naming what is wrong.
 */
export function checkProgram(bytes: Uint8Array, capPages: number): ProgramShape {
    const module = parseModule(bytes);
    const tableEntries = module.tables.reduce((sum, t) => sum + (t.max ?? Infinity), 0);
    if (tableEntries > MAX_TABLE_ENTRIES) {
        const declared = module.tables.some((t) => t.max === undefined) ? 'a table without a maximum' : `tables of ${tableEntries} entries`;
        throw new ProgramRefused('memory', `${declared}: at most ${MAX_TABLE_ENTRIES} table entries in all, each table with a maximum`);
    }
    if (module.definedMemories > 0) throw new ProgramRefused('imports', 'the module defines its own memory: import it as fog.memory');
    const wide = module.types.find((t) => t.params.length > MAX_TYPE_VALUES || t.results.length > MAX_TYPE_VALUES);
    if (wide !== undefined) {
        throw new ProgramRefused(
            'invalid',
            `a type of ${signature(wide)} moves more than ${MAX_TYPE_VALUES} values at once (params or results)`,
        );
    }
    let memory: ProgramShape['memory'] | undefined;
    for (const entry of module.imports) {
        const field = `${entry.module}.${entry.name}`;
        if (entry.kind === 'memory' && (field === 'fog.memory' || field === 'env.memory')) {
            const { limits } = entry;
            if (memory !== undefined) throw new ProgramRefused('imports', 'the memory is imported twice (fog.memory or env.memory, once)');
            if (limits.shared || limits.is64) throw new ProgramRefused('imports', 'fog.memory must be a non-shared 32-bit memory');
            if (limits.min > capPages) {
                throw new ProgramRefused('memory', `fog.memory needs ${limits.min} pages, above the cap of ${capPages}`);
            }
            memory = { initial: limits.min, maximum: Math.min(limits.max ?? capPages, capPages) };
            continue;
        }
        const expected = HOST_FUNCTIONS.get(field);
        if (entry.kind !== 'function' || expected === undefined) {
            throw new ProgramRefused('imports', `forbidden import ${field} (${entry.kind})`);
        }
        const found = signature(module.types[entry.typeIndex]);
        if (found !== expected) throw new ProgramRefused('imports', `${field} must have type ${expected}, not ${found}`);
    }
    if (memory === undefined) throw new ProgramRefused('imports', 'the module must import its memory as fog.memory');
    const run = module.exports.get('run');
    if (run === undefined || run.kind !== 0) throw new ProgramRefused('invalid', 'the module must export a function "run"');
    const imported = module.imports.filter((i) => i.kind === 'function').length;
    if (run.index < imported) throw new ProgramRefused('invalid', '"run" must be a function of the module, not an import');
    if (module.start !== undefined && module.start < imported) {
        throw new ProgramRefused('invalid', 'the start function must be a function of the module, not an import');
    }
    const runType = module.types[module.functionTypes[run.index]];
    if (runType === undefined || runType.params.length > 0) {
        throw new ProgramRefused('invalid', `"run" must take no parameters, not ${signature(runType)}`);
    }
    return { memory };
}

function signature(type: FuncType | undefined): string {
    return type ? `(${type.params.join(', ')}) -> (${type.results.join(', ')})` : 'a non-function type';
}

// The binary format, as far as the checks need it: types, imports, functions, memories, exports.
// The module has passed WebAssembly.validate, so malformed input here is an engine feature this
// reader does not know; it is refused rather than guessed at.

interface FuncType {
    params: string[];
    results: string[];
}

interface Limits {
    min: number;
    max?: number;
    shared: boolean;
    is64: boolean;
}

type Import = { module: string; name: string } & (
    { kind: 'function'; typeIndex: number } | { kind: 'memory'; limits: Limits } | { kind: 'table' | 'global' | 'tag' }
);

interface ParsedModule {
    /** Function types by type index. */
    types: FuncType[];
    imports: Import[];
    /** The type index of every function, imported ones first. */
    functionTypes: number[];
    /** The limits of the tables the module defines. */
    tables: Limits[];
    definedMemories: number;
    exports: Map<string, { kind: number; index: number }>;
    /** The start function's index, if the module has one. */
    start: number | undefined;
}

const VALUE_TYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/**
 * Reads WebAssembly's binary format: bytes, LEB128 integers, names, value types, limits. The one
 * reader of the ABI check here, the meter's cost table (meter-costs.ts) and the reference
 * interpreter (client/dispute/module.ts); what it cannot read is refused as 'invalid'.
 */
export class WasmReader {
    constructor(
        readonly bytes: Uint8Array,
        public pos = 0,
        public end = bytes.length,
    ) {}

    byte(): number {
        if (this.pos >= this.end) throw new ProgramRefused('invalid', 'unexpected end of a section');
        return this.bytes[this.pos++];
    }

    /** An unsigned LEB128 of up to `bits` bits, as a number (exact up to 2^53). */
    uleb(bits = 32): number {
        let value = 0;
        for (let shift = 0; shift < bits + 7; shift += 7) {
            const b = this.byte();
            value += (b & 0x7f) * 2 ** shift;
            if ((b & 0x80) === 0) return value;
        }
        throw new ProgramRefused('invalid', 'malformed LEB128 integer');
    }

    u32(): number {
        return this.uleb(32);
    }

    /** A signed LEB128 of `bits` bits, as a bigint. */
    sleb(bits: number): bigint {
        let result = 0n;
        let shift = 0n;
        for (;;) {
            const b = this.byte();
            result |= BigInt(b & 0x7f) << shift;
            shift += 7n;
            if ((b & 0x80) === 0) {
                if (shift < BigInt(bits) && b & 0x40) result -= 1n << shift;
                return BigInt.asIntN(bits, result);
            }
        }
    }

    /** Skips a LEB128 of any width (signed or not). */
    skipLeb(): void {
        while (this.byte() & 0x80);
    }

    skip(n: number): void {
        this.pos += n;
    }

    bytesOf(n: number): Uint8Array {
        const out = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
    }

    name(): string {
        const length = this.uleb();
        const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, Math.min(length, this.end - this.pos));
        this.pos += length;
        return text.toString('utf8');
    }

    vec<T>(item: () => T): T[] {
        return Array.from({ length: this.uleb() }, item);
    }

    valueType(first = this.byte()): string {
        // (ref ht) and (ref null ht) carry a heap type; every other value type is one byte.
        if (first === 0x63 || first === 0x64) this.uleb(33);
        return VALUE_TYPES[first] ?? 'ref';
    }

    limits(): Limits {
        const flags = this.byte();
        const is64 = (flags & 0x04) !== 0;
        const min = this.uleb(is64 ? 64 : 32);
        const max = flags & 0x01 ? this.uleb(is64 ? 64 : 32) : undefined;
        return { min, max, shared: (flags & 0x02) !== 0, is64 };
    }
}

function parseModule(bytes: Uint8Array): ParsedModule {
    const parsed: ParsedModule = {
        types: [],
        imports: [],
        functionTypes: [],
        tables: [],
        definedMemories: 0,
        exports: new Map(),
        start: undefined,
    };
    const r = new WasmReader(bytes, 8, bytes.length);
    while (r.pos < bytes.length) {
        r.end = bytes.length;
        const id = r.byte();
        const size = r.uleb();
        const end = r.pos + size;
        r.end = end;
        if (id === 1) r.vec(() => readTypeEntry(r, parsed.types));
        if (id === 2) parsed.imports = r.vec(() => readImport(r, parsed.functionTypes));
        if (id === 3) parsed.functionTypes.push(...r.vec(() => r.uleb()));
        if (id === 4) parsed.tables = r.vec(() => readTable(r));
        if (id === 5) parsed.definedMemories = r.uleb();
        if (id === 7) for (const e of r.vec(() => ({ name: r.name(), kind: r.byte(), index: r.uleb() }))) parsed.exports.set(e.name, e);
        if (id === 8) parsed.start = r.uleb();
        r.pos = end;
    }
    return parsed;
}

function readTypeEntry(r: WasmReader, types: FuncType[]): void {
    const form = r.byte();
    if (form === 0x4e) r.vec(() => readSubType(r, types, r.byte()));
    else readSubType(r, types, form);
}

function readSubType(r: WasmReader, types: FuncType[], form: number): void {
    if (form === 0x50 || form === 0x4f) {
        r.vec(() => r.uleb());
        form = r.byte();
    }
    // Structs and arrays live on the engine's heap, where no per-job cap applies.
    if (form === 0x5f || form === 0x5e) throw new ProgramRefused('invalid', 'struct and array types are not part of the Fog ABI');
    if (form !== 0x60) throw new ProgramRefused('invalid', `unknown type form 0x${form.toString(16)}`);
    types.push({ params: r.vec(() => r.valueType()), results: r.vec(() => r.valueType()) });
}

function readTable(r: WasmReader): Limits {
    // 0x40 0x00 starts a table with an initializer expression (function references).
    const first = r.byte();
    if (first === 0x40) throw new ProgramRefused('invalid', 'tables with initializer expressions are not part of the Fog ABI');
    r.valueType(first);
    return r.limits();
}

function readImport(r: WasmReader, functionTypes: number[]): Import {
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    switch (kind) {
        case 0x00: {
            const typeIndex = r.uleb();
            functionTypes.push(typeIndex);
            return { module, name, kind: 'function', typeIndex };
        }
        case 0x01:
            r.valueType();
            r.limits();
            return { module, name, kind: 'table' };
        case 0x02:
            return { module, name, kind: 'memory', limits: r.limits() };
        case 0x03:
            r.valueType();
            r.byte();
            return { module, name, kind: 'global' };
        case 0x04:
            r.byte();
            r.uleb();
            return { module, name, kind: 'tag' };
        default:
            throw new ProgramRefused('invalid', `unknown import kind 0x${kind.toString(16)} for ${module}.${name}`);
    }
}
