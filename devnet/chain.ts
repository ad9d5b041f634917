/**
 * The devnet's chain: @ton/sandbox with a clock that follows wall time (optionally sped up), every
 * transaction kept on disk (LMDB) instead of in memory, one operation at a time, and a state that
 * can be saved and reloaded.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import {
    Address,
    beginCell,
    Cell,
    loadMessage,
    loadShardAccount,
    loadTransaction,
    serializeTuple,
    storeTransaction,
    Transaction,
    TupleItem,
    toNano,
} from '@ton/core';
import {
    Blockchain,
    BlockchainTransaction,
    EmulationError,
    GetMethodError,
    snapshotFromSerializable,
    snapshotToSerializable,
} from '@ton/sandbox';
import { open, RootDatabase } from 'lmdb';
import { mainnetConfig } from '../client/sandbox/config';

export interface DevnetChainOptions {
    /** Where the state and the transactions live; a temporary directory (removed on close) if absent. */
    dataDir?: string;
    /** Chain seconds per wall second (1 = real time). */
    speed?: number;
    /**
     * Chain time at a fresh start (default: now). Starting behind wall time leaves room to move the
     * clock forward while wallets that sign `valid_until` from wall time (Tonkeeper, blueprint's
     * mnemonic wallet) still get their messages accepted.
     */
    startAt?: number;
    /**
     * Deepest external message accepted (default MAX_MESSAGE_DEPTH, the emulator's limit). Tests of
     * the recovery raise it to mainnet's 512 to reach the emulator's failure on purpose.
     */
    maxMessageDepth?: number;
}

/**
 * Deepest external message (levels of cells below its root) the emulator survives. Bisected with
 * @ton/sandbox 0.41: a message whose root cell has depth 433 is emulated, one of depth 434 makes the
 * emulator's WebAssembly throw `RuntimeError: memory access out of bounds`, whatever the message
 * carries (a chain of 8-bit or 1000-bit cells, in the body inline, in a referenced body or in the
 * StateInit's data), on sendMessage and on the fee estimate alike. Its wasm build walks the cells
 * recursively on its own fixed-size stack (in linear memory, part of the build, so the limit is the
 * same on every machine and moves only with a sandbox upgrade: tests/devnet.spec.ts checks it), and
 * the overflow corrupts the emulator's memory so every later call fails too. Mainnet's validators
 * take external messages up to depth 512 (config param 43, max_msg_depth); a devnet refuses
 * 434..512 rather than break.
 */
export const MAX_MESSAGE_DEPTH = 433;

/** A message the chain refused: a malformed BoC, or an external message no contract accepted. */
export class RejectedMessage extends Error {
    constructor(
        message: string,
        readonly exitCode?: number,
    ) {
        super(message);
        this.name = 'RejectedMessage';
    }
}

/** A message refused before it reached the emulator (malformed, or deeper than it can take): the sender's mistake. */
export class UnacceptableMessage extends RejectedMessage {
    constructor(message: string) {
        super(message);
        this.name = 'UnacceptableMessage';
    }
}

/**
 * The emulator itself failed on an operation (not a refusal by a contract). The chain was rebuilt
 * from its state before the operation, which left no trace: no transaction, no state change.
 */
export class EmulatorFailure extends Error {
    constructor(readonly reason: Error) {
        super(`the emulator failed (${reason.message}); the devnet went back to its state before this request and goes on`);
        this.name = 'EmulatorFailure';
    }
}

/** WebAssembly's trap error (Node has it; this project's TypeScript libs do not declare it). */
const WasmTrap = (globalThis as unknown as { WebAssembly: { RuntimeError: ErrorConstructor } }).WebAssembly.RuntimeError;

/** True for a trap in the emulator's WebAssembly, after which its memory cannot be trusted. */
function emulatorCrashed(e: unknown): e is Error {
    return e instanceof WasmTrap;
}

/**
 * The emulator's own record of one account: its state serialized (a string that each transaction
 * replaces, never edits) and when it last paid storage. Keeping these references before an
 * operation costs a pointer per account, where `Blockchain.snapshot()` decodes and copies every
 * account (about 19 ms with 1,000 accounts, as much as the operation itself).
 */
interface KeptAccount {
    address: Address;
    account: string;
    lastTxTime: number;
}

/** @ton/sandbox 0.41's internals that `kept` reads (not exported; pinned by package-lock). */
interface EmulatorInternals {
    storage: { knownContracts(): { address: Address; _account: string; lastTxTime: number }[] };
}

