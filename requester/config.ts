/**
 * Options of `fog job submit` (and of map and reduce, which post too): one defaults object, the limits of each option, and one
 * validation step with exact messages. The commander help of requester/cli.ts takes its defaults
 * from here; the common options (--home, --network-file) are client/cli-common.ts's.
 */
import { MAX_MEMORY_MB } from '../client/compute/abi';
import { DEFAULT_JOB_MFUEL, MAX_JOB_MFUEL } from '../client/compute/fuel';
import { parseAmount, parseCount } from '../wrappers/units';

/** Defaults of `fog job submit`. */
export const requesterDefaults = {
    /** `-k, --replicas`: independent workers. */
    replicas: 3,
    /** `--mfuel`: fuel limit per worker, millions of fuel (`--estimate` finds the least that suffices). */
    maxMfuel: DEFAULT_JOB_MFUEL,
    /** `--memory`: memory limit per worker, MiB. */
    memoryMb: 256,
    /** `--price-per-mfuel`: with `--estimate`, what to offer each seat for each Mfuel of the limit, FOG. */
    pricePerMfuel: '0.001',
} as const;

/** The largest value each whole-number option accepts (the least is 1). */
export const requesterLimits = { replicas: 7, maxMfuel: MAX_JOB_MFUEL, memoryMb: MAX_MEMORY_MB } as const;

/** `fog job submit`'s numeric flags as commander hands them over. */
export interface SubmitFlags {
    price?: string;
    replicas: string;
    quorum?: string;
    mfuel?: string;
    memory: string;
    estimate?: boolean;
    /** Only `submit` has it (for --estimate). */
    pricePerMfuel?: string;
}

/**
 * `fog job submit`'s numbers, checked: price in nano FOG (undefined only with `--estimate`), k, the
 * quorum (a majority of k by default), the fuel limit in Mfuel (undefined when not given: the
 * default for a post, the largest for an estimate), memory, and the estimate's price per Mfuel.
 */
export interface SubmitNumbers {
    price: bigint | undefined;
    k: number;
    quorum: number;
    mfuel: number | undefined;
    memory: number;
    pricePerMfuel: bigint;
}

/** Checks `submit`'s numeric flags; throws with the flag, its range and the value given. */
export function resolveSubmit(o: SubmitFlags): SubmitNumbers {
    // only submit has --pricePerMfuel (a default), and --estimate with it
    if (o.price === undefined && !o.estimate)
        throw new Error(`--price <FOG> is required${o.pricePerMfuel === undefined ? '' : ' (or --estimate, which suggests one)'}`);
    const price = o.price === undefined ? undefined : parseAmount(o.price);
    const k = parseCount(o.replicas, '-k', requesterLimits.replicas);
    const quorum = o.quorum === undefined ? Math.floor(k / 2) + 1 : parseCount(o.quorum, '--quorum', k);
    if (quorum * 2 <= k) throw new Error(`--quorum must be more than half of k (${k}), got ${quorum}`);
    const mfuel = o.mfuel === undefined ? undefined : parseCount(o.mfuel, '--mfuel', requesterLimits.maxMfuel);
    const memory = parseCount(o.memory, '--memory', requesterLimits.memoryMb);
    const pricePerMfuel = parseAmount(o.pricePerMfuel ?? requesterDefaults.pricePerMfuel);
    return { price, k, quorum, mfuel, memory, pricePerMfuel };
}
