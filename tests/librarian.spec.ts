/**
 * Job's code as a masterchain library (contracts/librarian.tact, docs/operating.md "Job's code as a
 * library"): the Librarian publishes it once, the hub deploys every job with a 264-bit library
 * cell naming it, and a hub deployed without the library deploys jobs with the code itself.
 */
import '@ton/test-utils';
import { beginCell, Cell, Dictionary, toNano } from '@ton/core';
import { Blockchain } from '@ton/sandbox';
import { Hub, loadRefusedEvent, PhaseDone, RefuseJobCode } from '../wrappers/Hub';
import { refusalReason } from '../wrappers/refusal';
import { jobCodeCell, librarianInit, libraryCellOf } from '../wrappers/protocol';
import { cellShape } from '../wrappers/gas';
import { mainnetConfig } from '../client/sandbox/config';
import { actorsOf, allSucceeded, FOG, jobCost, protocolFixture } from '../client/sandbox/protocol';

const libsOf = (b: Blockchain) => b.libs?.beginParse().loadDictDirect(Dictionary.Keys.Buffer(32), Dictionary.Values.Cell());

describe('the Librarian', () => {
    it('publishes its code as a public library with its first message, drops it from its data, and keeps every top-up', async () => {
        const blockchain = await Blockchain.create({ config: mainnetConfig(), autoDeployLibs: true });
        const admin = await blockchain.treasury('admin');
        const code = await jobCodeCell();
        const librarian = blockchain.openContract(await librarianInit(code));
        expect(librarian.address.workChain).toBe(-1);
        expect(libsOf(blockchain)?.get(code.hash())).toBeUndefined();

        const r = await librarian.send(admin.getSender(), { value: toNano('10') }, null);
        expect(r.transactions).toHaveTransaction({ to: librarian.address, deploy: true, success: true });
        expect(libsOf(blockchain)?.get(code.hash())?.equals(code)).toBe(true);
        expect(await librarian.getPublished()).toBe(true);
        // the masterchain stores the code once, as the account's library: the data is one bit
        const account = await blockchain.getContract(librarian.address);
        const state = account.accountState;
        expect(state?.type).toBe('active');
        const data = state?.type === 'active' ? state.state.data! : new Cell();
        expect(data.bits.length).toBe(1);
        expect(data.refs).toHaveLength(0);
        // nothing went back: the TON pays the library's rent
        expect(r.transactions.filter((t) => t.inMessage?.info.src?.toString() === librarian.address.toString())).toHaveLength(0);
        const before = account.balance;

        // top-ups, plain and with a comment, stay and publish nothing again
        const top = await librarian.send(admin.getSender(), { value: toNano('3') }, null);
        expect(top.transactions).toHaveTransaction({ to: librarian.address, success: true, outMessagesCount: 0 });
        const comment = await librarian.send(admin.getSender(), { value: toNano('2') }, 'rent for 2027');
        expect(comment.transactions).toHaveTransaction({ to: librarian.address, success: true, outMessagesCount: 0 });
        const after = (await blockchain.getContract(librarian.address)).balance;
        expect(after).toBeGreaterThan(before + toNano('4.9'));
        expect(after).toBeLessThan(before + toNano('5'));
        expect(libsOf(blockchain)?.keys()).toHaveLength(1);
    });

    it('refuses a message it does not know, and the TON bounces back', async () => {
        const blockchain = await Blockchain.create({ config: mainnetConfig(), autoDeployLibs: true });
        const admin = await blockchain.treasury('admin');
        const librarian = blockchain.openContract(await librarianInit(await jobCodeCell()));
        await librarian.send(admin.getSender(), { value: toNano('10') }, null);
        const r = await blockchain.sendMessage({
            info: {
                type: 'internal',
                ihrDisabled: true,
                bounce: true,
                bounced: false,
                src: admin.address,
                dest: librarian.address,
                value: { coins: toNano('1') },
                ihrFee: 0n,
                forwardFee: 0n,
                createdLt: 0n,
                createdAt: 0,
            },
            body: beginCell().storeUint(0x12345678, 32).endCell(),
        });
        expect(r.transactions).toHaveTransaction({ from: librarian.address, to: admin.address, inMessageBounced: true });
    });
});

describe('jobs deployed with a library cell', () => {
    it('run to settlement with a 264-bit code cell, and cost less TON than jobs that carry the code', async () => {
        const costOf = async (jobLibrary: boolean) => {
            const p = await protocolFixture({}, { jobLibrary });
            const [w, requester] = await actorsOf(p, ['w', 'requester'], 10_000n * FOG, p.params.minStake);
            await jobCost(p, requester, [w], 0n); // the first records the epoch
            const cost = await jobCost(p, requester, [w], 1n);
            const job = await p.job(1n);
            expect((await job.getJobState()).phase).toBe(PhaseDone);
            const state = (await p.blockchain.getContract(job.address)).accountState;
            const code = state?.type === 'active' ? state.state.code! : new Cell();
            return { cost, code, hubCode: await p.hub.getJobCode() };
        };
        const code = await jobCodeCell();
        const library = await costOf(true);
        expect(library.code.equals(libraryCellOf(code))).toBe(true);
        expect(library.hubCode.equals(libraryCellOf(code))).toBe(true);
        expect(cellShape(library.code)).toEqual({ cells: 1, bits: 8 + 256 });
        const plain = await costOf(false);
        expect(plain.code.equals(code)).toBe(true);
        // the same work: the gas differs by the hub's reading of its job code only
        expect(Number(library.cost.gas)).toBeCloseTo(Number(plain.cost.gas), -3);
        // the code's forward fees are gone from the post: at 51,203 bits and 90 cells, about 0.004 TON
        const saved = plain.cost.fees - library.cost.fees;
        expect(saved).toBeGreaterThan(toNano('0.0035'));
        expect(saved).toBeLessThan(toNano('0.0045'));
    });
});

describe('a hub whose library is gone', () => {
    it('refuses posts, single and sharded, and sends the FOG back, instead of deploying jobs that could never run', async () => {
        const p = await protocolFixture();
        const [requester] = await actorsOf(p, ['requester'], 10_000n * FOG, p.params.minStake);
        // the Librarian froze (its rent ran out): the masterchain's libraries no longer hold Job's
        // code (another library stands in: the emulator keeps its last libraries when given none)
        const other = beginCell().storeUint(1, 8).endCell();
        const libs = Dictionary.empty(Dictionary.Keys.Buffer(32), Dictionary.Values.Cell());
        libs.set(other.hash(), other);
        p.blockchain.libs = beginCell().storeDictDirect(libs).endCell();
        const before = await p.balanceOf(requester.address);
        for (const r of [await p.post(requester, 10n * FOG), await p.postShards(requester, 10n * FOG, 4)]) {
            expect(allSucceeded(r)).toBe(true);
            const refused = r.externals
                .filter((e) => e.body.beginParse().preloadUint(32) === Hub.opcodes.RefusedEvent)
                .map((e) => loadRefusedEvent(e.body.beginParse()));
            expect(refused.map((e) => e.reason)).toEqual([RefuseJobCode]);
            expect(refusalReason(refused[0].reason)).toMatch(/library holding the jobs’ code is not published/);
        }
        expect(await p.balanceOf(requester.address)).toBe(before);
        expect((await p.hub.getHubState()).nextJobId).toBe(0n);
        expect((await p.hub.getHubState()).totalEscrow).toBe(0n);
    });
});
