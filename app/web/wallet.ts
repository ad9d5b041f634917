/**
 * The user's wallet, through TON Connect (`@tonconnect/ui`), for the screens that sign: create and
 * account. Loaded with them, on demand. The manifest and the wallets list come from this server
 * (app/server.ts), analytics are off, so nothing is fetched from elsewhere. A message to sign is
 * exactly what the CLIs would send (client/actions.ts), handed to the wallet as one
 * `sendTransaction`.
 */
import { beginCell, storeStateInit } from '@ton/core';
import { TonConnect, TonConnectUI, type Wallet } from '@tonconnect/ui';
import type { Outgoing } from '../../client/sender';
import type { PublicNetwork } from '../network';
import { telegram } from './telegram';

/** How long the wallet may take to send a message, seconds (its valid_until). */
const SIGN_SECONDS = 300;
/** Where the ton_proof of this tab's connection is kept, with its wallet and the time it stops being good. */
const PROOF_KEY = 'fog-ton-proof';
/** How long a proof is used, seconds: a little less than the server takes it for (app/api.ts, 15 minutes). */
const PROOF_SECONDS = 14 * 60;

interface StoredProof {
    header: string;
    address: string;
    until: number;
}

let ui: TonConnectUI | undefined;

/** The page's one TON Connect UI, its button drawn in `buttonRoot`. */
export function tonConnect(buttonRoot?: string): TonConnectUI {
    if (!ui) {
        const here = (file: string) => new URL(file, location.href).href;
        const connector = new TonConnect({
            manifestUrl: here('tonconnect-manifest.json'),
            walletsListSource: here('wallets.json'),
            analytics: { mode: 'off' },
        });
        ui = new TonConnectUI({ connector, analytics: { mode: 'off' }, enableAndroidBackHandler: true });
        // keep the proof this connection was made with; a connection restored without one has none
        ui.onStatusChange((w) => {
            if (!w) forgetProof();
            else if (w.connectItems?.tonProof && 'proof' in w.connectItems.tonProof) {
                const proof = w.connectItems.tonProof.proof;
                const stored: StoredProof = {
                    header: proofHeader(w, proof),
                    address: w.account.address,
                    until: proof.timestamp + PROOF_SECONDS,
                };
                sessionStorage.setItem(PROOF_KEY, JSON.stringify(stored));
            }
        });
    }
    // a screen mounted again draws the button in its new element (the UI keeps the old one while the id is unchanged)
    ui.uiOptions = { buttonRootId: null };
    if (buttonRoot) ui.uiOptions = { buttonRootId: buttonRoot };
    return ui;
}

/** Stops drawing the TON Connect button (its screen is gone) and closes the modal if it is open. */
export function releaseButton(t: TonConnectUI): void {
    t.uiOptions = { buttonRootId: null };
    t.closeModal();
}

/** The proof of `w`'s address this tab holds, if it is still good. */
function proofOf(w: Wallet | null): string | undefined {
    if (!w) return undefined;
    try {
        const stored = JSON.parse(sessionStorage.getItem(PROOF_KEY) ?? 'null') as StoredProof | null;
        if (stored && stored.address === w.account.address && stored.until > Date.now() / 1000) return stored.header;
    } catch {
        // not ours, or from an older page: none
    }
    return undefined;
}

/** Forgets the proof (the server refused it, or the wallet disconnected). */
export function forgetProof(): void {
    sessionStorage.removeItem(PROOF_KEY);
}

/** What the server said about who may write: whether it checks Telegram initData (it needs the bot's token for that). */
let serverTakesTma: Promise<boolean> | undefined;

/** Whether this page should prove its wallet's address to the server to write: always outside Telegram, and inside it when the server cannot check initData. */
export async function proofNeeded(): Promise<boolean> {
    if (telegram().initData === '') return true;
    serverTakesTma ??= fetch('api/challenge', { cache: 'no-store' })
        .then((r) => r.json() as Promise<{ tma?: boolean }>)
        .then((r) => r.tma === true);
    try {
        return !(await serverTakesTma);
    } catch {
        // asked again next time: one failed answer does not decide it for the page's life
        serverTakesTma = undefined;
        return true;
    }
}

