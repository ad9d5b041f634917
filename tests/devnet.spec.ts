/**
 * The devnet speaks toncenter v2 well enough for @ton/ton's unmodified TonClient: these tests use
 * nothing but TonClient, real W5 wallets and the devnet's HTTP routes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address, beginCell, Cell, external, SendMode, storeMessage, toNano } from '@ton/core';
import { Blockchain } from '@ton/sandbox';
import { JettonMaster, TonClient } from '@ton/ton';
import { startDevnet, Devnet, FOG } from './helpers/devnet';
import { FORWARD, forwardFeeOf, gasFee } from '../client/fees';
import { checkSameBuild, devnetParams } from '../devnet/protocol';
import { DevnetChain, EmulatorFailure, MAX_MESSAGE_DEPTH } from '../devnet/chain';
import { startDevnetServer } from '../devnet/server';
import { connect, describeError } from '../client/chain';
import { SendError, WalletSender } from '../client/sender';
import { newIdentity } from '../client/wallet';

/** A chain of cells `depth` levels deep (the root and `depth` cells below it). */
function deepCell(depth: number): Cell {
    let c = beginCell().storeUint(0, 8).endCell();
    for (let i = 0; i < depth; i++)
        c = beginCell()
            .storeUint(i & 0xff, 8)
            .storeRef(c)
            .endCell();
    return c;
}

/** An external message to `to` whose root cell is `depth` levels deep (its body inline). */
function deepMessage(to: Address, depth: number): Cell {
    const cell = beginCell()
        .store(storeMessage(external({ to, body: deepCell(depth) })))
        .endCell();
    expect(cell.depth()).toBe(depth);
    return cell;
}

type Rpc = { status: number; body: { ok: boolean; error: string; result?: unknown } };
const rpcAt =
    (endpoint: string) =>
    (body: unknown): Promise<Rpc> =>
        fetch(endpoint, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as Rpc['body'],
        }));

