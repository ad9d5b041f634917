/**
 * Wallet links: what `transferLinks` writes, `decodeTransferLink` (and a wallet) reads back, with
 * the address flags each network needs.
 */
import { Address, beginCell } from '@ton/core';
import { decodeTransferLink, terminalQr, transferLinks } from '../client/deeplink';
import { OpJettonTransfer } from '../wrappers/FogWallet';

const to = Address.parse('EQBGEVgunTcmUC99dmAO2bUiNLRIcb-3UrCd6FBla-Ph6Tg3');
const body = beginCell().storeUint(OpJettonTransfer, 32).storeUint(7, 64).endCell();

describe('transfer links', () => {
    it('encode amount, body and init in URL-safe base64 and decode to the same message', () => {
        const init = { code: beginCell().storeUint(1, 8).endCell(), data: beginCell().storeUint(2, 8).endCell() };
        const links = transferLinks({ to, value: 123_456_789n, body, init }, 'testnet');
        expect(links.ton).toMatch(/^ton:\/\/transfer\/kQ[A-Za-z0-9_-]{46}\?amount=123456789&bin=[A-Za-z0-9_-]+&init=[A-Za-z0-9_-]+$/);
        expect(links.tonkeeper).toBe(links.ton.replace('ton://transfer/', 'https://app.tonkeeper.com/transfer/'));
        for (const link of [links.ton, links.tonkeeper]) {
            const d = decodeTransferLink(link);
            expect(d.to.equals(to)).toBe(true);
            expect(d).toMatchObject({ amount: 123_456_789n, bounceable: true, testOnly: true });
            expect(d.body!.equals(body)).toBe(true);
            expect(d.init!.code!.equals(init.code)).toBe(true);
            expect(d.init!.data!.equals(init.data)).toBe(true);
        }
    });

    it('marks mainnet addresses as not test-only, and a message that must not bounce as non-bounceable', () => {
        const main = decodeTransferLink(transferLinks({ to, value: 1n }, 'mainnet').ton);
        expect(main).toMatchObject({ testOnly: false, bounceable: true, body: undefined, init: undefined });
        expect(transferLinks({ to, value: 1n }, 'mainnet').ton).toMatch(/^ton:\/\/transfer\/EQ/);
        const deploy = decodeTransferLink(transferLinks({ to, value: 1n, bounce: false }, 'mainnet').ton);
        expect(deploy.bounceable).toBe(false);
    });

    it('refuses what is not a transfer link', () => {
        expect(() => decodeTransferLink('not a link')).toThrow(/not a link/);
        expect(() => decodeTransferLink(`ton://stake/${to.toString()}?amount=1`)).toThrow(/not a transfer link/);
        expect(() => decodeTransferLink(`https://example.com/${to.toString()}?amount=1`)).toThrow(/not a transfer link/);
        expect(() => decodeTransferLink(`ton://transfer/${to.toString()}`)).toThrow(/no amount/);
        expect(() => decodeTransferLink(`ton://transfer/${to.toString()}?amount=-5`)).toThrow(/no amount/);
    });

    it('draws a QR code a terminal can show', async () => {
        const qr = await terminalQr(transferLinks({ to, value: 1n, body }, 'testnet').ton);
        // eslint-disable-next-line no-control-regex -- the terminal's colour codes start with ESC
        const colour = /\u001b\[\d+m/g;
        const rows = qr
            .split('\n')
            .map((r) => r.replace(colour, ''))
            .filter((r) => r.trim() !== '');
        expect(rows.length).toBeGreaterThan(10);
        expect(new Set(rows.map((r) => r.length)).size).toBe(1); // a square of equal rows
        for (const row of rows) expect(row).toMatch(/^[ ▀▄█]+$/);
    });
});
