/**
 * Determinism (issue 16): a program's verdict, output and fuel depend on the program, its input
 * and its limits alone. Hostile and ordinary programs give the same verdict, output hash and fuel
 * on a fresh pool and on a warm one, with one thread and two, under V8's baseline-only and
 * optimizing-only tiers (child processes with --liftoff-only and --no-liftoff), and while another
 * pool keeps the machine busy.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST } from '../client/paths';
import { MAX_FUEL } from '../client/compute/meter';
import { ComputePool } from '../client/compute/pool';
import { ComputeJob, RunResult } from '../client/compute/types';
import { wat } from './helpers/wat';
import { RECURSE } from './helpers/programs';

const HOST = `
    (import "fog" "input_size" (func $size (result i32)))
    (import "fog" "read_input" (func $read (param i32 i32 i32) (result i32)))
    (import "fog" "write_output" (func $write (param i32 i32)))`;
const program = (body: string, memory = '(memory 1)') => wat(`(module (import "fog" "memory" ${memory}) ${HOST} ${body})`);
const u32 = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);

/** Recursion with wide frames (eight f64 parameters, passed on with arithmetic), the shape whose native depth differs most between tiers. */
const RECURSE_WIDE = `
    (func $g (param $n i32) (param $a f64) (param $b f64) (param $c f64) (param $d f64)
            (param $e f64) (param $f f64) (param $h f64) (param $i f64) (result f64)
        (if (result f64) (i32.eqz (local.get $n))
            (then (f64.add (local.get $a) (local.get $i)))
            (else (f64.add (local.get $h) (call $g (i32.sub (local.get $n) (i32.const 1))
                (f64.mul (local.get $a) (f64.const 1.5)) (local.get $c) (local.get $d) (local.get $e)
                (local.get $f) (local.get $h) (local.get $i) (f64.sqrt (local.get $b)))))))
    (func (export "run")
        (drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))
        (f64.store (i32.const 8) (call $g (i32.load (i32.const 0))
            (f64.const 1) (f64.const 2) (f64.const 3) (f64.const 4) (f64.const 5) (f64.const 6) (f64.const 7) (f64.const 8)))
        (call $write (i32.const 8) (i32.const 8)))`;

/** Grows memory one page at a time until memory.grow fails; writes the pages it got. */
const GROW = `
    (func (export "run")
        (loop $more (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
        (i32.store (i32.const 0) (memory.size))
        (call $write (i32.const 0) (i32.const 4)))`;

/** NaNs whose bits the CPU may choose (0/0, sqrt(-1), inf - inf, arithmetic on an input NaN payload), stored bit for bit. */
const NANS = `
    (func (export "run") (local $x f64) (local $y f32)
        (drop (call $read (i32.const 64) (i32.const 0) (i32.const 12)))
        (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0)))
        (f64.store (i32.const 8) (f64.sqrt (f64.const -1)))
        (f64.store (i32.const 16) (f64.sub (f64.const inf) (f64.const inf)))
        (local.set $x (f64.load (i32.const 64)))
        (f64.store (i32.const 24) (f64.mul (local.get $x) (f64.const 3)))
        (f64.store (i32.const 32) (f64.add (local.get $x) (f64.const nan:0x4)))
        (local.set $y (f32.load (i32.const 72)))
        (f32.store (i32.const 40) (f32.div (local.get $y) (f32.const 0)))
        (f32.store (i32.const 44) (f32.demote_f64 (f64.mul (local.get $x) (f64.const -1))))
        (f64.store (i32.const 48) (f64.promote_f32 (f32.sqrt (local.get $y))))
        (call $write (i32.const 0) (i32.const 56)))`;

/** 2 007 + 9 (N + 1) fuel for N = the input's length (docs/metering.md's worked example). */
const COUNT = `
    (func (export "run") (local $i i32) (local $n i32)
        (local.set $n (call $size))
        (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next))))`;

/** Writes 64 KiB chunks, as many as the input's first u32 says. */
const FLOOD = `
    (func (export "run") (local $n i32)
        (drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))
        (local.set $n (i32.load (i32.const 0)))
        (block $done (loop $more
            (br_if $done (i32.eqz (local.get $n)))
            (call $write (i32.const 0) (i32.const 65536))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br $more))))`;

