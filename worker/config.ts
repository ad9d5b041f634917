/**
 * Options of `fog-worker` and its daemon: one defaults object, the limits of each option, and
 * one validation step per command with exact messages. The commander help of worker/cli.ts takes
 * its defaults from here.
 */
import { availableParallelism, totalmem } from 'node:os';
import { MAX_MEMORY_MB } from '../client/compute/abi';
import { MAX_JOB_MFUEL, WORKER_DEFAULT_MAX_MFUEL } from '../client/compute/fuel';
import { parseAmount, parseCount } from '../wrappers/units';

/** Defaults of `fog-worker` and the daemon (amounts as typed on the command line, in FOG or TON). */
export const workerDefaults = {
    /** `start --threads` and `stake --cores`: this machine's cores. */
    threads: availableParallelism(),
    /** `start --memory`: largest job memory accepted, MiB. */
    memoryMb: 1024,
    /** `start --memory-total`: the most memory the runs in hand may ask for at once, MiB: half this machine's. */
    memoryTotalMb: Math.max(1, Math.floor(totalmem() / 2 ** 20 / 2)),
    /** `stake --memory`: memory offered, MiB. */
    stakeMemoryMb: 4096,
    /**
     * `start --max-mfuel`: largest job fuel limit accepted, millions of fuel (`fuelForJob`,
     * client/compute/fuel.ts). About a minute of one thread on a 2-core laptop; whether a job fits
     * its commit window at this worker's own fuel rate is checked besides. A shard of the meme
     * model's training (docs/memes.md) is posted with about 108,000.
     */
    maxMfuel: WORKER_DEFAULT_MAX_MFUEL,
    /** `start --wall-seconds`: how long one run may take on this machine before the worker abandons the job (never a verdict). */
    wallSeconds: 600,
    /** `start --min-price`: smallest job price worth claiming, FOG. */
    minPrice: '0',
    /** `start --min-price-per-mfuel`: least pay per seat for each Mfuel of a job's limit, FOG. */
    minPricePerMfuel: '0',
    /** `start --poll-ms`: how often the daemon looks at the chain. */
    pollMs: 1000,
    /** `start --keep-jobs`: jobs the journal remembers. */
    keepJobs: 10_000,
    /** Seconds before a deadline that the daemon no longer starts a step. */
    safetySeconds: 3,
    /** When a fresh worker starts, how many recent jobs it looks back at. */
    lookback: 50,
    /** `faucet --ton` and `--fog` (devnet only). */
    faucetTon: '10',
    faucetFog: '1000',
} as const;

/** The largest value each whole-number option accepts (the least is 1). */
export const workerLimits = {
    threads: 256,
    memoryMb: MAX_MEMORY_MB,
    memoryTotalMb: 0xffffffff,
    maxMfuel: MAX_JOB_MFUEL,
    wallSeconds: 86_400,
    pollMs: 600_000,
    keepJobs: 100_000_000,
    cores: 65_535,
    stakeMemoryMb: 0xffffffff,
    fuelRate: Number.MAX_SAFE_INTEGER,
} as const;

/** `fog-worker start`'s flags as commander hands them over. */
export interface StartFlags {
    threads: string;
    memory: string;
    memoryTotal: string;
    maxMfuel: string;
    wallSeconds: string;
    minPrice: string;
    minPricePerMfuel: string;
    fuelRate?: string;
    pollMs: string;
    keepJobs: string;
    storage?: string;
    allowPrivateUris?: boolean;
    liar?: boolean;
    colluding?: boolean;
}

/** `fog-worker start`'s options, checked. */
export interface WorkerStartOptions {
    threads: number;
    memoryMb: number;
    /** The most memory the runs in hand may ask for at once, MiB. */
    memoryTotalMb: number;
    maxMfuel: number;
    wallSeconds: number;
    /** nano FOG */
    minPrice: bigint;
    /** nano FOG per Mfuel, per seat */
    minPricePerMfuel: bigint;
    /** fuel per second, when given instead of measured */
    fuelRate: number | undefined;
    pollMs: number;
    keepJobs: number;
    storage: string | undefined;
    allowPrivateUris: boolean;
    liar: boolean;
    /** With `liar`: flip the same bit as every other colluding liar, so they reveal the same wrong result. */
    colluding: boolean;
}

/** Checks `start`'s flags; throws with the flag, its range and the value given. */
export function resolveWorkerStart(o: StartFlags): WorkerStartOptions {
    return {
        threads: parseCount(o.threads, '--threads', workerLimits.threads),
        memoryMb: parseCount(o.memory, '--memory', workerLimits.memoryMb),
        memoryTotalMb: parseCount(o.memoryTotal, '--memory-total', workerLimits.memoryTotalMb),
        maxMfuel: parseCount(o.maxMfuel, '--max-mfuel', workerLimits.maxMfuel),
        wallSeconds: parseCount(o.wallSeconds, '--wall-seconds', workerLimits.wallSeconds),
        minPrice: parseAmount(o.minPrice),
        minPricePerMfuel: parseAmount(o.minPricePerMfuel),
        fuelRate: o.fuelRate === undefined ? undefined : parseCount(o.fuelRate, '--fuel-rate', workerLimits.fuelRate),
        pollMs: parseCount(o.pollMs, '--poll-ms', workerLimits.pollMs),
        keepJobs: parseCount(o.keepJobs, '--keep-jobs', workerLimits.keepJobs),
        storage: o.storage,
        allowPrivateUris: !!o.allowPrivateUris,
        liar: !!o.liar,
        colluding: !!o.colluding,
    };
}

/** `fog-worker stake`'s flags, checked: the amount in nano FOG, the cores and memory offered. */
export function resolveStake(o: { amount: string; cores: string; memory: string }): { amount: bigint; cores: number; memory: number } {
    return {
        amount: parseAmount(o.amount),
        cores: parseCount(o.cores, '--cores', workerLimits.cores),
        memory: parseCount(o.memory, '--memory', workerLimits.stakeMemoryMb),
    };
}
