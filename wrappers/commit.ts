import { Address } from '@ton/core';
import { sha256_sync } from '@ton/crypto';

function uint256(x: bigint): Buffer {
    return Buffer.from(x.toString(16).padStart(64, '0'), 'hex');
}

/**
 * The commit a worker sends for `resultHash`: sha256(result_hash ++ worker account id ++ salt),
 * each 32 bytes big-endian, exactly as Job's `commitOf` computes it.
 */
export function commitOf(resultHash: bigint, worker: Address, salt: bigint): bigint {
    const digest = sha256_sync(Buffer.concat([uint256(resultHash), worker.hash, uint256(salt)]));
    return BigInt('0x' + digest.toString('hex'));
}

/** sha256 of bytes as a 256-bit integer: how results, programs and inputs are named on-chain. */
export function hashOf(data: Buffer | string): bigint {
    return BigInt('0x' + sha256_sync(typeof data === 'string' ? Buffer.from(data) : data).toString('hex'));
}
