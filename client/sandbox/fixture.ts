/**
 * Sandbox fixture: the token and the pass collection deployed in an emulator, with helpers to read a transaction's gas and outcome.
 * The contract tests, the gas table (`tests/gas.spec.ts`) and `npm run bench` all use it, so it
 * lives in `client/` where every role may import it; nothing that runs against a real chain does.
 */
import { Address, beginCell, Cell, Slice, toNano } from '@ton/core';
import { Blockchain, internal, SandboxContract, SendMessageResult, TreasuryContract } from '@ton/sandbox';
import { FogToken } from '../../wrappers/FogToken';
import { FogWallet } from '../../wrappers/FogWallet';
import { PassCollection } from '../../wrappers/PassCollection';
import { PassItem } from '../../wrappers/PassItem';
import { fogTokenInit, passCollectionInit } from '../../wrappers/protocol';
import { computeGas } from '../../wrappers/gas';
import { mainnetConfig } from './config';

/** A fixed clock, so no test depends on when it runs. */
export const NOW = 1_800_000_000;

/** The TEP-74 forward payload that carries nothing: the Either tag 0. */
export function emptyPayload(): Slice {
    return beginCell().storeBit(0).endCell().beginParse();
}

/** A forward payload held inline (Either tag 0, then the bits). */
export function inlinePayload(text: string): Slice {
    return beginCell().storeBit(0).storeStringTail(text).endCell().beginParse();
}

/** A forward payload held in a reference (Either tag 1, then ^Cell). */
export function refPayload(text: string): Slice {
    return beginCell().storeBit(1).storeRef(beginCell().storeStringTail(text)).endCell().beginParse();
}

export interface FogFixture {
    blockchain: Blockchain;
    admin: SandboxContract<TreasuryContract>;
    token: SandboxContract<FogToken>;
    collection: SandboxContract<PassCollection>;
    walletOf(owner: Address): Promise<SandboxContract<FogWallet>>;
    passOf(owner: Address): Promise<SandboxContract<PassItem>>;
    /** Mints `amount` FOG to `to` from the admin (the mint authority in the fixture). */
    mint(to: Address, amount: bigint): Promise<SendMessageResult>;
}

/** The FOG master and the pass collection, deployed; the admin is the mint and pass authority. */
export async function fogFixture(): Promise<FogFixture> {
    const blockchain = await Blockchain.create({ config: mainnetConfig() });
    blockchain.now = NOW;
    const admin = await blockchain.treasury('admin');
    const token = blockchain.openContract(await fogTokenInit(admin.address));
    await token.send(admin.getSender(), { value: toNano('0.05') }, null);
    await token.send(
        admin.getSender(),
        { value: toNano('0.05') },
        { $$type: 'SetMintAuthority', queryId: 0n, authority: admin.address, lock: false },
    );
    const collection = blockchain.openContract(await passCollectionInit(admin.address));
    await collection.send(admin.getSender(), { value: toNano('0.05') }, null);

    const walletOf = async (owner: Address) => blockchain.openContract(FogWallet.fromAddress(await token.getGetWalletAddress(owner)));
    const passOf = async (owner: Address) => blockchain.openContract(PassItem.fromAddress(await collection.getPassAddress(owner)));
    const mint = (to: Address, amount: bigint) =>
        token.send(
            admin.getSender(),
            { value: toNano('0.1') },
            {
                $$type: 'Mint',
                queryId: 0n,
                receiver: to,
                amount,
                responseDestination: admin.address,
                forwardTonAmount: 0n,
                forwardPayload: emptyPayload(),
            },
        );
    return { blockchain, admin, token, collection, walletOf, passOf, mint };
}

/** The transaction of `address` in a result (the first, when there are several). */
export function txOf(result: SendMessageResult, address: Address) {
    const id = BigInt('0x' + address.hash.toString('hex'));
    const tx = result.transactions.find((t) => t.address === id);
    if (!tx) throw new Error(`no transaction of ${address.toString()} in the result`);
    return tx;
}

export function succeeded(result: SendMessageResult, address: Address): boolean {
    const id = BigInt('0x' + address.hash.toString('hex'));
    const tx = result.transactions.find((t) => t.address === id);
    if (!tx) return false;
    const d = tx.description;
    return d.type === 'generic' && d.computePhase.type === 'vm' && d.computePhase.success && !d.aborted;
}

/** Compute gas of `address`'s transaction in a result. */
export function gasOf(result: SendMessageResult, address: Address): bigint {
    return computeGas(txOf(result, address));
}

/**
 * The least value in [lo, hi] at which `target` accepts the message `send(value)` makes, found by
 * bisection on snapshots; the chain is left as it was. Acceptance must be monotonic in value.
 */
export async function minimumAccepted(
    blockchain: Blockchain,
    target: Address,
    send: (value: bigint) => Promise<SendMessageResult>,
    lo: bigint,
    hi: bigint,
): Promise<bigint> {
    const start = blockchain.snapshot();
    const accepts = async (value: bigint) => {
        const ok = succeeded(await send(value), target);
        await blockchain.loadFrom(start);
        return ok;
    };
    if (!(await accepts(hi))) throw new Error(`not accepted even with ${hi}`);
    if (await accepts(lo)) return lo;
    while (hi - lo > 1n) {
        const mid = (lo + hi) / 2n;
        if (await accepts(mid)) hi = mid;
        else lo = mid;
    }
    return hi;
}

/** The body a bounce of `original` delivers: 0xffffffff then the first 256 bits, no references. */
export function bouncedBody(original: Cell): Cell {
    const s = original.beginParse();
    const bits = Math.min(256, s.remainingBits);
    return beginCell().storeUint(0xffffffff, 32).storeBits(s.loadBits(bits)).endCell();
}

/** Delivers a bounce of `original` from `from` to `to` carrying `value`, as the network would. */
export function deliverBounce(blockchain: Blockchain, from: Address, to: Address, original: Cell, value: bigint) {
    return blockchain.sendMessage(internal({ from, to, value, body: bouncedBody(original), bounced: true, bounce: false }));
}
