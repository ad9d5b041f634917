import fc from 'fast-check';
import { Address, Cell, toNano } from '@ton/core';
import { loadEpochState, loadJobCommon, loadJobHot, loadJobRecord, PhaseOpen, PhaseVerifying } from '../wrappers/Job';
import { BlockchainSnapshot, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { hashOf } from '../wrappers/commit';
import { NOW } from '../client/sandbox/fixture';
import { FOG, Protocol, protocolFixture } from '../client/sandbox/protocol';

/**
 * Property tests: random sequences of every user action by several actors, with time jumps,
 * checking the protocol's invariants (docs/protocol.md, "Invariants") after every step:
 * - FOG supply = genesis + minted − burned, and = the sum of every holder's balance;
 * - the hub's FOG = all stakes (staked and unbonding) + open escrow + recorded strays;
 * - every job is terminal once its last deadline has passed and anyone has poked it;
 * - a finished job holds no TON.
 * FOG_PROPERTY_RUNS sets the number of runs (40 by default).
 */

const RUNS = Number(process.env.FOG_PROPERTY_RUNS ?? 40);
const ACTORS = 5;
const GENESIS = 5_000n * FOG;
const OPEN_PHASES = [PhaseVerifying, PhaseOpen];

type Action =
    | { kind: 'stake'; actor: number; amount: bigint }
    | { kind: 'post'; actor: number; k: bigint; price: bigint }
    | { kind: 'claim'; actor: number; job: number }
    | { kind: 'commit'; actor: number; job: number; lie: boolean }
    | { kind: 'reveal'; actor: number; job: number; lie: boolean }
    | { kind: 'finalize'; actor: number; job: number }
    | { kind: 'unstake'; actor: number; amount: bigint }
    | { kind: 'withdraw'; actor: number }
    | { kind: 'rewards'; actor: number; epoch: number }
    | { kind: 'wait'; seconds: number };

const actor = fc.integer({ min: 0, max: ACTORS - 1 });
const job = fc.integer({ min: 0, max: 3 });
const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({ kind: fc.constant('stake' as const), actor, amount: fc.bigInt({ min: 1n, max: 1_500n }).map((x) => x * FOG) }),
    fc.record({
        kind: fc.constant('post' as const),
        actor,
        k: fc.bigInt({ min: 1n, max: 3n }),
        price: fc.bigInt({ min: 1n, max: 100n }).map((x) => x * FOG),
    }),
    fc.record({ kind: fc.constant('claim' as const), actor, job }),
    fc.record({ kind: fc.constant('commit' as const), actor, job, lie: fc.boolean() }),
    fc.record({ kind: fc.constant('reveal' as const), actor, job, lie: fc.boolean() }),
    fc.record({ kind: fc.constant('finalize' as const), actor, job }),
    fc.record({ kind: fc.constant('unstake' as const), actor, amount: fc.bigInt({ min: 1n, max: 1_000n }).map((x) => x * FOG) }),
    fc.record({ kind: fc.constant('withdraw' as const), actor }),
    fc.record({ kind: fc.constant('rewards' as const), actor, epoch: fc.integer({ min: 0, max: 2 }) }),
    fc.record({
        kind: fc.constant('wait' as const),
        seconds: fc.oneof(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 3_000, max: 100_000 }), fc.constant(700_000)),
    }),
);

