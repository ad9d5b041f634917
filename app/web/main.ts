/**
 * Fog's web app (docs/app.md): a Telegram Mini App that also works in any browser. The explorer
 * shows the network's totals, the recent jobs with their phase, a job's seats and result (a meme's
 * picture when it is verified), a map's shards, a provider's record; the create screen
 * (create.ts, loaded when first opened) posts a job signed in the user's wallet through TON
 * Connect. It reads the chain itself, through the same client code as the CLIs (client/actions.ts
 * over a toncenter v2 endpoint), from the addresses in `network.json` beside the page; the server
 * that serves it (app/server.ts) holds no state of its own beyond what it stores for a new job.
 *
 * Routes live in the fragment, so a static folder serves every page: `#/`, `#/job/<id>`,
 * `#/map/<id>` (a sharded post's shards, from any of its job ids), `#/provider/<address>`,
 * `#/create`. The explorer's pages are read again every few seconds: a job is followed live
 * through claims, commits, reveals and settlement.
 */
import { Address } from '@ton/core';
import { blockingHolds, Fog, holdsWords } from '../../client/actions';
import { connect } from '../../client/chain';
import { describeOutcome } from '../../client/jobs';
import { MapError, mapOf, mapStatus, shardStatus } from '../../client/map';
import { phaseName } from '../../client/results';
import { uint256ToHash } from '../../client/hash';
import { formatAmount } from '../../wrappers/units';
import type { JobState } from '../../wrappers/Job';
import { type PublicNetwork } from '../network';
import { inTelegram, telegram } from './telegram';
import { addressLink, esc, utc } from './html';

/**
 * How often the page reads the chain again, milliseconds: every 3 s on the devnet, every 15 s on a
 * public endpoint (toncenter without an API key answers about one request a second, and the first
 * page makes a dozen).
 */
const REFRESH_MS = { devnet: 3_000, testnet: 15_000, mainnet: 15_000 } as const;
/** Jobs listed on the first page, newest first. */
const RECENT_JOBS = 10;
/** Seat stages, as the Job contract numbers them. */
const STAGES = ['claimed', 'committed', 'revealed'];

const root = document.getElementById('app')!;
const banner = document.getElementById('status')!;

/** A deadline or span end, '—' when the chain holds none. */
const when = (seconds: bigint) => (seconds === 0n ? '—' : utc(seconds));

/** A blob's hash, linked to its bytes on the network's storage node when the page knows one (a composite input's manifest names its parts). */
function blobLink(hash: string, net: PublicNetwork): string {
    return net.storage ? `<a href="${esc(`${net.storage.replace(/\/+$/, '')}/blobs/${hash}`)}">${esc(hash)}</a>` : esc(hash);
}

/** A page the app re-reads every few seconds (the explorer's), or one it mounts once (a form's), which returns how to unmount it. */
type View =
    | { title: string; render(fog: Fog, net: PublicNetwork): Promise<string> }
    | { title: string; mount(root: HTMLElement, fog: Fog, net: PublicNetwork): Promise<(() => void) | undefined> };

