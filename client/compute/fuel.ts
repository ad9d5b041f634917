/**
 * The fuel limit of a job on chain: the one place a worker (or a requester checking a run) turns
 * a job spec into the limit its program runs under, and the unit prices are stated in.
 *
 * The job spec states its limit in millions of fuel (`maxMfuel`, a uint32 on chain, so at most
 * about 4.3 × 10¹⁵ fuel, far below MAX_FUEL). The limit comes from the chain's data alone, so every
 * honest worker runs a job under the same limit whatever its machine, and the verdict, the output
 * and the fuel used are a function of (program, input, fuel limit, memory limit).
 */
import { MAX_FUEL } from './meter-costs';

/** Fuel in one Mfuel, the unit of a job's limit and of prices (`--min-price-per-mfuel`). */
export const MFUEL = 1_000_000n;

/** A job's fuel limit when its poster names none, Mfuel: 10¹⁰ fuel (`fog job submit --mfuel`, `jobSpec`, postJob). */
export const DEFAULT_JOB_MFUEL = 10_000;

/**
 * A worker's default `--max-mfuel` (worker/config.ts): a worker skips jobs whose limit is above its
 * own, so a job posted above this one is taken only by workers started with a higher limit.
 */
export const WORKER_DEFAULT_MAX_MFUEL = 1_000_000;

/** What a requester posting with a limit of `mfuel` should know, if it is above a worker's default limit. */
export function workerLimitNote(mfuel: number): string | undefined {
    if (mfuel <= WORKER_DEFAULT_MAX_MFUEL) return undefined;
    const n = (x: number) => x.toLocaleString('en-US');
    return `note: a worker skips jobs above its --max-mfuel, ${n(WORKER_DEFAULT_MAX_MFUEL)} Mfuel unless it sets another: at ${n(mfuel)} Mfuel, only workers started with a higher one take this`;
}

/** The largest limit a job spec can state, Mfuel (a uint32). */
export const MAX_JOB_MFUEL = 0xffff_ffff;

/** The fuel limit of a job whose spec states `maxMfuel` (a whole number, as on chain). */
export function fuelForJob(spec: { maxMfuel: bigint | number }): bigint {
    const mfuel = BigInt(spec.maxMfuel);
    if (mfuel < 0n || mfuel > BigInt(MAX_JOB_MFUEL)) throw new RangeError(`maxMfuel must be 0 to ${MAX_JOB_MFUEL}, got ${mfuel}`);
    const fuel = mfuel * MFUEL;
    return fuel > MAX_FUEL ? MAX_FUEL : fuel;
}

/** The least whole number of Mfuel that holds `fuel` (at least 1: a job's limit may not be 0). */
export function mfuelFor(fuel: bigint): number {
    const m = (fuel + MFUEL - 1n) / MFUEL;
    return Number(m < 1n ? 1n : m);
}

/**
 * The least price, nano FOG, that pays each of k seats at least `perMfuel` nano FOG for every
 * Mfuel of the limit: a worker is paid `price / winners` and winners are at most k, so this is
 * what a worker asking `perMfuel` compares a job's price with.
 */
export function priceFor(perMfuel: bigint, mfuel: bigint | number, k: bigint | number): bigint {
    return perMfuel * BigInt(mfuel) * BigInt(k);
}

/** Fuel for people: "1,460 fuel" under one Mfuel, "233.45 Mfuel" above (two decimals, cut, not rounded). */
export function formatFuel(fuel: bigint | string): string {
    const f = BigInt(fuel);
    if (f < MFUEL) return `${f.toLocaleString('en-US')} fuel`;
    const whole = f / MFUEL;
    const cents = ((f % MFUEL) * 100n) / MFUEL;
    return `${whole.toLocaleString('en-US')}${cents ? '.' + cents.toString().padStart(2, '0').replace(/0$/, '') : ''} Mfuel`;
}