export interface AccountInfo {
    balance: bigint;
    state: 'active' | 'uninitialized' | 'frozen';
    code: Cell | null;
    data: Cell | null;
    lastTransaction: { lt: bigint; hash: Buffer } | null;
}

export interface GetMethodOutcome {
    exitCode: number;
    gasUsed: bigint;
    stack: TupleItem[];
}

const BOC_ONCE = Symbol('fog.devnet.bocOnce');

/**
 * Serializes each cell to a BoC once. The emulator takes every account's code and data (and the
 * libraries) as BoCs, which @ton/sandbox makes again from the same cells at every get-method call:
 * a contract's code is tens of kilobytes, and serializing it was a quarter of a get-method's time
 * (measured: 600 get-methods on the hub, 10.2 s before, 7.4 s after). Cells are immutable, so the
 * bytes of a cell never change; each caller gets its own copy. Keyed weakly: a cell no longer used
 * takes its BoC with it.
 */
function serializeCellsOnce(): void {
    const proto = Cell.prototype as Cell & { [BOC_ONCE]?: true };
    if (proto[BOC_ONCE]) return;
    proto[BOC_ONCE] = true;
    const made = new WeakMap<Cell, Buffer>();
    const toBoc = proto.toBoc;
    proto.toBoc = function (this: Cell, opts?: Parameters<Cell['toBoc']>[0]) {
        if (opts !== undefined) return toBoc.call(this, opts);
        let boc = made.get(this);
        if (boc === undefined) made.set(this, (boc = toBoc.call(this)));
        return Buffer.from(boc);
    };
}
const STATE_FILE = 'state.json';
const LT_DIGITS = 20;
/** Decoded transactions kept in memory: enough for every client polling the newest ones of its account. */
const RECENT_TRANSACTIONS = 5_000;
/** Get-method answers kept: clients poll the same few (a job's state, a wallet's balance) between transactions. */
const RECENT_ANSWERS = 2_000;

/** Key of a transaction in the store: account, then lt, so one account's history is one range. */
function txKey(account: bigint, lt: bigint): string {
    return `${account.toString(16).padStart(64, '0')}:${lt.toString().padStart(LT_DIGITS, '0')}`;
}

function accountOf(a: Address): bigint {
    return BigInt('0x' + a.hash.toString('hex'));
}

export class DevnetChain {
    private queue: Promise<unknown> = Promise.resolve();
    private seqno = 1;
    private chainStart: number;
    /** Get-method answers by account state, clock, method and arguments, oldest first. */
    private readonly answers = new Map<string, GetMethodOutcome>();
    /** Recently recorded or read transactions by store key, least recently used first. */
    private readonly recent = new Map<string, Transaction>();
    private wallStart = Date.now();
    /**
     * Since this process opened the chain: transactions and their compute gas; milliseconds the
     * emulator was busy (every operation: messages, get-methods, reads, saves); get-methods run
     * and the milliseconds they took; times the emulator failed and was rebuilt.
     */
    readonly stats = { transactions: 0, gas: 0n, busyMs: 0, getMethods: 0, getMethodMs: 0, rebuilds: 0 };

    private constructor(
        private emulator: Blockchain,
        private readonly txs: RootDatabase<Buffer, string>,
        readonly dataDir: string,
        private readonly temporary: boolean,
        readonly speed: number,
        chainStart: number,
        seqno: number,
        private readonly maxMessageDepth: number,
    ) {
        this.chainStart = chainStart;
        this.seqno = seqno;
    }

    /** The emulator; a new one after a failure (`serial` rebuilds it), so read it inside `serial`, never keep it. */
    get blockchain(): Blockchain {
        return this.emulator;
    }