function home(): View {
    return {
        title: 'Explorer',
        async render(fog, net) {
            const hub = await fog.hub.getHubState();
            const now = await fog.now();
            const ids: bigint[] = [];
            for (let id = hub.nextJobId - 1n; id >= 0n && ids.length < RECENT_JOBS; id--) ids.push(id);
            const jobs = await Promise.all(ids.map(async (id) => ({ id, state: await jobState(fog, id) })));
            const params = await fog.hub.getParams();
            const current = BigInt(now) < params.epochStart ? 0n : (BigInt(now) - params.epochStart) / params.epochLength;
            const numbers: bigint[] = [];
            for (let n = current; n >= 0n && numbers.length < RECENT_EPOCHS; n--) numbers.push(n);
            const epochRows = (
                await Promise.all(
                    numbers.map(async (n) => {
                        const end = Number(params.epochStart + (n + 1n) * params.epochLength);
                        const { state, e } = await epochFigures(fog, n, now, end);
                        return `<tr><td><a href="#/epoch/${n}">${n}</a></td><td>${esc(state)}</td><td>${e ? esc(formatAmount(e.burned)) : '—'}</td><td>${
                            e ? esc(formatAmount(e.units).replace(' FOG', '')) : '—'
                        }</td><td>${e?.closed ? esc(formatAmount(e.minted)) : '—'}</td></tr>`;
                    }),
                )
            ).join('');
            const rows = jobs
                .map(({ id, state }) =>
                    state === undefined
                        ? `<tr><td><a href="#/job/${id}">${id}</a></td><td colspan="3" class="muted">${esc(NOT_DEPLOYED)}</td></tr>`
                        : `<tr><td><a href="#/job/${id}">${id}</a></td><td><span class="phase phase-${esc(phaseName(state.phase) ?? state.phase)}">${esc(
                              phaseName(state.phase) ?? state.phase,
                          )}</span></td><td>${state.reveals}/${state.spec.k}</td><td>${esc(formatAmount(state.price))}</td></tr>`,
                )
                .join('');
            return `
<section aria-labelledby="totals"><h2 id="totals">Network</h2>
<dl class="totals">
  <div><dt>Jobs posted</dt><dd data-total="jobs">${hub.nextJobId}</dd></div>
  <div><dt>Staked</dt><dd data-total="staked">${esc(formatAmount(hub.totalStaked))}</dd></div>
  <div><dt>In escrow</dt><dd data-total="escrow">${esc(formatAmount(hub.totalEscrow))}</dd></div>
  <div><dt>Chain time</dt><dd>${esc(when(BigInt(now)))}</dd></div>
</dl></section>
<section aria-labelledby="recent"><h2 id="recent">Recent jobs</h2>
${
    jobs.length === 0
        ? '<p>No job has been posted yet.</p>'
        : `<table class="jobs"><thead><tr><th scope="col">Job</th><th scope="col">Phase</th><th scope="col">Reveals</th><th scope="col">Price</th></tr></thead><tbody>${rows}</tbody></table>`
}
</section>
<section aria-labelledby="epochs"><h2 id="epochs">Epochs</h2>
<table class="epochs"><thead><tr><th scope="col">Epoch</th><th scope="col">State</th><th scope="col">Burned</th><th scope="col">Units</th><th scope="col">Minted</th></tr></thead><tbody>${epochRows}</tbody></table>
</section>
<p class="muted">Hub ${addressLink(fog.addresses.hub, net)}</p>`;
        },
    };
}

/** Epochs listed on the first page: the current one and those before it. */
const RECENT_EPOCHS = 4;

/** Epoch `n` as the explorer shows it: its state in words and its figures, or undefined before any job settled in it (no contract yet). */
async function epochFigures(fog: Fog, n: bigint, now: number, end: number) {
    const epoch = await fog.epoch(n);
    if (!(await fog.client.isContractDeployed(epoch.address))) return { state: end > now ? 'running' : 'ended', e: undefined };
    const e = await epoch.getEpochState();
    // a hold that reached the epoch after its close, or one waited for a whole epoch, holds nothing: it is not shown
    const holds = blockingHolds(e, now);
    const held = holds > 0n ? `, ${holdsWords(holds)}` : '';
    return { state: (end > now ? 'running' : e.closed ? 'closed' : 'ended, not closed yet') + held, e };
}

