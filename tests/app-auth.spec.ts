/**
 * The web app server's write checks (app/auth.ts): Telegram initData, TON Connect ton_proof with
 * real wallets' state inits and signatures, the stateless challenge, and the per-key rate limiter.
 * The proofs are built here from the specs with node:crypto, not with the module's own helpers,
 * so a recipe that drifts on both sides at once still fails.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Address, beginCell, Cell, contractAddress, StateInit, storeStateInit } from '@ton/core';
import { KeyPair, keyPairFromSeed, mnemonicNew, mnemonicToPrivateKey, sign } from '@ton/crypto';
import { WalletContractV3R1, WalletContractV3R2, WalletContractV4, WalletContractV5Beta, WalletContractV5R1 } from '@ton/ton';
import { challenge, checkChallenge, RateLimiter, signInitData, TonProofRequest, validateInitData, verifyTonProof } from '../app/auth';

describe('validateInitData', () => {
    const token = '123456789:AAFogDevnetKnownAnswerVectorToken00';
    const now = 1_700_000_000;
    const user = { id: 279058397, first_name: 'Vladislav', username: 'vdkfrost' };

    /** Telegram's recipe, step by step (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app). */
    function telegramSign(fields: Record<string, string>, botToken: string): string {
        const checkString = Object.keys(fields)
            .sort()
            .map((k) => `${k}=${fields[k]}`)
            .join('\n');
        const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
        const hash = createHmac('sha256', secret).update(checkString).digest('hex');
        const query = new URLSearchParams(fields);
        query.set('hash', hash);
        return query.toString();
    }

    const fields = (over: Record<string, string> = {}) => ({
        query_id: 'AAHdF6IQAAAAAN0XohDhrOrc',
        user: JSON.stringify(user),
        auth_date: String(now),
        ...over,
    });

    it('matches a known-answer vector, computed once by hand with node:crypto', () => {
        // HMAC_SHA256(key = HMAC_SHA256(key = "WebAppData", token), "auth_date=…\nquery_id=…\nuser=…")
        const expected = 'b43aaed0f382cfad3f6de498bb646598453521016f53898147f21f69f0a26afc';
        const checkString = `auth_date=1700000000\nquery_id=AAHdF6IQAAAAAN0XohDhrOrc\nuser=${JSON.stringify(user)}`;
        const secret = createHmac('sha256', 'WebAppData').update(token).digest();
        expect(createHmac('sha256', secret).update(checkString).digest('hex')).toBe(expected);

        const initData =
            'query_id=AAHdF6IQAAAAAN0XohDhrOrc' +
            '&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22username%22%3A%22vdkfrost%22%7D' +
            `&auth_date=1700000000&hash=${expected}`;
        expect(signInitData(fields(), token)).toBe(initData);
        expect(validateInitData(initData, token, { now })).toEqual({
            ok: true,
            authDate: now,
            queryId: 'AAHdF6IQAAAAAN0XohDhrOrc',
            user: { id: 279058397, username: 'vdkfrost', firstName: 'Vladislav' },
        });
    });

    it("accepts initData signed by Telegram's recipe, with its user, up to the maximum age", () => {
        const initData = telegramSign(fields(), token);
        expect(validateInitData(initData, token, { now: now + 30 })).toMatchObject({ ok: true, user: { id: user.id } });
        expect(validateInitData(initData, token, { now: now + 86_400 })).toMatchObject({ ok: true });
        expect(validateInitData(initData, token, { now: now + 300, maxAgeSeconds: 300 })).toMatchObject({ ok: true });
        // the hash may come in capitals; a field without a user is a session without one
        const upper = initData.replace(/hash=([0-9a-f]+)/, (_, h: string) => `hash=${h.toUpperCase()}`);
        expect(validateInitData(upper, token, { now })).toMatchObject({ ok: true });
        expect(validateInitData(telegramSign({ auth_date: String(now) }, token), token, { now })).toEqual({ ok: true, authDate: now });
    });

    it('signs what it validates, with odd characters in the values', () => {
        const initData = signInitData(
            fields({ start_param: 'a b+c&d=e/ü', user: JSON.stringify({ id: 7, first_name: 'Zoë & co' }) }),
            token,
        );
        expect(validateInitData(initData, token, { now })).toMatchObject({ ok: true, user: { id: 7, firstName: 'Zoë & co' } });
        expect(validateInitData(initData, token, { now })).toEqual(
            validateInitData(
                telegramSign(fields({ start_param: 'a b+c&d=e/ü', user: JSON.stringify({ id: 7, first_name: 'Zoë & co' }) }), token),
                token,
                { now },
            ),
        );
    });

    const refused = (initData: string, reason: string, o: { now?: number; maxAgeSeconds?: number } = { now }, botToken = token) =>
        expect(validateInitData(initData, botToken, o)).toEqual({ ok: false, reason });

    it('refuses a forged hash, a hash for another bot, and a field changed after signing', () => {
        const initData = telegramSign(fields(), token);
        const hash = /hash=([0-9a-f]{64})/.exec(initData)![1];
        const flipped = (hash[0] === '0' ? '1' : '0') + hash.slice(1);
        refused(initData.replace(hash, flipped), 'hash does not match');
        refused(telegramSign(fields(), '987654321:AnotherBotsToken'), 'hash does not match');
        refused(initData, 'hash does not match', { now }, '987654321:AnotherBotsToken');
        refused(signInitData(fields(), token), 'no bot token', { now }, '');
        refused(initData.replace('279058397', '279058398'), 'hash does not match');
        refused(initData.replace(`auth_date=${now}`, `auth_date=${now + 3600}`), 'hash does not match');
        refused(initData + '&admin=true', 'hash does not match');
    });

    it('refuses a missing or malformed hash, and a field given twice', () => {
        const initData = telegramSign(fields(), token);
        refused(initData.replace(/&?hash=[0-9a-f]+/, ''), 'no hash');
        refused(initData.replace(/hash=[0-9a-f]+/, 'hash=abc'), 'hash is not 64 hex digits');
        refused(initData + '&hash=' + '0'.repeat(64), 'duplicate field');
        refused(initData + `&auth_date=${now}`, 'duplicate field');
    });

    it('refuses a missing, non-numeric, old or future auth_date, though correctly signed', () => {
        refused(telegramSign({ user: JSON.stringify(user) }, token), 'no auth_date');
        refused(telegramSign(fields({ auth_date: '17e8' }), token), 'auth_date is not a whole number');
        refused(telegramSign(fields({ auth_date: '-1' }), token), 'auth_date is not a whole number');
        refused(telegramSign(fields({ auth_date: String(now - 86_401) }), token), 'auth_date too old');
        refused(telegramSign(fields({ auth_date: String(now - 301) }), token), 'auth_date too old', { now, maxAgeSeconds: 300 });
        refused(telegramSign(fields({ auth_date: String(now + 61) }), token), 'auth_date in the future');
        expect(validateInitData(telegramSign(fields({ auth_date: String(now + 60) }), token), token, { now })).toMatchObject({ ok: true });
    });

    it('refuses a signed user that is not JSON or has no numeric id', () => {
        refused(telegramSign(fields({ user: '{id:1' }), token), 'user is not JSON');
        refused(telegramSign(fields({ user: '42' }), token), 'user is not an object');
        refused(telegramSign(fields({ user: '{"id":"1"}' }), token), 'user has no numeric id');
        refused(telegramSign(fields({ user: '{"first_name":"x"}' }), token), 'user has no numeric id');
    });

    it('refuses garbage', () => {
        refused('', 'not a query string');
        refused('just some text', 'not a query string');
        refused('=1&hash=2', 'not a query string');
        refused('a=%zz&hash=' + '0'.repeat(64), 'not a query string');
        refused('a=1&&hash=2', 'not a query string');
        refused('a=' + 'x'.repeat(20_000), 'initData too long');
        refused(42 as unknown as string, 'not a query string');
        refused(undefined as unknown as string, 'not a query string');
    });
});

