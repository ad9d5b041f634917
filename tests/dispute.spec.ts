/**
 * The dispute game's match (contracts/dispute.tact) played through messages by two parties
 * (client/dispute/game.ts) in the emulator: an honest party against a liar whose run differs by
 * one flipped bit deep inside, on integer, float and bulk programs, with either as the first
 * revealer; the honest party wins by proof or by the liar's clock, the judge hears the outcome
 * with the contract's TON. A party that stops answering loses on its clock. Every move out of
 * turn, out of shape or against the rules is refused.
 */
import { readFileSync } from 'node:fs';
import { beginCell, Cell, toNano } from '@ton/core';
import { Blockchain, SandboxContract, TreasuryContract } from '@ton/sandbox';
import { mainnetConfig } from '../client/sandbox/config';
import { Machine } from '../client/dispute/interpreter';
import { clockTo, computeAt, playMatch } from '../client/sandbox/dispute';
import { maxMfuelOf, Party, pointOf, rootsCell, rootsOf, stepBound } from '../client/dispute/game';
import { ComputeJob } from '../client/compute/types';
import { exampleNamed } from '../examples/catalog';
import { Dispute } from '../wrappers/Dispute';
import { BULK_INPUT, BULK_PROGRAM, INTEGER_INPUT, INTEGER_PROGRAM } from './helpers/programs';
import { wat } from './helpers/wat';
import { liarOf } from '../client/dispute/liar';

const ALLOWANCE = 3600;

function job(program: Uint8Array, input: Uint8Array): ComputeJob {
    return { program, input, fuel: 10n ** 9n, maxMemoryMb: 4 };
}

