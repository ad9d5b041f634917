/**
 * The create screen (docs/app.md, "Creating a job"), loaded only when the user opens it: the
 * TON Connect UI is most of its weight, and the explorer's first load stays within its budget
 * without it. The user picks a program (a meme from a prompt, or text in capitals), writes the
 * text, the price and k, connects a wallet and signs one transaction: the FOG transfer carrying the
 * post, exactly the message `fog job submit` sends (client/actions.ts `post`). The server puts the
 * blobs on the storage node and works out the spec (app/api.ts); the page builds the transfer
 * itself from the chain, the wallet signs it, and the page follows the job it opened.
 *
 * The server needs to know who asks before it stores anything: inside Telegram the Mini App's
 * initData says so; in a browser the wallet's ton_proof of the server's challenge does (asked for
 * when the wallet connects, kept for the tab's session).
 */
import { Address, Cell, beginCell, storeStateInit } from '@ton/core';
import { TonConnect, TonConnectUI, type Wallet } from '@tonconnect/ui';
import { findPostedId, hubMark } from '../../client/posted';
import { loadJobSpec } from '../../wrappers/Hub';
import { parseAmount } from '../../wrappers/units';
import type { Fog } from '../../client/actions';
import type { PublicNetwork } from '../network';
import { telegram } from './telegram';

/** A created job's text, as the server takes it (app/api.ts MAX_TEXT_BYTES). */
const MAX_TEXT_BYTES = 280;
/** How long the wallet may take to send the post, seconds (the message's valid_until). */
const SIGN_SECONDS = 300;
/** Where the ton_proof of this tab's connection is kept: it is asked for once, when the wallet connects. */
const PROOF_KEY = 'fog-ton-proof';

const EXAMPLES = {
    meme: {
        label: 'Meme: a picture drawn from your prompt, its text on top ("top | bottom" splits it)',
        text: 'when the job verifies | on the first try',
    },
    upper: { label: 'Upper: your text in capitals, as k workers agree', text: 'fog computes, the chain verifies' },
} as const;

let ui: TonConnectUI | undefined;

/** The page's one TON Connect UI: the manifest and the wallets list come from this server, analytics off. */
function tonConnect(): TonConnectUI {
    if (ui) return ui;
    const here = (file: string) => new URL(file, location.href).href;
    const connector = new TonConnect({
        manifestUrl: here('tonconnect-manifest.json'),
        walletsListSource: here('wallets.json'),
        analytics: { mode: 'off' },
    });
    ui = new TonConnectUI({ connector, analytics: { mode: 'off' }, enableAndroidBackHandler: true });
    // keep the proof this connection was made with; a connection restored without one has none
    ui.onStatusChange((w) => {
        if (!w) sessionStorage.removeItem(PROOF_KEY);
        else if (w.connectItems?.tonProof && 'proof' in w.connectItems.tonProof)
            sessionStorage.setItem(PROOF_KEY, proofHeader(w, w.connectItems.tonProof.proof));
    });
    return ui;
}

/** The `ton-proof` authorization the server checks (app/api.ts): the wallet's account and its signed proof. */
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

