/**
 * The fuel limit of a job on chain: the one place a worker (or a requester checking a run) turns
 * a job spec into the limit its program runs under.
 *
 * The bridge: the on-chain job spec still states CPU seconds (`maxCpuSeconds`) where it will state
 * fuel (issue 16, item 2). Until it does, the limit is `maxCpuSeconds × FUEL_PER_CPU_SECOND`,
 * computed from the chain's data alone, so every honest worker runs a job under the same limit,
 * whatever its machine. When the spec carries fuel, `fuelForJob` returns it and the constant goes.
 */
import { MAX_FUEL } from './meter';

/**
 * Fuel per CPU second of the job spec: 10⁹. A reference rate, not a promise about any machine.
 * Ordinary code runs faster than this on one core of the shared 2-core test machine (the examples
 * on their default inputs, metered: `npm run bench`, BENCHMARKS.md section 6), so a job that
 * states S seconds needs at most about S seconds of such a core. Programs that are slow per unit of fuel (growing memory page by page,
 * calling the host in a tight loop) can take longer: the worker's own wall-clock limit
 * (`fog-worker start --wall-seconds`) protects it from those, and it abandons, never commits, them.
 */
export const FUEL_PER_CPU_SECOND = 1_000_000_000n;

/** The fuel limit of a job whose spec states `maxCpuSeconds` (a whole number, as on chain): at most MAX_FUEL. */
export function fuelForJob(spec: { maxCpuSeconds: bigint | number }): bigint {
    const seconds = BigInt(spec.maxCpuSeconds);
    if (seconds < 0n) throw new RangeError('maxCpuSeconds must not be negative');
    const fuel = seconds * FUEL_PER_CPU_SECOND;
    return fuel > MAX_FUEL ? MAX_FUEL : fuel;
}