function epochView(n: bigint): View {
    return {
        title: `Epoch ${n}`,
        async render(fog) {
            const [params, now] = await Promise.all([fog.hub.getParams(), fog.now()]);
            const current = BigInt(now) < params.epochStart ? 0n : (BigInt(now) - params.epochStart) / params.epochLength;
            if (n > current + 1000n) return `<p role="alert">Epoch ${n} is far in the future: this is epoch ${current}.</p>`;
            const start = params.epochStart + n * params.epochLength;
            const end = Number(start + params.epochLength);
            const { state, e } = await epochFigures(fog, n, now, end);
            const fields = e
                ? `
  <div><dt>Burned</dt><dd data-burned>${esc(formatAmount(e.burned))}</dd></div>
  <div><dt>Slashed</dt><dd>${esc(formatAmount(e.slashed))}</dd></div>
  <div><dt>Work units</dt><dd data-units>${esc(formatAmount(e.units).replace(' FOG', ''))}</dd></div>
  ${
      e.closed
          ? `<div><dt>Emission</dt><dd data-emission>${esc(formatAmount(e.emission))}</dd></div>
  <div><dt>Minted (claimed)</dt><dd data-minted>${esc(formatAmount(e.minted))} for ${esc(formatAmount(e.claimedUnits).replace(' FOG', ''))} units</dd></div>`
          : `<div><dt>Emission when closed</dt><dd>${esc(formatAmount(e.terms.emissionBase))} + burned × ${Number(e.terms.emissionRatioPpm) / 1e6}, at most ${esc(formatAmount(e.terms.emissionCap))}</dd></div>`
  }`
                : `\n  <div><dt>Jobs settled</dt><dd>none yet</dd></div>`;
            return `
<h2>Epoch ${n}</h2>
<p data-epoch-state>${esc(state[0].toUpperCase() + state.slice(1))}: ${esc(when(start))} to ${esc(when(BigInt(end)))}.</p>
<dl class="fields">${fields}
</dl>
<p>${n > 0n ? `<a href="#/epoch/${n - 1n}">Epoch ${n - 1n}</a> · ` : ''}<a href="#/epoch/${n + 1n}">Epoch ${n + 1n}</a></p>`;
        },
    };
}

/** Why a job number the hub gave out has no contract: it is deployed a transaction after the post, and a refused sharded post never deploys. */
const NOT_DEPLOYED = 'not deployed: being posted, or its post was refused and refunded';

/** Job `id`'s state, or undefined when its contract does not exist. */
async function jobState(fog: Fog, id: bigint): Promise<JobState | undefined> {
    const contract = await fog.job(id);
    try {
        return await contract.getJobState();
    } catch (e) {
        // asked only when the get-method failed: the common case costs one request
        if (!(await fog.client.isContractDeployed(contract.address))) return undefined;
        throw e;
    }
}

