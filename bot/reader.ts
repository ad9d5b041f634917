/**
 * What the bot says, read from the chain through the shared client (and the network index for
 * totals no get-method holds). Every function answers one command with Telegram HTML, or throws
 * an Answer: a reply for the user (unknown job, malformed address), not a failure.
 */
import { Address } from '@ton/core';
import { blockingHolds, closableAt, Fog, holdsWords, jobSpec } from '../client/actions';
import { JobSpec } from '../wrappers/Hub';

import { NetworkFile } from '../client/addresses';
import { failureOf, JobPhase, PhaseName, phaseName } from '../client/results';
import { open } from '../client/chain';
import { formatAmount, parseAmount } from '../wrappers/units';
import { formatFuel, fuelForJob } from '../client/compute/fuel';
import { transferLinks } from '../client/deeplink';
import { PassItem } from '../wrappers/PassItem';
import { refusalReason, refusedWhat } from '../wrappers/refusal';
import { PassCollection } from '../wrappers/PassCollection';
import { NetworkTotals, Refusal } from '../client/network-index';
import { BlobNotFoundError, BlobTooLargeError } from '../client/storage-errors';
import { StorageClient, uint256ToHash, isSha256Hex } from '../client/storage';
import { MapError, MapStatus, mapStatus } from '../client/map';

/** The shipped examples whose input is the text typed after their name in /post. */
export const TEXT_EXAMPLES = ['meme', 'upper'];

/** A reply to the user's request that is not a result (a mistake, or nothing found). */
export class Answer extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'Answer';
    }
}

/**
 * Why a job was rejected, in words: the one place the bot renders a rejection. The chain reports
 * one reason today (the requester held no valid pass when the job asked); a reason code the hub
 * reports with a refusal is to be turned into words here.
 */
export function rejection(reason = 'no valid pass'): string {
    return `rejected: ${reason} (refunded)`;
}

const PHASE_WORDS: Record<PhaseName, string> = {
    verifying: 'checking the requester’s pass',
    open: 'open',
    done: 'done ✅',
    failed: 'failed: no quorum (refunded)',
    expired: 'expired (refunded)',
    rejected: rejection(),
    disputing: 'results differ: a dispute match is deciding ⚖️',
};

/** A job's phase in the bot's words, or undefined for a phase this version does not know. */
const phaseWords = (phase: number | bigint): string | undefined => {
    const name = phaseName(phase);
    return name && PHASE_WORDS[name];
};

/** A numeric argument and the range the contracts accept (`Job.id` is a uint64, `Epoch.n` a uint32). */
interface NumberArg {
    name: string;
    plural: string;
    max: bigint;
}
const JOB_ID: NumberArg = { name: 'job id', plural: 'job ids', max: (1n << 64n) - 1n };
const EPOCH: NumberArg = { name: 'epoch number', plural: 'epoch numbers', max: (1n << 32n) - 1n };

/** Escapes text for Telegram's HTML parse mode. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fog = (nano: bigint) => formatAmount(nano);
const when = (t: bigint | number, now: number) => {
    const d = Number(t) - now;
    if (d <= 0) return `${Math.round(-d)} s ago`;
    return d < 120 ? `in ${d} s` : d < 7200 ? `in ${Math.round(d / 60)} min` : `in ${Math.round(d / 3600)} h`;
};

export interface ReaderOptions {
    /** Where /post uploads inputs and /result downloads outputs (and where the shipped programs live). */
    storage?: StorageClient;
    /** The shipped programs that take text (`upper`, `meme`) by name: their hashes on that storage node. */
    programs?: Record<string, string>;
    /** The hub's last refusal of a transfer from an address (the watcher's index), for /refused. */
    refusals?: (owner: Address) => Refusal | undefined;
}

/** The largest output /result sends: Telegram's limit for a photo. */
export const MAX_RESULT_BYTES = 10 * 1024 * 1024;