    /** Opens the chain in `dataDir`, reloading its saved state if there is one. */
    static async open(opts: DevnetChainOptions = {}): Promise<DevnetChain> {
        serializeCellsOnce();
        const speed = opts.speed ?? 1;
        if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000)
            throw new Error(`speed must be a number in (0, 100000], got ${opts.speed}`);
        const temporary = !opts.dataDir;
        const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fog-devnet-'));
        mkdirSync(dataDir, { recursive: true });
        const txs = open<Buffer, string>({ path: join(dataDir, 'transactions'), encoding: 'binary' });
        // autoDeployLibs: the masterchain's public libraries are kept as the network keeps them
        const blockchain = await Blockchain.create({ config: mainnetConfig(), autoDeployLibs: true });
        let chainStart = opts.startAt ?? Math.floor(Date.now() / 1000);
        let seqno = 1;
        const statePath = join(dataDir, STATE_FILE);
        if (existsSync(statePath)) {
            const saved = JSON.parse(readFileSync(statePath, 'utf-8')) as {
                snapshot: Parameters<typeof snapshotFromSerializable>[0];
                now: number;
                seqno: number;
            };
            await blockchain.loadFrom(snapshotFromSerializable(saved.snapshot));
            // chain time never goes back: it resumes from where it was saved
            chainStart = saved.now;
            seqno = saved.seqno;
        }
        const maxMessageDepth = opts.maxMessageDepth ?? MAX_MESSAGE_DEPTH;
        if (!Number.isInteger(maxMessageDepth) || maxMessageDepth < 1 || maxMessageDepth > 512)
            throw new Error(`maxMessageDepth must be a whole number in 1..512, got ${opts.maxMessageDepth}`);
        const chain = new DevnetChain(blockchain, txs, dataDir, temporary, speed, chainStart, seqno, maxMessageDepth);
        blockchain.now = chain.now();
        return chain;
    }

    /** True if the chain was reloaded from a saved state. */
    static hasState(dataDir: string): boolean {
        return existsSync(join(dataDir, STATE_FILE));
    }

    /** Chain time: the start plus wall time elapsed, times the speed. */
    now(): number {
        return this.chainStart + Math.floor(((Date.now() - this.wallStart) * this.speed) / 1000);
    }

    /** Moves the chain clock forward by `seconds` (for tests and demos that cannot wait). */
    advance(seconds: number): void {
        if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`advance takes a whole number of seconds ≥ 0, got ${seconds}`);
        this.chainStart += seconds;
    }

    /** The masterchain block counter: one "block" per processed message chain. */
    get blockSeqno(): number {
        return this.seqno;
    }

    /**
     * Runs `fn` after every operation already queued: the emulator does one thing at a time. If the
     * emulator itself fails inside `fn`, the chain is rebuilt as it was before `fn` and `fn` fails
     * with EmulatorFailure: one request must not stop the chain.
     */
    serial<T>(fn: () => Promise<T>, changesState = true): Promise<T> {
        const run = this.queue.then(async () => {
            const start = performance.now();
            // what to go back to: kept before an operation that changes accounts (a chain of
            // transactions cut short), read at the failure for one that only reads (it changed
            // nothing), so reads pay nothing that grows with the number of accounts
            const before = changesState ? this.kept() : undefined;
            try {
                this.emulator.now = this.now();
                return await fn();
            } catch (e) {
                if (!emulatorCrashed(e)) throw e;
                await this.rebuild(before ?? this.kept());
                throw new EmulatorFailure(e);
            } finally {
                this.stats.busyMs += performance.now() - start;
            }
        });
        this.queue = run.catch(() => undefined);
        return run;
    }

    /** Every account's state as the emulator holds it now (references, not copies). */
    private kept(): KeptAccount[] {
        return (this.emulator as unknown as EmulatorInternals).storage
            .knownContracts()
            .map((c) => ({ address: c.address, account: c._account, lastTxTime: c.lastTxTime }));
    }

    /**
     * A new emulator (a new WebAssembly instance: the failed one's memory is corrupt) holding the
     * accounts as `before` had them. A chain of transactions cut short changed some accounts before
     * the failure, and none of it was recorded: going back to `before` drops all of it. The rest
     * (the network config, libraries, lt) comes from the failed emulator's JavaScript side, which
     * the failure did not touch; its lt only ever grows.
     */
    private async rebuild(before: KeptAccount[]): Promise<void> {
        const snapshot = this.emulator.snapshot();
        snapshot.contracts = before.map((k) => ({
            address: k.address,
            account: loadShardAccount(Cell.fromBase64(k.account).beginParse()),
            lastTxTime: k.lastTxTime,
        }));
        snapshot.transactions = [];
        const fresh = await Blockchain.create();
        await fresh.loadFrom(snapshot);
        fresh.now = this.now();
        this.emulator = fresh;
        this.stats.rebuilds += 1;
    }

    /** Refuses a message the emulator cannot take, before it reaches the emulator. */
    private checkDepth(message: Cell): void {
        const depth = message.depth();
        if (depth > this.maxMessageDepth) {
            throw new UnacceptableMessage(
                `message too deep: its cells nest ${depth} levels, this devnet's emulator takes at most ${this.maxMessageDepth} (mainnet takes 512)`,
            );
        }
    }

    /**
     * Processes an external message (a wallet's signed transfer) and everything it causes. Fails
     * with RejectedMessage if the BoC is malformed or no contract accepts the message, as
     * toncenter's `sendBoc` does; otherwise resolves once the whole chain of transactions ran.
     */
    sendBoc(boc: Buffer): Promise<{ hash: Buffer; transactions: number }> {
        let cell: Cell;
        try {
            cell = Cell.fromBoc(boc)[0];
            const msg = loadMessage(cell.beginParse());
            if (msg.info.type !== 'external-in') throw new Error('only external messages can be sent');
        } catch (e) {
            return Promise.reject(new UnacceptableMessage(`malformed message: ${(e as Error).message}`));
        }
        try {
            this.checkDepth(cell);
        } catch (e) {
            return Promise.reject(e);
        }
        return this.serial(async () => {
            let result;
            try {
                result = await this.emulator.sendMessage(cell);
            } catch (e) {
                if (e instanceof EmulationError) {
                    throw new RejectedMessage(
                        `external message not accepted: ${e.error}${e.exitCode !== undefined ? ` (exit code ${e.exitCode})` : ''}`,
                        e.exitCode,
                    );
                }
                if (emulatorCrashed(e)) throw e;
                throw new RejectedMessage(`external message not accepted: ${(e as Error).message}`);
            }
            this.record(result.transactions);
            return { hash: cell.hash(), transactions: result.transactions.length };
        });
    }

    /**
     * Keeps `transactions` on disk (one LMDB commit for the whole chain: a commit per transaction
     * cost about as much as emulating it) and drops the emulator's own copy, so memory does not grow
     * with history. The newest stay decoded in memory too, for the clients polling for them.
     */
    record(transactions: BlockchainTransaction[]): void {
        this.seqno += 1;
        this.txs.transactionSync(() => {
            for (const tx of transactions) {
                this.stats.transactions += 1;
                const d = tx.description;
                if (d.type === 'generic' && d.computePhase.type === 'vm') this.stats.gas += d.computePhase.gasUsed;
                const key = txKey(tx.address, tx.lt);
                const cell = beginCell().store(storeTransaction(tx)).endCell();
                this.txs.putSync(key, cell.toBoc({ idx: false }));
                // what a client reads is the stored cell (its hash is the transaction's id here), not the emulator's object
                this.remember(key, loadTransaction(cell.beginParse()));
            }
        });
        (this.emulator as unknown as { transactions: unknown[] }).transactions = [];
    }

    /** The transaction stored under `key`, decoded (from the cache of recent ones when there). */
    private decoded(key: string, boc: Buffer): Transaction {
        const cached = this.recent.get(key);
        if (cached) return cached;
        const tx = loadTransaction(Cell.fromBoc(boc)[0].beginParse());
        this.remember(key, tx);
        return tx;
    }

    /** Caches a decoded transaction, the least recently used one making room. */
    private remember(key: string, tx: Transaction): void {
        this.recent.delete(key);
        this.recent.set(key, tx);
        if (this.recent.size > RECENT_TRANSACTIONS) this.recent.delete(this.recent.keys().next().value!);
    }

    /** An account's state, as `getAddressInformation` reports it. */
    account(address: Address): Promise<AccountInfo> {
        return this.serial(async () => {
            const c = await this.blockchain.getContract(address);
            const s = c.accountState;
            const lastLt = c.lastTransactionLt;
            return {
                balance: c.balance,
                state: s?.type === 'active' ? 'active' : s?.type === 'frozen' ? 'frozen' : 'uninitialized',
                code: s?.type === 'active' ? (s.state.code ?? null) : null,
                data: s?.type === 'active' ? (s.state.data ?? null) : null,
                lastTransaction:
                    lastLt > 0n ? { lt: lastLt, hash: Buffer.from(c.lastTransactionHash.toString(16).padStart(64, '0'), 'hex') } : null,
            };
        }, false);
    }

    /** Runs a get-method; an uninitialized account fails as toncenter does. */
    runGetMethod(address: Address, method: string | number, stack: TupleItem[]): Promise<GetMethodOutcome> {
        return this.serial(async () => {
            const c = await this.blockchain.getContract(address);
            if (c.accountState?.type !== 'active')
                throw new RejectedMessage(`cannot run get-method ${method} on an account that is not active: ${address.toString()}`);
            // A get-method sees the account's state (changed only by its transactions), the clock
            // and its arguments: the same four give the same answer, without running it again.
            const key = `${address.toRawString()}|${c.account.lastTransactionLt}|${this.blockchain.now}|${method}|${serializeTuple(stack).hash().toString('base64')}`;
            const known = this.answers.get(key);
            if (known) return known;
            const start = performance.now();
            this.stats.getMethods += 1;
            try {
                let outcome: GetMethodOutcome;
                try {
                    const r = await this.blockchain.runGetMethod(address, method, stack);
                    outcome = { exitCode: r.exitCode, gasUsed: r.gasUsed, stack: r.stack };
                } catch (e) {
                    if (!(e instanceof GetMethodError)) throw e;
                    outcome = { exitCode: e.exitCode, gasUsed: e.gasUsed, stack: [] };
                }
                this.answers.set(key, outcome);
                if (this.answers.size > RECENT_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
                return outcome;
            } finally {
                this.stats.getMethodMs += performance.now() - start;
            }
        }, false);
    }

    /**
     * An account's transactions, newest first: from (lt, hash) inclusive if given, else from the
     * newest; down to (excluding) `toLt`; at most `limit`.
     */
    transactions(address: Address, opts: { limit: number; lt?: bigint; hash?: Buffer; toLt?: bigint }): Transaction[] {
        const account = accountOf(address);
        const start = txKey(account, opts.lt ?? (1n << 64n) - 1n);
        const end = txKey(account, opts.toLt ?? 0n);
        const out: Transaction[] = [];
        for (const { key, value } of this.txs.getRange({ start, end, reverse: true })) {
            const tx = this.decoded(key, value);
            if (out.length === 0 && opts.lt !== undefined && opts.hash && !tx.hash().equals(opts.hash)) {
                throw new RejectedMessage(
                    `no transaction with lt ${opts.lt} and hash ${opts.hash.toString('hex')} on ${address.toString()}`,
                );
            }
            if (out.length === 0 && opts.lt !== undefined && tx.lt !== opts.lt) {
                throw new RejectedMessage(`no transaction with lt ${opts.lt} on ${address.toString()}`);
            }
            if (opts.toLt !== undefined && tx.lt <= opts.toLt) break;
            out.push(tx);
            if (out.length >= opts.limit) break;
        }
        return out;
    }

    /**
     * The fees of an external message's first transaction, emulated on the current state and then
     * rolled back (toncenter's `estimateFee`).
     */
    emulateFees(message: Cell, ignoreChksig: boolean): Promise<{ inFwd: bigint; storage: bigint; gas: bigint; fwd: bigint }> {
        try {
            this.checkDepth(message);
        } catch (e) {
            return Promise.reject(e);
        }
        return this.serial(async () => {
            const before = this.blockchain.snapshot();
            try {
                const iter = await this.blockchain.sendMessageIter(message, { ignoreChksig });
                const first = await iter.next();
                if (first.done) throw new RejectedMessage('the message caused no transaction');
                const tx = first.value;
                const d = tx.description;
                const storage = d.type === 'generic' && d.storagePhase ? d.storagePhase.storageFeesCollected : 0n;
                const gas = d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.gasFees : 0n;
                const fwd = d.type === 'generic' && d.actionPhase ? (d.actionPhase.totalFwdFees ?? 0n) : 0n;
                const inFwd = tx.totalFees.coins - storage - gas - fwd;
                return { inFwd: inFwd < 0n ? 0n : inFwd, storage, gas, fwd };
            } catch (e) {
                if (e instanceof EmulationError) throw new RejectedMessage(`external message not accepted: ${e.error}`, e.exitCode);
                throw e;
            } finally {
                await this.blockchain.loadFrom(before);
            }
        }, false);
    }

    /** Sends `amount` nanoton from the faucet to `to` (non-bounceable: it can fund an undeployed wallet). */
    faucet(to: Address, amount: bigint): Promise<void> {
        if (amount <= 0n || amount > toNano('1000000'))
            return Promise.reject(new RangeError(`faucet amount must be in (0, 1000000] TON, got ${amount} nanoton`));
        return this.serial(async () => {
            const faucet = await this.blockchain.treasury('fog-devnet-faucet', { balance: toNano('1000000000'), resetBalanceIfZero: true });
            const r = await faucet.send({ to, value: amount, bounce: false });
            this.record(r.transactions);
        });
    }

    /** Writes the chain's state to `dataDir` (atomically), so `open` resumes from it. */
    save(): Promise<void> {
        return this.serial(async () => {
            const snapshot = snapshotToSerializable(this.blockchain.snapshot());
            snapshot.transactions = [];
            const path = join(this.dataDir, STATE_FILE);
            writeFileSync(path + '.tmp', JSON.stringify({ snapshot, now: this.now(), seqno: this.seqno }));
            renameSync(path + '.tmp', path);
        }, false);
    }

    async close(): Promise<void> {
        await this.queue;
        await this.txs.close();
        if (this.temporary) rmSync(this.dataDir, { recursive: true, force: true });
    }
}