function seatsOf(state: JobState, net: PublicNetwork): string {
    const seats = [...state.slots.values()].sort((a, b) => Number(a.order - b.order));
    if (seats.length === 0) return '<p>No worker has claimed it yet.</p>';
    const rows = seats
        .map(
            (s) =>
                `<tr><td>${addressLink(s.worker, net, true)}</td><td>${esc(STAGES[Number(s.stage)] ?? s.stage)}${s.lost ? ' · <strong>lost</strong>' : ''}</td><td class="mono">${
                    s.stage >= 2n ? esc(uint256ToHash(s.hash)) : '—'
                }</td></tr>`,
        )
        .join('');
    return `<table class="seats"><thead><tr><th scope="col">Worker</th><th scope="col">Stage</th><th scope="col">Revealed result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** What each result's output is, as this server serves it (`api/results/<hash>`): an image, other bytes, or not there when last asked. */
const outputs = new Map<string, 'image' | 'bytes' | { missingSince: number }>();
/** How long a missing output is not asked for again, ms. */
const MISSING_MS = 15_000;

/** Whether the output of result `hash` is an image this page can show (asked once a result is known). */
async function outputOf(hash: string): Promise<'image' | 'bytes' | undefined> {
    const known = outputs.get(hash);
    if (known === 'image' || known === 'bytes') return known;
    if (known && Date.now() - known.missingSince < MISSING_MS) return undefined;
    try {
        const r = await fetch(`api/results/${hash}`, { method: 'HEAD' });
        // a static host has no API, or no worker stored it yet: asked again later
        if (!r.ok) {
            if (outputs.size > 1_000) outputs.clear();
            outputs.set(hash, { missingSince: Date.now() });
            return undefined;
        }
        const kind = r.headers.get('content-type') === 'image/png' ? 'image' : 'bytes';
        outputs.set(hash, kind);
        return kind;
    } catch {
        return undefined;
    }
}

/** The verified output, shown when it is a picture (a meme's), with a button to share it. */
async function outputFigure(id: bigint, state: JobState): Promise<string> {
    if (state.result === 0n || phaseName(state.phase) !== 'done') return '';
    const hash = uint256ToHash(state.result);
    const kind = await outputOf(hash);
    if (kind === undefined) return '';
    const link = `api/results/${hash}`;
    if (kind === 'bytes') return `<p><a href="${link}" download="job-${id}.bin">Download the verified output</a></p>`;
    return `
<figure class="output">
  <img src="${link}" alt="The verified output of job ${id}: the picture its workers drew and agreed on" data-output>
  <figcaption>Verified on chain: every worker that counted drew exactly these bytes.</figcaption>
</figure>
<p><button type="button" data-share="${esc(new URL(link, location.href).href)}">Share</button> <a href="${link}" download="fog-job-${id}.png">Download</a></p>`;
}

function job(id: bigint): View {
    return {
        title: `Job ${id}`,
        async render(fog, net) {
            const hub = await fog.hub.getHubState();
            if (id >= hub.nextJobId) return `<p role="alert">No job ${id} yet: ${hub.nextJobId} have been posted.</p>`;
            const state = await jobState(fog, id);
            if (state === undefined) return `<h2>Job ${id}</h2><p role="alert">Job ${id} is ${esc(NOT_DEPLOYED)}.</p>`;
            const spec = state.spec;
            // a group the page cannot place (not among the 63 ids before) leaves the link out, not the page
            const map = state.group === null ? undefined : await mapOf(fog, id, state).catch(() => undefined);
            return `
<h2>Job ${id}</h2>
${map === undefined ? '' : `<p>Shard ${id - map + 1n} of <a href="#/map/${map}">map ${map}</a></p>`}
<p class="outcome" data-phase="${esc(phaseName(state.phase) ?? state.phase)}">${esc(describeOutcome(state))}</p>
<dl class="fields">
  <div><dt>Requester</dt><dd>${addressLink(state.requester, net, true)}</dd></div>
  <div><dt>Price</dt><dd>${esc(formatAmount(state.price))}</dd></div>
  <div><dt>Seats</dt><dd>k = ${spec.k}, quorum ${spec.quorum}</dd></div>
  <div><dt>Fuel limit</dt><dd>${spec.maxMfuel} Mfuel, ${spec.maxMemoryMb} MiB</dd></div>
  <div><dt>Program</dt><dd class="mono">${blobLink(uint256ToHash(spec.programHash), net)}</dd></div>
  <div><dt>Input</dt><dd class="mono">${blobLink(uint256ToHash(spec.inputHash), net)}</dd></div>
  <div><dt>Claims until</dt><dd>${esc(when(state.claimUntil))}</dd></div>
  <div><dt>Reveals until</dt><dd>${esc(when(state.revealUntil))}</dd></div>
  <div><dt>Claims · commits · reveals</dt><dd>${state.claims} · ${state.commits} · ${state.reveals}</dd></div>
  ${state.matches > 0n ? `<div><dt>Dispute matches played</dt><dd>${state.matches}</dd></div>` : ''}
  ${
      state.result !== 0n
          ? `<div><dt>Result</dt><dd class="mono" data-result><a href="api/results/${esc(uint256ToHash(state.result))}">${esc(uint256ToHash(state.result))}</a></dd></div>`
          : ''
  }
</dl>
${await outputFigure(id, state)}
<h3>Seats</h3>
${seatsOf(state, net)}
${state.matches > 0n || phaseName(state.phase) === 'disputing' ? await (await import('./dispute')).disputeSection(fog, id, net) : ''}`;
        },
    };
}

/** Shard statuses in words, and their order in a map's table. */
const SHARD_WORDS = { done: 'done', running: 'running', 'program-failed': 'program failed', refunded: 'refunded' } as const;

function map(id: bigint): View {
    return {
        title: `Map ${id}`,
        async render(fog) {
            let m;
            try {
                m = await mapStatus(fog, id);
            } catch (e) {
                if (e instanceof MapError) return `<p role="alert">${esc(e.message.charAt(0).toUpperCase() + e.message.slice(1))}.</p>`;
                throw e;
            }
            const { first, ids } = m;
            const span = ids.length === 1 ? `job ${first}` : `jobs ${first}–${ids.at(-1)}`;
            if (m.pending)
                return `<h2>Map ${first}</h2><p>${ids.length} shards, ${span}: waiting for its requester's pass check; no job is open yet.</p>`;
            const s0 = m.states[0];
            const rows = m.states
                .map((s, i) => {
                    const status = shardStatus(s);
                    return `<tr><td><a href="#/job/${ids[i]}">${ids[i]}</a></td><td><span class="shard shard-${status}">${SHARD_WORDS[status]}</span></td><td>${esc(phaseName(s.phase) ?? s.phase)}</td><td>${s.reveals}/${s.spec.k}</td></tr>`;
                })
                .join('');
            const counts = (Object.keys(SHARD_WORDS) as (keyof typeof SHARD_WORDS)[])
                .filter((k) => m.counts[k] > 0)
                .map(
                    (k) =>
                        `<div><dt>${SHARD_WORDS[k][0].toUpperCase() + SHARD_WORDS[k].slice(1)}</dt><dd data-count="${k}">${m.counts[k]}</dd></div>`,
                )
                .join('');
            return `
<h2>Map ${first}</h2>
<p>${ids.length === 1 ? 'A map of one input, posted as a plain job' : `${ids.length} shards, ${span}`}: ${esc(formatAmount(s0.price))} a shard, k = ${s0.spec.k}. A shard is done when its output is verified on chain.</p>
<dl class="totals">${counts}</dl>
<table class="jobs"><thead><tr><th scope="col">Job</th><th scope="col">Shard</th><th scope="col">Phase</th><th scope="col">Reveals</th></tr></thead><tbody>${rows}</tbody></table>`;
        },
    };
}