describe('invariants under random action sequences', () => {
    let p: Protocol;
    let actors: SandboxContract<TreasuryContract>[];
    let start: BlockchainSnapshot;

    beforeAll(async () => {
        p = await protocolFixture();
        actors = [];
        for (let i = 0; i < ACTORS; i++) {
            const a = await p.blockchain.treasury(`actor ${i}`);
            await p.fund(a.address, GENESIS);
            actors.push(a);
        }
        const addresses = new Map<string, Address>();
        for (const owner of [p.hub.address, ...actors.map((a) => a.address)]) {
            addresses.set(owner.toString(), await p.token.getGetWalletAddress(owner));
        }
        walletAddress = (owner) => addresses.get(owner.toString())!;
        start = p.blockchain.snapshot();
    });

    const RESULT = hashOf('the honest result');
    const LIE = hashOf('a lie');

    async function apply(a: Action) {
        const who = a.kind === 'wait' ? actors[0] : actors[a.actor];
        switch (a.kind) {
            case 'stake':
                return p.stake(who, a.amount);
            case 'post':
                return p.post(who, a.price, { k: a.k, quorum: a.k / 2n + 1n });
            case 'claim':
                return p.claim(who, BigInt(a.job));
            case 'commit':
                return p.commit(who, BigInt(a.job), a.lie ? LIE : RESULT);
            case 'reveal':
                return p.reveal(who, BigInt(a.job), a.lie ? LIE : RESULT);
            case 'finalize':
                return p.finalize(who, BigInt(a.job));
            case 'unstake':
                return (await p.providerOf(who.address)).send(
                    who.getSender(),
                    { value: toNano('0.5') },
                    { $$type: 'Unstake', queryId: 0n, amount: a.amount },
                );
            case 'withdraw':
                return (await p.providerOf(who.address)).send(
                    who.getSender(),
                    { value: toNano('1') },
                    { $$type: 'WithdrawStake', queryId: 0n },
                );
            case 'rewards':
                return (await p.providerOf(who.address)).send(
                    who.getSender(),
                    { value: toNano('1') },
                    { $$type: 'ClaimRewards', queryId: 0n, epoch: BigInt(a.epoch) },
                );
            case 'wait':
                p.blockchain.now = (p.blockchain.now ?? NOW) + a.seconds;
                return;
        }
    }

    /** A contract's data cell, or null if it is not deployed. Reading storage directly keeps
     * the checks fast: get-methods cost milliseconds each and run after every step. */
    const dataOf = async (address: Address): Promise<Cell | null> => {
        const state = (await p.blockchain.getContract(address)).accountState;
        return state?.type === 'active' && state.state.data ? state.state.data : null;
    };
    // FogWallet(owner, master, balance) and FogToken(totalSupply, …): the first coins field.
    const walletBalance = async (owner: Address) => {
        const data = await dataOf(walletAddress(owner));
        if (!data) return 0n;
        const s = data.beginParse();
        s.loadAddress();
        s.loadAddress();
        return s.loadCoins();
    };
    // Job(hub, id, st: Cell?) and Epoch(hub, n, st: Cell?): the state sits in the optional ref
    // (a job's hot cell, with the posted record behind its own reference).
    const jobState = async (id: bigint) => {
        const s = (await dataOf(jobAddresses[Number(id)]))!.beginParse();
        s.loadAddress();
        s.loadUint(64);
        const hot = loadJobHot(s.loadRef().beginParse());
        return { phase: hot.phase, price: loadJobCommon(loadJobRecord(hot.record.beginParse()).common.beginParse()).price };
    };
    const epochState = async (address: Address) => {
        const data = await dataOf(address);
        if (!data) return null;
        const s = data.beginParse();
        s.loadAddress();
        s.loadUint(32);
        return s.loadBit() ? loadEpochState(s.loadRef().beginParse()) : null;
    };
    let walletAddress: (owner: Address) => Address;
    const jobAddresses: Address[] = [];
    const epochAddresses: Address[] = [];

    async function checkInvariants() {
        const hub = await p.hub.getHubState();
        while (BigInt(jobAddresses.length) < hub.nextJobId) jobAddresses.push(await p.hub.getJobAddress(BigInt(jobAddresses.length)));
        // Stakes: the hub's total equals what the providers hold, staked or unbonding.
        let staked = 0n;
        for (const a of actors) {
            const provider = await p.providerOf(a.address);
            if (!(await dataOf(provider.address))) continue;
            const s = await provider.getProviderState();
            staked += s.stake + s.unbonding;
            expect(s.locked).toBeLessThanOrEqual(s.stake);
        }
        expect(staked).toBe(hub.totalStaked);
        // Escrow: the hub's total equals the prices of jobs not yet settled; settled jobs hold no TON.
        let escrow = 0n;
        for (let id = 0n; id < hub.nextJobId; id++) {
            const s = await jobState(id);
            if (OPEN_PHASES.includes(s.phase)) escrow += s.price;
            else expect((await p.blockchain.getContract(jobAddresses[Number(id)])).balance).toBe(0n);
        }
        expect(escrow).toBe(hub.totalEscrow);
        // The hub's FOG is exactly stakes + escrow + strays.
        expect(await walletBalance(p.hub.address)).toBe(hub.totalStaked + hub.totalEscrow + hub.strays);
        // Supply = genesis + minted − burned = the sum of all balances.
        let minted = 0n;
        let burned = 0n;
        const lastEpoch = Math.floor(((p.blockchain.now ?? NOW) - NOW) / Number(p.params.epochLength));
        while (epochAddresses.length <= lastEpoch) epochAddresses.push(await p.hub.getEpochAddress(BigInt(epochAddresses.length)));
        for (const address of epochAddresses.slice(0, lastEpoch + 1)) {
            const e = await epochState(address);
            if (!e) continue;
            minted += e.minted;
            burned += e.burned + e.slashed;
            expect(e.minted).toBeLessThanOrEqual(e.closed ? e.emission : 0n);
        }
        const supply = (await dataOf(p.token.address))!.beginParse().loadCoins();
        expect(supply).toBe(GENESIS * BigInt(ACTORS) + minted - burned);
        let balances = await walletBalance(p.hub.address);
        for (const a of actors) balances += await walletBalance(a.address);
        expect(balances).toBe(supply);
    }

    async function drainToTerminal() {
        // Past every deadline: anyone's poke settles every job still open.
        p.blockchain.now = (p.blockchain.now ?? NOW) + 4 * 86_400;
        const hub = await p.hub.getHubState();
        for (let id = 0n; id < hub.nextJobId; id++) {
            if (OPEN_PHASES.includes((await jobState(id)).phase)) await p.finalize(actors[0], id);
            expect(OPEN_PHASES).not.toContain((await jobState(id)).phase);
        }
    }

    it(
        `hold after every step of ${RUNS} random sequences`,
        async () => {
            // Hundreds of emulated transactions per run: give the whole property room.
            await fc.assert(
                fc.asyncProperty(fc.array(action, { minLength: 3, maxLength: 8 }), async (actions) => {
                    await p.blockchain.loadFrom(start);
                    for (const a of actions) {
                        await apply(a);
                        await checkInvariants();
                    }
                    await drainToTerminal();
                    await checkInvariants();
                }),
                { numRuns: RUNS },
            );
        },
        20 * 60_000,
    );
});
