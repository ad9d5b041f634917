/**
 * Content addresses: blobs are named by the sha256 of their bytes, written as 64 lower-case hex
 * characters off chain and as a uint256 in on-chain job specs.
 */
import { createHash } from 'node:crypto';
import { InvalidHashError } from './storage-errors';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const UINT256_LIMIT = 1n << 256n;

/** The sha256 of `bytes` as 64 lower-case hex characters. */
export function sha256Hex(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
}

/** True for the canonical form only: exactly 64 lower-case hex characters. */
export function isSha256Hex(value: string): boolean {
    return SHA256_HEX.test(value);
}

/** `value` in canonical form (upper-case hex is accepted and lowered); throws `InvalidHashError`. */
export function normalizeHash(value: string): string {
    const lower = value.toLowerCase();
    if (!isSha256Hex(lower)) throw new InvalidHashError(value);
    return lower;
}

/** The digest as the uint256 a job spec stores (big-endian). */
export function hashToUint256(hex: string): bigint {
    return BigInt(`0x${normalizeHash(hex)}`);
}

/** The inverse of `hashToUint256`; throws `InvalidHashError` outside 0 ≤ n < 2^256. */
export function uint256ToHash(n: bigint): string {
    if (n < 0n || n >= UINT256_LIMIT) throw new InvalidHashError(n.toString());
    return n.toString(16).padStart(64, '0');
}