function provider(owner: Address): View {
    return {
        title: 'Provider',
        async render(fog, net) {
            const p = await fog.providerOf(owner);
            if (!(await fog.client.isContractDeployed(p.address)))
                return `<p role="alert">${addressLink(owner, net)} has never staked.</p>`;
            const s = await p.getProviderState();
            return `
<h2>Provider</h2>
<dl class="fields">
  <div><dt>Owner</dt><dd>${addressLink(s.owner, net)}</dd></div>
  <div><dt>Stake</dt><dd data-stake>${esc(formatAmount(s.stake))}</dd></div>
  <div><dt>Locked as collateral</dt><dd>${esc(formatAmount(s.locked))}</dd></div>
  <div><dt>Unbonding</dt><dd>${esc(formatAmount(s.unbonding))}${s.unbonding > 0n ? ` until ${esc(when(s.unbondingUntil))}` : ''}</dd></div>
  <div><dt>Open claims</dt><dd>${s.openClaims}</dd></div>
  <div><dt>Reputation</dt><dd>${s.reputation}</dd></div>
  <div><dt>Slashed</dt><dd>${s.slashCount}× (${esc(formatAmount(s.slashedTotal))})</dd></div>
  <div><dt>Offers</dt><dd>${s.cores} cores, ${s.memoryMb} MiB</dd></div>
  <div><dt>Units of work</dt><dd>${s.unitsTotal}</dd></div>
  <div><dt>Contributor Pass</dt><dd>${s.passHeld ? 'held' : 'not held'}</dd></div>
</dl>`;
        },
    };
}

/** The view the fragment names, 'create' or 'account' for the screens that sign (loaded when first opened), or a message saying why there is none. */
function route(hash: string): View | 'create' | 'account' | string {
    const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
    if (parts.length === 0) return home();
    if (parts[0] === 'create' && parts.length === 1) return 'create';
    if (parts[0] === 'account' && parts.length === 1) return 'account';
    if (parts[0] === 'epoch' && parts.length === 2) {
        if (!/^\d{1,10}$/.test(parts[1])) return `“${parts[1]}” is not an epoch number.`;
        return epochView(BigInt(parts[1]));
    }
    if (parts[0] === 'job' && parts.length === 2) {
        if (!/^\d{1,20}$/.test(parts[1])) return `“${parts[1]}” is not a job number.`;
        return job(BigInt(parts[1]));
    }
    if (parts[0] === 'map' && parts.length === 2) {
        if (!/^\d{1,20}$/.test(parts[1])) return `“${parts[1]}” is not a job number.`;
        return map(BigInt(parts[1]));
    }
    if (parts[0] === 'provider' && parts.length === 2) {
        let text = parts[1];
        try {
            text = decodeURIComponent(text);
        } catch {
            return `“${text}” is not a TON address.`;
        }
        try {
            return provider(Address.parse(text));
        } catch {
            return `“${text}” is not a TON address.`;
        }
    }
    return `There is no page “${hash}”.`;
}

