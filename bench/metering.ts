/**
 * Metering: what the meter (client/compute/meter.ts) costs each example program on its default
 * input. Loads binaryen (timed on its own), instruments each example (timed), then runs the
 * original module and the metered one alternately, in one thread, through the same host and checks
 * (`runUnmetered` and `runProgramDirect`, client/compute/task.ts). Both runs must give the same
 * output, or the bench fails. Figures: the medians, the overhead (metered / plain − 1), the fuel a
 * run used and fuel per second of the metered run.
 *
 * Metered runs are meant for a thread with the pool's stack (THREAD_LIMITS, 16 MiB), not Node's
 * main thread (about 1 MiB), so the whole section runs in one worker thread with the pool's limits
 * (metering-thread.ts), both sides alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { DIST } from '../client/paths';
import { instrument, loadBinaryen, MAX_FUEL } from '../client/compute/meter';
import { ComputePool, THREAD_LIMITS } from '../client/compute/pool';
import { FuelRate, measureFuelRate } from '../client/compute/calibrate';
import { runProgramDirect, runUnmetered } from '../client/compute/task';
import { ProgramResult, ProgramTask } from '../client/compute/types';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { median } from './pool';

export interface MeteringSizes {
    /** Runs each way, alternating, after `warmup` runs each way. */
    runs: number;
    warmup: number;
}

export interface MeteringExample {
    name: string;
    inputBytes: number;
    programBytes: number;
    meteredBytes: number;
    /** Milliseconds `instrument` took (binaryen already loaded). */
    instrumentMs: number;
    /** Milliseconds per run (validate, compile, instantiate, run), in the order measured. */
    plainMs: number[];
    meteredMs: number[];
    plainMedianMs: number;
    meteredMedianMs: number;
    /** meteredMedianMs / plainMedianMs − 1. */
    overhead: number;
    /** Fuel a metered run used (the same every run). */
    fuel: number;
    /** fuel / the metered median, in seconds. */
    fuelPerSecond: number;
    outputBytes: number;
    /** Every plain run's output equals every metered run's (the bench throws otherwise). */
    sameOutput: true;
}

export interface MeteringFigures extends MeteringSizes {
    /** Where both sides ran: a worker thread with the pool's limits. */
    thread: { stackSizeMb: number; maxOldGenerationSizeMb: number };
    /** Milliseconds to load binaryen, once per process (before the first instrument). */
    binaryenLoadMs: number;
    examples: MeteringExample[];
    /** A worker's fuel rate on this machine: the calibration kernel through a one-thread pool (client/compute/calibrate.ts). */
    calibration: { fuelPerSecond: number; fuel: number; ms: number };
}

/** The examples whose overhead the goal judges. */
export const METERING_GOAL_EXAMPLES = ['mlp-train', 'matmul'] as const;

const MAX_OUTPUT_BYTES = 64 << 20;
const MAX_MEMORY_MB = 256;

/** Throws unless the original program's output equals the metered one's: the meter must not change what a program computes. */
export function checkSameOutput(name: string, plain: Uint8Array, metered: Uint8Array): void {
    if (Buffer.compare(plain, metered) !== 0) {
        throw new Error(
            `metering changed the output of ${name}: ${plain.length} bytes unmetered, ${metered.length} metered, ` +
                `first difference at byte ${firstDifference(plain, metered)}`,
        );
    }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
    return n;
}

function ok(name: string, side: string, r: ProgramResult): Uint8Array {
    if (r.status !== 'ok') throw new Error(`${name} failed ${side}: ${r.reason}: ${r.message}`);
    return r.output;
}

