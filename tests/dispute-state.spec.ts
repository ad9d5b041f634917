/**
 * The machine state as cells (client/dispute/state.ts) and the step machine under it
 * (client/dispute/interpreter.ts): a run stopped after any step and resumed gives the run it would
 * have given, the state root at a step is the same however the machine got there (one step at a
 * time, with bulk operations chunk by chunk, or straight), a halted state is a fixed point, the
 * initial root commits to the program, the input and the limits, and a halted state proves the
 * result (its output cell) and the failure reason.
 */
import { readFileSync } from 'node:fs';
import { outputHash } from '../client/dispute/cells';
import { BULK, chunksOf, interpret, Interpreted, load, Machine, STATUS } from '../client/dispute/interpreter';
import { readRoot, rootsAt, stateCell, stateOutputCell, stateRoot } from '../client/dispute/state';
import { ComputeJob } from '../client/compute/types';
import { exampleNamed } from '../examples/catalog';
import { generateProgram, Rng } from './helpers/wasm-gen';
import { wat } from './helpers/wat';
import { BULK_INPUT as INPUT, BULK_PROGRAM, BULK_SEGMENT as SEGMENT } from './helpers/programs';

const LIMIT = 10n ** 12n;

/** A result without its timing, to compare runs. */
const untimed = (r: Interpreted) => ({ ...r, ms: undefined });

function job(program: Uint8Array, input: Uint8Array, fuel = LIMIT): ComputeJob {
    return { program, input, fuel, maxMemoryMb: 4 };
}

function machine(j: ComputeJob): Machine {
    const m = load(j);
    if (!(m instanceof Machine)) throw new Error(`refused: ${m.reason}: ${m.message}`);
    return m;
}

