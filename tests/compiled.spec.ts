/**
 * The compiled prover (client/dispute/compiled.ts) against the reference interpreter: at every
 * step asked for, the machine it hands over has the interpreter's state root at that step (the
 * roots a dispute party posts), on the shipped examples, on hand-written programs for the edges
 * (bulk operations and host I/O cut mid-way, traps, a start function, memory.grow, call_indirect,
 * fuel running out) and on seeded random programs; and it is faster than the interpreter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DIST } from '../client/paths';
import { CompiledProgram } from '../client/dispute/compiled';
import { load, Machine, STATUS } from '../client/dispute/interpreter';
import { StateCells } from '../client/dispute/state';
import { ComputeJob } from '../client/compute/types';
import { functionCosts, STACK_BUDGET } from '../client/compute/meter-costs';
import { exampleNamed } from '../examples/catalog';
import { generateProgram, Rng } from './helpers/wasm-gen';
import { wat } from './helpers/wat';
import { BULK_INPUT, BULK_PROGRAM, INTEGER_INPUT, INTEGER_PROGRAM, RECURSE } from './helpers/programs';

const HOST = `
    (import "fog" "input_size" (func $size (result i32)))
    (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
    (import "fog" "write_output" (func $write (param i32 i32)))`;
const hosted = (body: string, memory = '(memory 1)') => wat(`(module (import "fog" "memory" ${memory}) ${HOST} ${body})`);
const u32 = (...n: number[]) => Buffer.from(Uint32Array.from(n, (x) => x >>> 0).buffer);
/** Every step of a run (and a few past it). */
const every = (steps: number) => Array.from({ length: steps + 3 }, (_, i) => i);

const root = (cells: StateCells) => cells.cell().hash().toString('hex');

function loaded(job: ComputeJob): Machine {
    const m = load(job);
    if (!(m instanceof Machine)) throw new Error(`refused: ${m.message}`);
    return m;
}

/** Points to compare on a run of `steps` steps: its edges, a dense stretch, and spread ones. */
function pointsFor(steps: number, seed: number, spread = 24, consecutive = 40): number[] {
    const rng = new Rng(seed);
    const set = new Set<number>([0, 1, 2, 3, steps - 1, steps, steps + 1, steps + 50]);
    const dense = rng.int(Math.max(1, steps - consecutive));
    for (let k = 0; k < consecutive; k++) set.add(dense + k);
    for (let k = 0; k < spread; k++) set.add(rng.int(steps + 1));
    return [...set].filter((p) => p >= 0).sort((a, b) => a - b);
}

/** Differences between the compiled prover's roots and the interpreter's at `points`, as readable lines. */
function differences(label: string, job: ComputeJob, points: number[]): string[] {
    const prover = CompiledProgram.of(loaded(job));
    if (prover === undefined) return [`${label}: not compiled`];
    const got = new Map<number, string>();
    let cells: StateCells | undefined;
    const halted = prover.run(points, (step, m) => {
        cells ??= new StateCells(m);
        cells.use(m);
        // the root as a party computes it (the memory hashed, not built), against the full cells below
        got.set(step, cells.rootHash().toString(16).padStart(64, '0'));
    });
    const interpreter = loaded(job);
    const interpreted = new StateCells(interpreter);
    const found: string[] = [];
    for (const p of points) {
        interpreter.run(p);
        const want = root(interpreted);
        if (halted.includes(p)) {
            if (!interpreter.halted) found.push(`${label}: compiled run halted before step ${p}, the interpreter did not`);
        } else if (got.get(p) !== want) found.push(`${label}: step ${p}: ${got.get(p) ?? 'not visited'} against ${want}`);
    }
    // where the run halts, as the interpreter counts it (a liar places its fault by it): exactly for a
    // run that returns, at most its last segment later for one that traps
    interpreter.run();
    const halts = prover.haltingStep();
    const returned = interpreter.status === STATUS.returned;
    if (returned ? halts !== interpreter.steps : halts < interpreter.steps)
        found.push(`${label}: the compiled run halts at step ${halts}, the interpreter at ${interpreter.steps}`);
    return found;
}