/** The section, in the calling thread; `measureMetering` runs it in a thread with the pool's limits. */
export async function measureMeteringHere(sizes: MeteringSizes): Promise<Omit<MeteringFigures, 'thread' | 'calibration'>> {
    const loadStart = performance.now();
    await loadBinaryen();
    const binaryenLoadMs = performance.now() - loadStart;

    const examples: MeteringExample[] = [];
    for (const example of EXAMPLES) {
        const name = example.name;
        const program = readFileSync(exampleNamed(name).program);
        const input = await example.defaultInput();
        const instrumentStart = performance.now();
        const metered = await instrument(program);
        const instrumentMs = performance.now() - instrumentStart;

        const plainTask: Omit<ProgramTask, 'fuel'> = { program, input, maxMemoryMb: MAX_MEMORY_MB, maxOutputBytes: MAX_OUTPUT_BYTES };
        const meteredTask: ProgramTask = { ...plainTask, program: metered.bytes, fuel: MAX_FUEL };
        let output: Uint8Array | undefined;
        let fuel: bigint | undefined;
        const plain = () => {
            const start = performance.now();
            const out = ok(name, 'unmetered', runUnmetered(plainTask));
            const ms = performance.now() - start;
            if (output !== undefined) checkSameOutput(name, out, output);
            output ??= out;
            return ms;
        };
        const meter = () => {
            const start = performance.now();
            const r = runProgramDirect(meteredTask);
            const ms = performance.now() - start;
            const out = ok(name, 'metered', r);
            if (output !== undefined) checkSameOutput(name, output, out);
            output ??= out;
            if (fuel !== undefined && r.fuel !== fuel) throw new Error(`${name} used ${fuel} fuel, then ${r.fuel} on the same input`);
            fuel = r.fuel;
            return ms;
        };
        for (let i = 0; i < sizes.warmup; i++) {
            plain();
            meter();
        }
        // alternated, so that drift in the machine's speed touches both alike
        const plainMs: number[] = [];
        const meteredMs: number[] = [];
        for (let i = 0; i < sizes.runs; i++) {
            plainMs.push(plain());
            meteredMs.push(meter());
        }
        if (output === undefined || fuel === undefined) throw new RangeError('metering: no runs');
        if (fuel > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${name} used more fuel than a JSON number holds exactly`);
        const plainMedianMs = median(plainMs);
        const meteredMedianMs = median(meteredMs);
        examples.push({
            name,
            inputBytes: input.length,
            programBytes: program.length,
            meteredBytes: metered.bytes.length,
            instrumentMs,
            plainMs,
            meteredMs,
            plainMedianMs,
            meteredMedianMs,
            overhead: meteredMedianMs / plainMedianMs - 1,
            fuel: Number(fuel),
            fuelPerSecond: Number(fuel) / (meteredMedianMs / 1000),
            outputBytes: output.length,
            sameOutput: true,
        });
    }
    return { ...sizes, binaryenLoadMs, examples };
}

/** The section, run in a new worker thread with the pool's resource limits (dist/bench/metering-thread.js). */
export async function measureMetering(sizes: MeteringSizes): Promise<MeteringFigures> {
    const pool = new ComputePool({ threads: 1 });
    let rate: FuelRate;
    try {
        rate = await measureFuelRate(pool);
    } finally {
        await pool.close();
    }
    const calibration = { fuelPerSecond: rate.fuelPerSecond, fuel: Number(rate.fuel), ms: rate.ms };
    const thread = new Worker(join(DIST, 'bench', 'metering-thread.js'), { workerData: sizes, resourceLimits: THREAD_LIMITS });
    const figures = await new Promise<Omit<MeteringFigures, 'thread' | 'calibration'>>((resolve, reject) => {
        thread.once('message', resolve);
        thread.once('error', reject);
        thread.once('exit', (code) => reject(new Error(`the metering thread exited with code ${code} before it reported`)));
    });
    await thread.terminate();
    return {
        ...figures,
        calibration,
        thread: { stackSizeMb: THREAD_LIMITS.stackSizeMb, maxOldGenerationSizeMb: THREAD_LIMITS.maxOldGenerationSizeMb },
    };
}
