/**
 * A worker's fuel rate: how much fuel per second this machine's pool burns on ordinary code, so
 * the worker can tell, before it claims a job, whether the job's fuel limit fits in the commit
 * window. Measured by running a fixed kernel through the pool itself (metered, in a pool thread,
 * compile and instantiation included) until one run takes long enough to time.
 *
 * The rate decides only which jobs this worker claims, never a verdict. Code that is slow per unit
 * of fuel (growing memory a page at a time, calling the host in a tight loop) runs below it; the
 * daemon leaves a margin (`RATE_MARGIN`) and the worker's wall-clock limit stops the rest.
 */
import wabtFactory from 'wabt';
import { MAX_FUEL } from './meter';
import { ComputePool } from './pool';

/**
 * The kernel: `run` reads an iteration count (u32, little-endian) from its input and loops that
 * many times over integer, 64-bit, float and memory work and a call, then writes its accumulators
 * (so nothing is dead code).
 */
const KERNEL = `
(module
  (import "fog" "memory" (memory 1))
  (import "fog" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "fog" "write_output" (func $write_output (param i32 i32)))
  (func $mix (param $a i32) (param $b i32) (result i32)
    (i32.xor (i32.rotl (i32.mul (local.get $a) (i32.const 0x9e3779b1)) (i32.const 13)) (local.get $b)))
  (func (export "run")
    (local $n i32) (local $i i32) (local $h i32) (local $w i64) (local $f f64) (local $p i32)
    (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
    (local.set $n (i32.load (i32.const 0)))
    (local.set $f (f64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (call $mix (local.get $h) (local.get $i)))
        (local.set $w (i64.add (i64.mul (local.get $w) (i64.const 6364136223846793005)) (i64.extend_i32_u (local.get $h))))
        (local.set $f (f64.add (f64.mul (local.get $f) (f64.const 0.999999)) (f64.convert_i32_u (i32.and (local.get $h) (i32.const 255)))))
        (local.set $p (i32.and (i32.shl (local.get $i) (i32.const 3)) (i32.const 0xfff8)))
        (i64.store (local.get $p) (i64.xor (i64.load (local.get $p)) (local.get $w)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.store (i32.const 0) (local.get $w))
    (f64.store (i32.const 8) (local.get $f))
    (i32.store (i32.const 16) (local.get $h))
    (call $write_output (i32.const 0) (i32.const 20))))
`;

let kernel: Promise<Uint8Array> | undefined;

/** The kernel's bytes (compiled once per process). */
export function calibrationKernel(): Promise<Uint8Array> {
    kernel ??= wabtFactory().then((wabt) => {
        const m = wabt.parseWat('calibrate.wat', KERNEL);
        try {
            return m.toBinary({}).buffer;
        } finally {
            m.destroy();
        }
    });
    return kernel;
}

/** A measurement: fuel per second, and the run it came from. */
export interface FuelRate {
    fuelPerSecond: number;
    fuel: bigint;
    ms: number;
}

/**
 * Measures the pool's fuel rate: runs the kernel with growing iteration counts until one run takes
 * at least `targetMs`, and returns that run's fuel over its time. Throws if the pool fails the
 * kernel (a pool that cannot run it cannot run jobs either).
 */
export async function measureFuelRate(pool: ComputePool, targetMs = 200): Promise<FuelRate> {
    const program = await calibrationKernel();
    let iterations = 10_000;
    for (;;) {
        const input = Buffer.alloc(4);
        input.writeUInt32LE(iterations);
        const r = await pool.run({ program, input, fuel: MAX_FUEL, maxMemoryMb: 1 });
        if (r.status !== 'ok') throw new Error(`the calibration kernel failed in the pool (${r.reason}): ${r.message}`);
        const ms = Math.max(r.ms, 0.001);
        if (ms >= targetMs || iterations >= 0x8000_0000) return { fuelPerSecond: Number(r.fuel) / (ms / 1000), fuel: r.fuel, ms };
        // aim a little past the target, at most 100× at a step (the first runs are dominated by compiling)
        iterations = Math.min(0xffff_ffff, Math.ceil(iterations * Math.min(100, Math.max(2, (1.5 * targetMs) / ms))));
    }
}