/** The chain id TON Connect names `net` by: mainnet's, or testnet's (the devnet signs as testnet does). */
export function chainOf(net: PublicNetwork): '-239' | '-3' {
    return net.network === 'mainnet' ? '-239' : '-3';
}

/** Refuses a wallet on another network than the page's, before anything is signed. */
export function checkNetwork(w: Wallet, net: PublicNetwork): void {
    if (w.account.chain !== chainOf(net))
        throw new Error(
            `your wallet is on ${w.account.chain === '-239' ? 'mainnet' : 'testnet'} and this page is ${net.network}: switch the wallet's network`,
        );
}

/** The `ton-proof` authorization the server checks (app/api.ts): the wallet's account and its signed proof, as base64url JSON. */
function proofHeader(
    w: Wallet,
    proof: { timestamp: number; domain: { lengthBytes: number; value: string }; payload: string; signature: string },
): string {
    const json = JSON.stringify({
        address: w.account.address,
        network: w.account.chain,
        publicKey: w.account.publicKey,
        walletStateInit: w.account.walletStateInit,
        proof,
    });
    return btoa(String.fromCharCode(...new TextEncoder().encode(json)))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
}

/** What the server takes as the caller of a write: Telegram's initData inside Telegram (when it checks it), else this connection's ton_proof. */
export async function authorization(t: TonConnectUI): Promise<string> {
    return (await proofNeeded()) ? `ton-proof ${proofOf(t.wallet) ?? ''}` : `tma ${telegram().initData}`;
}

/**
 * A connected wallet: the one connected already, or one the user connects now in TON Connect's
 * modal. With `proof` (a write to the server outside Telegram) the wallet must prove its address
 * by signing the server's challenge, which a connection restored from an earlier visit did not:
 * it is asked to connect again. Rejects when the user closes the modal without connecting.
 */
export async function connected(t: TonConnectUI, say: (line: string) => void, proof = false): Promise<Wallet> {
    if (t.wallet && (!proof || proofOf(t.wallet))) return t.wallet;
    if (t.wallet) await t.disconnect();
    if (proof) {
        t.setConnectRequestParameters({ state: 'loading' });
        const r = await fetch('api/challenge', { cache: 'no-store' }).catch(() => undefined);
        if (!r?.ok) {
            t.setConnectRequestParameters(null);
            throw new Error(`the server gave no challenge to sign (${r ? `HTTP ${r.status}` : 'no answer'})`);
        }
        t.setConnectRequestParameters({ state: 'ready', value: { tonProof: ((await r.json()) as { payload: string }).payload } });
    } else t.setConnectRequestParameters(null);
    say('Connect a wallet…');
    let stop = () => undefined as void;
    const wallet = new Promise<Wallet>((resolve, reject) => {
        const stopStatus = t.onStatusChange(
            (w) => {
                if (!w) return;
                stop();
                resolve(w);
            },
            (e) => {
                stop();
                reject(e);
            },
        );
        // the user closed the modal without connecting
        const stopModal = t.onModalStateChange((m) => {
            if (m.status !== 'closed' || m.closeReason !== 'action-cancelled' || t.wallet) return;
            stop();
            reject(new Error('no wallet was connected'));
        });
        stop = () => {
            stopStatus();
            stopModal();
        };
    });
    try {
        await t.openModal();
        const w = await wallet;
        if (proof && !proofOf(w)) throw new Error('the wallet connected without proving its address: connect again');
        return w;
    } finally {
        stop();
        // the challenge was for this connection only
        t.setConnectRequestParameters(null);
    }
}

/** Hands `message` to the connected wallet to sign and send; resolves once the wallet says it sent it. */
export async function signAndSend(t: TonConnectUI, message: Outgoing, net: PublicNetwork): Promise<void> {
    await t.sendTransaction({
        validUntil: Math.floor(Date.now() / 1000) + SIGN_SECONDS,
        network: chainOf(net),
        from: t.wallet?.account.address,
        messages: [
            {
                address: message.to.toString({ bounceable: message.bounce ?? true, testOnly: net.network !== 'mainnet' }),
                amount: message.value.toString(),
                payload: message.body?.toBoc().toString('base64'),
                stateInit: message.init ? beginCell().store(storeStateInit(message.init)).endCell().toBoc().toString('base64') : undefined,
            },
        ],
    });
}
