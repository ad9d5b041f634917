/**
 * The network configuration for the emulator (@ton/sandbox, the devnet, the tests and the bench):
 * the sandbox's own, with mainnet's current basechain prices from client/fees.ts. Kept apart from
 * fees.ts so that what only reads prices (the CLIs, the web app's bundle) does not load the
 * sandbox's 150 KB configuration.
 */
import { beginCell, Builder, Cell, Dictionary, DictionaryValue } from '@ton/core';
// the config module alone: the package's index loads the whole emulator
import { defaultConfig } from '@ton/sandbox/dist/config/defaultConfig';
import { FORWARD, GAS, STORAGE } from '../fees';

const storeGasPrices = (b: Builder) =>
    b
        .storeUint(0xd1, 8)
        .storeUint(GAS.flatGasLimit, 64)
        .storeUint(GAS.flatGasPrice, 64)
        .storeUint(0xde, 8)
        .storeUint(GAS.gasPrice, 64)
        .storeUint(GAS.gasLimit, 64)
        .storeUint(GAS.specialGasLimit, 64)
        .storeUint(GAS.gasCredit, 64)
        .storeUint(GAS.blockGasLimit, 64)
        .storeUint(GAS.freezeDueLimit, 64)
        .storeUint(GAS.deleteDueLimit, 64);

const storeForwardPrices = (b: Builder) =>
    b
        .storeUint(0xea, 8)
        .storeUint(FORWARD.lumpPrice, 64)
        .storeUint(FORWARD.bitPrice, 64)
        .storeUint(FORWARD.cellPrice, 64)
        .storeUint(FORWARD.ihrPriceFactor, 32)
        .storeUint(FORWARD.firstFrac, 16)
        .storeUint(FORWARD.nextFrac, 16);

/** `storage_prices#cc utime_since:uint32 bit_price_ps:uint64 cell_price_ps:uint64 mc_bit_price_ps:uint64 mc_cell_price_ps:uint64` */
const StoragePricesValue: DictionaryValue<typeof STORAGE> = {
    serialize: (v, b) =>
        b
            .storeUint(0xcc, 8)
            .storeUint(0, 32)
            .storeUint(v.bitPricePs, 64)
            .storeUint(v.cellPricePs, 64)
            .storeUint(v.mcBitPricePs, 64)
            .storeUint(v.mcCellPricePs, 64),
    parse: () => {
        throw new Error('not needed');
    },
};

let cached: Cell | undefined;

/**
 * The sandbox's network configuration with mainnet's current basechain prices. The storage
 * prices hold from time 0 (mainnet keeps the old ones before the cut's date): a test clock set
 * in the past still pays today's prices.
 */
export function mainnetConfig(): Cell {
    if (cached) return cached;
    const params = Dictionary.loadDirect(Dictionary.Keys.Int(32), Dictionary.Values.Cell(), Cell.fromBase64(defaultConfig));
    const storage = Dictionary.empty(Dictionary.Keys.Uint(32), StoragePricesValue);
    storage.set(0, STORAGE);
    params.set(18, beginCell().storeDictDirect(storage).endCell());
    params.set(21, beginCell().store(storeGasPrices).endCell());
    params.set(25, beginCell().store(storeForwardPrices).endCell());
    cached = beginCell().storeDictDirect(params).endCell();
    return cached;
}
