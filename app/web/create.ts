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
import { Address, Cell } from '@ton/core';
import { findPostedId, hubMark } from '../../client/posted';
import { loadJobSpec } from '../../wrappers/Hub';
import { formatAmount, parseAmount } from '../../wrappers/units';
import type { Fog } from '../../client/actions';
import type { PublicNetwork } from '../network';
import { esc } from './html';
import { telegram } from './telegram';
import type { TonConnectUI } from '@tonconnect/ui';
import { authorization, checkNetwork, connected, forgetProof, proofNeeded, releaseButton, signAndSend, tonConnect } from './wallet';

/** A created job's text, as the server takes it (app/api.ts MAX_TEXT_BYTES). */
const MAX_TEXT_BYTES = 280;

const EXAMPLES = {
    meme: {
        label: 'Meme: a picture the network’s own model draws for your prompt (name a cat, ghost, heart, star, sun, moon, house or tree; seed:7 for another one; style:art for abstract art), its text on top ("top | bottom" splits it)',
        text: 'when the cat verifies | on the first try',
    },
    upper: { label: 'Upper: your text in capitals, as k workers agree', text: 'fog computes, the chain verifies' },
} as const;

/** The created job's spec, from the server, which stored its blobs (app/api.ts). */
class Unauthorized extends Error {}

async function specFor(t: TonConnectUI, body: { example: string; text: string; k: number }): Promise<Cell> {
    const r = await fetch('api/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await authorization(t) },
        body: JSON.stringify(body),
    });
    const answer = (await r.json().catch(() => ({}))) as { spec?: string; error?: string };
    const why = answer.error ?? `the server refused the job (HTTP ${r.status})`;
    if (r.status === 401) throw new Unauthorized(why);
    if (!r.ok || !answer.spec) throw new Error(why);
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
            const t = tonConnect('tc-button');
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
            /** Set when the user leaves the screen: a post under way stops before it signs, and does not take the user anywhere. */
            let stopped = false;
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
                let sent = false;
                try {
                    // outside Telegram (or when the server cannot check initData) it learns who asks from the wallet's proof of its address
                    const proof = await proofNeeded();
                    let wallet = await connected(t, say, proof);
                    if (stopped) return;
                    checkNetwork(wallet, net);
                    const requester = Address.parse(wallet.account.address);
                    // what `fog job submit` checks before paying: a live pass (else the hub refuses the post) and the FOG
                    const poster = await fog.checkPoster(requester, price);
                    if (!poster.ok)
                        throw new Error(
                            poster.reason === 'no-pass'
                                ? 'this wallet holds no Contributor Pass: posting needs one (stake on the Account page)'
                                : `this wallet holds ${formatAmount(poster.balance)}, less than the price`,
                        );
                    say('Storing the program and its input…');
                    let cell: Cell;
                    try {
                        cell = await specFor(t, body);
                    } catch (e) {
                        // a proof the server no longer takes (it expired, or the server restarted): prove again, once
                        if (!(e instanceof Unauthorized) || !proof) throw e;
                        forgetProof();
                        wallet = await connected(t, say, true);
                        // the checks above were for the wallet connected then
                        if (!Address.parse(wallet.account.address).equals(requester))
                            throw new Error('another wallet connected: press Sign and post again', { cause: e });
                        cell = await specFor(t, body);
                    }
                    if (stopped) return;
                    const message = await fog.post(requester, price, loadJobSpec(cell.beginParse()));
                    const since = await hubMark(fog.client, fog.addresses.hub);
                    if (stopped) return;
                    say('Sign the post in your wallet…');
                    await signAndSend(t, message, net);
                    sent = true;
                    say('Sent: waiting for the hub to open the job…');
                    const id = await findPostedId(fog.client, fog.addresses.hub, requester, price, since, 120_000);
                    telegram().HapticFeedback?.notificationOccurred('success');
                    // the user may have moved on meanwhile: the job is theirs to find from the explorer
                    if (!stopped) location.hash = `#/job/${id}`;
                } catch (e) {
                    telegram().HapticFeedback?.notificationOccurred('error');
                    // once the wallet sent it, the post is on its way whatever happens to the page's reading of the hub
                    say(
                        sent
                            ? `Sent, but the job has not shown up on the hub yet (${(e as Error).message}): see the explorer's recent jobs.`
                            : `Not posted: ${(e as Error).message}`,
                    );
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
            const onMain = () => void submit();
            const inside = telegram().initData !== '' && !!main;
            if (inside) {
                main.setText('Sign and post');
                main.onClick(onMain);
                main.show();
            }
            return () => {
                stopped = true;
                releaseButton(t);
                if (inside) {
                    main.offClick(onMain);
                    main.hide();
                }
            };
        },
    };
}
