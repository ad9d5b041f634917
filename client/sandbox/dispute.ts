/**
 * A dispute match (contracts/dispute.tact) played in an emulator by two parties
 * (client/dispute/game.ts), each moving from its own wallet: the tests and `npm run bench` use
 * it. A party that cannot move (its proof refused) or is told to stop loses on its clock: the
 * driver moves the emulator's clock past it and calls the timeout. The emulator's clock only ever
 * moves forward (an account refuses a transaction dated before its last).
 */
import { Address, toNano } from '@ton/core';
import { Blockchain, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import { Dispute } from '../../wrappers/Dispute';
import { EvDisputeResolved } from '../../wrappers/Hub';
import { maxMfuelOf, Move, Party, rootsOf } from '../dispute/game';

/** One message a party or the driver sent, with its compute gas; `taken` false when refused. */
export interface MatchMove {
    side: 'a' | 'b' | 'judge';
    kind: 'start' | 'open' | 'bisect' | 'prove' | 'timeout';
    gas: bigint;
    taken: boolean;
}

export interface MatchOutcome {
    /** 1 a, 2 b, 3 neither. */
    winner: number;
    moves: MatchMove[];
    dispute: SandboxContract<Dispute>;
    /** TON left in the match's contract after it resolved. */
    left: bigint;
}

export interface MatchSetup {
    blockchain: Blockchain;
    /** Starts the match (as its judge and hub) and calls the timeouts; only the timeouts when `dispute` is given. */
    judge: SandboxContract<TreasuryContract>;
    /** A match already started (by a job): it is played from its opening. */
    dispute?: Address;
    a: { party: Party; wallet: SandboxContract<TreasuryContract> };
    b: { party: Party; wallet: SandboxContract<TreasuryContract> };
    id: bigint;
    /** Each party's time to move, seconds (default one hour). */
    allowance?: number;
    /** Moves after which a party stops answering, its opening counted (0: it never opens; default: it never stops). */
    stopA?: number;
    stopB?: number;
    /** TON sent with each move (default 0.1, the most a proof's gas costs at mainnet prices with room to spare). */
    value?: bigint;
}

/** The compute phase of the transaction a send caused at `to` (undefined when none ran the VM). */
export function computeAt(r: SendMessageResult, to: Address) {
    const tx = r.transactions.find((t) => t.inMessage?.info.dest?.toString() === to.toString());
    return tx?.description.type === 'generic' && tx.description.computePhase.type === 'vm' ? tx.description.computePhase : undefined;
}

/** Moves the emulator's clock to `time` if that is later. */
export function clockTo(blockchain: Blockchain, time: number): void {
    blockchain.now = Math.max(blockchain.now ?? Math.floor(Date.now() / 1000), time);
}

/** Plays a match from its start to its resolution. */
export async function playMatch(setup: MatchSetup): Promise<MatchOutcome> {
    const { blockchain, judge, a, b } = setup;
    clockTo(blockchain, Math.floor(Date.now() / 1000));
    const value = setup.value ?? toNano('0.1');
    const moves: MatchMove[] = [];
    const dispute = blockchain.openContract(
        setup.dispute ? Dispute.fromAddress(setup.dispute) : await Dispute.fromInit(judge.address, judge.address, setup.id),
    );
    let winner = 0;
    let lastExit: number | undefined;
    const send = async (side: MatchMove['side'], kind: MatchMove['kind'], body: Parameters<SandboxContract<Dispute>['send']>[2]) => {
        const wallet = side === 'a' ? a.wallet : side === 'b' ? b.wallet : judge;
        const r = await dispute.send(wallet.getSender(), { value }, body);
        const c = computeAt(r, dispute.address);
        const taken = c?.exitCode === 0;
        lastExit = c?.exitCode;
        moves.push({ side, kind, gas: c?.gasUsed ?? 0n, taken });
        // the resolution's event: id, match, winner, how
        for (const e of r.externals) {
            const body = e.body.beginParse();
            if (e.info.src.equals(dispute.address) && body.remainingBits >= 32 && body.loadUint(32) === Number(EvDisputeResolved)) {
                body.skip(64 + 8);
                winner = body.loadUint(8);
            }
        }
        return taken;
    };
    const resultA = await a.party.openResult();
    const resultB = await b.party.openResult();
    const started =
        setup.dispute !== undefined ||
        (await send('judge', 'start', {
            $$type: 'DisputeStart',
            match: 0n,
            queryId: 0n,
            a: a.wallet.address,
            b: b.wallet.address,
            resultA,
            resultB,
            // the job's initial state, computed without either party's fault
            initialRoot: new Party(a.party.job, { ...a.party.options, fault: undefined }).rootAt(0),
            allowance: BigInt(setup.allowance ?? 3600),
            maxMfuel: maxMfuelOf(a.party.job),
        }));
    if (!started) throw new Error(`the match did not start (exit code ${lastExit})`);
    const match = (await dispute.getDisputeState()).match;
    if (setup.stopA !== 0) await send('a', 'open', { $$type: 'DisputeOpen', queryId: 0n, proof: (await a.party.open()).proof });
    if (setup.stopB !== 0) await send('b', 'open', { $$type: 'DisputeOpen', queryId: 0n, proof: (await b.party.open()).proof });
    const made = { 1: 1, 2: 1 };
    while (winner === 0) {
        const s = await dispute.getDisputeState();
        // a judge (a job) may start its next match as soon as this one resolves
        if (s.phase === 3n || s.match !== match) throw new Error('the match resolved without its event');
        if (s.phase === 1n) {
            // a party never opened: its clock runs out
            clockTo(blockchain, Number(s.since) + Math.max(Number(s.clockA), Number(s.clockB)) + 1);
            await send('judge', 'timeout', { $$type: 'DisputeTimeout', queryId: 0n });
            continue;
        }
        const side = Number(s.turn) as 1 | 2;
        const player = side === 1 ? a.party : b.party;
        const stop = side === 1 ? setup.stopA : setup.stopB;
        let taken = false;
        let move: Move | undefined;
        if (stop === undefined || made[side] < stop) {
            try {
                move = player.respond({
                    start: Number(s.start),
                    length: Number(s.length),
                    parts: Number(s.parts),
                    roots: rootsOf(s.roots!),
                });
            } catch {
                // a party (a test's liar) that holds no state the bisection starts from cannot move
                moves.push({ side: side === 1 ? 'a' : 'b', kind: 'bisect', gas: 0n, taken: false });
            }
        }
        if (move !== undefined) {
            taken = await send(
                side === 1 ? 'a' : 'b',
                move.kind,
                move.kind === 'bisect'
                    ? { $$type: 'DisputeBisect', queryId: 0n, choice: BigInt(move.choice), roots: move.roots }
                    : { $$type: 'DisputeProve', queryId: 0n, choice: BigInt(move.choice), proof: move.proof },
            );
            made[side]++;
        }
        if (!taken) {
            clockTo(blockchain, Number(s.since) + (side === 1 ? Number(s.clockA) : Number(s.clockB)) + 1);
            if (!(await send('judge', 'timeout', { $$type: 'DisputeTimeout', queryId: 0n }))) throw new Error('the timeout was refused');
        }
    }
    return { winner, moves, dispute, left: (await blockchain.getContract(dispute.address)).balance };
}