describe('devnet', () => {
    let d: Devnet;
    beforeAll(async () => {
        d = await startDevnet();
    });
    afterAll(async () => {
        await d.close();
    });

    it('funds a new wallet from the faucet and moves TON between real W5 wallets', async () => {
        const alice = await d.funded(toNano('5'));
        expect(await d.client.getBalance(alice.address)).toBe(toNano('5'));
        const bob = await newIdentity('devnet');
        const sent = await alice.send([{ to: bob.wallet.address, value: toNano('1.5'), bounce: false }]);
        expect(sent.seqno).toBe(0);
        expect(await d.client.getBalance(bob.wallet.address)).toBe(toNano('1.5'));
        // the second transfer uses the next seqno on the now deployed wallet
        const again = await alice.send([{ to: bob.wallet.address, value: toNano('0.5'), bounce: false }]);
        expect(again.seqno).toBe(1);
        expect(await d.client.isContractDeployed(alice.address)).toBe(true);
        // less the storage fee an undeployed account pays for the seconds between the two (a
        // nanoton or so once a loaded machine lets a few seconds pass)
        const storage = (await d.client.getTransactions(bob.wallet.address, { limit: 10 })).reduce((sum, tx) => {
            const desc = tx.description;
            return sum + (desc.type === 'generic' && desc.storagePhase ? desc.storagePhase.storageFeesCollected : 0n);
        }, 0n);
        expect(storage).toBeLessThan(1000n);
        expect(await d.client.getBalance(bob.wallet.address)).toBe(toNano('2') - storage);
    });

    it('charges mainnet’s current prices, not @ton/sandbox 0.41’s (6× higher)', async () => {
        const alice = await d.funded(toNano('5'));
        const to = (await newIdentity('devnet')).wallet.address;
        const body = beginCell().storeUint(0, 32).storeStringTail('x'.repeat(100)).endCell();
        const sent = await alice.send([{ to, value: toNano('0.01'), body, bounce: false }]);
        const desc = sent.tx.description;
        if (desc.type !== 'generic' || desc.computePhase.type !== 'vm' || !desc.actionPhase)
            throw new Error('not an ordinary wallet transaction');
        // 66.67 nanoton per gas (config parameter 21 since May 2026), not 400
        expect(desc.computePhase.gasFees).toBe(gasFee(desc.computePhase.gasUsed));
        expect(Number(desc.computePhase.gasFees) / Number(desc.computePhase.gasUsed)).toBeLessThan(70);
        // the lump of 66,667 nanoton plus the body's bits and cells (parameter 25), not 400,000 + …
        const out = [...sent.tx.outMessages.values()][0];
        if (out.info.type !== 'internal') throw new Error('no internal message');
        expect(desc.actionPhase.totalFwdFees).toBe(forwardFeeOf(body));
        expect(desc.actionPhase.totalFwdFees! < FORWARD.lumpPrice * 6n).toBe(true);
    });

    it('pages an account history back with (lt, hash) cursors, newest first, each transaction once', async () => {
        const alice = await d.funded(toNano('5'));
        const to = (await newIdentity('devnet')).wallet.address;
        for (let i = 0; i < 5; i++) await alice.send([{ to, value: toNano('0.01'), bounce: false }]);
        const all = await d.client.getTransactions(alice.address, { limit: 100 });
        expect(all).toHaveLength(6); // the faucet's deposit and five sends
        const paged = [];
        let page = await d.client.getTransactions(alice.address, { limit: 2 });
        while (page.length > 0) {
            paged.push(...page);
            const last = page[page.length - 1];
            page = await d.client.getTransactions(alice.address, {
                limit: 2,
                lt: last.lt.toString(),
                hash: last.hash().toString('base64'),
            });
        }
        expect(paged.map((t) => t.lt)).toEqual(all.map((t) => t.lt));
        // TonClient's largest page from a cursor (it asks for 101 and drops the cursor itself)
        const rest = await d.client.getTransactions(alice.address, {
            limit: 100,
            lt: all[0].lt.toString(),
            hash: all[0].hash().toString('base64'),
        });
        expect(rest.map((t) => t.lt)).toEqual(all.slice(1).map((t) => t.lt));
        expect(new Set(paged.map((t) => t.hash().toString('hex'))).size).toBe(6);
        for (let i = 1; i < paged.length; i++) expect(paged[i].lt < paged[i - 1].lt).toBe(true);
        // to_lt stops at a stored cursor (exclusive)
        const newer = await d.client.getTransactions(alice.address, { limit: 100, to_lt: all[3].lt.toString() });
        expect(newer.map((t) => t.lt)).toEqual(all.slice(0, 3).map((t) => t.lt));
        // getTransaction finds one by id
        const one = await d.client.getTransaction(alice.address, all[2].lt.toString(), all[2].hash().toString('base64'));
        expect(one?.hash().equals(all[2].hash())).toBe(true);
    });

    it('runs get-methods in toncenter stack format: the protocol is deployed and wired', async () => {
        const master = d.client.open(JettonMaster.create(d.protocol.token));
        const data = await master.getJettonData();
        expect(data.totalSupply).toBe(100_000_000n * FOG);
        expect(data.adminAddress.equals(d.admin.wallet.address)).toBe(true);
        // struct getters (nested tuples) through the fixed provider
        const params = await d.fog.hub.getParams();
        const expected = devnetParams(0);
        expect(params.minStake).toBe(expected.minStake);
        expect(params.claimWindow).toBe(expected.claimWindow);
        const state = await d.fog.hub.getHubState();
        expect(state.admin.equals(d.admin.wallet.address)).toBe(true);
        expect(state.pendingAdmin).toBeNull();
        expect(state.nextJobId).toBe(0n);
        // a get-method with an address argument
        expect(
            (await d.fog.hub.getProviderAddress(d.admin.wallet.address)).equals(await d.fog.hub.getProviderAddress(d.admin.wallet.address)),
        ).toBe(true);
    });

    it('serializes a cell once and hands every caller its own copy of the bytes (get-methods reuse contracts’ code BoCs)', () => {
        // the devnet in this process has made Cell.toBoc remember: the bytes are @ton/core's, every time
        const cell = beginCell()
            .storeUint(7, 32)
            .storeRef(beginCell().storeStringTail('x'.repeat(200)))
            .endCell();
        const first = cell.toBoc();
        first.fill(0);
        const again = cell.toBoc();
        expect(again.equals(first)).toBe(false);
        expect(Cell.fromBoc(again)[0].equals(cell)).toBe(true);
        expect(cell.toBoc({ idx: false, crc32: true }).equals(again)).toBe(true);
        expect(cell.toBoc({ idx: true, crc32: false }).equals(again)).toBe(false);
    });

    it('serves FOG from the faucet and takes a stake through the hub, confirmed hop by hop', async () => {
        const w = await d.funded(toNano('5'), 500n * FOG);
        expect(await d.fog.balanceOf(w.address)).toBe(500n * FOG);
        const sent = await w.send([await d.fog.stake(w.address, 200n * FOG, 4, 8192)], true);
        expect(sent.hops).toHaveLength(1);
        // the chain continues after the first hop: wait until the provider reports the stake
        const provider = await d.fog.providerOf(w.address);
        const state = await provider.getProviderState();
        expect(state.stake).toBe(200n * FOG);
        expect(state.passHeld).toBe(true);
        expect(await d.fog.balanceOf(w.address)).toBe(300n * FOG);
    });

    it('refuses a message no wallet accepts, with toncenter’s error', async () => {
        const w = await d.funded(toNano('1'));
        const stranger = await newIdentity('devnet');
        // signed by the wrong key: the wallet does not accept it
        const body = stranger.wallet.createTransfer({
            seqno: 0,
            secretKey: stranger.keys.secretKey,
            messages: [],
            sendMode: SendMode.PAY_GAS_SEPARATELY,
        });
        const ext = external({ to: w.address, init: w.identity.wallet.init, body });
        const boc = beginCell().store(storeMessage(ext)).endCell().toBoc();
        const err = await d.client.sendFile(boc).catch((e) => e);
        expect(describeError(err)).toMatch(/external message not accepted/);
        // an action that needs a stake says so before anything is sent
        await expect(d.fog.claim(w.address, 0n)).rejects.toThrow(/has no stake: stake first/);
        // and a message the destination refuses is reported with the contract's reason
        const staker = await d.funded(toNano('5'), 200n * FOG);
        await staker.send([await d.fog.stake(staker.address, 200n * FOG, 2, 1024)], true);
        const refused = await staker.send([await d.fog.unstake(staker.address, 1_000n * FOG)], true).catch((e) => e);
        expect(refused).toBeInstanceOf(SendError);
        expect((refused as SendError).message).toMatch(/refused the message: exit code \d+ \(Not enough free stake\)/);
        expect((refused as SendError).data.exitCode).toBeGreaterThan(0);
        // a claim reads the job's collateral first, so a job that was never posted is named
        await expect(d.fog.claim(staker.address, 4242n)).rejects.toThrow(/job 4242 does not exist/);
        // several messages in one transaction, each followed alone: the refused one fails by itself
        const { outcomes, sent } = await staker.sendEach([
            await d.fog.unstake(staker.address, 1n * FOG),
            await d.fog.unstake(staker.address, 1_000n * FOG),
            await d.fog.unstake(staker.address, 2n * FOG),
        ]);
        expect(outcomes.map((o) => o?.data.exitCode)).toEqual([undefined, expect.any(Number), undefined]);
        expect(outcomes[1]!.message).toMatch(/refused the message: exit code \d+ \(Not enough free stake\)/);
        expect(sent.hops).toHaveLength(2);
        expect((await (await d.fog.providerOf(staker.address)).getProviderState()).unbonding).toBe(3n * FOG);
        // a batch whose messages each bring a reply to the wallet: it still finds its own transaction
        const many = await staker.sendEach(await Promise.all(Array.from({ length: 30 }, () => d.fog.unstake(staker.address, 1n))));
        expect(many.outcomes.filter((o) => o !== undefined)).toEqual([]);
    });

    it('answers malformed requests with a clear error', async () => {
        const rpc = rpcAt(d.endpoint);
        expect(await rpc({ id: 1, method: 'getAddressInformation', params: { address: 'nope' } })).toEqual({
            status: 400,
            body: expect.objectContaining({ ok: false, error: 'parameter address is not a TON address: nope' }),
        });
        expect((await rpc({ id: 1, method: 'noSuchMethod', params: {} })).body.error).toBe('method not found: noSuchMethod');
        expect(
            (await rpc({ id: 1, method: 'getTransactions', params: { address: d.protocol.hub.toString(), limit: 1000 } })).body.error,
        ).toMatch(/limit must be/);
        expect(
            (
                await fetch(`${d.url}/devnet/faucet`, {
                    method: 'POST',
                    body: JSON.stringify({ address: d.protocol.hub.toString(), ton: '-1' }),
                })
            ).status,
        ).toBe(400);
        const uninit = await rpc({
            id: 1,
            method: 'runGetMethod',
            params: { address: (await newIdentity('devnet')).wallet.address.toString(), method: 'seqno', stack: [] },
        });
        expect(uninit.body.error).toMatch(/not active/);
    });

    it('answers every malformed parameter with a 4xx that names it, never a 503 (which clients retry forever)', async () => {
        const rpc = rpcAt(d.endpoint);
        const hub = d.protocol.hub.toString();
        const cases: [unknown, number, RegExp][] = [
            // names an object's own properties have, not methods of the API
            [{ id: 1, method: 'constructor', params: {} }, 404, /^method not found: constructor$/],
            [{ id: 1, method: 'toString', params: {} }, 404, /^method not found: toString$/],
            [{ id: 1, method: '__proto__', params: {} }, 404, /^method not found: __proto__$/],
            [{ id: 1, method: 'hasOwnProperty', params: {} }, 404, /^method not found: hasOwnProperty$/],
            ['null', 400, /a JSON-RPC request must be a JSON object/],
            ['[1]', 400, /a JSON-RPC request must be a JSON object/],
            ['{"method":', 400, /request is not JSON/],
            [{ id: 1, method: 'getAddressBalance', params: [hub] }, 400, /params must be a JSON object/],
            [{ id: 1, method: 'getAddressBalance', params: 'x' }, 400, /params must be a JSON object/],
            [
                { id: 1, method: 'getTransactions', params: { address: hub, lt: 'abc', hash: 'x' } },
                400,
                /parameter lt must be a whole number/,
            ],
            [{ id: 1, method: 'getTransactions', params: { address: hub, lt: -5 } }, 400, /parameter lt must be a whole number/],
            [{ id: 1, method: 'getTransactions', params: { address: hub, to_lt: '1e5' } }, 400, /parameter to_lt must be a whole number/],
            [{ id: 1, method: 'getTransactions', params: { address: hub, lt: '5', hash: 7 } }, 400, /parameter hash must be a string/],
            [{ id: 1, method: 'getTransactions', params: { address: hub, limit: 0 } }, 400, /limit must be/],
            [
                { id: 1, method: 'getTransactions', params: { address: hub, limit: 101 } },
                400,
                /limit must be a whole number in 1\.\.100 \(101 when paging from lt and hash\)/,
            ],
            [{ id: 1, method: 'getTransactions', params: { address: hub, limit: 'ten' } }, 400, /limit must be/],
            [{ id: 1, method: 'getTransactions', params: { address: hub, limit: {} } }, 400, /limit must be/],
            [{ id: 1, method: 'estimateFee', params: { address: hub, body: null } }, 400, /parameter body is required/],
            [{ id: 1, method: 'estimateFee', params: { address: hub, body: 'not a boc' } }, 400, /parameter body is not a base64 BoC/],
            [
                {
                    id: 1,
                    method: 'estimateFee',
                    params: { address: hub, body: beginCell().endCell().toBoc().toString('base64'), init_code: 'zzzz' },
                },
                400,
                /parameter init_code is not a base64 BoC/,
            ],
            [{ id: 1, method: 'sendBoc', params: { boc: null } }, 400, /parameter boc is required/],
            [{ id: 1, method: 'sendBoc', params: { boc: 'bm90IGEgYm9j' } }, 400, /malformed message/],
            [
                { id: 1, method: 'runGetMethod', params: { address: hub, method: 'get_hub_state', stack: [['num', 'x']] } },
                400,
                /Cannot convert x to a BigInt/,
            ],
        ];
        for (const [body, status, error] of cases) {
            const r = await rpc(body);
            if (r.status !== status || r.body.ok !== false || !error.test(r.body.error))
                throw new Error(`${JSON.stringify(body)}: got ${r.status} ${JSON.stringify(r.body)}, expected ${status} matching ${error}`);
        }
        const route = async (path: string, body: string) => {
            const r = await fetch(`${d.url}${path}`, { method: 'POST', body });
            return { status: r.status, error: ((await r.json()) as { error: string }).error };
        };
        expect(await route('/devnet/faucet', 'null')).toEqual({ status: 400, error: 'the request body must be a JSON object' });
        expect(await route('/devnet/advance', '[]')).toEqual({ status: 400, error: 'the request body must be a JSON object' });
        expect(await route('/devnet/faucet', JSON.stringify({ address: hub, ton: 'lots' }))).toMatchObject({ status: 400 });
        // and the devnet still answers
        expect((await rpc({ id: 1, method: 'getAddressState', params: { address: hub } })).body).toMatchObject({
            ok: true,
            result: 'active',
        });
    });

    it('refuses a message deeper than its emulator takes with a 400, before emulating it, and goes on', async () => {
        const rpc = rpcAt(d.endpoint);
        const w = await d.funded(toNano('1'));
        const send = (cell: Cell) => rpc({ id: 1, method: 'sendBoc', params: { boc: cell.toBoc().toString('base64') } });
        // the deepest the emulator takes is emulated: the wallet does not accept a body it cannot read
        expect(await send(deepMessage(w.address, MAX_MESSAGE_DEPTH))).toMatchObject({
            status: 500,
            body: { ok: false, error: expect.stringMatching(/^external message not accepted/) },
        });
        // one level deeper, and mainnet's deepest (512), are refused as the sender's mistake
        for (const depth of [MAX_MESSAGE_DEPTH + 1, 460, 512]) {
            expect(await send(deepMessage(w.address, depth))).toEqual({
                status: 400,
                body: expect.objectContaining({
                    ok: false,
                    error: `message too deep: its cells nest ${depth} levels, this devnet's emulator takes at most ${MAX_MESSAGE_DEPTH} (mainnet takes 512)`,
                }),
            });
        }
        const fee = await rpc({
            id: 1,
            method: 'estimateFee',
            params: { address: w.address.toString(), body: deepCell(460).toBoc().toString('base64') },
        });
        expect(fee).toMatchObject({
            status: 400,
            body: {
                error: expect.stringMatching(/^message too deep: its cells nest 46\d levels, this devnet's emulator takes at most 433/),
            },
        });
        // nothing reached the emulator: it runs the next transfer and get-method as before
        expect(d.chain.stats.rebuilds).toBe(0);
        const to = (await newIdentity('devnet')).wallet.address;
        expect((await w.send([{ to, value: toNano('0.5'), bounce: false }])).seqno).toBe(0);
        expect(await d.client.getBalance(to)).toBe(toNano('0.5'));
    });

    it('estimates the fee of an external message', async () => {
        const w = await d.funded(toNano('1'));
        const body = w.identity.wallet.createTransfer({
            seqno: 0,
            secretKey: w.identity.keys.secretKey,
            messages: [],
            sendMode: SendMode.PAY_GAS_SEPARATELY,
        });
        const fee = await d.client.estimateExternalMessageFee(w.address, {
            body,
            initCode: w.identity.wallet.init.code,
            initData: w.identity.wallet.init.data,
            ignoreSignature: true,
        });
        expect(fee.source_fees.gas_fee).toBeGreaterThan(0);
        // estimating changes nothing
        expect(await d.client.isContractDeployed(w.address)).toBe(false);
    });

    it('keeps wall time, moves faster with a speed, and travels only when allowed', async () => {
        const info = async (url: string) => (await (await fetch(`${url}/devnet/info`)).json()) as { now: number };
        const before = await info(d.url);
        expect(Math.abs(before.now - Date.now() / 1000)).toBeLessThan(5);
        const r = await fetch(`${d.url}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds: 3600 }) });
        expect(((await r.json()) as { now: number }).now).toBeGreaterThanOrEqual(before.now + 3600);
        // the FOG faucet signs for the chain's clock, not the wall's: it still works an hour ahead
        const late = await d.funded(toNano('1'), 5n * FOG);
        expect(await d.fog.balanceOf(late.address)).toBe(5n * FOG);

        const fast = await DevnetChain.open({ speed: 1000 });
        const start = fast.now();
        await new Promise((res) => setTimeout(res, 50));
        expect(fast.now() - start).toBeGreaterThanOrEqual(40);
        const server = await startDevnetServer(fast, {}, { allowTimeTravel: false });
        const refused = await fetch(`${server.url}/devnet/advance`, { method: 'POST', body: JSON.stringify({ seconds: 1 }) });
        expect(refused.status).toBe(403);
        await server.close();
        await fast.close();
        await expect(DevnetChain.open({ speed: 0 })).rejects.toThrow(/speed must be/);
    });
});

describe('the emulator failing anyway', () => {
    it('fails on one level more than MAX_MESSAGE_DEPTH, and not at it (the limit moves only with @ton/sandbox)', async () => {
        const at = async (depth: number) => {
            const bc = await Blockchain.create();
            const t = await bc.treasury('probe');
            return bc.sendMessage(deepMessage(t.address, depth)).then(
                () => 'emulated',
                (e: Error) => `${e.name}: ${e.message}`,
            );
        };
        expect(await at(MAX_MESSAGE_DEPTH)).toMatch(/^Error: .*not accepted/);
        expect(await at(MAX_MESSAGE_DEPTH + 1)).toBe('RuntimeError: memory access out of bounds');
    });

    it('rebuilds the emulator from the state before the request, logs the request, and goes on', async () => {
        // mainnet's limit, above what the emulator takes, so that a request reaches its failure
        const chain = await DevnetChain.open({ maxMessageDepth: 512 });
        const events: Record<string, unknown>[] = [];
        const server = await startDevnetServer(chain, {}, { log: (e) => events.push(e as Record<string, unknown>) });
        try {
            const client = connect(server.endpoint);
            const rpc = rpcAt(server.endpoint);
            const alice = new WalletSender(client, await newIdentity('devnet'), { pollMs: 20 }, server.endpoint);
            const bob = (await newIdentity('devnet')).wallet.address;
            await chain.faucet(alice.address, toNano('5'));
            await alice.send([{ to: bob, value: toNano('1'), bounce: false }]);
            const before = {
                alice: await client.getBalance(alice.address),
                bob: await client.getBalance(bob),
                history: (await client.getTransactions(alice.address, { limit: 10 })).length,
            };

            const poison = deepMessage(alice.address, 460).toBoc().toString('base64');
            const sent = await rpc({ id: 7, method: 'sendBoc', params: { boc: poison } });
            expect(sent).toEqual({
                status: 500,
                body: expect.objectContaining({
                    ok: false,
                    error: 'the emulator failed (memory access out of bounds); the devnet went back to its state before this request and goes on',
                }),
            });
            expect(events).toEqual([
                {
                    event: 'emulator_failed',
                    method: 'sendBoc',
                    params: { boc: poison },
                    error: 'memory access out of bounds',
                    recovered: true,
                },
            ]);
            const fee = await rpc({
                id: 8,
                method: 'estimateFee',
                params: { address: alice.address.toString(), body: deepCell(460).toBoc().toString('base64') },
            });
            expect(fee.status).toBe(500);
            expect(events[1]).toMatchObject({ event: 'emulator_failed', method: 'estimateFee', recovered: true });
            expect(chain.stats.rebuilds).toBe(2);

            // a chain of transactions cut short by the failure leaves no trace either
            await expect(
                chain.serial(async () => {
                    const faucet = await chain.blockchain.treasury('fog-devnet-faucet');
                    await faucet.send({ to: bob, value: toNano('2'), bounce: false });
                    await chain.blockchain.sendMessage(deepMessage(alice.address, 460));
                }),
            ).rejects.toBeInstanceOf(EmulatorFailure);
            expect(await client.getBalance(bob)).toBe(before.bob);
            expect(await client.getBalance(alice.address)).toBe(before.alice);

            // the rebuilt emulator runs transactions and (uncached) get-methods on the same state
            expect((await alice.send([{ to: bob, value: toNano('1'), bounce: false }])).seqno).toBe(1);
            // less the nanoton or so of storage the undeployed account paid for the seconds between
            const bobNow = await client.getBalance(bob);
            expect(bobNow).toBeLessThanOrEqual(before.bob + toNano('1'));
            expect(bobNow).toBeGreaterThan(before.bob + toNano('1') - 1000n);
            expect((await client.runMethod(alice.address, 'seqno')).stack.readNumber()).toBe(2);
            expect(await client.getTransactions(alice.address, { limit: 10 })).toHaveLength(before.history + 1);
            expect(chain.stats.rebuilds).toBe(3);
        } finally {
            await server.close();
            await chain.close();
        }
    });
});

describe('devnet persistence', () => {
    it('saves and reloads its state and history', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'fog-devnet-test-'));
        try {
            const d = await startDevnet({ dataDir: dir });
            const w = await d.funded(toNano('3'));
            await w.send([{ to: d.protocol.hub, value: toNano('0.1') }]);
            const balance = await d.client.getBalance(w.address);
            const history = await d.client.getTransactions(w.address, { limit: 10 });
            // read before the save: the save's own clock reading is this or later (read after it, a
            // second could tick over between the two, and the test would fail for nothing)
            const savedNow = d.chain.now();
            await d.chain.save();
            await d.close();

            const chain = await DevnetChain.open({ dataDir: dir });
            expect(chain.now()).toBeGreaterThanOrEqual(savedNow);
            const server = await startDevnetServer(chain);
            const client: TonClient = connect(server.endpoint);
            expect(await client.getBalance(w.address)).toBe(balance);
            expect((await client.getTransactions(w.address, { limit: 10 })).map((t) => t.hash().toString('hex'))).toEqual(
                history.map((t) => t.hash().toString('hex')),
            );
            // the wallet goes on with its next seqno
            const again = new WalletSender(client, w.identity, { pollMs: 20 });
            expect((await again.send([{ to: d.protocol.hub, value: toNano('0.1') }])).seqno).toBe(1);
            await server.close();
            await chain.close();
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("reloads a chain only if it runs this build's contracts, naming --fresh otherwise", async () => {
        const d = await startDevnet();
        try {
            await expect(checkSameBuild(d.chain, d.protocol)).resolves.toBeUndefined();
            // a saved chain whose hub is another contract, as after an upgrade that changed the hub
            await expect(checkSameBuild(d.chain, { ...d.protocol, hub: d.protocol.token })).rejects.toThrow(
                "the saved chain runs contracts of another build (hub differs from this build's): start the devnet with --fresh to deploy this build's",
            );
        } finally {
            await d.close();
        }
    });

    it('reports an unreachable endpoint in one line', async () => {
        const client = connect('http://127.0.0.1:9/jsonRPC');
        const w = new WalletSender(client, await newIdentity('devnet'), { retries: 2, backoffMs: 10 }, 'http://127.0.0.1:9/jsonRPC');
        await expect(w.balance()).rejects.toThrow('reading the wallet balance: http://127.0.0.1:9/jsonRPC is unreachable (ECONNREFUSED)');
        expect(Address.isAddress(w.address)).toBe(true);
    });
});