describe('verifyTonProof', () => {
    const domain = '127.0.0.1:8090';
    const payload = 'a1b2c3d4'.repeat(8);
    const now = 1_750_000_000;

    let key: KeyPair;
    let other: KeyPair;
    beforeAll(async () => {
        key = await mnemonicToPrivateKey(await mnemonicNew());
        other = keyPairFromSeed(randomBytes(32));
    });

    const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
    const bocOf = (init: StateInit) => beginCell().store(storeStateInit(init)).endCell().toBoc().toString('base64');

    /** The ton_proof signature as the TON Connect spec defines it, written out independently of app/auth.ts. */
    function signProof(secretKey: Buffer, address: Address, signedDomain: string, timestamp: number, signedPayload: string): string {
        const wc = Buffer.alloc(4);
        wc.writeInt32BE(address.workChain);
        const d = Buffer.from(signedDomain);
        const dl = Buffer.alloc(4);
        dl.writeUInt32LE(d.length);
        const ts = Buffer.alloc(8);
        ts.writeBigUInt64LE(BigInt(timestamp));
        const message = Buffer.concat([Buffer.from('ton-proof-item-v2/'), wc, address.hash, dl, d, ts, Buffer.from(signedPayload)]);
        const signed = sha256(Buffer.concat([Buffer.from('ffff', 'hex'), Buffer.from('ton-connect'), sha256(message)]));
        return sign(signed, secretKey).toString('base64');
    }

    interface Wallet {
        address: Address;
        init: StateInit;
    }

    /** What a wallet's ton_addr and ton_proof replies carry, with parts to override. */
    function request(
        wallet: Wallet,
        pair: KeyPair,
        over: { domain?: string; payload?: string; timestamp?: number; signer?: Buffer; publicKey?: string; stateInit?: string } = {},
    ): TonProofRequest {
        const signedDomain = over.domain ?? domain;
        const timestamp = over.timestamp ?? now - 5;
        const signedPayload = over.payload ?? payload;
        return {
            address: wallet.address.toRawString(),
            network: '-239',
            publicKey: over.publicKey ?? pair.publicKey.toString('hex'),
            walletStateInit: over.stateInit ?? bocOf(wallet.init),
            proof: {
                timestamp,
                domain: { lengthBytes: Buffer.byteLength(signedDomain), value: signedDomain },
                payload: signedPayload,
                signature: signProof(over.signer ?? pair.secretKey, wallet.address, signedDomain, timestamp, signedPayload),
            },
        };
    }

    const options = { domain, payload, now };
    const refused = (p: TonProofRequest, reason: string, o: Partial<typeof options> & { maxAgeSeconds?: number; network?: string } = {}) =>
        expect(verifyTonProof(p, { ...options, ...o })).toEqual({ ok: false, reason });

    it('accepts a real proof from a W5 wallet and names its address and key', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        const r = verifyTonProof(request(wallet, key), options);
        expect(r).toMatchObject({ ok: true, publicKey: key.publicKey, wallet: 'v5r1' });
        expect(r.ok && r.address.equals(wallet.address)).toBe(true);
        // publicKey is optional in ton_addr; the timestamp may come as a string, as the spec types it
        const bare = request(wallet, key);
        delete bare.publicKey;
        expect(verifyTonProof(bare, options)).toMatchObject({ ok: true });
        const texted = request(wallet, key);
        texted.proof.timestamp = String(texted.proof.timestamp);
        expect(verifyTonProof(texted, options)).toMatchObject({ ok: true });
        // a friendly address names the same account
        expect(verifyTonProof({ ...request(wallet, key), address: wallet.address.toString() }, options)).toMatchObject({ ok: true });
    });

    it('accepts a v4r2 wallet (and v5beta, v3r2, v3r1), and a W5 on the masterchain (the workchain is signed as int32 big-endian)', () => {
        const v4 = WalletContractV4.create({ workchain: 0, publicKey: other.publicKey });
        const r = verifyTonProof(request(v4, other), options);
        expect(r).toMatchObject({ ok: true, publicKey: other.publicKey, wallet: 'v4r2' });
        expect(r.ok && r.address.equals(v4.address)).toBe(true);
        const olderWallets = [
            ['v5beta', WalletContractV5Beta.create({ publicKey: other.publicKey })],
            ['v3r2', WalletContractV3R2.create({ workchain: 0, publicKey: other.publicKey })],
            ['v3r1', WalletContractV3R1.create({ workchain: 0, publicKey: other.publicKey })],
        ] as const;
        for (const [name, w] of olderWallets) {
            expect(verifyTonProof(request(w, other), options)).toMatchObject({ ok: true, publicKey: other.publicKey, wallet: name });
        }
        const master = WalletContractV5R1.create({ workchain: -1, publicKey: key.publicKey });
        const m = verifyTonProof(request(master, key), options);
        expect(m.ok && m.address.equals(master.address) && m.address.workChain === -1).toBe(true);
    });

    it('refuses another domain, a wrong domain length, another payload and another network', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        refused(request(wallet, key, { domain: 'evil.example' }), 'domain does not match');
        refused(request(wallet, key), 'domain does not match', { domain: '127.0.0.1:8091' });
        const lying = request(wallet, key);
        lying.proof.domain.lengthBytes += 1;
        refused(lying, 'domain length does not match');
        refused(request(wallet, key, { payload: 'f'.repeat(64) }), 'payload does not match');
        refused(request(wallet, key), 'network does not match', { network: '-3' });
    });

    it('refuses a stale or future timestamp', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        refused(request(wallet, key, { timestamp: now - 901 }), 'timestamp too old');
        expect(verifyTonProof(request(wallet, key, { timestamp: now - 900 }), options)).toMatchObject({ ok: true });
        refused(request(wallet, key, { timestamp: now - 61 }), 'timestamp too old', { maxAgeSeconds: 60 });
        refused(request(wallet, key, { timestamp: now + 61 }), 'timestamp in the future');
        const fractional = request(wallet, key);
        fractional.proof.timestamp = now + 0.5;
        refused(fractional, 'timestamp is not a whole number');
    });

    it('refuses a signature by another key, or over another message', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        refused(request(wallet, key, { signer: other.secretKey }), 'signature does not verify');
        const replayed = request(wallet, key);
        replayed.proof.timestamp = now - 6; // signed at now - 5
        refused(replayed, 'signature does not verify');
    });

    it('refuses a state init that does not hash to the address, and a publicKey that is not its key', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        const others = WalletContractV5R1.create({ workchain: 0, publicKey: other.publicKey });
        // the attacker's own wallet's state init, claimed for the victim's address, signed with the attacker's key
        refused(request(wallet, other, { stateInit: bocOf(others.init) }), 'walletStateInit does not hash to address');
        refused(request(wallet, key, { publicKey: other.publicKey.toString('hex') }), "publicKey is not the wallet's");
        refused(request(wallet, key, { publicKey: 'zz' }), 'publicKey is not 32 bytes of hex');
    });

    it('refuses a wallet whose code it does not know', () => {
        const init = {
            code: beginCell().storeUint(0xdeadbeef, 32).endCell(),
            data: WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey }).init.data,
        };
        const unknown = { address: contractAddress(0, init), init };
        refused(request(unknown, key), 'unknown wallet code');
    });

    it('refuses malformed base64, BoCs and shapes', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        refused(request(wallet, key, { stateInit: '!!not base64!!' }), 'walletStateInit is not base64');
        refused(request(wallet, key, { stateInit: Buffer.from('hello, world').toString('base64') }), 'walletStateInit is not a BoC');
        const bad = request(wallet, key);
        bad.proof.signature = '@@@';
        refused(bad, 'signature is not 64 bytes of base64');
        bad.proof.signature = Buffer.alloc(63).toString('base64');
        refused(bad, 'signature is not 64 bytes of base64');
        refused({ ...request(wallet, key), address: 'not an address' }, 'address is not a TON address');
        // a cell that hashes to its address but is no StateInit
        const odd = beginCell().storeUint(7, 3).endCell();
        refused(
            request({ address: new Address(0, odd.hash()), init: { code: odd, data: odd } }, key, {
                stateInit: odd.toBoc().toString('base64'),
            }),
            'walletStateInit is not a StateInit',
        );
        refused(null as unknown as TonProofRequest, 'not a proof');
        refused({ ...request(wallet, key), proof: undefined } as unknown as TonProofRequest, 'no proof');
        refused({ ...request(wallet, key), walletStateInit: 1 } as unknown as TonProofRequest, 'no walletStateInit');
    });

    it('refuses a state init with more than the StateInit in its root', () => {
        const wallet = WalletContractV5R1.create({ workchain: 0, publicKey: key.publicKey });
        const padded = beginCell().store(storeStateInit(wallet.init)).storeUint(1, 1).endCell();
        const fake = { address: new Address(0, padded.hash()), init: wallet.init };
        refused(request(fake, key, { stateInit: padded.toBoc().toString('base64') }), 'walletStateInit is not a wallet');
        expect(Cell.fromBoc(Buffer.from(bocOf(wallet.init), 'base64'))[0].hash()).toEqual(wallet.address.hash);
    });
});

