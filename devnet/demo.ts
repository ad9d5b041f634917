/**
 * `npm start`: a demonstration of what Fog has on-chain so far: the token and the pass, then a
 * whole job with three workers, one of them lying, run for real on the TON emulator
 * (@ton/sandbox). Each step sends real messages to the compiled contracts and prints what it did
 * and its gas. Exits non-zero if any step does not do what it says.
 */
import { Address, beginCell, Cell, Dictionary, toNano } from '@ton/core';
import { Blockchain, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import { FogWallet } from '../wrappers/FogWallet';
import { PassItem } from '../wrappers/PassItem';
import { defaultParams, fogTokenInit, hubInit, passCollectionInit } from '../wrappers/protocol';
import { Params, PhaseDone, storePostJobPayload, storeStakePayload } from '../wrappers/Hub';
import { Job } from '../wrappers/Job';
import { Provider } from '../wrappers/Provider';
import { commitOf, hashOf } from '../wrappers/commit';
import { parseOnchainContent, JETTON_FIELDS, PASS_FIELDS } from '../wrappers/metadata';
import { operationGas } from '../wrappers/gas';
import { gasTon } from '../client/fees';
import { mainnetConfig } from '../client/sandbox/config';
import { publishJobLibrary, specOf } from '../client/sandbox/protocol';
import { parseDemoArgs } from './config';

const { json } = parseDemoArgs(process.argv.slice(2));

interface Step {
    step: string;
    gas: number;
    detail: string;
}

const steps: Step[] = [];

function fog(nano: bigint): string {
    const whole = nano / 1_000_000_000n;
    const frac = (nano % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
    return frac ? `${whole}.${frac} FOG` : `${whole} FOG`;
}

function short(a: Address): string {
    const s = a.toString({ testOnly: true });
    return `${s.slice(0, 6)}…${s.slice(-4)}`;
}

class DemoFailure extends Error {}

function check(ok: boolean, what: string) {
    if (!ok) throw new DemoFailure(what);
}

function failedTx(r: SendMessageResult): boolean {
    return r.transactions.some((t) => {
        const d = t.description;
        return d.type === 'generic' && (d.aborted || (d.computePhase.type === 'vm' && !d.computePhase.success));
    });
}

function report(step: string, r: SendMessageResult, payer: Address, detail: string) {
    check(!failedTx(r), `${step}: a transaction in its chain failed`);
    const gas = Number(operationGas(r.transactions, payer));
    steps.push({ step, gas, detail });
    if (!json) {
        const price = `${gasTon(gas)} TON`;
        console.log(`✔ ${step.padEnd(34)} ${String(gas).padStart(6)} gas  (${price})`);
        console.log(`  ${detail}`);
    }
}

async function main() {
    const blockchain = await Blockchain.create({ config: mainnetConfig(), autoDeployLibs: true });
    const admin = await blockchain.treasury('admin');
    const alice = await blockchain.treasury('alice (provider)');
    const bob = await blockchain.treasury('bob (requester)');
    if (!json) {
        console.log('Fog on the TON emulator: the FOG jetton and the Contributor Pass\n');
        console.log(`admin ${short(admin.address)}   alice ${short(alice.address)}   bob ${short(bob.address)}\n`);
    }

    const token = blockchain.openContract(await fogTokenInit(admin.address));
    report(
        'deploy FOG master',
        await token.send(admin.getSender(), { value: toNano('0.05') }, null),
        admin.address,
        `master at ${short(token.address)}: ${JSON.stringify(parseOnchainContent((await token.getGetJettonData()).content, JETTON_FIELDS).symbol)}, 9 decimals, TEP-74/89/64`,
    );

    const collection = blockchain.openContract(await passCollectionInit(admin.address));
    report(
        'deploy pass collection',
        await collection.send(admin.getSender(), { value: toNano('0.05') }, null),
        admin.address,
        `collection at ${short(collection.address)}, authority: the admin (the hub, once it exists)`,
    );

    const walletOf = async (owner: Address): Promise<SandboxContract<FogWallet>> =>
        blockchain.openContract(FogWallet.fromAddress(await token.getGetWalletAddress(owner)));
    const balance = async (owner: Address) => (await (await walletOf(owner)).getGetWalletData()).balance;
    const supply = async () => (await token.getGetJettonData()).totalSupply;

    const recipients = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
    recipients.set(alice.address, toNano('1000'));
    recipients.set(bob.address, toNano('500'));
    report(
        'genesis allocation (2 recipients)',
        await token.send(admin.getSender(), { value: toNano('0.2') }, { $$type: 'GenesisMint', queryId: 1n, recipients, close: true }),
        admin.address,
        `alice ${fog(await balance(alice.address))}, bob ${fog(await balance(bob.address))}; genesis sealed`,
    );
    check((await supply()) === toNano('1500'), 'supply after genesis');

    report(
        'set mint authority',
        await token.send(
            admin.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'SetMintAuthority',
                queryId: 2n,
                authority: admin.address,
                lock: false,
            },
        ),
        admin.address,
        'the admin mints until the hub takes over',
    );

    report(
        'mint 100 FOG to alice',
        await token.send(
            admin.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'Mint',
                queryId: 3n,
                receiver: alice.address,
                amount: toNano('100'),
                responseDestination: admin.address,
                forwardTonAmount: 0n,
                forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
            },
        ),
        admin.address,
        `alice ${fog(await balance(alice.address))}, supply ${fog(await supply())}`,
    );

    const aliceWallet = await walletOf(alice.address);
    report(
        'transfer 25 FOG alice → bob',
        await aliceWallet.send(
            alice.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 4n,
                amount: toNano('25'),
                destination: bob.address,
                responseDestination: alice.address,
                customPayload: null,
                forwardTonAmount: toNano('0.01'),
                forwardPayload: beginCell().storeBit(0).storeStringTail('for job 1').endCell().beginParse(),
            },
        ),
        alice.address,
        `alice ${fog(await balance(alice.address))}, bob ${fog(await balance(bob.address))}, bob notified with "for job 1"`,
    );

    const bobWallet = await walletOf(bob.address);
    report(
        'burn 10 FOG (bob)',
        await bobWallet.send(
            bob.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'JettonBurn',
                queryId: 5n,
                amount: toNano('10'),
                responseDestination: bob.address,
                customPayload: beginCell().storeUint(1, 64).endCell(),
            },
        ),
        bob.address,
        `bob ${fog(await balance(bob.address))}, supply ${fog(await supply())}; burn_notice confirms it to bob`,
    );

    const discovery = await token.send(
        bob.getSender(),
        { value: toNano('0.05') },
        {
            $$type: 'ProvideWalletAddress',
            queryId: 6n,
            ownerAddress: alice.address,
            includeAddress: false,
        },
    );
    report("discover alice's wallet (TEP-89)", discovery, bob.address, `take_wallet_address → ${short(aliceWallet.address)}`);

    const pass = blockchain.openContract(PassItem.fromAddress(await collection.getPassAddress(alice.address)));
    report(
        'mint alice a Contributor Pass',
        await collection.send(
            admin.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'PassMint',
                queryId: 7n,
                owner: alice.address,
                cores: 8n,
                memoryMb: 16384n,
                responseDestination: admin.address,
            },
        ),
        admin.address,
        await (async () => {
            const data = await pass.getGetNftData();
            const content = parseOnchainContent(await collection.getGetNftContent(data.index, data.content!), PASS_FIELDS);
            return `pass ${short(pass.address)}: ${content.name}, ${content.cores} cores, ${content.memory_mb} MB, soulbound`;
        })(),
    );

    const transfer = await pass.send(
        alice.getSender(),
        { value: toNano('0.05') },
        {
            $$type: 'NftTransfer',
            queryId: 8n,
            newOwner: bob.address,
            responseDestination: alice.address,
            customPayload: null,
            forwardAmount: 0n,
            forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
        },
    );
    check(failedTx(transfer), 'a pass transfer must be rejected');
    if (!json) console.log('✔ alice tries to sell her pass: rejected, it is soulbound');

    report(
        'alice proves ownership to bob',
        await pass.send(
            alice.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'ProveOwnership',
                queryId: 9n,
                dest: bob.address,
                forwardPayload: beginCell().storeUint(42, 64).endCell(),
                withContent: false,
            },
        ),
        alice.address,
        'ownership_proof delivered to bob (TEP-85)',
    );

    report(
        'bob asks who owns the pass',
        await pass.send(
            bob.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'RequestOwner',
                queryId: 10n,
                dest: bob.address,
                forwardPayload: beginCell().endCell(),
                withContent: false,
            },
        ),
        bob.address,
        `owner_info: ${short((await pass.getPassState()).owner!)} (alice), not revoked`,
    );

    report(
        "revoke alice's pass",
        await collection.send(
            admin.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'PassRevoke',
                queryId: 11n,
                owner: alice.address,
            },
        ),
        admin.address,
        `revoked at ${await pass.getGetRevokedTime()}, live: ${(await pass.getPassState()).live}`,
    );

    const total = (await balance(alice.address)) + (await balance(bob.address));
    check(total === (await supply()), 'supply must equal the sum of balances');
    if (!json) console.log(`\nSupply ${fog(await supply())} = genesis 1500 + minted 100 − burned 10 = sum of balances ✔\n`);

    // ── Part 2: the protocol. The hub takes over minting and passes; three workers, one lying.
    blockchain.now = Math.floor(Date.now() / 1000);
    const start = blockchain.now;
    // a network that settles differing reveals by majority vote (disputeAllowance 0): the liar is
    // outvoted in the job's own transaction. The default network plays a dispute match instead
    // (docs/disputes.md), which `npm start -- --liars 2 --colluding` shows on the devnet
    const params = { ...defaultParams(start), disputeAllowance: 0n };
    // on the masterchain (its own gas price): not in the basechain gas steps
    await publishJobLibrary(blockchain, admin);
    if (!json) console.log("✔ Job's code published as a masterchain library: every job's StateInit carries a 264-bit cell naming it\n");
    const hub = blockchain.openContract(await hubInit(admin.address, token.address, collection.address, params, { jobLibrary: true }));
    report(
        'deploy the hub',
        await hub.send(admin.getSender(), { value: toNano('0.1') }, null),
        admin.address,
        `hub at ${short(hub.address)}; min stake ${fog(params.minStake)}, collateral ${fog(params.collateral)} per claim; differing reveals settled by majority vote`,
    );
    report(
        'hand minting to the hub (locked)',
        await token.send(
            admin.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'SetMintAuthority',
                queryId: 12n,
                authority: hub.address,
                lock: true,
            },
        ),
        admin.address,
        'from now on only epoch rewards mint FOG',
    );
    report(
        'hand passes to the hub (locked)',
        await collection.send(
            admin.getSender(),
            { value: toNano('0.05') },
            {
                $$type: 'SetPassAuthority',
                queryId: 13n,
                authority: hub.address,
                lock: true,
            },
        ),
        admin.address,
        'passes follow stakes',
    );

    const provider = async (owner: Address) => blockchain.openContract(Provider.fromAddress(await hub.getProviderAddress(owner)));
    const workers: SandboxContract<TreasuryContract>[] = [];
    for (const name of ['worker 1', 'worker 2', 'worker 3 (lies)']) workers.push(await blockchain.treasury(name));
    const requester = bob;
    check((await token.getTokenState()).genesisOpen === false, 'genesis is sealed');
    // Genesis is sealed: the workers buy FOG from alice, who holds most of it.
    for (const w of workers) {
        await aliceWallet.send(
            alice.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 14n,
                amount: toNano('300'),
                destination: w.address,
                responseDestination: alice.address,
                customPayload: null,
                forwardTonAmount: 0n,
                forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
            },
        );
    }
    const toHub = async (from: SandboxContract<TreasuryContract>, amount: bigint, body: Cell) =>
        (await walletOf(from.address)).send(
            from.getSender(),
            { value: toNano('1.1') },
            {
                $$type: 'JettonTransfer',
                queryId: 15n,
                amount,
                destination: hub.address,
                responseDestination: from.address,
                customPayload: null,
                forwardTonAmount: toNano('1'),
                forwardPayload: beginCell().storeBit(1).storeRef(body).endCell().beginParse(),
            },
        );
    const smallParams: Params = { ...params, minStake: toNano('200'), collateral: toNano('50') };
    report(
        'admin lowers the minimum stake',
        await hub.send(admin.getSender(), { value: toNano('0.05') }, { $$type: 'SetParams', queryId: 16n, params: smallParams }),
        admin.address,
        `min stake ${fog(smallParams.minStake)}, collateral ${fog(smallParams.collateral)}`,
    );
    for (const w of [...workers, requester]) {
        const r = await toHub(
            w,
            toNano('250'),
            beginCell()
                .store(storeStakePayload({ $$type: 'StakePayload', cores: 8n, memoryMb: 16384n }))
                .endCell(),
        );
        report(
            `stake 250 FOG (${w === requester ? 'bob' : 'worker ' + (workers.indexOf(w) + 1)})`,
            r,
            w.address,
            `stake ${fog((await (await provider(w.address)).getProviderState()).stake)}, pass minted`,
        );
    }

    const spec = specOf({
        programHash: hashOf('matmul.wasm'),
        inputHash: hashOf('input.bin'),
        uris: beginCell()
            .storeRef(beginCell().storeStringTail('fog://matmul.wasm'))
            .storeRef(beginCell().storeStringTail('fog://input.bin'))
            .endCell(),
    });
    report(
        'bob posts a job (k=3, 30 FOG)',
        await toHub(
            requester,
            toNano('30'),
            beginCell()
                .store(storePostJobPayload({ $$type: 'PostJobPayload', spec }))
                .endCell(),
        ),
        requester.address,
        "the job checks bob's pass (TEP-85 request_owner) and opens",
    );
    const job = blockchain.openContract(Job.fromAddress(await hub.getJobAddress(0n)));
    const honest = hashOf('C = A × B');
    const lie = hashOf('a made-up answer');
    for (const w of workers) {
        const p = await provider(w.address);
        report(
            `claim (worker ${workers.indexOf(w) + 1})`,
            await p.send(
                w.getSender(),
                { value: toNano('0.5') },
                { $$type: 'ClaimJob', queryId: 17n, jobId: 0n, collateral: (await job.getJobState()).terms.collateral },
            ),
            w.address,
            `collateral locked: ${fog((await p.getProviderState()).locked)}`,
        );
    }
    for (const [i, w] of workers.entries()) {
        const result = i === 2 ? lie : honest;
        report(
            `commit (worker ${i + 1})`,
            await job.send(
                w.getSender(),
                { value: toNano('0.05') },
                {
                    $$type: 'Commit',
                    queryId: 18n,
                    commit: commitOf(result, w.address, BigInt(i + 1)),
                },
            ),
            w.address,
            'sha256(result, worker, salt): nobody can copy it',
        );
    }
    for (const [i, w] of workers.entries()) {
        const result = i === 2 ? lie : honest;
        report(
            `reveal (worker ${i + 1}${i === 2 ? ', lying' : ''})`,
            await job.send(
                w.getSender(),
                { value: toNano('0.05') },
                {
                    $$type: 'Reveal',
                    queryId: 19n,
                    resultHash: result,
                    salt: BigInt(i + 1),
                },
            ),
            w.address,
            i === 2 ? 'the last reveal settles the job' : 'revealed',
        );
    }
    const settled = await job.getJobState();
    check(settled.phase === PhaseDone && settled.result === honest, 'the job must settle on the honest result');
    const liar = await (await provider(workers[2].address)).getProviderState();
    check(liar.slashCount === 1n, 'the liar must be slashed');
    if (!json) {
        console.log(`  result verified by 2 of 3: ${settled.result.toString(16).slice(0, 16)}…; 30 FOG burned`);
        console.log(`  worker 3 slashed ${fog(liar.slashedTotal)}, stake now ${fog(liar.stake)}, reputation ${liar.reputation}`);
    }

    blockchain.now = start + Number(params.epochLength + params.closeDelay) + 1;
    const w1 = await provider(workers[0].address);
    const before = await balance(workers[0].address);
    report(
        'worker 1 claims its epoch reward',
        await w1.send(workers[0].getSender(), { value: toNano('1') }, { $$type: 'ClaimRewards', queryId: 20n, epoch: 0n }),
        workers[0].address,
        `minted ${fog((await balance(workers[0].address)) - before)} (half of the epoch's emission: 2 winners)`,
    );

    const hubState = await hub.getHubState();
    check((await balance(hub.address)) === hubState.totalStaked + hubState.totalEscrow + hubState.strays, 'hub FOG = stakes + escrow');
    if (json) {
        console.log(JSON.stringify({ ok: true, supply: (await supply()).toString(), steps }, null, 2));
    } else {
        console.log(
            `\nHub holds ${fog(await balance(hub.address))} = stakes ${fog(hubState.totalStaked)} + escrow ${fog(hubState.totalEscrow)} ✔`,
        );
        console.log(`Supply ${fog(await supply())} ✔`);
    }
}

main().catch((e) => {
    const message = e instanceof DemoFailure ? e.message : e instanceof Error ? e.message : String(e);
    console.error(`demo failed: ${message}`);
    process.exit(1);
});