/** Text made safe to put inside HTML. */
const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Connects a wallet (asking it for a ton_proof of the server's challenge), resolving once one is connected with a proof or initData will do. */
async function connected(t: TonConnectUI, say: (line: string) => void): Promise<Wallet> {
    const proofNeeded = telegram().initData === '';
    if (t.wallet && (!proofNeeded || sessionStorage.getItem(PROOF_KEY))) return t.wallet;
    // a connection restored from an earlier visit carries no proof: the wallet is asked again
    if (t.wallet) await t.disconnect();
    if (proofNeeded) {
        t.setConnectRequestParameters({ state: 'loading' });
        const r = await fetch('api/challenge', { cache: 'no-store' });
        if (!r.ok) throw new Error(`the server gave no challenge to sign (HTTP ${r.status})`);
        t.setConnectRequestParameters({ state: 'ready', value: { tonProof: ((await r.json()) as { payload: string }).payload } });
    }
    say('Connect a wallet to sign the post…');
    const wallet = new Promise<Wallet>((resolve, reject) => {
        const stop = t.onStatusChange(
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
    });
    await t.openModal();
    const w = await wallet;
    if (proofNeeded && !sessionStorage.getItem(PROOF_KEY))
        throw new Error('the wallet connected without proving its address: connect again');
    return w;
}

/** The created job's spec and blobs, from the server (app/api.ts). */
async function specFor(body: { example: string; text: string; k: number }): Promise<Cell> {
    const init = telegram().initData;
    const authorization = init !== '' ? `tma ${init}` : `ton-proof ${sessionStorage.getItem(PROOF_KEY) ?? ''}`;
    const r = await fetch('api/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(body),
    });
    const answer = (await r.json().catch(() => ({}))) as { spec?: string; error?: string };
    if (!r.ok || !answer.spec) throw new Error(answer.error ?? `the server refused the job (HTTP ${r.status})`);
    return Cell.fromBase64(answer.spec);
}

export function createView() {
    return {
        title: 'Create',
        async mount(root: HTMLElement, fog: Fog, net: PublicNetwork) {
            const options = (Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[])
                .map(
                    (name, i) =>
                        `<label class="choice"><input type="radio" name="example" value="${name}"${i === 0 ? ' checked' : ''}> ${esc(EXAMPLES[name].label)}</label>`,
                )
                .join('');
            root.innerHTML = `
<h2>Create a job</h2>
<p>One transaction from your wallet posts it: the FOG it pays goes to the workers who compute it, and the chain checks that they agree. Posting needs a Contributor Pass.</p>
<div id="tc-button"></div>
<form id="create" novalidate>
  <fieldset><legend>Program</legend>${options}</fieldset>
  <label for="text">Text</label>
  <textarea id="text" name="text" rows="3" maxlength="${MAX_TEXT_BYTES}" required>${esc(EXAMPLES.meme.text)}</textarea>
  <div class="row">
    <div><label for="price">Price, FOG</label><input id="price" name="price" inputmode="decimal" value="5" required></div>
    <div><label for="k">Workers (k)</label><select id="k" name="k">${[1, 2, 3, 4, 5].map((k) => `<option${k === 3 ? ' selected' : ''}>${k}</option>`).join('')}</select></div>
  </div>
  <button type="submit" id="post">Sign and post</button>
</form>
<p id="create-status" role="status" aria-live="polite"></p>`;
            const t = tonConnect();
            t.uiOptions = { buttonRootId: 'tc-button' };
            const form = root.querySelector<HTMLFormElement>('#create')!;
            const text = form.querySelector<HTMLTextAreaElement>('#text')!;
            const status = root.querySelector<HTMLElement>('#create-status')!;
            const say = (line: string) => (status.textContent = line);
            // a program's sample text follows the choice until the user writes their own
            form.addEventListener('change', (e) => {
                const target = e.target as HTMLInputElement;
                if (target.name !== 'example') return;
                if (Object.values(EXAMPLES).some((x) => x.text === text.value))
                    text.value = EXAMPLES[target.value as keyof typeof EXAMPLES].text;
            });
            let busy = false;
            const submit = async () => {
                if (busy) return;
                const data = new FormData(form);
                const example = String(data.get('example'));
                const body = { example, text: String(data.get('text') ?? ''), k: Number(data.get('k')) };
                let price: bigint;
                try {
                    price = parseAmount(String(data.get('price') ?? ''));
                    if (price <= 0n) throw new Error('the price must be more than 0');
                } catch (e) {
                    say(`Price: ${(e as Error).message}`);
                    form.querySelector<HTMLInputElement>('#price')!.focus();
                    return;
                }
                if (body.text.trim() === '' || new TextEncoder().encode(body.text).length > MAX_TEXT_BYTES) {
                    say(`Write some text: 1 to ${MAX_TEXT_BYTES} bytes.`);
                    text.focus();
                    return;
                }
                busy = true;
                form.querySelector<HTMLButtonElement>('#post')!.disabled = true;
                try {
                    const wallet = await connected(t, say);
                    const requester = Address.parse(wallet.account.address);
                    say('Storing the program and its input…');
                    const spec = loadJobSpec((await specFor(body)).beginParse());
                    const message = await fog.post(requester, price, spec);
                    const since = await hubMark(fog.client, fog.addresses.hub);
                    say('Sign the post in your wallet…');
                    await t.sendTransaction({
                        validUntil: Math.floor(Date.now() / 1000) + SIGN_SECONDS,
                        messages: [
                            {
                                address: message.to.toString({ bounceable: message.bounce ?? true, testOnly: net.network !== 'mainnet' }),
                                amount: message.value.toString(),
                                payload: message.body?.toBoc().toString('base64'),
                                stateInit: message.init
                                    ? beginCell().store(storeStateInit(message.init)).endCell().toBoc().toString('base64')
                                    : undefined,
                            },
                        ],
                    });
                    say('Sent: waiting for the hub to open the job…');
                    const id = await findPostedId(fog.client, fog.addresses.hub, requester, price, since, 120_000);
                    telegram().HapticFeedback?.notificationOccurred('success');
                    location.hash = `#/job/${id}`;
                } catch (e) {
                    telegram().HapticFeedback?.notificationOccurred('error');
                    say(`Not posted: ${(e as Error).message}`);
                } finally {
                    busy = false;
                    form.querySelector<HTMLButtonElement>('#post')!.disabled = false;
                }
            };
            form.addEventListener('submit', (e) => {
                e.preventDefault();
                void submit();
            });
            // inside Telegram the Main Button posts too
            const main = telegram().MainButton;
            if (telegram().initData !== '' && main) {
                const onMain = () => void submit();
                main.setText('Sign and post');
                main.onClick(onMain);
                main.show();
                return () => {
                    main.offClick(onMain);
                    main.hide();
                };
            }
            return undefined;
        },
    };
}