describe('the dispute game', () => {
    let blockchain: Blockchain;
    let judge: SandboxContract<TreasuryContract>;
    let alice: SandboxContract<TreasuryContract>;
    let bob: SandboxContract<TreasuryContract>;
    let nextId = 1n;
    const gas = new Map<string, bigint>();

    beforeAll(async () => {
        blockchain = await Blockchain.create({ config: mainnetConfig() });
        judge = await blockchain.treasury('judge');
        alice = await blockchain.treasury('alice');
        bob = await blockchain.treasury('bob');
        clockTo(blockchain, Math.floor(Date.now() / 1000));
    });

    afterAll(() => console.log(`most gas a move took:\n${[...gas].map(([k, g]) => `  ${k}: ${g}`).join('\n')}`));

    async function start(resultA: bigint, resultB: bigint, initialRoot: bigint, maxMfuel: bigint) {
        const dispute = blockchain.openContract(await Dispute.fromInit(judge.address, judge.address, nextId++));
        const r = await dispute.send(
            judge.getSender(),
            { value: toNano('0.2') },
            {
                $$type: 'DisputeStart',
                queryId: 0n,
                match: 0n,
                a: alice.address,
                b: bob.address,
                resultA,
                resultB,
                initialRoot,
                allowance: BigInt(ALLOWANCE),
                maxMfuel,
            },
        );
        expect(computeAt(r, dispute.address)?.exitCode).toBe(0);
        return dispute;
    }

    /** Sends a party's move; returns whether the contract took it, and records its gas. */
    async function send(
        dispute: SandboxContract<Dispute>,
        who: SandboxContract<TreasuryContract>,
        body: Parameters<SandboxContract<Dispute>['send']>[2],
        kind: string,
    ): Promise<boolean> {
        const r = await dispute.send(who.getSender(), { value: toNano('0.1') }, body);
        const c = computeAt(r, dispute.address);
        if (c?.exitCode === 0 && c.gasUsed > (gas.get(kind) ?? 0n)) gas.set(kind, c.gasUsed);
        return c?.exitCode === 0;
    }

    /** Plays a match between a (alice) and b (bob) to its end; returns the winner (1 a, 2 b) and the moves refused. */
    async function play(a: Party, b: Party, options: { stopA?: number; stopB?: number } = {}) {
        const outcome = await playMatch({
            blockchain,
            judge,
            a: { party: a, wallet: alice },
            b: { party: b, wallet: bob },
            id: nextId++,
            ...options,
        });
        for (const m of outcome.moves) if (m.taken && m.gas > (gas.get(m.kind) ?? 0n)) gas.set(m.kind, m.gas);
        // every move within the gas its TON must cover (contracts/dispute.tact, GasDispute*)
        const bound = { start: 12_000n, open: 30_000n, bisect: 35_000n, prove: 330_000n, timeout: 25_000n };
        for (const m of outcome.moves) if (m.taken) expect([m.kind, m.gas <= bound[m.kind]]).toEqual([m.kind, true]);
        // the contract sent everything it held to the judge
        expect(outcome.left).toBeLessThan(toNano('0.001'));
        const refused = outcome.moves.filter((m) => !m.taken).map((m) => `${m.side} ${m.kind}`);
        return { winner: outcome.winner, refused };
    }

    const programs: [string, () => Promise<ComputeJob>, number][] = [
        ['the integer program', async () => job(await wat(INTEGER_PROGRAM), INTEGER_INPUT), 20_000],
        ['the bulk program', async () => job(await wat(BULK_PROGRAM), BULK_INPUT), 5],
        ['matmul (floats)', async () => job(readFileSync(exampleNamed('matmul').program), Buffer.from(new Uint32Array([3]).buffer)), 400],
        [
            'fnv-rounds',
            async () =>
                job(
                    readFileSync(exampleNamed('fnv-rounds').program),
                    Buffer.concat([Buffer.from(new Uint32Array([2]).buffer), Buffer.alloc(70, 5)]),
                ),
            900,
        ],
    ];

    it.each(programs)('the honest party wins against a liar on %s, whoever revealed first', async (_label, make, from) => {
        const j = await make();
        const honest = new Party(j);
        const liar = liarOf(j, from);
        expect((await play(honest, liar)).winner).toBe(1);
        expect((await play(liar, new Party(j))).winner).toBe(2);
    });

    it.each(programs)(
        'a liar on %s flips the first bit from its step that changes the result, as trying every step with a whole run would',
        async (_label, make, from) => {
            const j = await make();
            const honest = new Party(j).result();
            const flip = (m: Machine) => {
                if (m.sp > 0) m.st[2 * (m.sp - 1)] ^= 1;
            };
            let first = from;
            while (new Party(j, { fault: { atStep: first, apply: flip } }).result() === honest) first++;
            const liar = liarOf(j, from, honest);
            expect(liar.options.fault!.atStep).toBe(first);
            expect(liar.result()).toBe(new Party(j, { fault: { atStep: first, apply: flip } }).result());
            // its replays from step 0 reach the same states as from the checkpoint it starts with
            const fresh = new Party(j, { fault: { atStep: first, apply: flip } });
            const end = fresh.final().steps;
            for (const step of [0, first, first + 1, Math.floor((first + end) / 2), end])
                expect(liar.rootAt(step)).toBe(fresh.rootAt(step));
        },
    );

    it('settles a run that fails at instantiation (no step taken) against a made-up halted state, whoever revealed first', async () => {
        const j = job(
            await wat(`(module (import "fog" "memory" (memory 1)) (data (i32.const 65530) "0123456789") (func (export "run")))`),
            Buffer.alloc(0),
        );
        const honest = new Party(j);
        expect(honest.final().steps).toBe(0);
        // the liar claims the run returned one byte
        const fake = () =>
            new Party(j, {
                fault: {
                    atStep: -1,
                    apply: (m: Machine) => {
                        m.status = 4;
                        m.reason = undefined;
                        m.out[0] = 1;
                        m.outLength = 1;
                    },
                },
            });
        expect((await play(honest, fake())).winner).toBe(1);
        expect((await play(fake(), new Party(j))).winner).toBe(2);
    });

    it('lets a party that stops answering lose on its clock, even the honest one', async () => {
        const j = job(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        const liar = liarOf(j, 20_000);
        // the honest party opens and makes one move, then goes offline
        expect((await play(new Party(j), liar, { stopA: 2 })).winner).toBe(2);
    });

    it('gives the match to the party that opened when the other never does, and to neither when none does', async () => {
        const j = job(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        const honest = new Party(j);
        const liar = liarOf(j, 20_000);
        const one = await start(honest.result(), liar.result(), honest.rootAt(0), maxMfuelOf(j));
        expect(await send(one, alice, { $$type: 'DisputeOpen', queryId: 0n, proof: honest.final().proof }, 'open')).toBe(true);
        expect(await send(one, judge, { $$type: 'DisputeTimeout', queryId: 0n }, 'timeout')).toBe(false);
        clockTo(blockchain, blockchain.now! + ALLOWANCE + 10);
        expect(await send(one, judge, { $$type: 'DisputeTimeout', queryId: 0n }, 'timeout')).toBe(true);
        expect((await one.getDisputeState()).winner).toBe(1n);
        const none = await start(honest.result(), liar.result(), honest.rootAt(0), maxMfuelOf(j));
        clockTo(blockchain, blockchain.now! + ALLOWANCE + 10);
        expect(await send(none, judge, { $$type: 'DisputeTimeout', queryId: 0n }, 'timeout')).toBe(true);
        expect((await none.getDisputeState()).winner).toBe(3n);
    });

    it('refuses moves out of turn, by strangers, out of shape or against the rules', async () => {
        const j = job(await wat(INTEGER_PROGRAM), INTEGER_INPUT);
        const honest = new Party(j);
        const liar = liarOf(j, 20_000);
        const dispute = await start(honest.result(), liar.result(), honest.rootAt(0), maxMfuelOf(j));
        const stranger = await blockchain.treasury('stranger');
        const open = (who: SandboxContract<TreasuryContract>, proof: Cell) =>
            send(dispute, who, { $$type: 'DisputeOpen', queryId: 0n, proof }, 'open');
        // a restart, by anyone
        expect(
            await send(
                dispute,
                stranger,
                {
                    $$type: 'DisputeStart',
                    queryId: 0n,
                    match: 0n,
                    a: alice.address,
                    b: bob.address,
                    resultA: 1n,
                    resultB: 2n,
                    initialRoot: 0n,
                    allowance: 1n,
                    maxMfuel: 1n,
                },
                'refused',
            ),
        ).toBe(false);
        // opening with the other party's final state (another result), a state that has not halted, by a stranger
        expect(await open(alice, liar.final().proof)).toBe(false);
        const running = honest.machineAt(100);
        const notHalted = (await import('@ton/core')).convertToMerkleProof(
            (await import('../client/dispute/proof')).prune(running.cells.cell(), [[0], [3]]),
        );
        expect(await open(alice, notHalted)).toBe(false);
        expect(await open(stranger, honest.final().proof)).toBe(false);
        expect(await open(alice, honest.final().proof)).toBe(true);
        expect(await open(alice, honest.final().proof)).toBe(false);
        expect(await open(bob, liar.final().proof)).toBe(true);
        // bob (b) moves first; alice may not
        const s = await dispute.getDisputeState();
        const last = { start: Number(s.start), length: Number(s.length), parts: Number(s.parts), roots: rootsOf(s.roots!) };
        const move = liar.respond(last);
        if (move.kind !== 'bisect') throw new Error('expected a bisection');
        const bisect = (who: SandboxContract<TreasuryContract>, choice: number, roots: Cell) =>
            send(dispute, who, { $$type: 'DisputeBisect', queryId: 0n, choice: BigInt(choice), roots }, 'bisect');
        expect(await bisect(alice, move.choice, move.roots)).toBe(false);
        expect(await bisect(stranger, move.choice, move.roots)).toBe(false);
        const roots = rootsOf(move.roots);
        // no such segment; too few roots; a first root that is not the segment's start; a last root equal to its end
        expect(await bisect(bob, 0, move.roots)).toBe(false);
        expect(await bisect(bob, 2, move.roots)).toBe(false);
        expect(await bisect(bob, 1, rootsCell(roots.slice(0, -1)))).toBe(false);
        expect(await bisect(bob, 1, rootsCell([roots[0] ^ 1n, ...roots.slice(1)]))).toBe(false);
        expect(await bisect(bob, 1, rootsCell([...roots.slice(0, -1), last.roots[1]]))).toBe(false);
        expect(await bisect(bob, 1, beginCell().storeUint(1, 8).endCell())).toBe(false);
        // the right roots behind a library cell (its contents resolve on chain, but a client cannot read them)
        const library = beginCell().storeUint(2, 8).storeBuffer(move.roots.hash()).endCell({ exotic: true });
        expect(await bisect(bob, move.choice, library)).toBe(false);
        // proving a segment longer than a step
        expect(await send(dispute, bob, { $$type: 'DisputeProve', queryId: 0n, choice: 1n, proof: honest.final().proof }, 'refused')).toBe(
            false,
        );
        // too little TON for the move's gas
        const poor = await dispute.send(
            bob.getSender(),
            { value: toNano('0.001') },
            { $$type: 'DisputeBisect', queryId: 0n, choice: BigInt(move.choice), roots: move.roots },
        );
        expect(computeAt(poor, dispute.address)?.exitCode).not.toBe(0);
        // the real move is taken
        expect(await bisect(bob, move.choice, move.roots)).toBe(true);
        expect(await dispute.getDisputeState()).toMatchObject({ turn: 1n, start: 0n, parts: 16n });
        // the first bisection spans the steps the job's fuel bounds (1,000 million fuel), where both runs have halted
        expect(last).toMatchObject({ start: 0, length: stepBound(1_000), parts: 1 });
        expect(s.maxMfuel).toBe(1_000n);
        // a timeout before anyone is out of time
        expect(await send(dispute, judge, { $$type: 'DisputeTimeout', queryId: 0n }, 'refused')).toBe(false);
        expect(pointOf(0, 100, 16, 16)).toBe(100);
    });

    it('refuses a proof of a step that ends where the opponent said: a liar left to prove loses on its clock', async () => {
        // liars faulted at different steps: in some games the last segment is the liar's to prove
        const j = job(
            readFileSync(exampleNamed('fnv-rounds').program),
            Buffer.concat([Buffer.from(new Uint32Array([2]).buffer), Buffer.alloc(70, 5)]),
        );
        const outcomes: string[] = [];
        for (const from of [300, 900, 1500]) {
            // the liar as a, then as b: the refused moves, named by who made them
            const first = await play(liarOf(j, from), new Party(j));
            expect(first.winner).toBe(2);
            outcomes.push(...first.refused.map((r) => r.replace(/^a /, 'liar ').replace(/^b /, 'honest ')));
            const second = await play(new Party(j), liarOf(j, from));
            expect(second.winner).toBe(1);
            outcomes.push(...second.refused.map((r) => r.replace(/^b /, 'liar ').replace(/^a /, 'honest ')));
        }
        expect(outcomes).toContain('liar prove');
        expect(outcomes.every((o) => o === 'liar prove')).toBe(true);
    });
});
