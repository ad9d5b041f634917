/**
 * Gas: what each step of a job costs and what whole jobs cost (k = 1, 3, 5), next to one FOG
 * transfer measured in the same run and the reference contracts, measured as the gas table
 * measures them (wrappers/gas.ts: compute gas summed over the chain, sender's wallet excluded).
 */
import { toNano } from '@ton/core';
import { SandboxContract, TreasuryContract } from '@ton/sandbox';
import { GAS_ANCHORS, operationGas } from '../wrappers/gas';
import { JobPhase } from '../client/results';
import { FOG, jobCost, protocolFixture, runJobGas, shardsCost } from '../client/sandbox/protocol';
import { emptyPayload } from '../client/sandbox/fixture';

export interface GasFigures {
    /** One FOG transfer (no forward payload) between two existing wallets. */
    transfer: number;
    /** The reference contracts, measured the same way on sandbox 0.41 (not in this run). */
    anchors: Record<string, number>;
    /** Each step of the first k=3 job, as the gas table names them. */
    operations: Record<string, number>;
    /** Whole jobs, post to settlement, by k. */
    lifecycles: Record<string, number>;
    /** A shard of a sharded post of S against a job posted alone, post to settlement, by k and S. */
    sharded: ShardedCost[];
}

/** One shard's whole cost in a sharded post of `shards`, and a single job's at the same k (gas; TON with forward fees, nanoton). */
export interface ShardedCost {
    k: number;
    shards: number;
    gas: number;
    ton: number;
    singleGas: number;
    singleTon: number;
}

/** The k of the sharded posts measured. */
export const SHARDED_KS = [1, 3] as const;

/** The k of the job lifecycles measured. */
export const LIFECYCLE_KS = [1, 3, 5] as const;

/** `shardCounts`: the sizes of the sharded posts measured, at each of SHARDED_KS (16 must be one: the goal's). */
export async function measureGas(shardCounts: readonly number[]): Promise<GasFigures> {
    const p = await protocolFixture();
    const actors: SandboxContract<TreasuryContract>[] = [];
    for (let i = 0; i <= Math.max(...LIFECYCLE_KS); i++) {
        const a = await p.blockchain.treasury(`actor ${i}`);
        await p.fund(a.address, 10_000n * FOG);
        actors.push(a);
    }
    const requester = actors[actors.length - 1];
    const operations: Record<string, number> = {};
    for (const a of actors) {
        const r = await p.stake(a, 2_000n * FOG);
        if (a === actors[0]) operations['stake (first, with pass mint)'] = Number(operationGas(r.transactions, a.address));
    }

    const [alice, bob] = actors;
    const wallet = await p.walletOf(alice.address);
    const sent = await wallet.send(
        alice.getSender(),
        { value: toNano('0.1') },
        {
            $$type: 'JettonTransfer',
            queryId: 0n,
            amount: toNano('1'),
            destination: bob.address,
            responseDestination: alice.address,
            customPayload: null,
            forwardTonAmount: 0n,
            forwardPayload: emptyPayload(),
        },
    );
    const transfer = Number(operationGas(sent.transactions, alice.address));

    // The first job, step by step; it also deploys the epoch its settlement records into.
    const k = 3;
    const steps: number[] = [];
    await runJobGas(p, requester, actors.slice(0, k), 0n, (r, payer) => {
        const gas = operationGas(r.transactions, payer);
        steps.push(Number(gas));
        return gas;
    });
    operations['post job (k=3, through the pass check)'] = steps[0];
    operations['claim'] = steps[1];
    operations['commit'] = steps[1 + k];
    operations['reveal'] = steps[1 + 2 * k];
    operations['reveal (last: settles k=3, burns, records the epoch)'] = steps[3 * k];

    const lifecycles: Record<string, number> = {};
    let id = 1n;
    for (const n of LIFECYCLE_KS) lifecycles[`k=${n}`] = Number(await runJobGas(p, requester, actors.slice(0, n), id++));
    for (let j = 0n; j < id; j++) {
        if (Number((await (await p.job(j)).getJobState()).phase) !== JobPhase.Done) throw new Error(`gas: job ${j} did not settle`);
    }
    // Sharded posts: per shard against a job posted alone, the same k, measured in the same run
    const sharded: ShardedCost[] = [];
    for (const n of SHARDED_KS) {
        const workers = actors.slice(0, n);
        const single = await jobCost(p, requester, workers, id++);
        for (const count of shardCounts) {
            const cost = await shardsCost(p, requester, workers, count, id);
            id += BigInt(count);
            sharded.push({
                k: n,
                shards: count,
                gas: Number(cost.gas) / count,
                ton: Number(cost.fees) / count,
                singleGas: Number(single.gas),
                singleTon: Number(single.fees),
            });
        }
    }
    return { transfer, anchors: { ...GAS_ANCHORS }, operations, lifecycles, sharded };
}
