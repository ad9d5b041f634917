/**
 * The one way Fog's off-chain code sends a transaction: from a W5 wallet, seqno handled, retried
 * with backoff while the endpoint is unreachable, confirmed by finding the wallet's transaction
 * (and, if asked, the transaction each message caused), with one clear error for a refusal.
 */
import { Address, beginCell, Cell, external, internal, Message, SendMode, StateInit, storeMessage, Transaction } from '@ton/core';
import { TonClient } from '@ton/ton';
import { describeError, isTransient } from './chain';
import { Identity, seqnoOfW5Data } from './wallet';
import { exitCodeName } from './errors';
import { forwardFee, forwardFeeOf, gasFee } from './fees';

/**
 * Compute gas of a W5 wallet's transaction, an upper bound: its signature check and seqno, then
 * each action (measured on the devnet: 4,939 gas for one message, 7,090 for 4, 40,072 for 50).
 */
const walletGas = (messages: number) => 5_000n + 800n * BigInt(messages);

/** A message to send from the wallet. */
export interface Outgoing {
    to: Address;
    value: bigint;
    body?: Cell;
    init?: StateInit;
    /** Default true, as in a wallet; a message to an undeployed wallet should not bounce. */
    bounce?: boolean;
}

/** What one message did at its destination. */
export interface Hop {
    to: Address;
    tx: Transaction;
    success: boolean;
    exitCode: number;
}

export interface Sent {
    seqno: number;
    /** The wallet's transaction that carried the messages out. */
    tx: Transaction;
    /** The destinations' transactions, when `follow` was asked for. */
    hops: Hop[];
}

/** How many of an account's newest transactions to look through for one that `messages` messages of a send caused. */
const lookBack = (messages: number) => Math.min(100, 20 + 3 * messages);

/** A send that failed: refused by the endpoint, by the wallet, or by a destination contract. */
export class SendError extends Error {
    constructor(
        message: string,
        /**
         * `shortBy`: the wallet held this much less than the messages and their fees need, nanoton
         * as a decimal string (nothing was sent). Plain data only: errors cross threads and test
         * runners, which cannot serialize a bigint.
         */
        readonly data: { address?: string; exitCode?: number; txHash?: string; shortBy?: string } = {},
    ) {
        super(message);
        this.name = 'SendError';
    }
}

export interface SenderOptions {
    /** Attempts for a transient failure (unreachable endpoint, 429/5xx) before giving up. */
    retries?: number;
    /** First backoff, doubled after each attempt. */
    backoffMs?: number;
    /** How long to wait for the transactions to appear. */
    confirmTimeoutMs?: number;
    pollMs?: number;
    /** Seconds a signed message stays valid. */
    validForSeconds?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cellOf = (m: Message) => beginCell().store(storeMessage(m)).endCell();

/** Whether a transaction failed: compute skipped or failed, aborted, or a failed action phase. */
export function failed(tx: Transaction): { failed: boolean; exitCode: number } {
    const d = tx.description;
    if (d.type !== 'generic') return { failed: false, exitCode: 0 };
    if (d.computePhase.type === 'skipped') return { failed: true, exitCode: -1 };
    if (!d.computePhase.success) return { failed: true, exitCode: d.computePhase.exitCode };
    if (d.aborted || (d.actionPhase && !d.actionPhase.success)) return { failed: true, exitCode: d.actionPhase?.resultCode ?? -1 };
    return { failed: false, exitCode: d.computePhase.exitCode };
}

/**
 * Fees the wallet pays on top of the messages' values (it sends with PAY_GAS_SEPARATELY): its
 * compute and each message's forward fee (body and StateInit counted whole: an upper bound). The
 * external message's import fee comes on top (the sender counts it on the signed message).
 */
export function walletFees(messages: Outgoing[]): bigint {
    let fees = gasFee(walletGas(messages.length));
    for (const m of messages) {
        const parts = [m.body, m.init?.code, m.init?.data].filter((c): c is Cell => !!c);
        fees += parts.length > 0 ? forwardFeeOf(...parts) : forwardFee(0n, 0n);
    }
    return fees;
}

/**
 * What of `planned` the wallet's transaction did not send, in words, or null when every message
 * left. The wallet signs with IGNORE_ERRORS, so a message its action phase could not send (too
 * little balance by then, say) is skipped while the transaction itself succeeds.
 */
export function unsent(tx: Transaction, planned: Outgoing[]): string | null {
    const d = tx.description;
    const skipped = d.type === 'generic' && d.actionPhase ? d.actionPhase.skippedActions : 0;
    const left = [...tx.outMessages.values()].filter((m) => m.info.type === 'internal');
    const missing = planned.filter(
        (p) => !left.some((m) => m.info.type === 'internal' && m.info.dest.equals(p.to) && m.info.value.coins >= p.value),
    );
    if (skipped === 0 && missing.length === 0 && left.length >= planned.length) return null;
    const what =
        missing.length > 0
            ? `${missing.length} of its ${planned.length} messages did not leave (to ${missing.map((m) => m.to.toString({ testOnly: true })).join(', ')})`
            : `${planned.length - left.length} of its ${planned.length} messages did not leave`;
    return skipped > 0 ? `${what}; the action phase skipped ${skipped}` : what;
}

export class WalletSender {
    private queue: Promise<unknown> = Promise.resolve();
    private readonly opts: Required<SenderOptions>;

