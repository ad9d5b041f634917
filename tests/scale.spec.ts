import { beginCell, Dictionary, toNano } from '@ton/core';
import { SandboxContract, TreasuryContract } from '@ton/sandbox';
import { FOG, payload, Protocol, protocolFixture, runJobGas, specOf } from './helpers/protocol';
import { storePostJobPayload, storeStakePayload } from '../wrappers/Hub';

/**
 * Nothing grows with history: a job's whole lifecycle costs the same gas after 1,000 jobs and
 * 200 providers as the first one did (no contract keeps a map or a list that grows).
 */
describe('scale', () => {
    let p: Protocol;
    let workers: SandboxContract<TreasuryContract>[];
    let requester: SandboxContract<TreasuryContract>;

    beforeAll(async () => {
        p = await protocolFixture();
        workers = [];
        for (let i = 0; i < 4; i++) {
            const w = await p.blockchain.treasury(`worker ${i}`);
            await p.fund(w.address, 5_000n * FOG);
            await p.stake(w, 2_000n * FOG);
            workers.push(w);
        }
        requester = workers[3];
    });

    const lifecycle = async (id: bigint) => {
        const gas = await runJobGas(p, requester, workers.slice(0, 3), id);
        expect((await (await p.job(id)).getJobState()).phase).toBe(2n);
        return gas;
    };

    it('costs the same gas for job #1000 with 200 providers as for job #1', async () => {
        const first = await lifecycle(0n);
        // 200 providers, funded 32 to a genesis message, each staking for a pass.
        const providers: SandboxContract<TreasuryContract>[] = [];
        for (let i = 0; i < 200; i++) providers.push(await p.blockchain.treasury(`provider ${i}`));
        for (let i = 0; i < providers.length; i += 32) {
            const recipients = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
            for (const q of providers.slice(i, i + 32)) recipients.set(q.address, 2_000n * FOG);
            await p.token.send(p.admin.getSender(), { value: toNano('5') }, { $$type: 'GenesisMint', queryId: 0n, recipients, close: false });
        }
        const stake = beginCell().storeBit(1).storeRef(payload(storeStakePayload({ $$type: 'StakePayload', cores: 4n, memoryMb: 8192n }))).endCell().beginParse();
        for (const q of providers) {
            const wallet = await p.walletOf(q.address);
            await wallet.send(q.getSender(), { value: toNano('1.1') }, {
                $$type: 'JettonTransfer', queryId: 0n, amount: 1_500n * FOG, destination: p.hub.address, responseDestination: q.address,
                customPayload: null, forwardTonAmount: toNano('1'), forwardPayload: stake,
            });
        }
        expect((await (await p.providerOf(providers[199].address)).getProviderState()).passHeld).toBe(true);
        // 998 more jobs, posted the way a requester's wallet does it.
        const wallet = await p.walletOf(requester.address);
        const post = beginCell().storeBit(1).storeRef(payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf() }))).endCell().beginParse();
        for (let id = 1; id < 999; id++) {
            await wallet.send(requester.getSender(), { value: toNano('1.1') }, {
                $$type: 'JettonTransfer', queryId: 0n, amount: 1n * FOG, destination: p.hub.address, responseDestination: requester.address,
                customPayload: null, forwardTonAmount: toNano('1'), forwardPayload: post,
            });
        }
        expect((await p.hub.getHubState()).nextJobId).toBe(999n);
        const thousandth = await lifecycle(999n);
        const drift = Math.abs(Number(thousandth - first)) / Number(first);
        expect(drift).toBeLessThanOrEqual(0.01);
    }, 10 * 60_000);
});