/** What /result answers: a picture, or text. */
export type ResultAnswer = string | { photo: Buffer; filename: string; caption: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class Reader {
    constructor(
        readonly fog: Fog,
        readonly file: NetworkFile,
        private readonly totals: () => NetworkTotals,
        private readonly opts: ReaderOptions = {},
    ) {}

    private addr(a: Address): string {
        return a.toString({ testOnly: this.file.network !== 'mainnet' });
    }

    /** Parses a user-typed address or answers why it is not one. */
    address(text: string | undefined, command: string): Address {
        const t = (text ?? '').trim();
        if (t === '') throw new Answer(`Give an address: <code>/${command} EQ…</code>`);
        let a: Address;
        try {
            a = Address.parse(t);
        } catch {
            throw new Answer(`<code>${esc(t.slice(0, 80))}</code> is not a TON address.`);
        }
        // Contracts key passes and providers by the account id alone: another workchain's address
        // would be read as the basechain account with the same id, someone else's.
        if (a.workChain !== 0)
            throw new Answer(
                `<code>${esc(t.slice(0, 80))}</code> is on workchain ${a.workChain}; Fog accounts are on the basechain (workchain 0).`,
            );
        return a;
    }

    private number(text: string, arg: NumberArg): bigint {
        if (!/^\d+$/.test(text))
            throw new Answer(`<code>${esc(text.slice(0, 40))}</code> is not ${/^[aeiou]/.test(arg.name) ? 'an' : 'a'} ${arg.name}.`);
        const n = BigInt(text);
        if (n > arg.max) throw new Answer(`<code>${esc(text.slice(0, 40))}</code> is out of range: ${arg.plural} go from 0 to ${arg.max}.`);
        return n;
    }

    async network(): Promise<string> {
        const [hub, params, now] = await Promise.all([this.fog.hub.getHubState(), this.fog.hub.getParams(), this.fog.now()]);
        const t = this.totals();
        const epoch = await this.fog.hub.getEpochOf(BigInt(now));
        const finished = t.jobsDone + t.jobsFailed + t.jobsExpired + t.jobsRejected;
        const ends = Number(params.epochStart + (epoch + 1n) * params.epochLength);
        return [
            `<b>Fog on ${esc(this.file.network)}</b>`,
            `Providers: <b>${t.providers}</b> staking (${t.providersEver} ever), total stake <b>${fog(hub.totalStaked)}</b>`,
            `Jobs: <b>${Number(hub.nextJobId) - finished}</b> open, <b>${finished}</b> finished (${t.jobsDone} done, ${t.jobsFailed} without quorum, ${t.jobsExpired} expired, ${t.jobsRejected} rejected); escrow ${fog(hub.totalEscrow)}`,
            `Epoch <b>${epoch}</b>, ends ${when(ends, now)}`,
            `Burned: <b>${fog(t.burned)}</b> in job prices + ${fog(t.slashed)} slashed; emitted: <b>${fog(t.emitted)}</b> (${fog(t.minted)} claimed)`,
        ].join('\n');
    }

    /** The job `/<command> <id>` names, and whether it was ever posted; an Answer if no id is given. */
    private async namedJob(text: string | undefined, command: string) {
        const t = (text ?? '').trim();
        if (t === '') throw new Answer(`Give a job id: <code>/${command} 12</code>`);
        const id = this.number(t, JOB_ID);
        const job = await this.fog.job(id);
        return { id, job, posted: await this.fog.client.isContractDeployed(job.address) };
    }

    async job(text: string | undefined): Promise<string> {
        const { id, job, posted } = await this.namedJob(text, 'job');
        if (!posted) throw new Answer(`There is no job ${id} (jobs so far: ${(await this.fog.hub.getHubState()).nextJobId}).`);
        const [s, now] = await Promise.all([job.getJobState(), this.fog.now()]);
        const phase = Number(s.phase);
        const lines = [
            `<b>Job ${id}</b>: ${phaseWords(phase) ?? `phase ${phase}`}`,
            `Price ${fog(s.price)}, k=${s.spec.k}, quorum ${s.spec.quorum}, up to ${formatFuel(fuelForJob(s.spec))} and ${s.spec.maxMemoryMb} MiB`,
            `Requester <code>${this.addr(s.requester)}</code>`,
        ];
        if (phase === JobPhase.Open) {
            lines.push(
                `Claims ${s.claims}/${s.spec.k} (window closes ${when(s.claimUntil, now)}), commits ${s.commits} (${when(s.commitUntil, now)}), reveals ${s.reveals} (${when(s.revealUntil, now)})`,
            );
        }
        if (phase === JobPhase.Done) {
            const hash = uint256ToHash(s.result);
            const failed = failureOf(hash);
            lines.push(failed ? `Result: the program failed on every worker (<b>${esc(failed)}</b>)` : `Result <code>${hash}</code>`);
        }
        return lines.join('\n');
    }

    /**
     * `/map <id>`: a map's shards (docs/map-reduce.md), by its first job's id or any of its
     * jobs': how many are done (settled on a result every worker verified), still running or
     * disputing, failed on every worker, or refunded, and which ones are not done.
     */
    async map(text: string | undefined): Promise<string> {
        const t = (text ?? '').trim();
        if (t === '') throw new Answer('Give a job id: <code>/map 12</code>');
        let m: MapStatus;
        try {
            m = await mapStatus(this.fog, this.number(t, JOB_ID));
        } catch (e) {
            if (e instanceof MapError) throw new Answer(esc(e.message.charAt(0).toUpperCase() + e.message.slice(1)));
            throw e;
        }
        const { first, ids } = m;
        if (m.pending)
            return `<b>Map ${first}</b>: ${ids.length} shards, jobs ${first}–${ids.at(-1)}, waiting for the requester's pass check; no job is open yet.`;
        const { counts, not } = m;
        const s0 = m.states[0];
        const lines = [
            ids.length === 1
                ? `<b>Job ${first}</b> is a map of one input, posted as a plain job: <code>/job ${first}</code>`
                : `<b>Map ${first}</b>: ${ids.length} shards, jobs ${first}–${ids.at(-1)}, ${fog(s0.price)} each, k=${s0.spec.k}`,
            `Requester <code>${this.addr(s0.requester)}</code>`,
            `<b>${counts.done}</b> done, each output verified on chain${counts.running ? `; <b>${counts.running}</b> running` : ''}${counts['program-failed'] ? `; ${counts['program-failed']} where the program failed on every worker` : ''}${counts.refunded ? `; ${counts.refunded} refunded (no quorum, expired or rejected)` : ''}`,
        ];
        if (not.running.length) lines.push(`Running: ${not.running.join(', ')}`);
        if (not['program-failed'].length) lines.push(`Program failed: ${not['program-failed'].join(', ')}`);
        if (not.refunded.length) lines.push(`Refunded: ${not.refunded.join(', ')}`);
        if (counts.done === ids.length && ids.length > 1)
            lines.push(`Every shard is done: <code>fog job shards ${first} --out-dir map-${first}</code> downloads the outputs, checked.`);
        return lines.join('\n');
    }

    async provider(text: string | undefined): Promise<string> {
        const owner = this.address(text, 'provider');
        const p = await this.fog.providerOf(owner);
        if (!(await this.fog.client.isContractDeployed(p.address))) throw new Answer(`<code>${this.addr(owner)}</code> has never staked.`);
        const [s, now] = await Promise.all([p.getProviderState(), this.fog.now()]);
        return [
            `<b>Provider</b> <code>${this.addr(owner)}</code>`,
            `Stake <b>${fog(s.stake)}</b> (${fog(s.locked)} locked by ${s.openClaims} open claims, ${fog(s.free)} free)`,
            ...(s.unbonding > 0n ? [`Unbonding ${fog(s.unbonding)}, withdrawable ${when(s.unbondingUntil, now)}`] : []),
            `Pass: ${s.passHeld ? 'held' : 'none'}; offers ${s.cores} cores, ${s.memoryMb} MiB`,
            `Reputation <b>${s.reputation}</b>; work units ${fog(s.unitsTotal).replace(' FOG', '')} in all`,
            `Slashed ${s.slashCount}× (${fog(s.slashedTotal)})`,
        ].join('\n');
    }

    async pass(text: string | undefined): Promise<string> {
        const owner = this.address(text, 'pass');
        const collection = open(this.fog.client, PassCollection.fromAddress(this.file.collection));
        const item = open(this.fog.client, PassItem.fromAddress(await collection.getPassAddress(owner)));
        if (!(await this.fog.client.isContractDeployed(item.address)))
            throw new Answer(`<code>${this.addr(owner)}</code> has no Contributor Pass: it is minted on a first stake of the minimum.`);
        const s = await item.getPassState();
        const issued = new Date(Number(s.issuedAt) * 1000).toISOString().slice(0, 16).replace('T', ' ');
        return [
            `<b>Contributor Pass</b> <code>${this.addr(item.address)}</code>`,
            `Owner <code>${this.addr(owner)}</code>, soulbound`,
            `Declared ${s.cores} cores, ${s.memoryMb} MiB; issued ${issued} UTC`,
            s.live
                ? 'Status: <b>valid</b>'
                : `Status: <b>revoked</b> ${new Date(Number(s.revokedAt) * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        ].join('\n');
    }

    /** `/refused <address>`: why the hub last sent this address's stake or job post back, if it did. */
    async refused(text: string | undefined): Promise<string> {
        const owner = this.address(text, 'refused');
        if (!this.opts.refusals) throw new Answer('This bot keeps no record of refusals.');
        const r = this.opts.refusals(owner);
        if (!r) return `The hub has not refused a transfer from <code>${this.addr(owner)}</code>.`;
        const at = new Date(r.time * 1000).toISOString().slice(0, 16).replace('T', ' ');
        return `The hub refused a ${refusedWhat(r.what)} of <code>${this.addr(owner)}</code> on ${at} UTC and sent ${fog(r.amount)} back: ${esc(refusalReason(r.reason))}.`;
    }

    async rewards(text: string | undefined): Promise<string> {
        const owner = this.address(text, 'rewards');
        const p = await this.fog.providerOf(owner);
        if (!(await this.fog.client.isContractDeployed(p.address)))
            throw new Answer(`<code>${this.addr(owner)}</code> has never staked, so it has no rewards.`);
        const [s, params, now] = await Promise.all([p.getProviderState(), this.fog.hub.getParams(), this.fog.now()]);
        const lines = [`<b>Rewards</b> of <code>${this.addr(owner)}</code>`];
        for (const [n, units] of [
            [s.prevEpoch, s.prevUnits],
            [s.curEpoch, s.curUnits],
        ]) {
            if (units === 0n) continue;
            const e = await (await this.fog.epoch(n)).getEpochState();
            const closable = closableAt(n, params);
            if (e.closed)
                lines.push(
                    `Epoch ${n}: <b>${fog((e.emission * units) / e.units)}</b> to claim (${fog(units).replace(' FOG', '')} of ${fog(e.units).replace(' FOG', '')} units): <code>fog-worker rewards</code>`,
                );
            else if (now >= closable && blockingHolds(e, now) > 0n)
                lines.push(`Epoch ${n}: ended, ${holdsWords(e.holds)}; claimable once they arrive`);
            else if (now >= closable)
                lines.push(
                    `Epoch ${n}: ended; claiming closes it and mints your share of ${fog(units).replace(' FOG', '')} units: <code>fog-worker rewards</code>`,
                );
            else
                lines.push(
                    `Epoch ${n}: running, ${fog(units).replace(' FOG', '')} units so far of ${fog(e.units).replace(' FOG', '')}; claimable ${when(closable, now)}`,
                );
        }
        if (lines.length === 1) lines.push('Nothing to claim: no unclaimed work units.');
        return lines.join('\n');
    }

    async epoch(text: string | undefined): Promise<string> {
        const now = await this.fog.now();
        const n = (text ?? '').trim() === '' ? await this.fog.hub.getEpochOf(BigInt(now)) : this.number(text!.trim(), EPOCH);
        const epoch = await this.fog.epoch(n);
        const params = await this.fog.hub.getParams();
        const end = Number(params.epochStart + (n + 1n) * params.epochLength);
        if (!(await this.fog.client.isContractDeployed(epoch.address))) {
            return `<b>Epoch ${n}</b> ${end > now ? `ends ${when(end, now)}` : 'ended'}; no job has settled in it yet.`;
        }
        const e = await epoch.getEpochState();
        return [
            `<b>Epoch ${n}</b> ${end > now ? `ends ${when(end, now)}` : e.closed ? 'closed' : 'ended, not closed yet'}${blockingHolds(e, now) > 0n ? `; ${holdsWords(e.holds)}` : ''}`,
            `Burned ${fog(e.burned)}, slashed ${fog(e.slashed)}, work units ${fog(e.units).replace(' FOG', '')}`,
            e.closed
                ? `Emission <b>${fog(e.emission)}</b>, ${fog(e.minted)} claimed`
                : `Emission when closed: base ${fog(e.terms.emissionBase)} + burned × ${Number(e.terms.emissionRatioPpm) / 1e6}, at most ${fog(e.terms.emissionCap)}`,
        ].join('\n');
    }

    /**
     * `/result <id>`: a finished job's output, checked against the on-chain result: a PNG (a meme)
     * as a picture, short UTF-8 text as text, anything else described.
     */
    async result(text: string | undefined): Promise<ResultAnswer> {
        const { id, job, posted } = await this.namedJob(text, 'result');
        if (!posted) throw new Answer(`There is no job ${id}.`);
        const s = await job.getJobState();
        if (Number(s.phase) !== JobPhase.Done)
            throw new Answer(`Job ${id} has no result: it is ${phaseWords(s.phase) ?? `in phase ${s.phase}`}.`);
        const hash = uint256ToHash(s.result);
        const failed = failureOf(hash);
        if (failed) throw new Answer(`Job ${id}: the program failed on every worker (<b>${esc(failed)}</b>), so there is no output.`);
        const storage = this.opts.storage;
        if (!storage) throw new Answer(`Job ${id}'s result is <code>${hash}</code>; this bot has no storage node to fetch it from.`);
        const bytes = await storage.getResult(hash, { maxBytes: MAX_RESULT_BYTES }).catch((e: unknown) => {
            if (e instanceof BlobNotFoundError)
                throw new Answer(
                    `Job ${id}'s result <code>${hash}</code> is not on this bot's storage node (a worker keeps it on its own).`,
                );
            if (e instanceof BlobTooLargeError)
                throw new Answer(
                    `Job ${id}'s output is larger than ${MAX_RESULT_BYTES / 1_048_576} MiB: get it with <code>fog job result ${id}</code>.`,
                );
            throw e;
        });
        const agreed = `quorum of ${s.spec.quorum} of ${s.spec.k} workers, output hash ${hash.slice(0, 16)}…`;
        if (bytes.subarray(0, 8).equals(PNG_SIGNATURE))
            return { photo: bytes, filename: `fog-job-${id}.png`, caption: `Job ${id}: ${agreed}` };
        const utf8 = bytes.toString('utf-8');
        // eslint-disable-next-line no-control-regex -- control characters are what this test looks for
        if (bytes.length <= 3_000 && Buffer.from(utf8, 'utf-8').equals(bytes) && !/[\u0000-\u0008\u000e-\u001f]/.test(utf8)) {
            return `<b>Job ${id}</b> (${agreed}):\n<pre>${esc(utf8)}</pre>`;
        }
        return `<b>Job ${id}</b> output: ${bytes.length.toLocaleString('en-US')} bytes, ${agreed}. Get it with <code>fog job result ${id}</code>.`;
    }

    /**
     * `/post <your address> <price> <meme|upper> <text…>` or `/post <your address> <price> <program sha256> <input sha256>`:
     * checks the pass and the balance, and answers with the links that post the job from the
     * user's own wallet.
     */
    async post(text: string | undefined): Promise<{ text: string; tonkeeper: string }> {
        const usage =
            'Usage: <code>/post &lt;your address&gt; &lt;price FOG&gt; meme &lt;top text | bottom text&gt;</code>, <code>… upper &lt;text&gt;</code> or <code>/post &lt;your address&gt; &lt;price FOG&gt; &lt;program sha256&gt; &lt;input sha256&gt;</code>';
        const parts = (text ?? '').trim().split(/\s+/);
        if (parts.length < 4) throw new Answer(usage);
        const requester = this.address(parts[0], 'post');
        let price: bigint;
        try {
            price = parseAmount(parts[1]);
        } catch {
            throw new Answer(`<code>${esc(parts[1].slice(0, 40))}</code> is not an amount of FOG. ${usage}`);
        }
        const storage = this.opts.storage;
        if (!storage) throw new Answer('This bot has no storage node, so it cannot post jobs.');
        let program: string;
        /** The program and input the user named by hash (empty for a text example). */
        let named: string[] = [];
        const example = parts[2].toLowerCase();
        if (TEXT_EXAMPLES.includes(example)) {
            const hash = this.opts.programs?.[example];
            if (!hash) throw new Answer(`The <code>${example}</code> example is not available on this bot.`);
            program = hash;
        } else {
            named = [example, (parts[3] ?? '').toLowerCase()];
            for (const h of named) {
                if (!isSha256Hex(h)) throw new Answer(`<code>${esc(h.slice(0, 80))}</code> is not a sha256 (64 hex digits). ${usage}`);
            }
            program = example;
        }
        const { minJobPrice } = await this.fog.hub.getParams();
        if (price < minJobPrice)
            throw new Answer(`A job must pay at least ${fog(minJobPrice)} on this network (you offered ${fog(price)}).`);
        const check = await this.fog.checkPoster(requester, price);
        if (!check.ok && check.reason === 'no-pass')
            throw new Answer(
                `<code>${this.addr(requester)}</code> holds no valid Contributor Pass, and only pass holders may post (the job would be refunded). Stake first.`,
            );
        if (!check.ok && check.reason === 'balance')
            throw new Answer(`That wallet holds ${fog(check.balance)}; the job costs ${fog(price)}.`);
        // Only a wallet that may post gets anything written to the storage node.
        for (const h of named) {
            if (!(await storage.has(h))) throw new Answer(`The storage node has no blob <code>${h}</code>: upload it first.`);
        }
        // the text as typed after the program's name, its spacing kept
        const typed = Buffer.from((text ?? '').trim().replace(/^(\S+\s+){3}/, ''));
        const input = named[1] === undefined ? typed : await storage.get(named[1]);
        if (named[1] === undefined) await storage.put(typed);
        let spec: JobSpec;
        try {
            // the spec commits to the state the run starts from, so the bot reads the program
            spec = jobSpec({ program: await storage.get(program), input, urlOf: (h) => storage.urlOf(h) });
        } catch (e) {
            if (!(e instanceof Error) || !/refused before it runs/.test(e.message)) throw e;
            throw new Answer(`That program cannot run (${esc(e.message)}), so no worker would take the job. Nothing was posted.`);
        }
        const next = (await this.fog.hub.getHubState()).nextJobId;
        const message = await this.fog.post(requester, price, spec);
        const links = transferLinks(message, this.file.network);
        return {
            text: [
                `<b>Post a job</b> paying ${fog(price)} (k=3, quorum 2, up to ${formatFuel(fuelForJob(spec))}) from <code>${this.addr(requester)}</code>.`,
                `Sign it in your wallet: it sends ${formatAmount(message.value, 'TON')} for fees (unspent TON comes back).`,
                `It will most likely be job ${next}: <code>/job ${next}</code>. If the hub refuses the post it sends the FOG back, and <code>/refused ${this.addr(requester)}</code> says why.`,
                `Any wallet: <code>${esc(links.ton)}</code>`,
            ].join('\n'),
            tonkeeper: links.tonkeeper,
        };
    }
}
