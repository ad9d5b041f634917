/**
 * The reference interpreter (client/dispute/interpreter.ts) against the metered V8 run: for each
 * example on its default input, the steps and fuel of the run, the interpreter's time, the V8
 * run's (`runHere`, the median of a few), their ratio, and the time of the dispute game's first
 * move (the run again, building the state root at 16 points). Both must give the same output and
 * fuel, or the bench fails: the interpreter is the dispute game's replay of a run
 * (docs/disputes.md), and a difference would be a bug in one of them.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { interpret } from '../client/dispute/interpreter';
import { rootsAt } from '../client/dispute/state';
import { fuelForJob, MAX_JOB_MFUEL } from '../client/compute/fuel';
import { runHere } from '../client/compute/programs';
import { ComputeJob } from '../client/compute/types';
import { EXAMPLES, exampleNamed } from '../examples/catalog';
import { median } from './pool';

export interface InterpreterSizes {
    /** The examples interpreted (mlp-train's default run takes about a minute interpreted: full mode leaves it out). */
    examples: readonly string[];
    /** V8 runs per example (the median is reported). */
    v8Runs: number;
}

export interface InterpreterExample {
    name: string;
    steps: number;
    fuel: number;
    interpreterMs: number;
    v8Ms: number;
    /** interpreterMs / v8Ms */
    slowdown: number;
    stepsPerSecond: number;
    /**
     * The dispute game's first move: the run again with the state root at 16 equally spaced steps
     * (the 15 a move posts, and the end), ms.
     */
    firstMoveMs: number;
    /** firstMoveMs / interpreterMs */
    rootsCost: number;
    /** The interpreter's output and fuel equal the V8 run's (the bench throws otherwise). */
    same: true;
}

export interface InterpreterFigures {
    examples: InterpreterExample[];
}

/** Throws unless the two runs gave the same verdict, output and fuel. */
export function checkSameRun(name: string, a: { status: string; fuel: bigint; output?: Uint8Array }, b: typeof a): void {
    const out = (r: typeof a) => (r.output === undefined ? '' : Buffer.from(r.output).toString('hex'));
    if (a.status !== b.status || a.fuel !== b.fuel || out(a) !== out(b)) {
        throw new Error(
            `the interpreter and V8 disagree on ${name}: ${a.status} with ${a.fuel} fuel against ${b.status} with ${b.fuel}` +
                (out(a) === out(b) ? '' : ', and their outputs differ'),
        );
    }
}

/** An example on its default input, with the most fuel a job may state and a memory cap of 256 MiB. */
export async function exampleJob(name: string): Promise<ComputeJob> {
    const example = EXAMPLES.find((e) => e.name === name);
    if (example === undefined) throw new Error(`no example ${name}`);
    return {
        program: readFileSync(exampleNamed(name).program),
        input: await example.defaultInput(),
        fuel: fuelForJob({ maxMfuel: MAX_JOB_MFUEL }),
        maxMemoryMb: 256,
    };
}

export async function measureInterpreter(sizes: InterpreterSizes): Promise<InterpreterFigures> {
    const examples: InterpreterExample[] = [];
    for (const name of sizes.examples) {
        const job = await exampleJob(name);
        const start = performance.now();
        const interpreted = interpret(job);
        const interpreterMs = performance.now() - start;
        const v8Ms: number[] = [];
        for (let i = 0; i < sizes.v8Runs; i++) {
            const t = performance.now();
            const r = await runHere(job, 16 << 20);
            v8Ms.push(performance.now() - t);
            checkSameRun(name, interpreted, r);
        }
        if (interpreted.status !== 'ok')
            throw new Error(`${name} failed in the interpreter: ${interpreted.reason}: ${interpreted.message}`);
        const v8 = median(v8Ms);
        const total = Number(interpreted.steps);
        const t = performance.now();
        rootsAt(
            job,
            Array.from({ length: 16 }, (_, i) => Math.round((total * (i + 1)) / 16)),
        );
        const firstMoveMs = performance.now() - t;
        examples.push({
            name,
            steps: Number(interpreted.steps),
            fuel: Number(interpreted.fuel),
            interpreterMs,
            v8Ms: v8,
            slowdown: interpreterMs / v8,
            stepsPerSecond: Number(interpreted.steps) / (interpreterMs / 1000),
            firstMoveMs,
            rootsCost: firstMoveMs / interpreterMs,
            same: true,
        });
    }
    return { examples };
}
