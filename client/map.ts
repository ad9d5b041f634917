/**
 * Maps (docs/map-reduce.md): what the requester's `fog job map`, the blueprint `postMap` and
 * `readMap` scripts, the bot's `/map` and the web app's map page share (no Node-only module: the
 * app bundles it; a map's inputs are read in client/map-inputs.ts). A map is one sharded post of one program over many inputs; its id
 * is its first job's, and its shards are jobs `id` to `id + count − 1` (a map of one input is a
 * plain job).
 */
import { Fog } from './actions';
import { open } from './chain';
import { failureOf, JobPhase } from './results';
import { uint256ToHash } from './hash';
import { JobState } from '../wrappers/Job';
import { MAX_SHARDS, shardsInitOf } from '../wrappers/protocol';
import { Shards } from '../wrappers/Shards';

/** Where a shard stands, for a person: running, done (with an output), its program failed, or refunded. */
export type ShardStatus = 'running' | 'done' | 'program-failed' | 'refunded';

export function shardStatus(s: JobState): ShardStatus {
    const phase = Number(s.phase);
    if (phase === JobPhase.Done) return failureOf(uint256ToHash(s.result)) ? 'program-failed' : 'done';
    if (phase === JobPhase.Failed || phase === JobPhase.Expired || phase === JobPhase.Rejected) return 'refunded';
    return 'running';
}

/** How many shards stand where, and a progress line of them. */
export function mapProgress(id: bigint, states: readonly JobState[], width = 24): { line: string; counts: Record<ShardStatus, number> } {
    const counts: Record<ShardStatus, number> = { running: 0, done: 0, 'program-failed': 0, refunded: 0 };
    let disputing = 0;
    for (const s of states) {
        counts[shardStatus(s)]++;
        if (Number(s.phase) === JobPhase.Disputing) disputing++;
    }
    const n = states.length;
    const filled = n === 0 ? 0 : Math.round((width * (n - counts.running)) / n);
    const parts = [
        `${counts.done}/${n} done`,
        ...(counts.running ? [`${counts.running} running${disputing ? ` (${disputing} disputing)` : ''}`] : []),
        ...(counts['program-failed'] ? [`${counts['program-failed']} program failed`] : []),
        ...(counts.refunded ? [`${counts.refunded} refunded`] : []),
    ];
    return { line: `map ${id}: [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${parts.join(' · ')}`, counts };
}

/** A map id that names no map a user can follow (no such job, or refunded whole): the message says which. */
export class MapError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'MapError';
    }
}

/**
 * The jobs of map `id` in shard order: its sharded post's, or the one job `id` (a map of one
 * shard is posted as a plain job). Throws, saying why, for an id that is no job, or a map
 * refunded whole.
 */
export async function mapJobIds(fog: Fog, id: bigint): Promise<bigint[]> {
    const shards = await fog.shards(id);
    if (!(await fog.client.isContractDeployed(shards.address))) {
        const next = (await fog.hub.getHubState()).nextJobId;
        if (id >= next)
            throw new MapError(
                `no job ${id} on this network: ${next === 0n ? 'the hub has posted no jobs yet' : `the hub has posted jobs 0 to ${next - 1n}`}`,
            );
        if (!(await fog.client.isContractDeployed((await fog.job(id)).address))) throw new MapError(`no job ${id} on this network`);
        return [id];
    }
    const s = await shards.getShardsState();
    if (s.verified === 2n)
        throw new MapError(
            `map ${id} was refunded whole: its requester held no live Contributor Pass (or the hub could not deploy its jobs); no shard ran`,
        );
    return Array.from({ length: Number(s.count) }, (_, i) => id + BigInt(i));
}

/**
 * The map job `id` belongs to: `id` itself when it is a map's first job or a plain job, else the
 * first job of the sharded post whose Shards the job names (found among the 63 ids before it, by
 * address, computed here).
 */
export async function mapOf(fog: Fog, id: bigint, state: JobState): Promise<bigint> {
    if (state.group === null) return id;
    for (let first = id; first >= 0n && first > id - BigInt(MAX_SHARDS); first--) {
        const shards = await shardsInitOf(fog.addresses.hub, first);
        if (shards.address.equals(state.group)) return first;
    }
    throw new Error(`job ${id} names a sharded post (${state.group.toString()}) that is not one of the ${MAX_SHARDS} before it`);
}

/**
 * The map a job id that was never deployed belongs to: a sharded post's jobs are deployed only
 * once its pass check passed, so such an id is a shard of a map still in its check, or refunded
 * whole. Its first job is one of the 63 ids before it (or itself) whose Shards exists and counts
 * this id; undefined when none does.
 */
export async function pendingMapOf(fog: Fog, id: bigint): Promise<bigint | undefined> {
    for (let first = id; first >= 0n && first > id - BigInt(MAX_SHARDS); first--) {
        const shards = await shardsInitOf(fog.addresses.hub, first);
        if (!(await fog.client.isContractDeployed(shards.address))) continue;
        const s = await open(fog.client, Shards.fromAddress(shards.address)).getShardsState();
        return first + s.count > id ? first : undefined;
    }
    return undefined;
}

/** The states of jobs `ids`, read `atOnce` at a time. */
export async function jobStates(fog: Fog, ids: readonly bigint[], atOnce = 8): Promise<JobState[]> {
    const states: JobState[] = [];
    for (let i = 0; i < ids.length; i += atOnce)
        states.push(...(await Promise.all(ids.slice(i, i + atOnce).map(async (id) => (await fog.job(id)).getJobState()))));
    return states;
}

/** Where map `first` stands: waiting for its requester's pass check, or open with its shards' states. */
export type MapStatus =
    | { first: bigint; ids: bigint[]; pending: true }
    | {
          first: bigint;
          ids: bigint[];
          pending: false;
          states: JobState[];
          counts: Record<ShardStatus, number>;
          /** mapProgress's line: a bar of the final shards and the counts. */
          line: string;
          /** The shards not done, by where they stand. */
          not: Record<Exclude<ShardStatus, 'done'>, bigint[]>;
      };

/**
 * The status of the map job `id` belongs to (its first job's id or any of its shards'), as the
 * bot's `/map` and the blueprint `readMap` script show it. Throws a MapError, saying why, for an
 * id that is no job and no shard of a map in its pass check, or a map refunded whole.
 */
export async function mapStatus(fog: Fog, id: bigint): Promise<MapStatus> {
    const job = await fog.job(id);
    let first: bigint | undefined;
    if (await fog.client.isContractDeployed(job.address)) first = await mapOf(fog, id, await job.getJobState());
    else {
        const next = (await fog.hub.getHubState()).nextJobId;
        // an id the hub gave but no job holds: a shard of a map still in its pass check, or refunded whole
        if (id < next) first = await pendingMapOf(fog, id);
        if (first === undefined) throw new MapError(`there is no job ${id} (jobs so far: ${next})`);
    }
    const ids = await mapJobIds(fog, first);
    if (ids.length > 1 && (await (await fog.shards(first)).getShardsState()).verified === 0n) return { first, ids, pending: true };
    const states = await jobStates(fog, ids);
    const { counts, line } = mapProgress(first, states);
    const these = (status: ShardStatus) => ids.filter((_, i) => shardStatus(states[i]) === status);
    return {
        first,
        ids,
        pending: false,
        states,
        counts,
        line,
        not: { running: these('running'), 'program-failed': these('program-failed'), refunded: these('refunded') },
    };
}
