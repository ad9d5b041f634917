import '@ton/test-utils';
import { Address, beginCell, toNano } from '@ton/core';
import { BlockchainSnapshot, BlockchainTransaction, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { PassCollection, loadOwnerInfo, loadOwnershipProof, loadReportStaticData } from '../wrappers/PassCollection';
import { PassItem } from '../wrappers/PassItem';
import { parseOnchainContent, PASS_FIELDS, PASS_ITEM_METADATA, PASS_COLLECTION_METADATA } from '../wrappers/metadata';
import { passIndexOf } from '../wrappers/protocol';
import { fogFixture, FogFixture, minimumAccepted, NOW } from '../client/sandbox/fixture';

const E = PassCollection.errors;
const I = PassItem.errors;
const OP = PassCollection.opcodes;

describe('PassCollection and PassItem', () => {
    let f: FogFixture;
    let alice: SandboxContract<TreasuryContract>;
    let bob: SandboxContract<TreasuryContract>;
    let mallory: SandboxContract<TreasuryContract>;
    let pass: SandboxContract<PassItem>;

    let start: BlockchainSnapshot | undefined;

    // deployed once; each test starts from that state (the emulator's snapshot)
    beforeEach(async () => {
        if (start !== undefined) return f.blockchain.loadFrom(start);
        f = await fogFixture();
        alice = await f.blockchain.treasury('alice');
        bob = await f.blockchain.treasury('bob');
        mallory = await f.blockchain.treasury('mallory');
        pass = await f.passOf(alice.address);
        start = f.blockchain.snapshot();
    });

    const mintPass = (owner: Address, value = toNano('0.1'), via = f.admin) =>
        f.collection.send(
            via.getSender(),
            { value },
            {
                $$type: 'PassMint',
                queryId: 77n,
                owner,
                cores: 8n,
                memoryMb: 16384n,
                responseDestination: via.address,
            },
        );
    const revokePass = (owner: Address, value = toNano('0.1'), via = f.admin) =>
        f.collection.send(via.getSender(), { value }, { $$type: 'PassRevoke', queryId: 78n, owner });
    /** The body of the message the pass sent to `to` in a result. */
    const bodyTo = (txs: BlockchainTransaction[], to: Address) => {
        const tx = txs.find(
            (t) => t.inMessage?.info.src?.toString() === pass.address.toString() && t.inMessage?.info.dest?.toString() === to.toString(),
        )!;
        return tx.inMessage!.body.beginParse();
    };

    describe('pass_mint', () => {
        it('issues a live pass that records the declared capacity and the issue time', async () => {
            const r = await mintPass(alice.address);
            expect(r.transactions).toHaveTransaction({
                from: f.collection.address,
                to: pass.address,
                op: OP.PassIssue,
                deploy: true,
                success: true,
            });
            expect(r.transactions).toHaveTransaction({ from: f.collection.address, to: f.admin.address, op: OP.Excesses });
            const state = await pass.getPassState();
            expect(state.owner!.equals(alice.address)).toBe(true);
            expect(state).toMatchObject({ cores: 8n, memoryMb: 16384n, issuedAt: BigInt(NOW), revokedAt: 0n, live: true });
            const data = await pass.getGetNftData();
            expect(data.init).toBe(true);
            expect(data.index).toBe(passIndexOf(alice.address));
            expect(data.collection.equals(f.collection.address)).toBe(true);
            expect(data.owner!.equals(alice.address)).toBe(true);
        });

        it("serves TEP-64 content: the item fields merged with the collection's common ones", async () => {
            await mintPass(alice.address);
            const data = await pass.getGetNftData();
            const full = await f.collection.getGetNftContent(data.index, data.content!);
            expect(parseOnchainContent(full, PASS_FIELDS)).toEqual({
                ...PASS_ITEM_METADATA,
                cores: '8',
                memory_mb: '16384',
                issued_at: String(NOW),
                revoked_at: '0',
            });
            const collection = await f.collection.getGetCollectionData();
            expect(collection.nextItemIndex).toBe(-1n);
            expect(collection.owner.equals(f.admin.address)).toBe(true);
            expect(parseOnchainContent(collection.content, ['name', 'description', 'image'])).toEqual(PASS_COLLECTION_METADATA);
            expect((await f.collection.getGetNftAddressByIndex(data.index)).equals(pass.address)).toBe(true);
        });

        it('rejects anyone but the authority', async () => {
            const r = await mintPass(mallory.address, toNano('0.1'), mallory);
            expect(r.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Only the pass authority may mint'],
            });
            expect(r.transactions).not.toHaveTransaction({ to: (await f.passOf(mallory.address)).address });
        });

        it('keeps one live pass per owner: a second issue bounces and the authority gets its TON back', async () => {
            await mintPass(alice.address);
            const before = await pass.getPassState();
            f.blockchain.now = NOW + 100;
            const r = await mintPass(alice.address);
            expect(r.transactions).toHaveTransaction({
                from: f.collection.address,
                to: pass.address,
                success: false,
                exitCode: I['Pass is already live'],
            });
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: f.collection.address, inMessageBounced: true });
            const refunds = r.transactions.filter(
                (t) =>
                    t.inMessage?.info.src?.toString() === f.collection.address.toString() &&
                    t.inMessage?.info.dest?.toString() === f.admin.address.toString(),
            );
            expect(refunds.length).toBe(2); // the surplus at once, then what the bounce brought back
            expect((await pass.getPassState()).issuedAt).toBe(before.issuedAt);
        });

        it('re-issues a revoked pass, with the new capacity', async () => {
            await mintPass(alice.address);
            await revokePass(alice.address);
            f.blockchain.now = NOW + 500;
            const r = await f.collection.send(
                f.admin.getSender(),
                { value: toNano('0.1') },
                {
                    $$type: 'PassMint',
                    queryId: 1n,
                    owner: alice.address,
                    cores: 16n,
                    memoryMb: 32768n,
                    responseDestination: null,
                },
            );
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: true });
            expect(await pass.getPassState()).toMatchObject({
                cores: 16n,
                memoryMb: 32768n,
                issuedAt: BigInt(NOW + 500),
                revokedAt: 0n,
                live: true,
            });
        });

        it('rejects an owner outside the basechain', async () => {
            const r = await mintPass(Address.parseRaw('-1:' + '22'.repeat(32)));
            expect(r.transactions).toHaveTransaction({ to: f.collection.address, success: false, exitCode: E['Not a basechain address'] });
        });

        it('accepts exactly the minimum value, which covers the item, and refuses one nanoton less', async () => {
            const send = (value: bigint) => mintPass(alice.address, value);
            const min = await minimumAccepted(f.blockchain, f.collection.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Insufficient TON for pass mint'],
            });
            const r = await send(min);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect((await pass.getPassState()).live).toBe(true);
            // The pass keeps at least its storage reserve.
            expect((await f.blockchain.getContract(pass.address)).balance).toBeGreaterThanOrEqual(toNano('0.01'));
        });

        it('accepts pass_issue only from the collection', async () => {
            await mintPass(alice.address);
            await revokePass(alice.address);
            const r = await mallory.send({
                to: pass.address,
                value: toNano('0.1'),
                body: beginCell()
                    .storeUint(OP.PassIssue, 32)
                    .storeUint(0, 64)
                    .storeAddress(alice.address)
                    .storeUint(64, 16)
                    .storeUint(1, 32)
                    .endCell(),
            });
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Only the collection may issue'] });
            expect((await pass.getPassState()).live).toBe(false);
        });
    });

    describe('transfer (TEP-62)', () => {
        it('is always rejected: the pass is soulbound', async () => {
            await mintPass(alice.address);
            const r = await pass.send(
                alice.getSender(),
                { value: toNano('0.1') },
                {
                    $$type: 'NftTransfer',
                    queryId: 0n,
                    newOwner: bob.address,
                    responseDestination: alice.address,
                    customPayload: null,
                    forwardAmount: 0n,
                    forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
                },
            );
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Pass is soulbound'] });
            expect((await pass.getPassState()).owner!.equals(alice.address)).toBe(true);
        });
    });

    describe('get_static_data (TEP-62)', () => {
        it('reports the index and the collection to anyone', async () => {
            await mintPass(alice.address);
            const r = await pass.send(bob.getSender(), { value: toNano('0.05') }, { $$type: 'GetStaticData', queryId: 4n });
            const report = loadReportStaticData(bodyTo(r.transactions, bob.address));
            expect(report.queryId).toBe(4n);
            expect(report.index).toBe(passIndexOf(alice.address));
            expect(report.collection.equals(f.collection.address)).toBe(true);
        });
    });

    describe('prove_ownership (TEP-85)', () => {
        it("sends the owner's proof, with its payload and on request the content, to the destination", async () => {
            await mintPass(alice.address);
            const payload = beginCell().storeUint(0xfeed, 16).endCell();
            const r = await pass.send(
                alice.getSender(),
                { value: toNano('0.1') },
                { $$type: 'ProveOwnership', queryId: 5n, dest: bob.address, forwardPayload: payload, withContent: true },
            );
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: bob.address, op: OP.OwnershipProof });
            const proof = loadOwnershipProof(bodyTo(r.transactions, bob.address));
            expect(proof.itemId).toBe(passIndexOf(alice.address));
            expect(proof.owner.equals(alice.address)).toBe(true);
            expect(proof.data.equals(payload)).toBe(true);
            expect(proof.revokedAt).toBe(0n);
            expect(parseOnchainContent(proof.content!, PASS_FIELDS).cores).toBe('8');
        });

        it('rejects anyone but the owner', async () => {
            await mintPass(alice.address);
            const r = await pass.send(
                mallory.getSender(),
                { value: toNano('0.1') },
                { $$type: 'ProveOwnership', queryId: 5n, dest: mallory.address, forwardPayload: beginCell().endCell(), withContent: false },
            );
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Only the pass owner'] });
        });

        it('proves a revoked pass as revoked', async () => {
            await mintPass(alice.address);
            f.blockchain.now = NOW + 60;
            await revokePass(alice.address);
            const r = await pass.send(
                alice.getSender(),
                { value: toNano('0.1') },
                { $$type: 'ProveOwnership', queryId: 5n, dest: bob.address, forwardPayload: beginCell().endCell(), withContent: false },
            );
            const proof = loadOwnershipProof(bodyTo(r.transactions, bob.address));
            expect(proof.revokedAt).toBe(BigInt(NOW + 60));
            expect(proof.content).toBeNull();
        });

        it('fails without value, so the owner keeps the TON and nothing is sent', async () => {
            await mintPass(alice.address);
            const r = await pass.send(
                alice.getSender(),
                { value: 1n },
                { $$type: 'ProveOwnership', queryId: 5n, dest: bob.address, forwardPayload: beginCell().endCell(), withContent: false },
            );
            expect(r.transactions).not.toHaveTransaction({ from: pass.address, to: bob.address });
        });
    });

    describe('request_owner (TEP-85)', () => {
        it("tells anyone's destination who owns the pass and who asked", async () => {
            await mintPass(alice.address);
            const payload = beginCell().storeUint(42, 64).endCell();
            const r = await pass.send(
                bob.getSender(),
                { value: toNano('0.1') },
                { $$type: 'RequestOwner', queryId: 6n, dest: bob.address, forwardPayload: payload, withContent: false },
            );
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: bob.address, op: OP.OwnerInfo });
            const info = loadOwnerInfo(bodyTo(r.transactions, bob.address));
            expect(info.itemId).toBe(passIndexOf(alice.address));
            expect(info.initiator.equals(bob.address)).toBe(true);
            expect(info.owner!.equals(alice.address)).toBe(true);
            expect(info.data.equals(payload)).toBe(true);
            expect(info.revokedAt).toBe(0n);
        });

        it('reports no owner after a destroy', async () => {
            await mintPass(alice.address);
            await pass.send(alice.getSender(), { value: toNano('0.05') }, { $$type: 'Destroy', queryId: 0n });
            const r = await pass.send(
                bob.getSender(),
                { value: toNano('0.1') },
                { $$type: 'RequestOwner', queryId: 6n, dest: bob.address, forwardPayload: beginCell().endCell(), withContent: false },
            );
            expect(loadOwnerInfo(bodyTo(r.transactions, bob.address)).owner).toBeNull();
        });

        it('bounces back to the asker when the pass was never issued', async () => {
            const r = await pass.send(
                bob.getSender(),
                { value: toNano('0.1') },
                { $$type: 'RequestOwner', queryId: 6n, dest: bob.address, forwardPayload: beginCell().endCell(), withContent: false },
            );
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: bob.address, inMessageBounced: true });
        });
    });

    describe('destroy (TEP-85)', () => {
        it('lets the owner leave: no owner, no authority, the balance returns to the owner', async () => {
            await mintPass(alice.address);
            const r = await pass.send(alice.getSender(), { value: toNano('0.05') }, { $$type: 'Destroy', queryId: 8n });
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: alice.address, op: OP.Excesses });
            expect((await f.blockchain.getContract(pass.address)).balance).toBe(0n);
            expect((await pass.getPassState()).live).toBe(false);
            expect((await pass.getGetAuthorityAddress()).remainingBits).toBe(2);
            expect((await pass.getGetNftData()).init).toBe(false);
        });

        it('rejects anyone but the owner', async () => {
            await mintPass(alice.address);
            const r = await pass.send(mallory.getSender(), { value: toNano('0.05') }, { $$type: 'Destroy', queryId: 8n });
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Only the pass owner'] });
        });

        it('allows a fresh issue afterwards', async () => {
            await mintPass(alice.address);
            await pass.send(alice.getSender(), { value: toNano('0.05') }, { $$type: 'Destroy', queryId: 8n });
            const r = await mintPass(alice.address);
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: true });
            expect((await pass.getPassState()).live).toBe(true);
        });
    });

    describe('pass_revoke and revoke (TEP-85)', () => {
        it('revokes once through the collection, which names itself the authority', async () => {
            await mintPass(alice.address);
            expect((await pass.getGetAuthorityAddress()).loadAddress().equals(f.collection.address)).toBe(true);
            f.blockchain.now = NOW + 30;
            const r = await revokePass(alice.address);
            expect(r.transactions).toHaveTransaction({ from: f.collection.address, to: pass.address, op: OP.Revoke, success: true });
            expect(await pass.getGetRevokedTime()).toBe(BigInt(NOW + 30));
            expect((await pass.getPassState()).live).toBe(false);
        });

        it('rejects a revoke from anyone but the authority', async () => {
            await mintPass(alice.address);
            const r = await revokePass(alice.address, toNano('0.1'), mallory);
            expect(r.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Only the pass authority may revoke'],
            });
            const direct = await pass.send(mallory.getSender(), { value: toNano('0.05') }, { $$type: 'Revoke', queryId: 0n });
            expect(direct.transactions).toHaveTransaction({
                to: pass.address,
                success: false,
                exitCode: I['Only the authority may revoke'],
            });
            expect((await pass.getPassState()).live).toBe(true);
        });

        it('refuses a second revoke; the bounce refunds the authority', async () => {
            await mintPass(alice.address);
            await revokePass(alice.address);
            f.blockchain.now = NOW + 99;
            const r = await revokePass(alice.address);
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Pass is already revoked'] });
            expect(r.transactions).toHaveTransaction({ from: pass.address, to: f.collection.address, inMessageBounced: true });
            expect(r.transactions).toHaveTransaction({ from: f.collection.address, to: f.admin.address, op: OP.Excesses });
            expect(await pass.getGetRevokedTime()).toBe(BigInt(NOW));
        });

        it('refuses to revoke a destroyed pass', async () => {
            await mintPass(alice.address);
            await pass.send(alice.getSender(), { value: toNano('0.05') }, { $$type: 'Destroy', queryId: 8n });
            const r = await revokePass(alice.address);
            expect(r.transactions).toHaveTransaction({ to: pass.address, success: false, exitCode: I['Pass is not issued'] });
        });

        it('accepts exactly the minimum value and refuses one nanoton less', async () => {
            await mintPass(alice.address);
            const send = (value: bigint) => revokePass(alice.address, value);
            const min = await minimumAccepted(f.blockchain, f.collection.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Insufficient TON for pass revoke'],
            });
            const r = await send(min);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect((await pass.getPassState()).live).toBe(false);
        });
    });

    describe('set_pass_authority', () => {
        it('hands minting and revoking to a new authority, and can lock it', async () => {
            await f.collection.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetPassAuthority', queryId: 0n, authority: bob.address, lock: true },
            );
            const state = await f.collection.getCollectionState();
            expect(state.authority.equals(bob.address)).toBe(true);
            expect(state.authorityLocked).toBe(true);
            const byAdmin = await mintPass(alice.address);
            expect(byAdmin.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Only the pass authority may mint'],
            });
            const byBob = await mintPass(alice.address, toNano('0.1'), bob);
            expect(byBob.transactions).toHaveTransaction({ to: pass.address, success: true });
            const relock = await f.collection.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetPassAuthority', queryId: 0n, authority: f.admin.address, lock: false },
            );
            expect(relock.transactions).toHaveTransaction({
                to: f.collection.address,
                success: false,
                exitCode: E['Pass authority is locked'],
            });
        });

        it('rejects anyone but the admin', async () => {
            const r = await f.collection.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetPassAuthority', queryId: 0n, authority: mallory.address, lock: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.collection.address, success: false, exitCode: E['Only the admin'] });
        });
    });

    describe('update_content and admin handover', () => {
        it('lets only the admin replace the collection content', async () => {
            const content = beginCell().storeUint(1, 8).storeStringTail('https://example.org/pass.json').endCell();
            const bad = await f.collection.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'UpdateContent', queryId: 0n, content },
            );
            expect(bad.transactions).toHaveTransaction({ to: f.collection.address, success: false, exitCode: E['Only the admin'] });
            await f.collection.send(f.admin.getSender(), { value: toNano('0.05') }, { $$type: 'UpdateContent', queryId: 0n, content });
            expect((await f.collection.getGetCollectionData()).content.equals(content)).toBe(true);
        });

        it('moves the admin role in two steps', async () => {
            await f.collection.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'ProposeAdmin', queryId: 0n, newAdmin: bob.address },
            );
            await f.collection.send(bob.getSender(), { value: toNano('0.05') }, { $$type: 'ClaimAdmin', queryId: 0n });
            expect((await f.collection.getCollectionState()).admin.equals(bob.address)).toBe(true);
            expect((await f.collection.getGetCollectionData()).owner.equals(bob.address)).toBe(true);
        });
    });
});
