/**
 * Runs one metered job program: check against the ABI (abi.ts), instantiate, set the fuel, call
 * `fog_start` if the program has a start function, call `run`, read the meter (meter.ts). The
 * piscina task handler `runProgram` runs in a pool thread; `runProgramDirect` is the same run in
 * the calling thread. Both take a task whose program is already metered (programs.ts prepares it),
 * so no thread loads binaryen. `runUnmetered` is the same run without the meter, for the bench.
 */
import { performance } from 'node:perf_hooks';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { checkProgram, Host, memoryCapPages, PAGE_BYTES, ProgramRefused, wasm, WasmMemory } from './abi';
import { FUEL_EXPORT, GLOBAL_EXPORT, meterState, setFuel, START_EXPORT, TRAP_FUEL, TRAP_STACK } from './meter';
import { ProgramFailed, ProgramFailureReason, ProgramResult, ProgramTask } from './types';

/**
 * The piscina task handler (use with the pool option `name: 'runProgram'`). Flags `task.started`
 * first, so the pool's time limit counts from here, and transfers the output instead of copying it.
 */
export function runProgram(task: ProgramTask): ProgramResult {
    if (task.started !== undefined) {
        Atomics.store(task.started, 0, 1);
        Atomics.notify(task.started, 0);
    }
    const result = runProgramDirect(task);
    if (result.status !== 'ok') return result;
    // piscina unwraps a movable on its way out: the caller receives `result`, its output transferred.
    return move({ [transferableSymbol]: result.output.buffer, [valueSymbol]: result }) as unknown as ProgramResult;
}

/** A failure that is the worker's, not the program's: never a verdict (the run is abandoned). */
export class WorkerFault extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'WorkerFault';
    }
}

/**
 * Runs a metered program in the calling thread, with the same checks and results as the pool, but
 * no time limit. Every failure of the program is a result. Throws a RangeError for a bad
 * `maxMemoryMb` or fuel, and a WorkerFault when the task's program is not metered or the thread's
 * native stack ran out before the meter's depth budget (a thread stack too small for the budget:
 * see pool.ts and programs.ts's `runHere`).
 */
export function runProgramDirect(task: ProgramTask): ProgramResult {
    return execute(task, true);
}

/**
 * The run of `runProgramDirect`, same checks, host and verdicts, of a program that is not metered:
 * no fuel, no depth budget, the CPU's NaNs, a start function run at instantiation; fuel reads 0.
 * Only for measuring what the meter costs (bench/metering.ts): its verdicts depend on the machine,
 * so it never runs a job.
 */
export function runUnmetered(task: Omit<ProgramTask, 'fuel'>): ProgramResult {
    return execute({ ...task, fuel: 0n }, false);
}

/** How a metered run ended, beyond its verdict: what the dispute game's halted state is made of (client/dispute/opening.ts, `haltedCell`). */
export interface RunEnd {
    result: ProgramResult;
    /**
     * The memory, the program's globals as bits (GLOBAL_EXPORT, by index) and everything written
     * to the output (also for a failure) as the run left them; absent when the run failed before
     * its instance existed (instantiation, or a refusal).
     */
    state?: { memory: Uint8Array; globals: bigint[]; output: Uint8Array };
}

/**
 * `runProgramDirect`'s run, which also reads what it ended with: a copy of the memory, the first
 * `globals` globals and the output. For a dispute party that opens its match from the metered run
 * instead of the reference interpreter (client/dispute/game.ts); the same checks and verdicts.
 */
export function runToEnd(task: ProgramTask, globals: number): RunEnd {
    let ended: { memory: WasmMemory; exports: Record<string, unknown>; host: Host } | undefined;
    const result = execute(task, true, (memory, exports, host) => (ended = { memory, exports, host }));
    if (ended === undefined) return { result };
    // read after the run's verdict, so that nothing here can be taken for the program's failure
    try {
        const read = ended.exports[GLOBAL_EXPORT];
        if (typeof read !== 'function') throw new Error(`the task's program was metered without ${GLOBAL_EXPORT}`);
        const state = {
            memory: new Uint8Array(ended.memory.buffer.slice(0)),
            globals: Array.from({ length: globals }, (_, i) => BigInt.asUintN(64, (read as (i: number) => bigint)(i))),
            output: ended.host.result(),
        };
        return { result, state };
    } catch (e) {
        throw new WorkerFault(`could not read how the run ended: ${(e as Error).message}`);
    }
}