const MAX_OUTPUT = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** What must be the same everywhere: the verdict, the output's hash and the fuel. */
function signature(r: RunResult): string {
    if (r.status === 'ok') return `ok ${sha(r.output)} ${r.fuel}`;
    return `${r.reason} ${'fuel' in r ? r.fuel : '-'}`;
}

interface Case {
    name: string;
    job: ComputeJob;
}

/** A one-thread ComputePool in a child process with V8 `flags`: the signatures of `cases`, in order. */
async function inChild(flags: string[], cases: Case[]): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'fog-determinism-'));
    const file = join(dir, 'cases.json');
    const plain = cases.map(({ job }) => ({
        program: Buffer.from(job.program).toString('base64'),
        input: Buffer.from(job.input).toString('base64'),
        fuel: job.fuel.toString(),
        maxMemoryMb: job.maxMemoryMb,
    }));
    writeFileSync(file, JSON.stringify(plain));
    const script = `
        const { createHash } = require('node:crypto');
        const { ComputePool } = require(${JSON.stringify(join(DIST, 'client', 'compute', 'pool.js'))});
        const sha = (b) => createHash('sha256').update(b).digest('hex').slice(0, 16);
        const signature = ${signature.toString()};
        (async () => {
            const pool = new ComputePool({ threads: 1, maxOutputBytes: ${MAX_OUTPUT} });
            const out = [];
            for (const c of JSON.parse(require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8'))) {
                const job = { program: Buffer.from(c.program, 'base64'), input: Buffer.from(c.input, 'base64'), fuel: BigInt(c.fuel), maxMemoryMb: c.maxMemoryMb };
                out.push(signature(await pool.run(job)));
            }
            await pool.close();
            process.stdout.write(JSON.stringify(out));
        })().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-e', script], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as string[];
}

async function runAll(pool: ComputePool, cases: Case[]): Promise<string[]> {
    const out: string[] = [];
    for (const c of cases) out.push(signature(await pool.run(c.job)));
    return out;
}

describe('determinism', () => {
    const cases: Case[] = [];
    let expected: string[];
    let reference: ComputePool;

    beforeAll(async () => {
        reference = new ComputePool({ threads: 1, maxOutputBytes: MAX_OUTPUT });
        const [recurse, wide, grow, nans, count, flood] = await Promise.all(
            [RECURSE, RECURSE_WIDE, GROW, NANS, COUNT, FLOOD].map((body) => program(body)),
        );
        const job = (p: Uint8Array, input: Uint8Array, limits: Partial<ComputeJob> = {}): ComputeJob => ({
            program: p,
            input,
            fuel: MAX_FUEL,
            maxMemoryMb: 16,
            ...limits,
        });
        // the deepest recursion that returns, found on the reference pool: the cases sit at it and around it
        const deepest = async (p: Uint8Array) => {
            let [lo, hi] = [1, 1 << 20];
            while (hi - lo > 1) {
                const mid = (lo + hi) >> 1;
                const r = await reference.run(job(p, u32(mid)));
                if (r.status === 'ok') lo = mid;
                else if (r.reason === 'stack') hi = mid;
                else throw new Error(`recursion ${mid} deep: ${signature(r)}`);
            }
            return lo;
        };
        for (const [name, p] of [
            ['recursion', recurse],
            ['wide recursion', wide],
        ] as const) {
            const depth = await deepest(p);
            for (const d of [depth - 1000, depth - 1, depth, depth + 1, depth + 1000])
                cases.push({ name: `${name} ${d} deep`, job: job(p, u32(d)) });
        }
        const nanInput = Buffer.alloc(12);
        nanInput.writeBigUInt64LE(0x7ff4000000000abcn, 0); // a signalling NaN with a payload
        nanInput.writeUInt32LE(0xffc00123, 8); // a negative quiet f32 NaN with a payload
        const countInput = new Uint8Array(5_000);
        const countFuel = 2_007n + 9n * 5_001n;
        cases.push(
            { name: 'page-at-a-time growth to a 32 MiB cap', job: job(grow, new Uint8Array(), { maxMemoryMb: 32 }) },
            { name: 'growth with too little fuel for the cap', job: job(grow, new Uint8Array(), { maxMemoryMb: 32, fuel: 200_000n }) },
            { name: 'NaN-producing float code', job: job(nans, nanInput) },
            { name: 'fuel: exactly enough', job: job(count, countInput, { fuel: countFuel }) },
            { name: 'fuel: one short', job: job(count, countInput, { fuel: countFuel - 1n }) },
            { name: 'fuel: none', job: job(count, countInput, { fuel: 0n }) },
            { name: 'output flood to the cap', job: job(flood, u32(16)) },
            { name: 'output flood past the cap', job: job(flood, u32(17)) },
            { name: 'output flood on little fuel', job: job(flood, u32(10_000), { fuel: 10_000n }) },
            {
                name: 'an example: fnv-rounds',
                job: job(readFileSync(join(DIST, 'examples', 'fnv-rounds.wasm')), Buffer.concat([u32(500), Buffer.alloc(1020, 7)])),
            },
        );
        expected = await runAll(reference, cases);
    }, 60_000);
    afterAll(() => reference.close());

    it('covers ok, stack, fuel and output-limit verdicts, at the depth limit and the fuel boundary', () => {
        const by = (name: string) => expected[cases.findIndex((c) => c.name === name)];
        const verdicts = new Set(expected.map((s) => s.split(' ')[0]));
        expect([...verdicts].sort()).toEqual(['fuel', 'ok', 'output-limit', 'stack']);
        expect(by('fuel: exactly enough')).toMatch(/^ok \w+ 47016$/);
        expect(by('fuel: one short')).toBe('fuel 47015');
        expect(by('output flood on little fuel')).toBe('fuel 10000');
        expect(by('page-at-a-time growth to a 32 MiB cap')).toMatch(new RegExp(`^ok ${sha(u32(512))} \\d+$`));
        // the NaNs come out canonical, 0x7ff8000000000000 and 0x7fc00000, whatever the CPU makes
        const nans = Buffer.alloc(56);
        for (const at of [0, 8, 16, 24, 32, 48]) nans.writeBigUInt64LE(0x7ff8000000000000n, at);
        for (const at of [40, 44]) nans.writeUInt32LE(0x7fc00000, at);
        expect(by('NaN-producing float code')).toMatch(new RegExp(`^ok ${sha(nans)} \\d+$`));
        // one past the deepest and 1 000 past it, for each shape
        expect(expected.filter((s) => s.startsWith('stack'))).toHaveLength(4);
    });

    it('gives the same verdicts, outputs and fuel on fresh and warm pools of one and two threads, with another pool busy', async () => {
        // another pool keeps both cores busy with endless loops while the fresh and warm runs go
        const busy = new ComputePool({ threads: 2, wallSeconds: 120 });
        const stopBusy = new AbortController();
        const spinning = Promise.all(
            [0, 1].map(async () =>
                busy.run(
                    {
                        program: await program('(func (export "run") (loop $l (br $l)))'),
                        input: new Uint8Array(),
                        fuel: MAX_FUEL,
                        maxMemoryMb: 1,
                    },
                    stopBusy.signal,
                ),
            ),
        );
        try {
            for (const threads of [1, 2]) {
                const pool = new ComputePool({ threads, maxOutputBytes: MAX_OUTPUT });
                try {
                    expect(await runAll(pool, cases)).toEqual(expected); // fresh
                    for (let i = 0; i < 3; i++) await runAll(pool, cases); // warm-up: hot code tiers up
                    expect(await runAll(pool, cases)).toEqual(expected);
                    // all at once, spread over the threads
                    expect((await Promise.all(cases.map((c) => pool.run(c.job)))).map(signature)).toEqual(expected);
                } finally {
                    await pool.close();
                }
            }
        } finally {
            stopBusy.abort();
            await spinning;
            await busy.close();
        }
    }, 90_000);

    it.each([['--liftoff-only'], ['--no-liftoff']])(
        'gives the same under %s',
        async (flag) => {
            expect(await inChild([flag], cases)).toEqual(expected);
        },
        60_000,
    );
});