    constructor(
        readonly client: TonClient,
        readonly identity: Identity,
        opts: SenderOptions = {},
        private readonly endpoint = 'the endpoint',
    ) {
        this.opts = { retries: 6, backoffMs: 300, confirmTimeoutMs: 60_000, pollMs: 250, validForSeconds: 120, ...opts };
    }

    get address(): Address {
        return this.identity.wallet.address;
    }

    /** Runs `fn` with retries and exponential backoff while the failure is transient. */
    async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
        let delay = this.opts.backoffMs;
        for (let attempt = 1; ; attempt++) {
            try {
                return await fn();
            } catch (e) {
                if (!isTransient(e) || attempt >= this.opts.retries) throw new SendError(`${what}: ${describeError(e, this.endpoint)}`);
                await sleep(delay);
                delay *= 2;
            }
        }
    }

    /** The wallet's balance in nanoton (0 before it is deployed). */
    balance(): Promise<bigint> {
        return this.retrying('reading the wallet balance', () => this.client.getBalance(this.address));
    }

    /**
     * Sends `messages` in one wallet transaction. With `follow`, also waits for each message's
     * transaction at its destination and fails if a destination refused it.
     */
    send(messages: Outgoing[], follow = false): Promise<Sent> {
        return this.queued(() => this.sendNow(messages, follow ? 'throw' : 'none'));
    }

    /**
     * Sends `messages` in one wallet transaction and follows each to its destination, as `send`
     * with `follow`; but a destination that refuses its message, or whose transaction does not
     * show up in time, fails that message alone: `outcomes[i]` is undefined for a message that
     * landed and the SendError of one that did not. Throws only when the wallet's transaction
     * itself failed (then no message left).
     */
    async sendEach(messages: Outgoing[]): Promise<{ sent: Sent; outcomes: (SendError | undefined)[] }> {
        const outcomes: (SendError | undefined)[] = [];
        const sent = await this.queued(() => this.sendNow(messages, 'each', outcomes));
        return { sent, outcomes };
    }

    private queued<T>(fn: () => Promise<T>): Promise<T> {
        const run = this.queue.then(fn);
        this.queue = run.catch(() => undefined);
        return run;
    }

