import { Address, Cell, Transaction } from '@ton/core';

/** The distinct cells under `roots`, and their bits: what a message's forward fee is charged for. */
export function cellShape(...roots: Cell[]): { cells: number; bits: number } {
    const seen = new Set<string>();
    let cells = 0;
    let bits = 0;
    const walk = (c: Cell) => {
        const h = c.hash().toString('hex');
        if (seen.has(h)) return;
        seen.add(h);
        cells += 1;
        bits += c.bits.length;
        c.refs.forEach(walk);
    };
    roots.forEach(walk);
    return { cells, bits };
}

/** Compute gas of one transaction (0 when the compute phase was skipped). */
export function computeGas(tx: Transaction): bigint {
    const d = tx.description;
    return d.type === 'generic' && d.computePhase.type === 'vm' ? d.computePhase.gasUsed : 0n;
}

/**
 * The gas of an operation: the sum of compute gas over every transaction it caused, except
 * those of the sender's own wallet (its external message and any excesses coming back to it),
 * which depend on the wallet, not on Fog.
 */
export function operationGas(transactions: readonly Transaction[], senderWallet: Address): bigint {
    const excluded = BigInt('0x' + senderWallet.hash.toString('hex'));
    let total = 0n;
    for (const tx of transactions) {
        if (tx.address !== excluded) total += computeGas(tx);
    }
    return total;
}

/**
 * The TON an operation costs, over the same transactions as operationGas: each transaction's fees
 * (compute, storage, actions) and the forward fees of the internal messages it sent (what the
 * action fees leave to the message's delivery).
 */
export function operationFees(transactions: readonly Transaction[], senderWallet: Address): bigint {
    const excluded = BigInt('0x' + senderWallet.hash.toString('hex'));
    let total = 0n;
    for (const tx of transactions) {
        if (tx.address === excluded) continue;
        total += tx.totalFees.coins;
        for (const m of tx.outMessages.values()) if (m.info.type === 'internal') total += m.info.forwardFee;
    }
    return total;
}

/**
 * Figures measured the same way on sandbox 0.41 that Fog's operations are compared with: the Tact
 * reference jetton's transfer and mint, and the Tact NFT item deploy (a pass mint's counterpart).
 */
export const GAS_ANCHORS = {
    'Tact reference jetton transfer': 15_481,
    'Tact reference jetton mint': 15_780,
    'Tact NFT item deploy': 10_335,
} as const;
