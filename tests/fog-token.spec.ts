import '@ton/test-utils';
import { Address, beginCell, Cell, Dictionary, toNano } from '@ton/core';
import { JettonMaster, JettonWallet } from '@ton/ton';
import { BlockchainSnapshot, SandboxContract, TreasuryContract } from '@ton/sandbox';
import {
    FogToken,
    storeJettonBurnNotification,
    storeJettonInternalTransfer,
    loadBurnNotice,
    loadTakeWalletAddress,
    loadJettonTransferNotification,
} from '../wrappers/FogToken';
import { FogWallet } from '../wrappers/FogWallet';
import { parseOnchainContent, JETTON_FIELDS, FOG_METADATA } from '../wrappers/metadata';
import { deliverBounce, emptyPayload, fogFixture, FogFixture, inlinePayload, minimumAccepted, refPayload } from '../client/sandbox/fixture';

const E = FogToken.errors;
const W = FogWallet.errors;
const OP = FogToken.opcodes;

describe('FogToken', () => {
    let f: FogFixture;
    let alice: SandboxContract<TreasuryContract>;
    let bob: SandboxContract<TreasuryContract>;
    let mallory: SandboxContract<TreasuryContract>;

    let start: BlockchainSnapshot | undefined;

    // deployed once; each test starts from that state (the emulator's snapshot)
    beforeEach(async () => {
        if (start !== undefined) return f.blockchain.loadFrom(start);
        f = await fogFixture();
        alice = await f.blockchain.treasury('alice');
        bob = await f.blockchain.treasury('bob');
        mallory = await f.blockchain.treasury('mallory');
        start = f.blockchain.snapshot();
    });

    const mintMsg = (receiver: Address, amount: bigint, forwardTonAmount = 0n, response: Address | null = null) => ({
        $$type: 'Mint' as const,
        queryId: 7n,
        receiver,
        amount,
        responseDestination: response,
        forwardTonAmount,
        forwardPayload: emptyPayload(),
    });

    describe('metadata and get-methods', () => {
        it('serves TEP-64 on-chain metadata with 9 decimals', async () => {
            const data = await f.token.getGetJettonData();
            const meta = parseOnchainContent(data.content, JETTON_FIELDS);
            expect(meta).toEqual({ ...FOG_METADATA, decimals: '9' });
            expect(data.totalSupply).toBe(0n);
            expect(data.mintable).toBe(true);
            expect(data.adminAddress.equals(f.admin.address)).toBe(true);
        });

        it('is read by @ton/ton JettonMaster and JettonWallet, clients written elsewhere', async () => {
            await f.mint(alice.address, toNano('12'));
            const master = f.blockchain.openContract(JettonMaster.create(f.token.address));
            const walletAddress = await master.getWalletAddress(alice.address);
            expect(walletAddress.equals((await f.walletOf(alice.address)).address)).toBe(true);
            const jettonData = await master.getJettonData();
            expect(jettonData.totalSupply).toBe(toNano('12'));
            expect(jettonData.mintable).toBe(true);
            expect(jettonData.adminAddress.equals(f.admin.address)).toBe(true);
            const wallet = f.blockchain.openContract(JettonWallet.create(walletAddress));
            expect(await wallet.getBalance()).toBe(toNano('12'));
        });
    });

    describe('mint', () => {
        it('mints to a new wallet, notifies the receiver and returns the excess', async () => {
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.2') },
                mintMsg(alice.address, toNano('5'), toNano('0.01'), f.admin.address),
            );
            const wallet = await f.walletOf(alice.address);
            expect(r.transactions).toHaveTransaction({
                from: f.token.address,
                to: wallet.address,
                op: OP.JettonInternalTransfer,
                success: true,
                deploy: true,
            });
            expect(r.transactions).toHaveTransaction({
                from: wallet.address,
                to: alice.address,
                op: OP.JettonTransferNotification,
                value: toNano('0.01'),
            });
            expect(r.transactions).toHaveTransaction({ from: wallet.address, to: f.admin.address, op: OP.Excesses });
            expect((await wallet.getGetWalletData()).balance).toBe(toNano('5'));
            expect((await f.token.getGetJettonData()).totalSupply).toBe(toNano('5'));
        });

        it('rejects anyone but the mint authority', async () => {
            const r = await f.token.send(mallory.getSender(), { value: toNano('0.2') }, mintMsg(mallory.address, toNano('5')));
            expect(r.transactions).toHaveTransaction({
                from: mallory.address,
                to: f.token.address,
                success: false,
                exitCode: E['Only the mint authority may mint'],
            });
            expect((await f.token.getGetJettonData()).totalSupply).toBe(0n);
        });

        it('rejects every mint once minting is renounced', async () => {
            await f.token.send(f.admin.getSender(), { value: toNano('0.05') }, { $$type: 'RenounceMinting', queryId: 0n });
            const r = await f.token.send(f.admin.getSender(), { value: toNano('0.2') }, mintMsg(alice.address, 1n));
            expect(r.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Only the mint authority may mint'],
            });
        });

        it('rejects a malformed forward payload', async () => {
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.2') },
                { ...mintMsg(alice.address, 1n), forwardPayload: beginCell().endCell().beginParse() },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Malformed forward payload'] });
        });

        it('accepts exactly the minimum value, which carries the whole chain, and refuses one nanoton less', async () => {
            const send = (value: bigint) =>
                f.token.send(f.admin.getSender(), { value }, mintMsg(alice.address, toNano('1'), toNano('0.01'), f.admin.address));
            const min = await minimumAccepted(f.blockchain, f.token.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Insufficient TON for mint'] });
            const r = await send(min);
            const wallet = await f.walletOf(alice.address);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect(r.transactions).toHaveTransaction({ from: wallet.address, to: alice.address, op: OP.JettonTransferNotification });
            expect((await wallet.getGetWalletData()).balance).toBe(toNano('1'));
        });

        it('restores the supply and refunds the authority when the internal transfer bounces', async () => {
            await f.mint(alice.address, toNano('3'));
            const wallet = await f.walletOf(alice.address);
            const original = beginCell()
                .store(
                    storeJettonInternalTransfer({
                        $$type: 'JettonInternalTransfer',
                        queryId: 9n,
                        amount: toNano('3'),
                        sender: f.token.address,
                        responseDestination: null,
                        forwardTonAmount: 0n,
                        forwardPayload: emptyPayload(),
                    }),
                )
                .endCell();
            const r = await deliverBounce(f.blockchain, wallet.address, f.token.address, original, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ from: wallet.address, to: f.token.address, success: true });
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: f.admin.address, op: OP.Excesses });
            expect((await f.token.getGetJettonData()).totalSupply).toBe(0n);
        });
    });

    describe('genesis_mint', () => {
        const recipients = (entries: [Address, bigint][]) => {
            const d = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
            for (const [a, v] of entries) d.set(a, v);
            return d;
        };

        it('allocates to every recipient in one message and records the supply', async () => {
            const list = recipients([
                [alice.address, toNano('100')],
                [bob.address, toNano('50')],
            ]);
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('1') },
                { $$type: 'GenesisMint', queryId: 1n, recipients: list, close: false },
            );
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect((await (await f.walletOf(alice.address)).getGetWalletData()).balance).toBe(toNano('100'));
            expect((await (await f.walletOf(bob.address)).getGetWalletData()).balance).toBe(toNano('50'));
            expect((await f.token.getGetJettonData()).totalSupply).toBe(toNano('150'));
            expect((await f.token.getTokenState()).genesisOpen).toBe(true);
        });

        it('closes for good when asked to', async () => {
            await f.token.send(
                f.admin.getSender(),
                { value: toNano('1') },
                { $$type: 'GenesisMint', queryId: 1n, recipients: recipients([[alice.address, 1n]]), close: true },
            );
            expect((await f.token.getTokenState()).genesisOpen).toBe(false);
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('1') },
                { $$type: 'GenesisMint', queryId: 2n, recipients: recipients([[bob.address, 1n]]), close: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Genesis is closed'] });
        });

        it('rejects anyone but the admin', async () => {
            const r = await f.token.send(
                mallory.getSender(),
                { value: toNano('1') },
                { $$type: 'GenesisMint', queryId: 1n, recipients: recipients([[mallory.address, 1n]]), close: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Only the admin'] });
        });

        it('bounds the recipients of one message', async () => {
            const many: [Address, bigint][] = [];
            for (let i = 0; i < 33; i++) many.push([(await f.blockchain.treasury(`g${i}`)).address, 1n]);
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('5') },
                { $$type: 'GenesisMint', queryId: 1n, recipients: recipients(many), close: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Too many genesis recipients'] });
        });

        it('accepts exactly the minimum value and refuses one nanoton less', async () => {
            const list = recipients([
                [alice.address, 5n],
                [bob.address, 6n],
            ]);
            const send = (value: bigint) =>
                f.token.send(f.admin.getSender(), { value }, { $$type: 'GenesisMint', queryId: 1n, recipients: list, close: false });
            const min = await minimumAccepted(f.blockchain, f.token.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Insufficient TON for genesis'],
            });
            const r = await send(min);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect((await f.token.getGetJettonData()).totalSupply).toBe(11n);
        });
    });

    describe('set_mint_authority and renounce_minting', () => {
        it('lets the admin hand minting to another address, then lock it', async () => {
            await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetMintAuthority', queryId: 0n, authority: bob.address, lock: true },
            );
            const state = await f.token.getTokenState();
            expect(state.mintAuthority!.equals(bob.address)).toBe(true);
            expect(state.authorityLocked).toBe(true);
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetMintAuthority', queryId: 0n, authority: f.admin.address, lock: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Mint authority is locked'] });
            const minted = await f.token.send(bob.getSender(), { value: toNano('0.2') }, mintMsg(bob.address, 4n));
            expect(minted.transactions).toHaveTransaction({ from: bob.address, to: f.token.address, success: true });
        });

        it('rejects anyone but the admin', async () => {
            const r = await f.token.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetMintAuthority', queryId: 0n, authority: mallory.address, lock: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Only the admin'] });
        });

        it('lets the mint authority renounce, after which nobody can restore minting', async () => {
            await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetMintAuthority', queryId: 0n, authority: bob.address, lock: false },
            );
            await f.token.send(bob.getSender(), { value: toNano('0.05') }, { $$type: 'RenounceMinting', queryId: 0n });
            const state = await f.token.getTokenState();
            expect(state.mintAuthority).toBeNull();
            expect((await f.token.getGetJettonData()).mintable).toBe(false);
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'SetMintAuthority', queryId: 0n, authority: f.admin.address, lock: false },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Mint authority is locked'] });
        });

        it('rejects a renounce from a stranger', async () => {
            const r = await f.token.send(mallory.getSender(), { value: toNano('0.05') }, { $$type: 'RenounceMinting', queryId: 0n });
            expect(r.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Only the admin or the mint authority may renounce'],
            });
        });
    });

    describe('propose_admin and claim_admin', () => {
        it('moves the admin role only when the successor claims it', async () => {
            await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'ProposeAdmin', queryId: 0n, newAdmin: bob.address },
            );
            expect((await f.token.getTokenState()).admin.equals(f.admin.address)).toBe(true);
            const wrong = await f.token.send(mallory.getSender(), { value: toNano('0.05') }, { $$type: 'ClaimAdmin', queryId: 0n });
            expect(wrong.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Only the proposed admin may claim'],
            });
            await f.token.send(bob.getSender(), { value: toNano('0.05') }, { $$type: 'ClaimAdmin', queryId: 0n });
            const state = await f.token.getTokenState();
            expect(state.admin.equals(bob.address)).toBe(true);
            expect(state.pendingAdmin).toBeNull();
        });

        it('rejects a proposal from anyone but the admin', async () => {
            const r = await f.token.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'ProposeAdmin', queryId: 0n, newAdmin: mallory.address },
            );
            expect(r.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Only the admin'] });
        });
    });

    describe('update_content and withdraw_ton', () => {
        it('lets only the admin replace the metadata', async () => {
            const content = beginCell().storeUint(1, 8).storeStringTail('https://example.org/fog.json').endCell();
            const bad = await f.token.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'UpdateContent', queryId: 0n, content },
            );
            expect(bad.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Only the admin'] });
            await f.token.send(f.admin.getSender(), { value: toNano('0.05') }, { $$type: 'UpdateContent', queryId: 0n, content });
            expect((await f.token.getGetJettonData()).content.equals(content)).toBe(true);
        });

        it('lets only the admin recover TON above the storage reserve', async () => {
            await f.token.send(alice.getSender(), { value: toNano('3') }, null);
            const bad = await f.token.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                { $$type: 'WithdrawTon', queryId: 0n, to: mallory.address },
            );
            expect(bad.transactions).toHaveTransaction({ to: f.token.address, success: false, exitCode: E['Only the admin'] });
            const r = await f.token.send(
                f.admin.getSender(),
                { value: toNano('0.05') },
                { $$type: 'WithdrawTon', queryId: 0n, to: f.admin.address },
            );
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: f.admin.address, op: OP.Excesses });
            expect((await f.blockchain.getContract(f.token.address)).balance).toBe(toNano('0.01'));
        });
    });

    describe('burn_notification', () => {
        it('rejects a notification from anything but a FOG wallet', async () => {
            await f.mint(alice.address, toNano('2'));
            const r = await f.token.send(
                mallory.getSender(),
                { value: toNano('0.05') },
                {
                    $$type: 'JettonBurnNotification',
                    queryId: 0n,
                    amount: toNano('2'),
                    sender: alice.address,
                    responseDestination: mallory.address,
                    customPayload: null,
                },
            );
            expect(r.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Burn notification from a foreign wallet'],
            });
            expect((await f.token.getGetJettonData()).totalSupply).toBe(toNano('2'));
        });
    });

    describe('provide_wallet_address (TEP-89)', () => {
        it('answers with the wallet address and, on request, the owner', async () => {
            const r = await f.token.send(
                alice.getSender(),
                { value: toNano('0.05') },
                { $$type: 'ProvideWalletAddress', queryId: 3n, ownerAddress: bob.address, includeAddress: true },
            );
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: alice.address, op: OP.TakeWalletAddress });
            const reply = r.transactions.find((t) => t.inMessage?.info.src?.toString() === f.token.address.toString())!;
            const body = loadTakeWalletAddress(reply.inMessage!.body.beginParse());
            expect(body.queryId).toBe(3n);
            expect(body.walletAddress!.equals((await f.walletOf(bob.address)).address)).toBe(true);
            expect(body.ownerAddress!.beginParse().loadAddress().equals(bob.address)).toBe(true);
        });

        it('answers addr_none for an owner outside the basechain', async () => {
            const master = Address.parseRaw('-1:' + '33'.repeat(32));
            const r = await f.token.send(
                alice.getSender(),
                { value: toNano('0.05') },
                { $$type: 'ProvideWalletAddress', queryId: 3n, ownerAddress: master, includeAddress: false },
            );
            const reply = r.transactions.find((t) => t.inMessage?.info.src?.toString() === f.token.address.toString())!;
            const body = loadTakeWalletAddress(reply.inMessage!.body.beginParse());
            expect(body.walletAddress).toBeNull();
            expect(body.ownerAddress).toBeNull();
        });

        it('refuses a request that cannot pay for its reply', async () => {
            const send = (value: bigint) =>
                f.token.send(
                    alice.getSender(),
                    { value },
                    { $$type: 'ProvideWalletAddress', queryId: 3n, ownerAddress: bob.address, includeAddress: true },
                );
            const min = await minimumAccepted(f.blockchain, f.token.address, send, 1n, toNano('0.05'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: f.token.address,
                success: false,
                exitCode: E['Insufficient TON for discovery'],
            });
            const r = await send(min);
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: alice.address, op: OP.TakeWalletAddress, success: true });
        });
    });
});