function execute(
    task: ProgramTask,
    metered: boolean,
    /** Given the run's memory, exports and host once it ended (returned or failed after instantiation); must not throw. */
    onEnd?: (memory: WasmMemory, exports: Record<string, unknown>, host: Host) => void,
): ProgramResult {
    const capPages = memoryCapPages(task.maxMemoryMb);
    const start = performance.now();
    let memory: WasmMemory | undefined;
    let exports: Record<string, unknown> | undefined;
    let host: Host | undefined;
    let maximum = 0;
    try {
        if (!wasm.validate(task.program)) throw new ProgramRefused('invalid', 'not a valid WebAssembly module');
        const shape = checkProgram(task.program, capPages);
        const module = new wasm.Module(task.program);
        maximum = shape.memory.maximum;
        memory = new wasm.Memory(shape.memory);
        host = new Host(memory, task.input, task.maxOutputBytes);
        const instance = new wasm.Instance(module, host.imports);
        if (metered) {
            if (!(FUEL_EXPORT in instance.exports)) throw new WorkerFault('the task carries a program that is not metered');
            exports = instance.exports;
            setFuel(exports, task.fuel);
            if (typeof exports[START_EXPORT] === 'function') (exports[START_EXPORT] as () => unknown)();
        }
        (instance.exports.run as () => unknown)();
        if (host.fault !== undefined) throw host.fault;
        const fuel = exports === undefined ? 0n : task.fuel - meterState(exports).fuel;
        if (exports !== undefined) onEnd?.(memory, exports, host);
        return { status: 'ok', output: host.result(), ms: performance.now() - start, fuel };
    } catch (err) {
        if (err instanceof WorkerFault) throw err;
        const meter = exports === undefined ? undefined : meterState(exports);
        if (exports !== undefined && memory !== undefined && host !== undefined) onEnd?.(memory, exports, host);
        const pages = memory === undefined ? 0 : memory.buffer.byteLength / PAGE_BYTES;
        const failed = classifyFailure(err, meter?.trap ?? 0, pages, maximum);
        // a run that failed after it started used its whole limit (docs/metering.md): the counter lives in
        // a function's local between calls, so the global says nothing exact after a trap
        const fuel = meter === undefined ? 0n : task.fuel;
        return { ...failed, fuel };
    }
}

/**
 * Classifies what a run threw: the meter's traps by `trap` (its fog_trap), the rest by the error.
 * `pages` and `maximum` are the memory's size and limit then.
 */
export function classifyFailure(err: unknown, trap: number, pages: number, maximum: number): Omit<ProgramFailed, 'fuel'> {
    const failed = (reason: ProgramFailureReason, message: string) => ({ status: 'failed' as const, reason, message });
    if (trap === TRAP_FUEL) return failed('fuel', 'the fuel ran out');
    if (trap === TRAP_STACK) return failed('stack', 'the call depth passed the budget');
    if (err instanceof ProgramRefused) return failed(err.reason, err.message);
    const name = err instanceof Error ? err.name : '';
    const message = err instanceof Error ? err.message : String(err);
    if (name === 'CompileError') return failed('invalid', message);
    if (name === 'LinkError') return failed('imports', message);
    // V8 reports a native stack overflow as a RangeError. With the meter bounding the depth far
    // below the thread's stack, one can only mean the thread's stack is too small: the worker's fault.
    if (err instanceof RangeError && /call stack/i.test(message)) {
        throw new WorkerFault(`the thread's native stack overflowed before the meter's depth budget: ${message}`);
    }
    // Any other RangeError is an allocation failure (the memory, a table, the output): whether this
    // machine can allocate says nothing about the program, so it is the worker's fault, not a verdict.
    // A program over its memory cap is refused by the ABI check before anything is allocated.
    if (err instanceof RangeError) throw new WorkerFault(`this machine could not allocate what the program asked for: ${message}`);
    // The memory's size tells a program that trapped because memory.grow failed from other traps.
    return failed('trap', `${message} (memory at ${pages} of ${maximum} pages)`);
}
