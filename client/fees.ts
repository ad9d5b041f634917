/**
 * Mainnet's current basechain prices, as one source for the devnet, the tests, the bench and the
 * fee checks of the sender, so every fee a user sees locally is the fee they will pay.
 *
 * The values are those of the network configuration since the May 2026 fee cut (config parameters
 * 18, 21 and 25; parameters 20 and 24, the masterchain's, did not change). @ton/sandbox 0.41 ships
 * the config of before the cut (400 nanoton per gas, a 400,000-nanoton message lump): `mainnetConfig`
 * is its config with these three parameters replaced (client/sandbox/config.ts).
 */
import { Cell } from '@ton/core';
import { cellShape } from '../wrappers/gas';

/** Prices in units of 2^-16 nanoton, as the config stores them. */
const UNIT = 65_536n;

/** ConfigParam 21, `gas_flat_pfx` + `gas_prices_ext`: the basechain's gas prices and limits. */
export const GAS = {
    flatGasLimit: 100n,
    flatGasPrice: 6_667n,
    /** 66.67 nanoton per gas. */
    gasPrice: 4_369_067n,
    gasLimit: 1_000_000n,
    specialGasLimit: 1_000_000n,
    gasCredit: 10_000n,
    blockGasLimit: 10_000_000n,
    freezeDueLimit: 100_000_000n,
    deleteDueLimit: 1_000_000_000n,
} as const;

/** ConfigParam 25, `msg_forward_prices`: the basechain's forwarding prices. */
export const FORWARD = {
    lumpPrice: 66_667n,
    /** About 66.67 nanoton per bit. */
    bitPrice: 4_369_067n,
    /** About 6,666.7 nanoton per cell. */
    cellPrice: 436_906_667n,
    ihrPriceFactor: 98_304n,
    firstFrac: 21_845n,
    nextFrac: 21_845n,
} as const;

/**
 * ConfigParam 18, `storage_prices`: per second, in 2^-16 nanoton. Since the cut (utime_since
 * 1,777,500,000) basechain bits are free and a cell costs 135 (was 1 per bit and 500 per cell):
 * the entry as mainnet's config holds it (read from the mainnet config that @ton/sandbox 0.44
 * ships, masterchain block 72,712,993).
 */
export const STORAGE = { bitPricePs: 0n, cellPricePs: 135n, mcBitPricePs: 1_000n, mcCellPricePs: 500_000n } as const;

/** Compute fee of `gas` units on the basechain (Tact's `getComputeFee(gas, false)`). */
export function gasFee(gas: bigint): bigint {
    if (gas <= GAS.flatGasLimit) return GAS.flatGasPrice;
    return GAS.flatGasPrice + ((gas - GAS.flatGasLimit) * GAS.gasPrice + UNIT - 1n) / UNIT;
}

/** TON for `gas` units at the gas price alone (an operation's gas summed over its transactions), as a decimal string. */
export function gasTon(gas: bigint | number): string {
    return ((Number(gas) * Number(GAS.gasPrice)) / Number(UNIT) / 1e9).toFixed(6);
}

/** The gas price in nanoton per unit, for labels. */
export const GAS_PRICE_NANO = (Number(GAS.gasPrice) / Number(UNIT)).toFixed(2);

/** Forward fee of a message of `cells` cells and `bits` bits beyond its root (Tact's `getForwardFee(cells, bits, false)`). */
export function forwardFee(cells: bigint, bits: bigint): bigint {
    return FORWARD.lumpPrice + (FORWARD.bitPrice * bits + FORWARD.cellPrice * cells + UNIT - 1n) / UNIT;
}

/** Forward fee of a message whose body (and StateInit, if any) are these cells, root cells counted: an upper bound. */
export function forwardFeeOf(...cells: Cell[]): bigint {
    const { cells: n, bits } = cellShape(...cells);
    return forwardFee(BigInt(n), BigInt(bits));
}

/**
 * TON attached on top of a contract's own cost getter, returned as excess; also the whole value
 * of the messages whose handler only spends its own compute (finalize, unstake, close epoch):
 * 100,000 gas, several times the largest handler's bound, plus the excess's forward fee.
 */
export const MARGIN = gasFee(100_000n) + forwardFee(1n, 1023n);