describe('FogWallet', () => {
    let f: FogFixture;
    let alice: SandboxContract<TreasuryContract>;
    let bob: SandboxContract<TreasuryContract>;
    let mallory: SandboxContract<TreasuryContract>;
    let aliceWallet: SandboxContract<FogWallet>;

    let start: BlockchainSnapshot | undefined;

    // deployed and minted once; each test starts from that state (the emulator's snapshot)
    beforeEach(async () => {
        if (start !== undefined) return f.blockchain.loadFrom(start);
        f = await fogFixture();
        alice = await f.blockchain.treasury('alice');
        bob = await f.blockchain.treasury('bob');
        mallory = await f.blockchain.treasury('mallory');
        await f.mint(alice.address, toNano('10'));
        aliceWallet = await f.walletOf(alice.address);
        start = f.blockchain.snapshot();
    });

    const transferMsg = (
        amount: bigint,
        to: Address,
        forwardTonAmount = 0n,
        forwardPayload = emptyPayload(),
        response: Address | null = null,
    ) => ({
        $$type: 'JettonTransfer' as const,
        queryId: 11n,
        amount,
        destination: to,
        responseDestination: response,
        customPayload: null,
        forwardTonAmount,
        forwardPayload,
    });

    describe('transfer', () => {
        it('moves FOG to a new wallet and returns the excess', async () => {
            const r = await aliceWallet.send(
                alice.getSender(),
                { value: toNano('0.1') },
                transferMsg(toNano('4'), bob.address, 0n, emptyPayload(), alice.address),
            );
            const bobWallet = await f.walletOf(bob.address);
            expect(r.transactions).toHaveTransaction({
                from: aliceWallet.address,
                to: bobWallet.address,
                op: OP.JettonInternalTransfer,
                success: true,
                deploy: true,
            });
            expect(r.transactions).toHaveTransaction({ from: bobWallet.address, to: alice.address, op: OP.Excesses });
            expect(r.transactions).not.toHaveTransaction({ to: bob.address });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('6'));
            expect((await bobWallet.getGetWalletData()).balance).toBe(toNano('4'));
        });

        for (const [name, payload] of [
            ['inline', inlinePayload('hello fog')],
            ['in a reference', refPayload('hello fog')],
        ] as const) {
            it(`notifies the receiver with a forward payload held ${name}`, async () => {
                const r = await aliceWallet.send(
                    alice.getSender(),
                    { value: toNano('0.2') },
                    transferMsg(toNano('1'), bob.address, toNano('0.02'), payload),
                );
                const bobWallet = await f.walletOf(bob.address);
                expect(r.transactions).toHaveTransaction({
                    from: bobWallet.address,
                    to: bob.address,
                    op: OP.JettonTransferNotification,
                    value: toNano('0.02'),
                });
                const tx = r.transactions.find((t) => t.inMessage?.info.dest?.toString() === bob.address.toString())!;
                const note = loadJettonTransferNotification(tx.inMessage!.body.beginParse());
                expect(note.amount).toBe(toNano('1'));
                expect(note.sender.equals(alice.address)).toBe(true);
                expect(note.forwardPayload.asCell().equals(payload.asCell())).toBe(true);
            });
        }

        it('rejects anyone but the owner', async () => {
            const r = await aliceWallet.send(mallory.getSender(), { value: toNano('0.1') }, transferMsg(toNano('1'), mallory.address));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Only the wallet owner'] });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('10'));
        });

        it('rejects more than the balance', async () => {
            const r = await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, transferMsg(toNano('10') + 1n, bob.address));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Insufficient FOG balance'] });
        });

        it('rejects a destination outside the basechain', async () => {
            const r = await aliceWallet.send(
                alice.getSender(),
                { value: toNano('0.1') },
                transferMsg(1n, Address.parseRaw('-1:' + '11'.repeat(32))),
            );
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Not a basechain address'] });
        });

        it('rejects a malformed forward payload', async () => {
            const bad = beginCell().storeBit(1).endCell().beginParse();
            const r = await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, transferMsg(1n, bob.address, 0n, bad));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Malformed forward payload'] });
        });

        it('accepts exactly the minimum value, which carries the whole chain, and refuses one nanoton less', async () => {
            const send = (value: bigint) =>
                aliceWallet.send(
                    alice.getSender(),
                    { value },
                    transferMsg(toNano('1'), bob.address, toNano('0.01'), refPayload('x'), alice.address),
                );
            const min = await minimumAccepted(f.blockchain, aliceWallet.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: aliceWallet.address,
                success: false,
                exitCode: W['Insufficient TON for transfer'],
            });
            const r = await send(min);
            const bobWallet = await f.walletOf(bob.address);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect(r.transactions).toHaveTransaction({ from: bobWallet.address, to: bob.address, op: OP.JettonTransferNotification });
            expect((await bobWallet.getGetWalletData()).balance).toBe(toNano('1'));
        });

        it('gets the FOG and the TON back when the internal transfer bounces', async () => {
            const bobWallet = await f.walletOf(bob.address);
            const original = beginCell()
                .store(
                    storeJettonInternalTransfer({
                        $$type: 'JettonInternalTransfer',
                        queryId: 5n,
                        amount: toNano('4'),
                        sender: alice.address,
                        responseDestination: null,
                        forwardTonAmount: 0n,
                        forwardPayload: emptyPayload(),
                    }),
                )
                .endCell();
            // Alice's wallet debits 4 FOG when it sends; the bounce stands for Bob's wallet refusing it.
            await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, transferMsg(toNano('4'), bob.address));
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('6'));
            const r = await deliverBounce(f.blockchain, bobWallet.address, aliceWallet.address, original, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: true });
            expect(r.transactions).toHaveTransaction({ from: aliceWallet.address, to: alice.address, op: OP.Excesses });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('10'));
        });
    });

    describe('internal_transfer', () => {
        it('rejects a transfer from anything but the master or a FOG wallet', async () => {
            const r = await mallory.send({
                to: aliceWallet.address,
                value: toNano('0.1'),
                body: beginCell()
                    .store(
                        storeJettonInternalTransfer({
                            $$type: 'JettonInternalTransfer',
                            queryId: 0n,
                            amount: toNano('1000'),
                            sender: mallory.address,
                            responseDestination: null,
                            forwardTonAmount: 0n,
                            forwardPayload: emptyPayload(),
                        }),
                    )
                    .endCell(),
            });
            expect(r.transactions).toHaveTransaction({
                to: aliceWallet.address,
                success: false,
                exitCode: W['Transfer from a foreign wallet'],
            });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('10'));
        });
    });

    describe('burn', () => {
        const burnMsg = (amount: bigint, response: Address | null, customPayload: Cell | null = null) => ({
            $$type: 'JettonBurn' as const,
            queryId: 21n,
            amount,
            responseDestination: response,
            customPayload,
        });

        it('lowers the balance and the supply and returns the excess', async () => {
            const r = await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, burnMsg(toNano('3'), alice.address));
            expect(r.transactions).toHaveTransaction({
                from: aliceWallet.address,
                to: f.token.address,
                op: OP.JettonBurnNotification,
                success: true,
            });
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: alice.address, op: OP.Excesses });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('7'));
            expect((await f.token.getGetJettonData()).totalSupply).toBe(toNano('7'));
        });

        it('confirms a burn with a custom payload to the response destination', async () => {
            const tag = beginCell().storeUint(0xabcdef, 24).endCell();
            const r = await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, burnMsg(toNano('2'), bob.address, tag));
            expect(r.transactions).toHaveTransaction({ from: f.token.address, to: bob.address, op: OP.BurnNotice });
            const tx = r.transactions.find((t) => t.inMessage?.info.dest?.toString() === bob.address.toString())!;
            const notice = loadBurnNotice(tx.inMessage!.body.beginParse());
            expect(notice.amount).toBe(toNano('2'));
            expect(notice.owner.equals(alice.address)).toBe(true);
            expect(notice.customPayload.equals(tag)).toBe(true);
        });

        it('rejects anyone but the owner', async () => {
            const r = await aliceWallet.send(mallory.getSender(), { value: toNano('0.1') }, burnMsg(toNano('1'), mallory.address));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Only the wallet owner'] });
        });

        it('rejects more than the balance', async () => {
            const r = await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, burnMsg(toNano('11'), alice.address));
            expect(r.transactions).toHaveTransaction({ to: aliceWallet.address, success: false, exitCode: W['Insufficient FOG balance'] });
        });

        it('accepts exactly the minimum value and refuses one nanoton less', async () => {
            const send = (value: bigint) => aliceWallet.send(alice.getSender(), { value }, burnMsg(toNano('1'), alice.address));
            const min = await minimumAccepted(f.blockchain, aliceWallet.address, send, 1n, toNano('1'));
            const low = await send(min - 1n);
            expect(low.transactions).toHaveTransaction({
                to: aliceWallet.address,
                success: false,
                exitCode: W['Insufficient TON for burn'],
            });
            const r = await send(min);
            expect(r.transactions).not.toHaveTransaction({ success: false });
            expect((await f.token.getGetJettonData()).totalSupply).toBe(toNano('9'));
        });

        it('gets the FOG and the TON back when the burn notification bounces', async () => {
            await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, burnMsg(toNano('3'), null));
            const original = beginCell()
                .store(
                    storeJettonBurnNotification({
                        $$type: 'JettonBurnNotification',
                        queryId: 21n,
                        amount: toNano('3'),
                        sender: alice.address,
                        responseDestination: null,
                        customPayload: null,
                    }),
                )
                .endCell();
            const r = await deliverBounce(f.blockchain, f.token.address, aliceWallet.address, original, toNano('0.05'));
            expect(r.transactions).toHaveTransaction({ from: aliceWallet.address, to: alice.address, op: OP.Excesses });
            expect((await aliceWallet.getGetWalletData()).balance).toBe(toNano('10'));
        });
    });

    it('never lets supply differ from the sum of balances across mints, transfers and burns', async () => {
        await f.mint(bob.address, toNano('5'));
        await aliceWallet.send(alice.getSender(), { value: toNano('0.1') }, transferMsg(toNano('3'), bob.address));
        const bobWallet = await f.walletOf(bob.address);
        await bobWallet.send(
            bob.getSender(),
            { value: toNano('0.1') },
            { $$type: 'JettonBurn', queryId: 0n, amount: toNano('2'), responseDestination: null, customPayload: null },
        );
        const balances = (await aliceWallet.getGetWalletData()).balance + (await bobWallet.getGetWalletData()).balance;
        expect(balances).toBe(toNano('13'));
        expect((await f.token.getGetJettonData()).totalSupply).toBe(balances);
    });
});