async function main() {
    const net = await network();
    const fog = new Fog(connect(new URL(net.endpoint, location.href).toString()), {
        hub: Address.parse(net.hub),
        token: Address.parse(net.token),
    });
    document.body.dataset.network = net.network;
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** The HTML last shown: a refresh that reads the same leaves the page (focus, selection) alone. */
    let shown = '';
    const showHtml = (html: string, title: string) => {
        if (html !== shown) root.innerHTML = shown = html;
        document.title = title;
        root.setAttribute('aria-busy', 'false');
    };

    /** Undoes what the mounted page set up (Telegram's main button), when one is mounted. */
    let unmount: (() => void) | undefined;
    const tg = telegram();
    // opened on a deep link there is no page to go back to: the explorer then
    const back = () => (history.length > 1 ? history.back() : (location.hash = '#/'));
    if (inTelegram()) {
        tg.ready();
        tg.expand();
        tg.BackButton.onClick(back);
    }
    const show = async () => {
        clearTimeout(timer);
        const hash = location.hash;
        const named = route(hash);
        // inside Telegram its own back button leaves any page but the explorer's first
        if (inTelegram()) {
            if (hash.replace(/^#\/?/, '') === '') tg.BackButton.hide();
            else tg.BackButton.show();
        }
        if (typeof named === 'string' && named !== 'create' && named !== 'account') {
            showHtml(`<p role="alert">${esc(named)}</p><p><a href="#/">Back to the explorer</a></p>`, 'Fog');
            banner.hidden = true;
            return;
        }
        try {
            // the create screen (and the TON Connect UI in it) loads the first time it is opened
            const view =
                named === 'create'
                    ? (await import('./create')).createView()
                    : named === 'account'
                      ? (await import('./account')).accountView()
                      : named;
            if (location.hash !== hash) return;
            if ('mount' in view) {
                unmount = await view.mount(root, fog, net);
                shown = '';
                document.title = `${view.title} · Fog`;
                root.setAttribute('aria-busy', 'false');
                banner.hidden = true;
                return;
            }
            const html = await view.render(fog, net);
            if (location.hash !== hash) return; // the user moved on while it loaded: that route's show runs
            showHtml(html, `${view.title} · Fog`);
            banner.textContent = '';
            banner.hidden = true;
        } catch (e) {
            if (location.hash !== hash) return;
            banner.textContent = `Could not read the chain: ${(e as Error).message}. Trying again…`;
            banner.hidden = false;
        }
        timer = setTimeout(() => void show(), REFRESH_MS[net.network]);
    };
    // a share button shares its picture: through Telegram inside it, the system's sheet where there is one, else its link is copied
    root.addEventListener('click', (e) => {
        const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-share]');
        if (!button) return;
        const url = button.dataset.share!;
        if (inTelegram())
            tg.openTelegramLink(`https://t.me/share/url?url=${encodeURIComponent(url)}&text=${encodeURIComponent('Drawn on Fog')}`);
        else if (navigator.share) void navigator.share({ title: 'Drawn on Fog', url }).catch(() => undefined);
        else void navigator.clipboard?.writeText(url).then(() => (button.textContent = 'Link copied'));
    });
    window.addEventListener('hashchange', () => {
        clearTimeout(timer);
        unmount?.();
        unmount = undefined;
        // the old page goes at once: if the new one cannot be read, its URL does not show the old one
        root.innerHTML = shown = '<p>Reading the chain…</p>';
        root.setAttribute('aria-busy', 'true');
        void show().then(() => root.focus({ preventScroll: true }));
    });
    await show();
}

/** Reads `network.json`, trying again every few seconds while the server cannot answer. */
async function network(): Promise<PublicNetwork> {
    for (;;) {
        try {
            const response = await fetch('network.json', { cache: 'no-store' });
            if (response.ok) return (await response.json()) as PublicNetwork;
            banner.textContent = `The server has no network to show (HTTP ${response.status}): ${await response.text()} Trying again…`;
        } catch (e) {
            banner.textContent = `Could not reach the server: ${(e as Error).message}. Trying again…`;
        }
        banner.hidden = false;
        await new Promise((r) => setTimeout(r, 5_000));
    }
}

main().catch((e: Error) => {
    banner.textContent = `The app could not start: ${e.message}`;
    banner.hidden = false;
});