    private async sendNow(
        messages: Outgoing[],
        follow: 'none' | 'throw' | 'each',
        outcomes: (SendError | undefined)[] = [],
    ): Promise<Sent> {
        if (messages.length === 0 || messages.length > 255)
            throw new SendError(`a wallet sends 1 to 255 messages at once, got ${messages.length}`);
        // the seqno from the wallet's data rather than its get-method: one request instead of two
        const state = await this.retrying('reading the wallet', () => this.client.getContractState(this.address));
        const seqno = state.state === 'active' && state.data ? seqnoOfW5Data(state.data) : 0;
        const body = this.identity.wallet.createTransfer({
            seqno,
            secretKey: this.identity.keys.secretKey,
            sendMode: SendMode.PAY_GAS_SEPARATELY | SendMode.IGNORE_ERRORS,
            // chain time, not this machine's clock: they differ on a devnet moved forward, or a skewed host
            timeout: (state.timestampt || Math.floor(Date.now() / 1000)) + this.opts.validForSeconds,
            messages: messages.map((m) => internal({ to: m.to, value: m.value, body: m.body, init: m.init, bounce: m.bounce ?? true })),
        });
        const ext = external({ to: this.address, init: state.state === 'active' ? undefined : this.identity.wallet.init, body });
        const init = ext.init ? [ext.init.code, ext.init.data].filter((c): c is Cell => !!c) : [];
        const needed = messages.reduce((sum, m) => sum + m.value, 0n) + walletFees(messages) + forwardFeeOf(body, ...init);
        if (state.balance < needed) {
            throw new SendError(
                `wallet ${this.address.toString({ testOnly: true })} holds ${state.balance} nanoton, the messages and their fees need ${needed}`,
                { address: this.address.toString(), shortBy: (needed - state.balance).toString() },
            );
        }
        const boc = cellOf(ext).toBoc();
        try {
            await this.retrying('sending', () => this.client.sendFile(boc));
        } catch (e) {
            // a retry after a lost reply may be refused because the first attempt landed: look for it
            const landed = await this.findWalletTx(body.hash(), 1, messages.length);
            if (!landed) throw e;
        }
        const tx = await this.findWalletTx(body.hash(), this.opts.confirmTimeoutMs, messages.length);
        if (!tx)
            throw new SendError(`transaction with seqno ${seqno} not confirmed within ${this.opts.confirmTimeoutMs / 1000} s`, {
                address: this.address.toString(),
            });
        const f = failed(tx);
        if (f.failed)
            throw new SendError(`the wallet failed to send (exit code ${f.exitCode})`, {
                address: this.address.toString(),
                exitCode: f.exitCode,
                txHash: tx.hash().toString('hex'),
            });
        const missing = unsent(tx, messages);
        if (missing)
            throw new SendError(`the wallet's transaction landed but ${missing}`, {
                address: this.address.toString(),
                txHash: tx.hash().toString('hex'),
            });
        const hops: Hop[] = [];
        if (follow !== 'none') {
            // the wallet sends its messages in order, each as one out message (unsent checked it)
            const deadline = Date.now() + this.opts.confirmTimeoutMs;
            for (const out of tx.outMessages.values()) {
                if (out.info.type !== 'internal') continue;
                const to = out.info.dest;
                const outHash = cellOf(out).hash();
                let hop: Transaction | null;
                try {
                    hop = await this.findTx(
                        to,
                        (t) => !!t.inMessage && cellOf(t.inMessage).hash().equals(outHash),
                        // one deadline for all of them: their transactions come at about the same time
                        follow === 'each' ? Math.max(0, deadline - Date.now()) : this.opts.confirmTimeoutMs,
                        // several messages to one contract, each with its replies: look far enough back
                        lookBack(messages.length),
                    );
                } catch (e) {
                    // the endpoint failed while looking: this message's fate is unknown, not the others'
                    if (follow === 'throw' || !(e instanceof SendError)) throw e;
                    outcomes.push(e);
                    continue;
                }
                let error: SendError | undefined;
                if (!hop)
                    error = new SendError(
                        `no transaction at ${to.toString()} for the message within ${this.opts.confirmTimeoutMs / 1000} s`,
                        { address: to.toString() },
                    );
                else {
                    const h = failed(hop);
                    if (h.failed)
                        error = new SendError(
                            `${to.toString({ testOnly: true })} refused the message: exit code ${h.exitCode}${exitCodeName(h.exitCode) ? ` (${exitCodeName(h.exitCode)})` : ''}`,
                            {
                                address: to.toString(),
                                exitCode: h.exitCode,
                                txHash: hop.hash().toString('hex'),
                            },
                        );
                    else hops.push({ to, tx: hop, success: true, exitCode: h.exitCode });
                }
                if (error && follow === 'throw') throw error;
                outcomes.push(error);
            }
        }
        return { seqno, tx, hops };
    }

    /**
     * The wallet's transaction of the external message whose body is `bodyHash`. Each message it
     * sent may bring a reply (an excess, a refund) that lands on the wallet after it: with
     * `messages` of them, look that much further back.
     */
    private findWalletTx(bodyHash: Buffer, timeoutMs: number, messages = 1): Promise<Transaction | null> {
        return this.findTx(
            this.address,
            (t) => t.inMessage?.info.type === 'external-in' && t.inMessage.body.hash().equals(bodyHash),
            timeoutMs,
            lookBack(messages),
        );
    }

    /** Polls `address`'s newest transactions until one matches, or the timeout passes. */
    async findTx(address: Address, match: (t: Transaction) => boolean, timeoutMs: number, limit = 20): Promise<Transaction | null> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const txs = await this.retrying('reading transactions', () => this.client.getTransactions(address, { limit, archival: true }));
            const found = txs.find(match);
            if (found) return found;
            if (Date.now() >= deadline) return null;
            await sleep(this.opts.pollMs);
        }
    }
}