describe('challenge / checkChallenge', () => {
    const secret = Buffer.alloc(32, 7);
    const now = 1_750_000_000;

    it('is accepted while fresh, is short and hex, and never repeats', () => {
        const c = challenge(secret, { now, ttlSeconds: 600 });
        expect(c).toMatch(/^[0-9a-f]+$/);
        expect(c.length).toBeLessThanOrEqual(128);
        expect(checkChallenge(c, secret, { now })).toBe(true);
        expect(checkChallenge(c, secret, { now: now + 599 })).toBe(true);
        expect(challenge(secret, { now })).not.toBe(challenge(secret, { now }));
    });

    it('is refused once expired', () => {
        const c = challenge(secret, { now, ttlSeconds: 600 });
        expect(checkChallenge(c, secret, { now: now + 600 })).toBe(false);
        expect(checkChallenge(challenge(secret, { now }), secret, { now: now + 900 })).toBe(false);
    });

    it('is refused when tampered with anywhere (nonce, expiry, MAC) or issued under another secret', () => {
        const c = challenge(secret, { now });
        const flip = (at: number) => c.slice(0, at) + (c[at] === '0' ? '1' : '0') + c.slice(at + 1);
        for (const at of [0, 31, 40, 47, 48, c.length - 1]) expect(checkChallenge(flip(at), secret, { now })).toBe(false);
        // a later expiry, written in by hand, does not carry the MAC along
        const later =
            c.slice(0, 32) +
            BigInt(now + 10 ** 6)
                .toString(16)
                .padStart(16, '0') +
            c.slice(48);
        expect(checkChallenge(later, secret, { now })).toBe(false);
        expect(checkChallenge(c, Buffer.alloc(32, 8), { now })).toBe(false);
        expect(checkChallenge(challenge(Buffer.alloc(32, 8), { now }), secret, { now })).toBe(false);
        for (const junk of ['', c.toUpperCase(), c + '00', c.slice(2), 'z'.repeat(c.length)])
            expect(checkChallenge(junk, secret, { now })).toBe(false);
    });

    it('wants a real secret and a positive lifetime', () => {
        expect(() => challenge(Buffer.alloc(8))).toThrow('the challenge secret must be at least 16 bytes');
        expect(() => challenge(secret, { ttlSeconds: 0 })).toThrow('ttlSeconds must be a positive whole number, got 0');
    });
});