describe('the step machine and its state as cells', () => {
    let bulk: Uint8Array;
    beforeAll(async () => {
        bulk = await wat(BULK_PROGRAM);
    });

    it('gives the same root at every step one step at a time (bulk operations chunk by chunk) as run straight to that step', () => {
        const j = job(bulk, INPUT);
        const whole = interpret(j);
        expect(whole.status).toBe('ok');
        const total = Number(whole.steps);
        const stepper = machine(j);
        const kinds = new Set<number>();
        for (let k = 0; k <= total; k++) {
            stepper.run(k);
            expect(stepper.steps).toBe(k);
            const cell = stateCell(stepper);
            kinds.add(readRoot(cell).bulk.kind);
            const straight = machine(j);
            straight.run(k);
            expect([k, stateRoot(straight)]).toEqual([k, cell.hash().toString('hex')]);
        }
        // every kind of bulk step was seen mid-way, so the chunks were compared too
        expect([...kinds].sort()).toEqual(Object.values(BULK).sort());
        expect(untimed(stepper.result())).toEqual(untimed(whole));
    });

    it('splits a bulk operation into one step per destination leaf, and moves the bytes as one operation would', () => {
        const j = job(bulk, INPUT);
        const m = machine(j);
        // run to the backward copy (dst 130 > src 90) and watch its chunks
        const n = INPUT.length - 3;
        let seen = 0;
        let lastLeft = Infinity;
        while (!m.halted) {
            m.run(m.steps + 1);
            if (m.bulk === BULK.copyBackward) {
                seen++;
                expect(m.bulkLeft).toBeLessThan(lastLeft);
                lastLeft = m.bulkLeft;
                // after each chunk the copy's end is down at a leaf boundary of the destination
                if (m.bulkLeft < n) expect((m.bulkDst + m.bulkLeft) % 64).toBe(0);
            }
        }
        // the step that starts it, then every chunk but the last, which ends it
        expect(seen).toBe(chunksOf(130, n));
        const expected = Buffer.alloc(65536);
        expected.set(INPUT.subarray(3), 100);
        expected.copyWithin(90, 100, 100 + n);
        expected.copyWithin(130, 90, 90 + n);
        expected.fill(0x41, 300, 450);
        expected.write(SEGMENT.slice(3, 93), 500, 'latin1');
        const r = interpret(j);
        expect(r.status === 'ok' && Buffer.from(r.output).equals(expected.subarray(60, 660))).toBe(true);
    });

    it('stops and resumes anywhere: random stops give the run straight through, and the same roots as fresh runs to each stop', async () => {
        const rng = new Rng(7);
        const programs: [string, Uint8Array, Uint8Array][] = [];
        for (let seed = 1; seed <= 30; seed++) {
            const g = generateProgram(seed);
            programs.push([`generated ${seed}`, await wat(g.wat), g.input]);
        }
        const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);
        programs.push(['upper', readFileSync(exampleNamed('upper').program), Buffer.from('Hello, Fog! 0123')]);
        programs.push(['fnv-rounds', readFileSync(exampleNamed('fnv-rounds').program), Buffer.concat([u32(2), Buffer.alloc(100, 9)])]);
        programs.push(['matmul', readFileSync(exampleNamed('matmul').program), u32(4)]);
        for (const [label, program, input] of programs) {
            const j = job(program, input);
            const whole = interpret(j);
            const total = Number(whole.steps);
            const stops = Array.from({ length: 6 }, () => rng.int(total + 3)).sort((x, y) => x - y);
            const m = machine(j);
            for (const stop of stops) {
                m.run(stop);
                const fresh = machine(j);
                fresh.run(stop);
                expect([label, stop, stateRoot(m)]).toEqual([label, stop, stateRoot(fresh)]);
            }
            m.run();
            expect([label, untimed(m.result())]).toEqual([label, untimed(whole)]);
        }
    });

    it('keeps a halted state fixed: no more steps, the same root', () => {
        const j = job(bulk, INPUT);
        const m = machine(j);
        m.run();
        const root = stateRoot(m);
        const steps = m.steps;
        m.run(steps + 100);
        expect(m.steps).toBe(steps);
        expect(stateRoot(m)).toBe(root);
        expect(rootsAt(j, [steps, steps + 1, steps + 1000])).toEqual([root, root, root]);
    });

    it('holds only the live machine: what the run popped or returned from is not part of the state', async () => {
        // a call that leaves a frame and stack values behind it, then a step that pops a value
        const program = await wat(`(module
            (import "fog" "memory" (memory 1))
            (func $f (param i64) (result i64) (i64.add (local.get 0) (i64.const 1)))
            (func (export "run") (drop (call $f (i64.const 41))) (nop) (nop)))`);
        const m = machine(job(program, Buffer.alloc(0)));
        // past the call, its return and the drop: the frame of $f and its values lie above fp and sp
        while (!m.halted && !(m.fp === 1 && m.sp === 0 && m.frames.length > 1 && m.steps > 4)) m.run(m.steps + 1);
        expect(m.halted).toBe(false);
        const root = stateRoot(m);
        m.st[2 * m.sp] ^= 0x5a5a;
        m.st[2 * m.sp + 3] ^= 1;
        m.frames[m.fp].locals[0] ^= 1;
        expect(stateRoot(m)).toBe(root);
        // a live value is part of it: the same height, the slot scribbled or not
        const live = (scribble: boolean) => {
            const c = m.clone();
            if (scribble) c.st[2 * c.sp] ^= 1;
            c.sp += 1;
            return stateRoot(c);
        };
        expect(live(true)).not.toBe(live(false));
    });

    it('commits the initial root to the program, every input byte and the limits', async () => {
        const other = await wat(BULK_PROGRAM.replace('0x41', '0x42'));
        const [root] = rootsAt(job(bulk, INPUT), [0]);
        expect(rootsAt(job(bulk, INPUT), [0])).toEqual([root]);
        const changed = Buffer.from(INPUT);
        changed[199] ^= 1;
        const variants = [
            rootsAt(job(other, INPUT), [0])[0],
            rootsAt(job(bulk, changed), [0])[0],
            rootsAt(job(bulk, INPUT, LIMIT - 1n), [0])[0],
            rootsAt({ ...job(bulk, INPUT), maxMemoryMb: 8 }, [0])[0],
        ];
        for (const v of variants) expect(v).not.toBe(root);
        expect(new Set(variants).size).toBe(variants.length);
        // nothing ran yet
        const fields = readRoot(stateCell(machine(job(bulk, INPUT))));
        expect([fields.status, fields.steps, fields.fuel, fields.fp]).toEqual([STATUS.callRun, 0n, 0n, 0]);
    });

    it('proves the result in the halted state: its output cell hashes to outputHash(output)', () => {
        for (const [program, input] of [
            [bulk, INPUT],
            [readFileSync(exampleNamed('upper').program), Buffer.from('a result, proved')],
        ] as const) {
            const m = machine(job(program, input));
            m.run();
            const r = m.result();
            const root = stateCell(m);
            expect(readRoot(root).status).toBe(STATUS.returned);
            expect(r.status).toBe('ok');
            if (r.status === 'ok') expect(stateOutputCell(root).hash().toString('hex')).toBe(outputHash(r.output));
        }
    });

    it('records why a run failed: a trap, the fuel, the call depth, the output cap; a failing instantiation has a halted initial state', async () => {
        const trapping = await wat(
            `(module (import "fog" "memory" (memory 1)) (func (export "run") (drop (i32.div_s (i32.const 1) (i32.const 0)))))`,
        );
        const deep = await wat(`(module (import "fog" "memory" (memory 1)) (func $f (export "run") (call $f)))`);
        const writes = await wat(`(module (import "fog" "memory" (memory 1)) (import "fog" "write_output" (func $w (param i32 i32)))
            (func (export "run") (call $w (i32.const 0) (i32.const 65536))))`);
        const badSegment = await wat(
            `(module (import "fog" "memory" (memory 1)) (data (i32.const 65530) "0123456789") (func (export "run")))`,
        );
        const cases: [Uint8Array, bigint, string, number][] = [
            [trapping, LIMIT, 'trap', 0],
            [bulk, 5_000n, 'fuel', 0],
            [deep, LIMIT, 'stack', 0],
        ];
        for (const [program, fuel, reason] of cases) {
            const m = machine(job(program, INPUT, fuel));
            m.run();
            const fields = readRoot(stateCell(m));
            expect([reason, fields.status, fields.reason]).toEqual([reason, STATUS.failed, reason]);
            expect(m.result()).toMatchObject({ status: 'failed', reason, fuel });
        }
        const capped = load(job(writes, INPUT), { maxOutputBytes: 1000 });
        if (!(capped instanceof Machine)) throw new Error('refused');
        capped.run();
        expect(readRoot(stateCell(capped)).reason).toBe('output-limit');
        const m = machine(job(badSegment, INPUT));
        expect(m.halted).toBe(true);
        const fields = readRoot(stateCell(m));
        expect([fields.status, fields.reason, fields.steps]).toEqual([STATUS.failed, 'trap', 0n]);
        expect(m.result()).toMatchObject({ status: 'failed', reason: 'trap', fuel: 0n });
    });

    it('refuses to build roots for a program refused before it runs, and steps given out of order', () => {
        expect(() => rootsAt(job(Buffer.from('not wasm'), INPUT), [0])).toThrow(/refused before it runs \(invalid\)/);
        expect(() => rootsAt(job(bulk, INPUT), [5, 2])).toThrow(RangeError);
    });

    it('changes the root with every step and with every bit of a value it holds', () => {
        const j = job(bulk, INPUT);
        const total = Number(interpret(j).steps);
        const roots = rootsAt(
            j,
            Array.from({ length: total + 1 }, (_, k) => k),
        );
        expect(new Set(roots).size).toBe(total + 1);
        // the same machine with one stack value's bit flipped has another root
        const m = machine(j);
        m.run(5);
        const before = stateRoot(m);
        m.st[0] ^= 1 << 20;
        expect(stateRoot(m)).not.toBe(before);
        m.st[0] ^= 1 << 20;
        expect(stateRoot(m)).toBe(before);
    });
});
