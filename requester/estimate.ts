/**
 * `fog job submit --estimate`: runs the program on its input here, metered exactly as a worker
 * runs it (a one-thread compute pool), and says what a job posting it would need: the fuel the
 * run used, the result hash every honest worker would commit, and the limit and price to post
 * with. The run is deterministic (docs/metering.md), so the fuel it used is the fuel it uses on
 * every worker: the least whole Mfuel above it is enough, and a larger limit only narrows the
 * workers willing to claim the job.
 */
import { ComputePool } from '../client/compute/pool';
import { formatFuel, fuelForJob, MAX_JOB_MFUEL, MFUEL, mfuelFor, priceFor } from '../client/compute/fuel';
import { isVerdict } from '../client/compute/types';
import { failureHash, resultHashOf, underOutputCap } from '../client/results';
import { formatAmount } from '../wrappers/units';

export interface EstimateRequest {
    program: Uint8Array;
    input: Uint8Array;
    /** The limit to run under, Mfuel; undefined: the largest a job can state. */
    mfuel: number | undefined;
    memoryMb: number;
    k: number;
    /** nano FOG per Mfuel per seat */
    pricePerMfuel: bigint;
    /** The hub's minimum job price, nano FOG, when the chain could be read. */
    minJobPrice: bigint | undefined;
    /** The longest the local run may take, seconds. */
    wallSeconds: number;
}

export interface Estimate {
    /** 'ok', or the failure every worker would commit. */
    verdict: string;
    /** The result hash a worker would commit (client/results.ts): the output's output hash, or the failure's marker. */
    result: string;
    /** Output bytes (0 for a failure). */
    bytes: number;
    fuel: bigint;
    /** The limit the run had, Mfuel. */
    limitMfuel: number;
    /** What to post with: the least limit that holds the run, and the price at `pricePerMfuel` (at least the hub's minimum). */
    suggested: { mfuel: number; price: bigint };
    /** Milliseconds the run took here (compile, instantiate, run), when it returned. */
    ms: number | undefined;
}

/** Runs the estimate; throws if this machine stopped the run (its wall-clock limit), which says nothing about the program. */
export async function estimate(r: EstimateRequest): Promise<Estimate> {
    const limitMfuel = r.mfuel ?? MAX_JOB_MFUEL;
    const pool = new ComputePool({ threads: 1, wallSeconds: r.wallSeconds });
    try {
        const raw = await pool.run({
            program: r.program,
            input: r.input,
            fuel: fuelForJob({ maxMfuel: limitMfuel }),
            maxMemoryMb: r.memoryMb,
        });
        if (!isVerdict(raw))
            throw new Error(`the program ran longer than ${r.wallSeconds} s here and was stopped (${raw.reason}): it gives no estimate`);
        const run = underOutputCap(raw);
        const ok = run.status === 'ok';
        const mfuel = Math.min(MAX_JOB_MFUEL, mfuelFor(run.fuel));
        const byFuel = priceFor(r.pricePerMfuel, mfuel, r.k);
        const price = r.minJobPrice !== undefined && r.minJobPrice > byFuel ? r.minJobPrice : byFuel;
        return {
            verdict: ok ? 'ok' : run.reason,
            result: ok ? resultHashOf(run.output) : failureHash(run.reason),
            bytes: ok ? run.output.length : 0,
            fuel: run.fuel,
            limitMfuel,
            suggested: { mfuel, price },
            ms: ok ? run.ms : undefined,
        };
    } finally {
        await pool.close();
    }
}

/** The estimate in words, for the terminal. */
export function describeEstimate(e: Estimate, r: Pick<EstimateRequest, 'k' | 'pricePerMfuel' | 'minJobPrice'>): string {
    const lines = [
        e.verdict === 'ok'
            ? `ok: ${e.bytes} bytes out, result ${e.result}`
            : `the program fails (${e.verdict}): every worker would commit that failure, result ${e.result}`,
        `used ${formatFuel(e.fuel)}${e.fuel >= MFUEL ? ` (${e.fuel.toLocaleString('en-US')} fuel)` : ''} of a ${formatFuel(fuelForJob({ maxMfuel: e.limitMfuel }))} limit` +
            (e.ms === undefined ? '' : `, ${Math.round(e.ms)} ms here`),
    ];
    if (e.verdict === 'fuel') {
        lines.push(`it ran out of fuel: post with a larger --mfuel than ${e.limitMfuel}, or leave --mfuel out to find what it needs`);
        return lines.join('\n');
    }
    const minimum =
        r.minJobPrice === undefined
            ? '; the hub’s minimum job price could not be read'
            : `, the hub’s minimum is ${formatAmount(r.minJobPrice)}`;
    lines.push(
        `post with: --mfuel ${e.suggested.mfuel} --price ${formatAmount(e.suggested.price).replace(/ FOG$/, '')}` +
            `   (${formatAmount(r.pricePerMfuel)} per Mfuel for each of ${r.k} seats${minimum})`,
    );
    return lines.join('\n');
}