describe('RateLimiter', () => {
    let clock = 0;
    const now = () => clock;
    beforeEach(() => {
        clock = 1_000;
    });

    it('allows the burst, refuses the next with the wait, and refills over time', () => {
        const limiter = new RateLimiter({ perMinute: 6, burst: 3, now });
        for (let i = 0; i < 3; i++) expect(limiter.take('tg:1')).toEqual({ ok: true });
        expect(limiter.take('tg:1')).toEqual({ ok: false, retryAfterSeconds: 10 });
        expect(limiter.take('tg:2')).toEqual({ ok: true }); // keys are independent
        clock += 4;
        expect(limiter.take('tg:1')).toEqual({ ok: false, retryAfterSeconds: 6 });
        clock += 6;
        expect(limiter.take('tg:1')).toEqual({ ok: true });
        expect(limiter.take('tg:1')).toMatchObject({ ok: false });
        clock += 3600; // refills to the burst, never above it
        for (let i = 0; i < 3; i++) expect(limiter.take('tg:1')).toEqual({ ok: true });
        expect(limiter.take('tg:1')).toMatchObject({ ok: false });
    });

    it('stays within maxKeys under a flood of keys', () => {
        const limiter = new RateLimiter({ perMinute: 1, burst: 2, maxKeys: 100, now });
        for (let i = 0; i < 5_000; i++) {
            limiter.take(`ip:${i}`);
            expect(limiter.size).toBeLessThanOrEqual(100);
        }
    });

    it('forgets refilled buckets before a throttled one, however long ago that was used', () => {
        const limiter = new RateLimiter({ perMinute: 60, burst: 2, maxKeys: 4, now });
        limiter.take('hot');
        limiter.take('hot');
        expect(limiter.take('hot')).toMatchObject({ ok: false });
        for (const k of ['a', 'b', 'c']) limiter.take(k);
        clock += 1; // a, b, c are full again; hot has one token
        limiter.take('d');
        expect(limiter.size).toBe(2);
        expect(limiter.take('hot')).toEqual({ ok: true });
        expect(limiter.take('hot')).toMatchObject({ ok: false }); // a forgotten bucket would have let two through
    });

    it('names a bad option', () => {
        expect(() => new RateLimiter({ perMinute: 0, burst: 1 })).toThrow('perMinute must be a positive number, got 0');
        expect(() => new RateLimiter({ perMinute: 1, burst: 0.5 })).toThrow('burst must be a whole number of at least 1, got 0.5');
        expect(() => new RateLimiter({ perMinute: 1, burst: 1, maxKeys: 0 })).toThrow(
            'maxKeys must be a whole number of at least 1, got 0',
        );
    });
});
