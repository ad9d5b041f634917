/**
 * The account screen (docs/app.md, "My account"), loaded on demand with the TON Connect UI: the
 * connected wallet's FOG, Contributor Pass, stake, collateral, unbonding, and its rewards per epoch
 * with a Claim for each that is due; stake more, unstake, withdraw. Each action is the message the
 * worker CLI would send (client/actions.ts: `stake`, `unstake`, `withdraw`, `claimRewards`), signed
 * in the wallet. Reads are public, so nothing here needs the server: the wallet's address is enough.
 */
import { Address } from '@ton/core';
import { blockingHolds, closableAt, holdsWords, type Fog } from '../../client/actions';
import { formatAmount, parseAmount } from '../../wrappers/units';
import type { Outgoing } from '../../client/sender';
import { friendlyAddress, type PublicNetwork } from '../network';
import { esc, utc as when } from './html';
import { telegram } from './telegram';
import { checkNetwork, connected, releaseButton, signAndSend, tonConnect } from './wallet';

/** How often the account is read again, ms (every few seconds on the devnet, as the explorer). */
const REFRESH_MS = { devnet: 3_000, testnet: 15_000, mainnet: 15_000 } as const;

/** The account of `owner` as HTML: what it holds, and a button for each action that is due. */
async function accountHtml(fog: Fog, net: PublicNetwork, owner: Address): Promise<string> {
    const provider = await fog.providerOf(owner);
    const [balance, pass, staked, now, params] = await Promise.all([
        fog.balanceOf(owner),
        fog.hasLivePass(owner),
        fog.client.isContractDeployed(provider.address),
        fog.now(),
        fog.hub.getParams(),
    ]);
    const me = friendlyAddress(owner, net.network);
    const head = `
<dl class="fields">
  <div><dt>Wallet</dt><dd><a class="mono" href="#/provider/${esc(me)}">${esc(me)}</a></dd></div>
  <div><dt>FOG</dt><dd data-balance>${esc(formatAmount(balance))}</dd></div>
  <div><dt>Contributor Pass</dt><dd data-pass>${pass ? 'held: you may post jobs' : `not held: stake ${esc(formatAmount(params.minStake))} to get one`}</dd></div>`;
    if (!staked) return `${head}\n  <div><dt>Stake</dt><dd data-stake>none yet</dd></div>\n</dl>`;
    const s = await provider.getProviderState();
    const rewards: string[] = [];
    for (const [n, units] of [
        [s.prevEpoch, s.prevUnits],
        [s.curEpoch, s.curUnits],
    ]) {
        if (units === 0n) continue;
        const e = await (await fog.epoch(n)).getEpochState();
        const due = now >= closableAt(n, params);
        const share = e.closed && e.units > 0n ? ` (${esc(formatAmount((e.emission * units) / e.units))})` : '';
        // a claim of an epoch still owed sharded reports would bounce: no button until they arrive
        const holds = blockingHolds(e, now);
        const held = holds > 0n;
        rewards.push(
            `<li data-epoch="${n}">Epoch ${n}: ${esc(formatAmount(units).replace(' FOG', ''))} units${share}${
                due && !held
                    ? ` <button type="button" data-claim="${n}">Claim</button>`
                    : due
                      ? `, ${esc(holdsWords(holds))}`
                      : `, claimable from ${esc(when(closableAt(n, params)))}`
            }</li>`,
        );
    }
    const withdrawable = s.unbonding > 0n && BigInt(now) >= s.unbondingUntil;
    return `${head}
  <div><dt>Stake</dt><dd data-stake>${esc(formatAmount(s.stake))}</dd></div>
  <div><dt>Locked as collateral</dt><dd>${esc(formatAmount(s.locked))} (${s.openClaims} open claims)</dd></div>
  <div><dt>Free to unstake</dt><dd data-free>${esc(formatAmount(s.free))}</dd></div>
  <div><dt>Unbonding</dt><dd data-unbonding>${esc(formatAmount(s.unbonding))}${
      s.unbonding > 0n
          ? withdrawable
              ? ' <button type="button" data-withdraw>Withdraw</button>'
              : `, withdrawable from ${esc(when(s.unbondingUntil))}`
          : ''
  }</dd></div>
  <div><dt>Offers</dt><dd data-offers="${s.cores},${s.memoryMb}">${s.cores} cores, ${s.memoryMb} MiB</dd></div>
  <div><dt>Reputation</dt><dd>${s.reputation}${s.slashCount > 0n ? `, slashed ${s.slashCount}× (${esc(formatAmount(s.slashedTotal))})` : ''}</dd></div>
</dl>
<h3>Rewards</h3>
${rewards.length === 0 ? '<p data-rewards>No unclaimed work units.</p>' : `<ul data-rewards>${rewards.join('')}</ul>`}`;
}

