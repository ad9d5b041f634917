/**
 * Keys and wallets: a 24-word mnemonic, the W5 (v5r1) wallet it controls, and the key file a
 * daemon or CLI keeps it in (readable only by its owner).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Cell } from '@ton/core';
import { KeyPair, mnemonicNew, mnemonicToPrivateKey, mnemonicValidate } from '@ton/crypto';
import { WalletContractV5R1 } from '@ton/ton';

export type Network = 'devnet' | 'testnet' | 'mainnet';

export interface Identity {
    mnemonic: string[];
    keys: KeyPair;
    wallet: WalletContractV5R1;
}

/** The W5 wallet of `publicKey` on `network` (testnet and the devnet use the testnet wallet id). */
export function walletOf(publicKey: Buffer, network: Network): WalletContractV5R1 {
    return WalletContractV5R1.create({ publicKey, walletId: { networkGlobalId: network === 'mainnet' ? -239 : -3 } });
}

/**
 * A W5 wallet's seqno, read from its data (`is_signature_allowed:Bool seqno:uint32 …`): the same
 * number its `seqno` get-method returns, from the state already fetched, in the same snapshot.
 */
export function seqnoOfW5Data(data: Buffer): number {
    return Cell.fromBoc(data)[0].beginParse().skip(1).loadUint(32);
}

/** Derives keys and wallet from a mnemonic; throws one clear line if the words are not a valid mnemonic. */
export async function identityOf(mnemonic: string[], network: Network): Promise<Identity> {
    const words = mnemonic.map((w) => w.trim().toLowerCase()).filter((w) => w !== '');
    if (words.length !== 24 || !(await mnemonicValidate(words))) throw new Error('not a valid 24-word TON mnemonic');
    const keys = await mnemonicToPrivateKey(words);
    return { mnemonic: words, keys, wallet: walletOf(keys.publicKey, network) };
}

export async function newIdentity(network: Network): Promise<Identity> {
    return identityOf(await mnemonicNew(24), network);
}

/** Writes the mnemonic to `path` with mode 0600; refuses to overwrite an existing key file. */
export function writeKeyFile(path: string, identity: Identity): void {
    if (existsSync(path)) throw new Error(`key file ${path} already exists: refusing to overwrite it`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, identity.mnemonic.join(' ') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
}

/** Reads a key file; refuses one that others can read, as ssh does. */
export async function readKeyFile(path: string, network: Network): Promise<Identity> {
    if (!existsSync(path)) throw new Error(`no key file at ${path}: run \`fog-worker init\` first`);
    const mode = statSync(path).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
        throw new Error(`key file ${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
    }
    return identityOf(readFileSync(path, 'utf-8').split(/\s+/), network);
}
