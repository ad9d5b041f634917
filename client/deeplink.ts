/**
 * Wallet deep links: any message this client would sign, handed to the user's own wallet instead.
 *
 *   ton://transfer/<address>?amount=<nanoton>&bin=<base64url BoC>&init=<base64url StateInit BoC>
 *   https://app.tonkeeper.com/transfer/<address>?… (the same query)
 *
 * `bin` is the message body and `init` the StateInit, each a BoC in URL-safe base64 without
 * padding. The address is user-friendly, bounceable exactly when the message would bounce, and
 * test-only off mainnet, so a wallet on the wrong network refuses it.
 */
import { Address, beginCell, Cell, loadStateInit, StateInit, storeStateInit } from '@ton/core';
import QRCode from 'qrcode';
import type { Network } from './wallet';
import type { Outgoing } from './sender';

export interface TransferLinks {
    /** The standard `ton://transfer/…` link every TON wallet understands. */
    ton: string;
    /** The same message as a Tonkeeper universal link (opens the app or the web page). */
    tonkeeper: string;
}

/** What a transfer link asks the wallet to send. */
export interface DecodedTransfer {
    to: Address;
    bounceable: boolean;
    testOnly: boolean;
    amount: bigint;
    body?: Cell;
    init?: StateInit;
}

const base64url = (cell: Cell) => cell.toBoc({ idx: false }).toString('base64url');

/** The links for `message` on `network`. */
export function transferLinks(message: Outgoing, network: Network): TransferLinks {
    const address = message.to.toString({ urlSafe: true, bounceable: message.bounce ?? true, testOnly: network !== 'mainnet' });
    const query = new URLSearchParams({ amount: message.value.toString() });
    if (message.body) query.set('bin', base64url(message.body));
    if (message.init) query.set('init', base64url(beginCell().store(storeStateInit(message.init)).endCell()));
    const tail = `${address}?${query.toString()}`;
    return { ton: `ton://transfer/${tail}`, tonkeeper: `https://app.tonkeeper.com/transfer/${tail}` };
}

/** Reads a link made by `transferLinks` (or any wallet's transfer link with these parameters). */
export function decodeTransferLink(link: string): DecodedTransfer {
    let url: URL;
    try {
        url = new URL(link);
    } catch {
        throw new Error(`not a link: ${link}`);
    }
    const path = url.protocol === 'ton:' ? `${url.host}${url.pathname}` : url.pathname;
    const m = /^\/?(?:transfer\/)?([A-Za-z0-9_+/=-]{48})$/.exec(path);
    if (
        !m ||
        (url.protocol === 'ton:' && url.host !== 'transfer') ||
        (url.protocol === 'https:' && !url.pathname.startsWith('/transfer/'))
    ) {
        throw new Error(`not a transfer link: ${link}`);
    }
    const parsed = Address.parseFriendly(m[1]);
    const amount = url.searchParams.get('amount');
    if (amount === null || !/^\d+$/.test(amount)) throw new Error(`the link has no amount in nanoton: ${link}`);
    const cell = (name: string) => {
        const v = url.searchParams.get(name);
        return v === null ? undefined : Cell.fromBoc(Buffer.from(v, 'base64url'))[0];
    };
    const init = cell('init');
    return {
        to: parsed.address,
        bounceable: parsed.isBounceable,
        testOnly: parsed.isTestOnly,
        amount: BigInt(amount),
        body: cell('bin'),
        init: init ? loadStateInit(init.beginParse()) : undefined,
    };
}

/** The link as a QR code drawn with Unicode blocks, for a terminal. */
export function terminalQr(link: string): Promise<string> {
    return QRCode.toString(link, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
