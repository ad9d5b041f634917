/**
 * Gas against history: a job's whole lifecycle measured first on a fresh protocol, then again
 * after `jobsBetween` more jobs were posted and `providers` more providers staked. Nothing in the
 * contracts grows with history (no maps, no lists), so the two must cost the same. Used by
 * tests/scale.spec.ts (998 jobs, 200 providers: job #1000 against job #1) and by the bench.
 */
import { beginCell, Dictionary, toNano } from '@ton/core';
import { SandboxContract, TreasuryContract } from '@ton/sandbox';
import { JobPhase } from '../client/results';
import { storePostJobPayload, storeStakePayload } from '../wrappers/Hub';
import { GENESIS_CHUNK } from '../wrappers/deployment';
import { FOG, payload, Protocol, protocolFixture, runJobGas, specOf } from '../client/sandbox/protocol';

export interface HistoryGas {
    jobsBetween: number;
    providers: number;
    /** Ids of the two jobs measured: 0 and jobsBetween + 1. */
    firstId: number;
    lastId: number;
    /** Lifecycle gas (k=3) of the first job and of the last. */
    first: number;
    last: number;
}

async function lifecycle(
    p: Protocol,
    requester: SandboxContract<TreasuryContract>,
    workers: SandboxContract<TreasuryContract>[],
    id: bigint,
): Promise<number> {
    const gas = await runJobGas(p, requester, workers, id);
    const phase = Number((await (await p.job(id)).getJobState()).phase);
    if (phase !== JobPhase.Done) throw new Error(`job ${id} ended in phase ${phase}, not settled`);
    return Number(gas);
}

/** Measures job #1's lifecycle, builds the history, and measures job #(jobsBetween + 2)'s. */
export async function historyGas(opts: { jobsBetween: number; providers: number }): Promise<HistoryGas> {
    const { jobsBetween, providers: providerCount } = opts;
    const p = await protocolFixture();
    const workers: SandboxContract<TreasuryContract>[] = [];
    for (let i = 0; i < 4; i++) {
        const w = await p.blockchain.treasury(`worker ${i}`);
        await p.fund(w.address, 5_000n * FOG);
        await p.stake(w, 2_000n * FOG);
        workers.push(w);
    }
    const requester = workers[3];
    const first = await lifecycle(p, requester, workers.slice(0, 3), 0n);

    // More providers, funded a genesis message at a time, each staking for a pass.
    const providers: SandboxContract<TreasuryContract>[] = [];
    for (let i = 0; i < providerCount; i++) providers.push(await p.blockchain.treasury(`provider ${i}`));
    for (let i = 0; i < providers.length; i += GENESIS_CHUNK) {
        const recipients = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
        for (const q of providers.slice(i, i + GENESIS_CHUNK)) recipients.set(q.address, 2_000n * FOG);
        await p.token.send(p.admin.getSender(), { value: toNano('5') }, { $$type: 'GenesisMint', queryId: 0n, recipients, close: false });
    }
    const stake = beginCell()
        .storeBit(1)
        .storeRef(payload(storeStakePayload({ $$type: 'StakePayload', cores: 4n, memoryMb: 8192n })))
        .endCell()
        .beginParse();
    for (const q of providers) {
        const wallet = await p.walletOf(q.address);
        await wallet.send(
            q.getSender(),
            { value: toNano('1.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 0n,
                amount: 1_500n * FOG,
                destination: p.hub.address,
                responseDestination: q.address,
                customPayload: null,
                forwardTonAmount: toNano('1'),
                forwardPayload: stake,
            },
        );
    }
    if (providers.length > 0 && !(await (await p.providerOf(providers[providers.length - 1].address)).getProviderState()).passHeld) {
        throw new Error('the last provider staked holds no pass');
    }

    // More jobs, posted the way a requester's wallet does it.
    const wallet = await p.walletOf(requester.address);
    const post = beginCell()
        .storeBit(1)
        .storeRef(payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf() })))
        .endCell()
        .beginParse();
    for (let n = 0; n < jobsBetween; n++) {
        await wallet.send(
            requester.getSender(),
            { value: toNano('1.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 0n,
                amount: 1n * FOG,
                destination: p.hub.address,
                responseDestination: requester.address,
                customPayload: null,
                forwardTonAmount: toNano('1'),
                forwardPayload: post,
            },
        );
    }
    const lastId = jobsBetween + 1;
    const next = (await p.hub.getHubState()).nextJobId;
    if (next !== BigInt(lastId)) throw new Error(`after ${jobsBetween} more jobs the hub's next job id is ${next}, not ${lastId}`);
    const last = await lifecycle(p, requester, workers.slice(0, 3), BigInt(lastId));
    return { jobsBetween, providers: providerCount, firstId: 0, lastId, first, last };
}