export function accountView() {
    return {
        title: 'Account',
        async mount(root: HTMLElement, fog: Fog, net: PublicNetwork) {
            root.innerHTML = `
<h2>My account</h2>
<div id="tc-button"></div>
<div id="account" aria-live="polite"><p>Connect a wallet to see its stake, pass and rewards. <button type="button" id="account-connect">Connect a wallet</button></p></div>
<div id="account-forms" hidden>
  <form id="stake" class="action">
    <h3>Stake</h3>
    <div class="row">
      <div><label for="stake-amount">FOG</label><input id="stake-amount" name="amount" inputmode="decimal" required></div>
      <div><label for="stake-cores">Cores offered</label><input id="stake-cores" name="cores" inputmode="numeric" value="2" required></div>
      <div><label for="stake-memory">Memory, MiB</label><input id="stake-memory" name="memory" inputmode="numeric" value="1024" required></div>
    </div>
    <button type="submit">Stake</button>
  </form>
  <form id="unstake" class="action">
    <h3>Unstake</h3>
    <p class="muted">What you unstake unbonds first: you withdraw it once the unbonding period has passed.</p>
    <div class="row"><div><label for="unstake-amount">FOG</label><input id="unstake-amount" name="amount" inputmode="decimal" required></div></div>
    <button type="submit">Unstake</button>
  </form>
</div>
<p id="account-status" role="status" aria-live="polite"></p>`;
            const t = tonConnect('tc-button');
            const account = root.querySelector<HTMLElement>('#account')!;
            const forms = root.querySelector<HTMLElement>('#account-forms')!;
            const status = root.querySelector<HTMLElement>('#account-status')!;
            const say = (line: string) => (status.textContent = line);
            let timer: ReturnType<typeof setTimeout> | undefined;
            let shown = '';
            let stopped = false;
            // the screen's listeners are on the page's main element, which outlives it: they go with it
            const listening = new AbortController();
            // a stake adds to what is staked and sets what is offered: the form offers what the provider offers until the user changes it
            let offersEdited = false;
            for (const id of ['stake-cores', 'stake-memory'])
                root.querySelector(`#${id}`)!.addEventListener('input', () => (offersEdited = true), { signal: listening.signal });
            const refresh = async () => {
                clearTimeout(timer);
                const w = t.wallet;
                if (stopped || !w) return;
                try {
                    const html = await accountHtml(fog, net, Address.parse(w.account.address));
                    // gone, or another wallet connected meanwhile: that one's refresh shows it
                    if (stopped || t.wallet?.account.address !== w.account.address) return;
                    if (html !== shown) account.innerHTML = shown = html;
                    forms.hidden = false;
                    const offers = account.querySelector<HTMLElement>('[data-offers]')?.dataset.offers?.split(',');
                    if (offers && !offersEdited) {
                        root.querySelector<HTMLInputElement>('#stake-cores')!.value = offers[0];
                        root.querySelector<HTMLInputElement>('#stake-memory')!.value = offers[1];
                    }
                } catch (e) {
                    say(`Could not read the chain: ${(e as Error).message}. Trying again…`);
                }
                timer = setTimeout(() => void refresh(), REFRESH_MS[net.network]);
            };
            const stopStatus = t.onStatusChange((w) => {
                shown = '';
                say('');
                if (w) void refresh();
                else {
                    account.innerHTML = '<p>No wallet is connected.</p>';
                    forms.hidden = true;
                }
            });
            /** Signs and sends what `build` makes for the connected wallet, saying so at each step. */
            let busy = false;
            const act = async (what: string, build: (owner: Address) => Promise<Outgoing>) => {
                if (busy || stopped) return;
                busy = true;
                try {
                    const w = await connected(t, say);
                    checkNetwork(w, net);
                    const message = await build(Address.parse(w.account.address));
                    say(`Sign to ${what} in your wallet…`);
                    await signAndSend(t, message, net);
                    telegram().HapticFeedback?.notificationOccurred('success');
                    say(`Sent: ${what}. The account shows it once the chain has it.`);
                    void refresh();
                } catch (e) {
                    telegram().HapticFeedback?.notificationOccurred('error');
                    say(`Could not ${what}: ${(e as Error).message}`);
                } finally {
                    busy = false;
                }
            };
            const amountOf = (form: HTMLFormElement) => {
                const amount = parseAmount(String(new FormData(form).get('amount') ?? ''));
                if (amount <= 0n) throw new RangeError('the amount must be more than 0');
                return amount;
            };
            const whole = (form: HTMLFormElement, name: string, label: string, max: number) => {
                const v = Number(new FormData(form).get(name));
                if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`${label} must be a whole number from 1 to ${max}`);
                return v;
            };
            root.addEventListener(
                'click',
                (e) => {
                    const target = e.target as HTMLElement;
                    if (target.id === 'account-connect') void connected(t, say).catch((err: Error) => say(err.message));
                    const claim = target.closest<HTMLButtonElement>('button[data-claim]');
                    if (claim) {
                        const epoch = BigInt(claim.dataset.claim!);
                        void act(`claim the rewards of epoch ${epoch}`, (owner) => fog.claimRewards(owner, epoch));
                    }
                    if (target.closest('button[data-withdraw]')) void act('withdraw what has unbonded', (owner) => fog.withdraw(owner));
                },
                { signal: listening.signal },
            );
            root.addEventListener(
                'submit',
                (e) => {
                    e.preventDefault();
                    const form = e.target as HTMLFormElement;
                    try {
                        if (form.id === 'stake') {
                            const [amount, cores, memory] = [
                                amountOf(form),
                                whole(form, 'cores', 'Cores', 1024),
                                whole(form, 'memory', 'Memory', 1 << 20),
                            ];
                            void act(`stake ${formatAmount(amount)}`, (owner) => fog.stake(owner, amount, cores, memory));
                        }
                        if (form.id === 'unstake') {
                            const amount = amountOf(form);
                            void act(`unstake ${formatAmount(amount)}`, (owner) => fog.unstake(owner, amount));
                        }
                    } catch (err) {
                        say((err as Error).message);
                    }
                },
                { signal: listening.signal },
            );
            void refresh();
            return () => {
                stopped = true;
                listening.abort();
                clearTimeout(timer);
                stopStatus();
                releaseButton(t);
            };
        },
    };
}
