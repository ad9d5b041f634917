/**
 * Runs one job program: validate, check against the ABI (abi.ts), instantiate, call `run`. The
 * piscina task handler `runProgram` runs in a pool thread; `runProgramDirect` is the same run in
 * the calling thread (for tests and for measuring the pool's overhead).
 */
import { performance } from 'node:perf_hooks';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { checkProgram, Host, memoryCapPages, PAGE_BYTES, ProgramRefused, wasm, WasmMemory } from './abi';
import { ProgramFailureReason, ProgramResult, ProgramTask, RunFailed } from './types';

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

/**
 * Runs a program in the calling thread, with the same checks and results as the pool, but no time
 * limit. Throws a RangeError only for a bad `maxMemoryMb`; every failure of the program is a result.
 */
export function runProgramDirect(task: ProgramTask): ProgramResult {
    const capPages = memoryCapPages(task.maxMemoryMb);
    const start = performance.now();
    let memory: WasmMemory | undefined;
    let maximum = 0;
    try {
        if (!wasm.validate(task.program)) throw new ProgramRefused('invalid', 'not a valid WebAssembly module');
        const shape = checkProgram(task.program, capPages);
        const module = new wasm.Module(task.program);
        maximum = shape.memory.maximum;
        memory = new wasm.Memory(shape.memory);
        const host = new Host(memory, task.input, task.maxOutputBytes);
        const instance = new wasm.Instance(module, host.imports);
        (instance.exports.run as () => unknown)();
        if (host.fault !== undefined) throw host.fault;
        return { status: 'ok', output: host.result(), ms: performance.now() - start };
    } catch (err) {
        return failure(err, memory === undefined ? 0 : memory.buffer.byteLength / PAGE_BYTES, maximum);
    }
}

/** Classifies what a run threw; `pages` and `maximum` are its memory's size and limit then. */
function failure(err: unknown, pages: number, maximum: number): RunFailed<ProgramFailureReason> {
    const failed = (reason: ProgramFailureReason, message: string) => ({ status: 'failed' as const, reason, message });
    if (err instanceof ProgramRefused) return failed(err.reason, err.message);
    const name = err instanceof Error ? err.name : '';
    const message = err instanceof Error ? err.message : String(err);
    if (name === 'CompileError') return failed('invalid', message);
    if (name === 'LinkError') return failed('imports', message);
    // V8 reports a WebAssembly stack overflow as a RangeError; any other one is an allocation failure.
    const stackOverflow = err instanceof RangeError && /call stack/i.test(message);
    if (err instanceof RangeError && !stackOverflow) return failed('memory', message);
    // The memory's size tells a program that trapped because memory.grow failed from other traps.
    return failed('trap', `${stackOverflow ? 'stack overflow: ' : ''}${message} (memory at ${pages} of ${maximum} pages)`);
}