function job(program: Uint8Array, input: Uint8Array, fuel = 10n ** 12n, maxMemoryMb = 256): ComputeJob {
    return { program, input, fuel, maxMemoryMb };
}

function stepsOf(j: ComputeJob): number {
    const m = loaded(j);
    m.run();
    return m.steps;
}

describe('the compiled prover against the interpreter', () => {
    it.each([
        ['upper', Buffer.from('Hello, Fog! ÿ µ àéî z{|}~ 0123')],
        ['fnv-rounds', Buffer.concat([Buffer.from(Uint32Array.of(3).buffer), Buffer.alloc(64, 7)])],
        ['matmul', Buffer.from(Uint32Array.of(8).buffer)],
    ])('%s', (name, input) => {
        const j = job(readFileSync(exampleNamed(name).program), input);
        const steps = stepsOf(j);
        expect(differences(name, j, pointsFor(steps, 1))).toEqual([]);
    });

    it.each(['mlp-infer', 'meme'])('%s on its default input', async (name) => {
        const e = exampleNamed(name);
        const j = job(readFileSync(e.program), await e.defaultInput());
        const steps = stepsOf(j);
        expect(differences(name, j, pointsFor(steps, 2, 6, 8))).toEqual([]);
    });

    it('every step of the bulk operations and host I/O, cut chunk by chunk, and of every integer instruction', async () => {
        const bulk = job(await wat(BULK_PROGRAM), BULK_INPUT);
        const integer = job(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        expect([
            ...differences('bulk', bulk, every(stepsOf(bulk))),
            ...differences('integer', integer, pointsFor(stepsOf(integer), 3, 400)),
        ]).toEqual([]);
    });

    it('a start function, memory.grow, a trap mid-run, fuel running out, and a call through a table', async () => {
        const start = await hosted(
            `
            (global $g (mut i32) (i32.const 5))
            (func $init (global.set $g (i32.mul (global.get $g) (i32.const 7))))
            (start $init)
            (func (export "run")
                (i32.store (i32.const 0) (global.get $g))
                (i32.store (i32.const 4) (memory.grow (i32.const 2)))
                (i32.store (i32.const 8) (memory.grow (i32.const 100)))
                (i32.store (i32.const 12) (memory.size))
                (i32.store (i32.const 131080) (i32.const 9))
                (call $write (i32.const 0) (i32.const 16)))`,
            '(memory 1 4)',
        );
        const trap = await hosted(`
            (func (export "run") (local $i i32)
                (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $l (i32.lt_u (local.get $i) (i32.const 50))))
                (drop (i32.div_u (i32.const 1) (i32.sub (local.get $i) (i32.const 50)))))`);
        const table = await hosted(`
            (type $t (func (param i32) (result i32)))
            (table 3 3 funcref)
            (elem (i32.const 0) $double $square)
            (func $double (param i32) (result i32) (i32.add (local.get 0) (local.get 0)))
            (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
            (func (export "run")
                (i32.store (i32.const 0) (call_indirect (type $t) (i32.const 9) (i32.const 0)))
                (i32.store (i32.const 4) (call_indirect (type $t) (i32.const 9) (i32.const 1)))
                (call $write (i32.const 0) (i32.const 8))
                (drop (call_indirect (type $t) (i32.const 9) (i32.const 2))))`);
        const looping = job(trap, Buffer.alloc(0));
        const found = [
            ...differences('start', job(start, Buffer.alloc(0)), every(stepsOf(job(start, Buffer.alloc(0))))),
            ...differences('trap', looping, every(stepsOf(looping))),
            ...differences('fuel', job(trap, Buffer.alloc(0), 700n), every(stepsOf(job(trap, Buffer.alloc(0), 700n)))),
            ...differences('table', job(table, Buffer.alloc(0)), every(stepsOf(job(table, Buffer.alloc(0))))),
        ];
        expect(found).toEqual([]);
    });

    it('recursion as deep as the call-depth budget allows, and a program the translation leaves to the interpreter', async () => {
        const recurse = await hosted(RECURSE);
        // $f is the first function defined
        const deep = job(recurse, u32(Math.floor(STACK_BUDGET / functionCosts(recurse)[0].weight) - 2));
        const steps = stepsOf(deep);
        expect(loaded(deep).m.codes.length).toBe(2);
        const points = [...new Set([...pointsFor(steps, 4, 6, 8), Math.floor(steps / 2), Math.floor(steps / 2) + 1])].sort((a, b) => a - b);
        expect(differences('recursion', deep, points)).toEqual([]);
        // a host function in a table: not translated
        const hostInTable = await hosted(`
            (table 1 1 funcref)
            (elem (i32.const 0) $size)
            (func (export "run") (drop (call_indirect (result i32) (i32.const 0))))`);
        expect(CompiledProgram.of(loaded(job(hostInTable, Buffer.alloc(0))))).toBeUndefined();
    });

    it('stops as Unsupported where the engine’s stack runs out before the call-depth budget, after the points it reached', async () => {
        const recurse = await hosted(RECURSE);
        const deep = job(recurse, u32(Math.floor(STACK_BUDGET / functionCosts(recurse)[0].weight) - 2));
        const steps = stepsOf(deep);
        // in a thread with a larger and larger stack (how many JavaScript frames fit in this one moves
        // with the JIT's mood): the first in which the thread gets as far as the run must be one the
        // run cannot finish in, and it must stop as Unsupported after the point at its start, in
        // the program's deep recursion
        const runIn = (stackSizeMb: number) =>
            new Promise<{ seen: number[]; error: string | null }>((resolve, reject) => {
                const thread = new Worker(
                    `const { workerData: d, parentPort } = require('node:worker_threads');
                     const { CompiledProgram, Unsupported } = require(d.compiled);
                     const { load } = require(d.interpreter);
                     const seen = [];
                     try {
                         const prover = CompiledProgram.of(load({ program: d.program, input: d.input, fuel: BigInt(d.fuel), maxMemoryMb: 256 }));
                         prover.run([1, d.last], (s) => seen.push(s));
                         parentPort.postMessage({ seen, error: null });
                     } catch (e) {
                         parentPort.postMessage({ seen, error: e instanceof Unsupported ? 'Unsupported' : String(e) });
                     }`,
                    {
                        eval: true,
                        resourceLimits: { stackSizeMb },
                        workerData: {
                            compiled: join(DIST, 'client', 'dispute', 'compiled.js'),
                            interpreter: join(DIST, 'client', 'dispute', 'interpreter.js'),
                            program: deep.program,
                            input: deep.input,
                            fuel: deep.fuel.toString(),
                            last: steps - 5,
                        },
                    },
                );
                thread.once('message', (m) => {
                    resolve(m);
                    void thread.terminate();
                });
                thread.once('error', reject);
            });
        let stopped: { seen: number[]; error: string | null } | undefined;
        for (const mb of [0.25, 0.375, 0.5, 0.625, 0.75, 1, 1.5, 2, 4]) {
            // a stack too small for the thread to load the prover: a larger one next
            const r = await runIn(mb).catch(() => undefined);
            if (r === undefined || (r.error !== null && r.error !== 'Unsupported' && r.seen.length === 0)) continue;
            stopped = r;
            break;
        }
        expect(stopped).toEqual({ seen: [1], error: 'Unsupported' });
    });

    it('random programs', async () => {
        const found: string[] = [];
        for (let seed = 1; seed <= 40; seed++) {
            const g = generateProgram(seed);
            const j = job(await wat(g.wat), g.input, 10_000_000n, 1);
            found.push(...differences(`seed ${seed}`, j, pointsFor(stepsOf(j), seed, 8)));
        }
        expect(found).toEqual([]);
    });
});
