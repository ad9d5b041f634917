/**
 * `node:crypto` in the browser bundle, for what client/ uses of it: `createHash('sha256')` (the
 * content addresses of client/hash.ts). app/build.ts points the bundle's `node:crypto` here; Node
 * keeps its own. The digest is @noble/hashes' audited sha256, so a hash computed in the page equals
 * the one a CLI computes for the same bytes (tests/app.spec.ts checks it in Chromium).
 */
import { sha256 } from '@noble/hashes/sha256';
import { Buffer } from 'buffer';

class Sha256 {
    private readonly h = sha256.create();

    update(bytes: Uint8Array | string): this {
        this.h.update(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
        return this;
    }

    digest(): Buffer;
    digest(encoding: 'hex'): string;
    digest(encoding?: 'hex'): Buffer | string {
        const out = Buffer.from(this.h.digest());
        return encoding === 'hex' ? out.toString('hex') : out;
    }
}

export function createHash(algorithm: string): Sha256 {
    if (algorithm !== 'sha256') throw new Error(`createHash: only sha256 is available in the browser, not ${algorithm}`);
    return new Sha256();
}
