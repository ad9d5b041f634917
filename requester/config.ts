/**
 * Options of `fog job submit`: one defaults object, the limits of each option, and one
 * validation step with exact messages. The commander help of requester/cli.ts takes its defaults
 * from here; the common options (--home, --network-file) are client/cli-common.ts's.
 */
import { MAX_MEMORY_MB } from '../client/compute/abi';
import { parseAmount, parseCount } from '../wrappers/units';

/** Defaults of `fog job submit`. */
export const requesterDefaults = {
    /** `-k, --replicas`: independent workers. */
    replicas: 3,
    /** `--max-cpu`: CPU time limit per worker, seconds. */
    maxCpuSeconds: 10,
    /** `--memory`: memory limit per worker, MiB. */
    memoryMb: 256,
} as const;

/** The largest value each whole-number option accepts (the least is 1). */
export const requesterLimits = { replicas: 7, maxCpuSeconds: 86_400, memoryMb: MAX_MEMORY_MB } as const;

/** `fog job submit`'s numeric flags as commander hands them over. */
export interface SubmitFlags {
    price: string;
    replicas: string;
    quorum?: string;
    maxCpu: string;
    memory: string;
}

/** `fog job submit`'s numbers, checked: price in nano FOG, k, the quorum (a majority of k by default), limits. */
export interface SubmitNumbers {
    price: bigint;
    k: number;
    quorum: number;
    maxCpu: number;
    memory: number;
}

/** Checks `submit`'s numeric flags; throws with the flag, its range and the value given. */
export function resolveSubmit(o: SubmitFlags): SubmitNumbers {
    const price = parseAmount(o.price);
    const k = parseCount(o.replicas, '-k', requesterLimits.replicas);
    const quorum = o.quorum === undefined ? Math.floor(k / 2) + 1 : parseCount(o.quorum, '--quorum', k);
    if (quorum * 2 <= k) throw new Error(`--quorum must be more than half of k (${k}), got ${quorum}`);
    const maxCpu = parseCount(o.maxCpu, '--max-cpu', requesterLimits.maxCpuSeconds);
    const memory = parseCount(o.memory, '--memory', requesterLimits.memoryMb);
    return { price, k, quorum, maxCpu, memory };
}
