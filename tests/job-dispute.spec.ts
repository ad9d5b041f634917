/**
 * Jobs whose revealed results differ settle by dispute matches (docs/disputes.md, "The game" and
 * "Tournaments"), end to end in the emulator: the last reveal has the hub deploy the job's
 * Dispute with the first match, the job restarts it for each next one, and settles on the result
 * left standing, slashing every holder that lost. Every party is played by the reference
 * interpreter (client/dispute/game.ts) from its own wallet; liars play one flipped bit.
 */
import '@ton/test-utils';
import { beginCell, toNano } from '@ton/core';
import { BlockchainSnapshot, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { allSucceeded, FOG, payload, Protocol, protocolFixture, specOf } from '../client/sandbox/protocol';
import { clockTo, computeAt, playMatch } from '../client/sandbox/dispute';
import { Party } from '../client/dispute/game';
import { initialRoot } from '../client/dispute/state';
import { ComputeJob } from '../client/compute/types';
import { fuelForJob } from '../client/compute/fuel';
import {
    Bps,
    DisputeInitBits,
    DisputeBountyBps,
    DisputeInitCells,
    EvRefused,
    loadRefusedEvent,
    MaxDisputeAllowance,
    RefusedPost,
    RefuseFuelTooLarge,
    GasJobFinalize,
    GasJobFinalizePerSlot,
    GasJobResolved,
    GasHubDispute,
    GasDisputeStart,
    JobSpec,
    PhaseDisputing,
    PhaseDone,
    PhaseFailed,
    storeDisputeResolved,
    storePostJobPayload,
} from '../wrappers/Hub';
import { Job } from '../wrappers/Job';
import { Dispute } from '../wrappers/Dispute';
import { cellShape } from '../wrappers/gas';
import { INTEGER_INPUT, INTEGER_PROGRAM } from './helpers/programs';
import { wat } from './helpers/wat';
import { liarOf } from '../client/dispute/liar';
import { describeRefusal } from '../wrappers/refusal';

const ALLOWANCE = 3600n;
const PRICE = 20n * FOG;

/** An honest worker, two kinds of liar, an honest worker that never opens (silent) or opens, bisects once and goes offline. */
type Seat = 'honest' | 'liar' | 'other liar' | 'silent' | 'offline';

describe('a job whose revealed results differ', () => {
    let p: Protocol;
    let alice: SandboxContract<TreasuryContract>;
    let keeper: SandboxContract<TreasuryContract>;
    let compute: ComputeJob;
    let honest: Party;
    /** Two liars that reveal the same wrong result (colluding), and one that reveals another. */
    let liar: Party;
    let otherLiar: Party;
    const gas = new Map<string, bigint>();
    let deployShape = '';

    beforeAll(async () => {
        compute = { program: await wat(INTEGER_PROGRAM), input: INTEGER_INPUT, fuel: fuelForJob({ maxMfuel: 10_000 }), maxMemoryMb: 4 };
        honest = new Party(compute);
        liar = liarOf(compute, 20_000);
        otherLiar = liarOf(compute, 5_000);
        expect(new Set([honest.result(), liar.result(), otherLiar.result()]).size).toBe(3);
    });

    let start: BlockchainSnapshot | undefined;

    // deployed, funded and staked once; each test starts from that state (the emulator's snapshot)
    beforeEach(async () => {
        if (start !== undefined) return p.blockchain.loadFrom(start);
        p = await protocolFixture({ disputeAllowance: ALLOWANCE });
        alice = await p.blockchain.treasury('alice');
        keeper = await p.blockchain.treasury('keeper');
        await p.fund(alice.address, 5_000n * FOG);
        expect(allSucceeded(await p.stake(alice, p.params.minStake))).toBe(true);
        start = p.blockchain.snapshot();
    });

    afterAll(() =>
        console.log(
            `most gas a dispute's job-side handler took:\n${[...gas].map(([k, g]) => `  ${k}: ${g}`).join('\n')}\nthe Dispute's deploy: ${deployShape}`,
        ),
    );

    const note = (what: string, used: bigint) => gas.set(what, used > (gas.get(what) ?? 0n) ? used : gas.get(what)!);

    const spec = (k: number): Partial<JobSpec> => ({
        initialRoot: BigInt('0x' + initialRoot(compute)),
        k: BigInt(k),
        quorum: BigInt(Math.floor(k / 2) + 1),
        maxMfuel: 10_000n,
        maxMemoryMb: 4n,
    });

    /** Stakes a worker per seat, posts a k-seat job at exactly its post cost, and has every seat claim, commit and reveal in order. */
    async function reveal(seats: Seat[]) {
        const workers: SandboxContract<TreasuryContract>[] = [];
        for (const [i, seat] of seats.entries()) {
            const w = await p.blockchain.treasury(`${seat} ${i}`);
            await p.fund(w.address, p.params.minStake);
            expect(allSucceeded(await p.stake(w, p.params.minStake))).toBe(true);
            workers.push(w);
        }
        const id = (await p.hub.getHubState()).nextJobId;
        const body = payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf(spec(seats.length)) }));
        expect(allSucceeded(await p.toHub(alice, PRICE, body, await p.hub.getPostCost(BigInt(seats.length))))).toBe(true);
        const job = await p.job(id);
        const party = (seat: Seat) =>
            seat === 'honest' || seat === 'silent' || seat === 'offline' ? honest : seat === 'liar' ? liar : otherLiar;
        for (const w of workers) expect(allSucceeded(await p.claim(w, id))).toBe(true);
        for (const [i, w] of workers.entries()) expect(allSucceeded(await p.commit(w, id, party(seats[i]).result()))).toBe(true);
        for (const [i, w] of workers.entries()) {
            const r = await p.reveal(w, id, party(seats[i]).result());
            if (!allSucceeded(r))
                console.log(
                    r.transactions.map((t) => [
                        t.inMessage?.info.dest?.toString(),
                        t.description.type === 'generic' && t.description.computePhase.type === 'vm'
                            ? t.description.computePhase.exitCode
                            : 'skip',
                        t.description.type === 'generic' ? t.description.actionPhase?.resultCode : '',
                    ]),
                );
            expect(allSucceeded(r)).toBe(true);
            if (i === workers.length - 1 && (await job.getJobState()).phase === PhaseDisputing) {
                note('reveal that starts the first match', computeAt(r, job.address)!.gasUsed);
                note('hub dispute_deploy', computeAt(r, p.hub.address)!.gasUsed);
                note('dispute_start', computeAt(r, await job.getDisputeAddress())!.gasUsed);
                // the deploy's forward fee was charged for at most DisputeInitCells / DisputeInitBits
                const deploy = r.transactions.find(
                    (t) => t.inMessage?.info.src?.toString() === p.hub.address.toString() && t.inMessage.init,
                )!;
                const { cells, bits } = cellShape(deploy.inMessage!.init!.code!, deploy.inMessage!.init!.data!, deploy.inMessage!.body);
                deployShape = `${cells} cells, ${bits} bits`;
                expect(cells).toBeLessThanOrEqual(Number(DisputeInitCells));
                expect(bits).toBeLessThanOrEqual(Number(DisputeInitBits));
            }
        }
        const holders = new Map(workers.map((w, i) => [w.address.toString(), { party: party(seats[i]), wallet: w, seat: seats[i] }]));
        return { id, job, workers, holders };
    }

    /** Plays every match the job starts; `silent` seats never move, `offline` ones stop after their first bisection. Returns each match's winner (1 a, 2 b, 3 neither). */
    async function playAll(
        id: bigint,
        job: SandboxContract<Job>,
        holders: Map<string, { party: Party; wallet: SandboxContract<TreasuryContract>; seat: Seat }>,
    ) {
        const winners: number[] = [];
        const dispute = p.blockchain.openContract(Dispute.fromAddress(await job.getDisputeAddress()));
        while ((await job.getJobState()).phase === PhaseDisputing) {
            const s = await dispute.getDisputeState();
            expect(s.match).toBe((await job.getJobState()).matches);
            const a = holders.get(s.a!.toString())!;
            const b = holders.get(s.b!.toString())!;
            const outcome = await playMatch({
                blockchain: p.blockchain,
                judge: keeper,
                dispute: dispute.address,
                id,
                a,
                b,
                allowance: Number(ALLOWANCE),
                stopA: stopOf(a.seat),
                stopB: stopOf(b.seat),
            });
            winners.push(outcome.winner);
            // the resolution took the match's TON to the job, which sent a next match its deposit
            if ((await job.getJobState()).phase !== PhaseDisputing) expect(outcome.left).toBe(0n);
        }
        return winners;
    }

    const stopOf = (seat: Seat) => (seat === 'silent' ? 0 : seat === 'offline' ? 2 : undefined);

    /** Each worker's provider: stake and reputation. */
    const providers = async (workers: SandboxContract<TreasuryContract>[]) =>
        Promise.all(workers.map(async (w) => (await p.providerOf(w.address)).getProviderState()));

    const slash = () => (p.params.collateral * p.params.slashBps) / Bps;
    /** A winner's share of `lost` match losers' slashes, shared by `winners`. */
    const bounty = (lost: bigint, winners = 1n) => (slash() * lost * DisputeBountyBps) / Bps / winners;

    async function expectNothingStranded(job: SandboxContract<Job>) {
        expect((await p.blockchain.getContract(job.address)).balance).toBe(0n);
        expect((await p.blockchain.getContract(await job.getDisputeAddress())).balance).toBe(0n);
        const h = await p.hub.getHubState();
        expect([h.totalEscrow, h.strays]).toEqual([0n, 0n]);
        expect(await p.balanceOf(p.hub.address)).toBe(h.totalStaked);
    }

    it('k = 3, two colluding liars and one honest worker: two matches, the honest result wins, both liars slashed, nothing stranded', async () => {
        const aliceTon = (await p.blockchain.getContract(alice.address)).balance;
        const { id, job, workers, holders } = await reveal(['liar', 'honest', 'liar']);
        // the workers' FOG is minted by reveal(); the settlement burns
        const supply = (await p.token.getGetJettonData()).totalSupply;
        expect((await job.getJobState()).phase).toBe(PhaseDisputing);
        // the first match is the first liar (earliest result) against the honest worker
        const winners = await playAll(id, job, holders);
        expect(winners).toEqual([2, 1]);
        const end = await job.getJobState();
        expect([end.phase, end.result, end.matches]).toEqual([PhaseDone, honest.result(), 2n]);
        const [l1, h, l2] = await providers(workers);
        // the honest worker's stake grows by half of both liars' slashes; the other halves and the price are burned
        expect([l1.stake, h.stake, l2.stake]).toEqual([
            p.params.minStake - slash(),
            p.params.minStake + bounty(2n),
            p.params.minStake - slash(),
        ]);
        expect(bounty(2n)).toBe(slash());
        expect(supply - (await p.token.getGetJettonData()).totalSupply).toBe(PRICE + 2n * slash() - bounty(2n));
        // the hub's stake total is still every provider's stake: alice's and the three workers'
        expect((await p.hub.getHubState()).totalStaked).toBe(p.params.minStake + l1.stake + h.stake + l2.stake);
        expect([l1.locked, h.locked, l2.locked]).toEqual([0n, 0n, 0n]);
        expect(h.reputation).toBeGreaterThan(0n);
        expect(l1.reputation).toBeLessThan(0n);
        await expectNothingStranded(job);
        // the requester paid the price (burned) and its TON came back but for fees
        expect((await p.blockchain.getContract(alice.address)).balance).toBeGreaterThan(aliceTon - toNano('1'));
    }, 120_000);

    it("gives each side the network's base allowance and a second per 5 million fuel of the job's limit, and refuses a fuel limit whose allowance passes a week", async () => {
        const { job } = await reveal(['honest', 'liar']);
        const dispute = p.blockchain.openContract(Dispute.fromAddress(await job.getDisputeAddress()));
        const s = await dispute.getDisputeState();
        // 10,000 million fuel: 2,000 s on top of the base
        expect([s.clockA, s.clockB]).toEqual([ALLOWANCE + 2_000n, ALLOWANCE + 2_000n]);
        const post = async (maxMfuel: bigint) => {
            const before = await p.balanceOf(alice.address);
            const id = (await p.hub.getHubState()).nextJobId;
            const body = payload(storePostJobPayload({ $$type: 'PostJobPayload', spec: specOf({ ...spec(2), maxMfuel }) }));
            const r = await p.toHub(alice, PRICE, body, await p.hub.getPostCost(2n));
            expect(allSucceeded(r)).toBe(true);
            const refused = r.externals
                .filter((e) => e.info.src.equals(p.hub.address) && e.body.beginParse().preloadUint(32) === Number(EvRefused))
                .map((e) => loadRefusedEvent(e.body.beginParse()));
            return { refused, spent: before - (await p.balanceOf(alice.address)), posted: (await p.hub.getHubState()).nextJobId > id };
        };
        // the largest limit: exactly a week for each side
        const most = (MaxDisputeAllowance - ALLOWANCE) * 5n;
        expect(await post(most)).toEqual({ refused: [], spent: PRICE, posted: true });
        const over = await post(most + 1n);
        expect(over.refused.map((e) => [e.what, e.reason, e.amount])).toEqual([[RefusedPost, RefuseFuelTooLarge, PRICE]]);
        expect([over.spent, over.posted]).toEqual([0n, false]);
        expect(describeRefusal(over.refused[0])).toMatch(/too large to dispute/);
    }, 120_000);

    it('k = 2, one liar: one match, the honest result wins', async () => {
        const { id, job, workers, holders } = await reveal(['honest', 'liar']);
        expect(await playAll(id, job, holders)).toEqual([1]);
        const end = await job.getJobState();
        expect([end.phase, end.result]).toEqual([PhaseDone, honest.result()]);
        const [h, l] = await providers(workers);
        expect([h.stake, l.stake]).toEqual([p.params.minStake + bounty(1n), p.params.minStake - slash()]);
        await expectNothingStranded(job);
    }, 120_000);

    it('k = 3, one liar between two honest workers: one match, and the two winners share half the liar’s slash', async () => {
        const { id, job, workers, holders } = await reveal(['honest', 'liar', 'honest']);
        expect(await playAll(id, job, holders)).toEqual([1]);
        expect((await job.getJobState()).phase).toBe(PhaseDone);
        const [h1, l, h2] = await providers(workers);
        expect([h1.stake, l.stake, h2.stake]).toEqual([
            p.params.minStake + bounty(1n, 2n),
            p.params.minStake - slash(),
            p.params.minStake + bounty(1n, 2n),
        ]);
        await expectNothingStranded(job);
    }, 120_000);

    it('k = 3 with three results: the liars meet each other too, and only the honest worker is paid', async () => {
        const { id, job, workers, holders } = await reveal(['liar', 'other liar', 'honest']);
        const winners = await playAll(id, job, holders);
        // liar against other liar first (one of them wins), then the survivor against the honest worker, who wins
        expect(winners).toHaveLength(2);
        expect(winners[1]).toBe(2);
        const end = await job.getJobState();
        expect([end.phase, end.result]).toEqual([PhaseDone, honest.result()]);
        const [l1, l2, h] = await providers(workers);
        expect([l1.stake, l2.stake, h.stake]).toEqual([
            p.params.minStake - slash(),
            p.params.minStake - slash(),
            p.params.minStake + bounty(2n),
        ]);
        await expectNothingStranded(job);
    }, 120_000);

    it('an honest worker that goes offline in the middle of a match loses on its clock, exactly as documented: the liar is paid, the honest worker slashed', async () => {
        const { id, job, workers, holders } = await reveal(['offline', 'liar']);
        expect(await playAll(id, job, holders)).toEqual([2]);
        const end = await job.getJobState();
        expect([end.phase, end.result]).toEqual([PhaseDone, liar.result()]);
        const [h, l] = await providers(workers);
        expect([h.stake, l.stake]).toEqual([p.params.minStake - slash(), p.params.minStake + bounty(1n)]);
        await expectNothingStranded(job);
    }, 120_000);

    it('when neither party opens, both are out, the job fails, the price goes back and both are slashed', async () => {
        const before = await p.balanceOf(alice.address);
        const { id, job, workers, holders } = await reveal(['silent', 'liar']);
        holders.get(workers[1].address.toString())!.seat = 'silent';
        expect(await playAll(id, job, holders)).toEqual([3]);
        expect((await job.getJobState()).phase).toBe(PhaseFailed);
        expect(await p.balanceOf(alice.address)).toBe(before);
        const [a, b] = await providers(workers);
        expect([a.stake, b.stake]).toEqual([p.params.minStake - slash(), p.params.minStake - slash()]);
        await expectNothingStranded(job);
    }, 120_000);

    it('settles an uncontested job as before: no dispute is deployed', async () => {
        const { job } = await reveal(['honest', 'honest', 'honest']);
        const end = await job.getJobState();
        expect([end.phase, end.matches]).toEqual([PhaseDone, 0n]);
        expect((await p.blockchain.getContract(await job.getDisputeAddress())).accountState?.type ?? 'uninit').toBe('uninit');
    }, 60_000);

    it("refuses a resolution from anyone but the job's dispute, and a finalize during a match only asks the match, which refuses until it is over", async () => {
        const { id, job, holders } = await reveal(['honest', 'liar']);
        const stranger = await p.blockchain.treasury('stranger');
        const forged = await stranger.send({
            to: job.address,
            value: toNano('0.1'),
            body: beginCell()
                .store(storeDisputeResolved({ $$type: 'DisputeResolved', id, match: 0n, winner: 2n, how: 1n }))
                .endCell(),
        });
        expect(computeAt(forged, job.address)?.exitCode).toBe(Job.errors["Only the job's dispute"]);
        const poke = await p.finalize(keeper, id);
        const dispute = await job.getDisputeAddress();
        expect(computeAt(poke, job.address)?.exitCode).toBe(0);
        expect(computeAt(poke, dispute)?.exitCode).toBe(Dispute.errors['The match is not over']);
        expect((await job.getJobState()).phase).toBe(PhaseDisputing);
        expect(await playAll(id, job, holders)).toEqual([1]);
        expect((await job.getJobState()).phase).toBe(PhaseDone);
        await expectNothingStranded(job);
    }, 120_000);

    it('keeps the handlers within their gas bounds: the hub deploy, the start, the resolution with the settlement', async () => {
        const { id, job, holders } = await reveal(['liar', 'honest', 'liar']);
        // re-play the first match by hand to measure the resolution's handler
        const dispute = p.blockchain.openContract(Dispute.fromAddress(await job.getDisputeAddress()));
        expect((await p.blockchain.getContract(dispute.address)).accountState?.type).toBe('active');
        const s = await dispute.getDisputeState();
        const a = holders.get(s.a!.toString())!;
        const b = holders.get(s.b!.toString())!;
        await playMatch({ blockchain: p.blockchain, judge: keeper, dispute: dispute.address, id, a, b, allowance: Number(ALLOWANCE) });
        // the job restarted the match: the second one is under way
        expect((await dispute.getDisputeState()).match).toBe(1n);
        // the second match: the honest worker opens, the liar never does and runs out of time,
        // and the resolution settles the job
        const second = await dispute.getDisputeState();
        const opener = [second.a!, second.b!].map((w) => holders.get(w.toString())!).find((h) => h.seat === 'honest')!;
        const opened = await dispute.send(
            opener.wallet.getSender(),
            { value: toNano('0.1') },
            { $$type: 'DisputeOpen', queryId: 0n, proof: honest.final().proof },
        );
        expect(computeAt(opened, dispute.address)?.exitCode).toBe(0);
        clockTo(p.blockchain, Number(second.since) + Math.max(Number(second.clockA), Number(second.clockB)) + 1);
        const end = await dispute.send(keeper.getSender(), { value: toNano('0.1') }, { $$type: 'DisputeTimeout', queryId: 0n });
        const resolved = computeAt(end, job.address)!;
        note('dispute_resolved with the settlement (k = 3)', resolved.gasUsed);
        expect(resolved.gasUsed).toBeLessThanOrEqual(GasJobResolved + GasJobFinalize + 3n * GasJobFinalizePerSlot);
        expect((await job.getJobState()).phase).toBe(PhaseDone);
        expect(gas.get('hub dispute_deploy')).toBeLessThanOrEqual(GasHubDispute);
        expect(gas.get('dispute_start')).toBeLessThanOrEqual(GasDisputeStart);
        // the reveal that starts the first match runs on the job's budget: within a finalize's bound
        expect(gas.get('reveal that starts the first match')).toBeLessThanOrEqual(GasJobFinalize + 3n * GasJobFinalizePerSlot);
    }, 120_000);
});
