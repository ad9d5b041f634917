/**
 * The real bot on the devnet: updates go in through `handleUpdate`, and every Bot API call it
 * makes is caught by a grammY transformer (no network), so each test reads what a user would see.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, RootDatabase } from 'lmdb';
import type { Bot } from 'grammy';
import { startDevnet, Devnet, FOG } from './helpers/devnet';
import { advance, claim, commit, post, reveal, staker, wallet } from './helpers/flow';
import { createFogBot, DEFAULT_RATE_LIMIT } from '../bot/bot';
import { parseBotArgs } from '../bot/config';
import { ApiCall, captureApi, channelPostUpdate, CONSOLE_BOT, photoOf, Reply, replyOf, textUpdate } from '../bot/console';
import { Reader } from '../bot/reader';
import { Watcher } from '../client/watcher';
import { NetworkIndex } from '../client/network-index';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { hashToUint256, sha256Hex, StorageClient } from '../client/storage';
import { resultHashOf } from '../client/results';
import { runExample } from '../examples/catalog';
import { decodeTransferLink } from '../client/deeplink';
import { connect } from '../client/chain';
import { Fog, jobSpec } from '../client/actions';
import { NetworkFile } from '../client/addresses';
import { WalletSender } from '../client/sender';
import { DIST } from '../client/processes';
import { formatAmount } from '../wrappers/units';
import { Address, toNano } from '@ton/core';
import { shardsOf, specOf } from '../client/sandbox/protocol';

describe('the Telegram bot', () => {
    let d: Devnet;
    let dir: string;
    let db: RootDatabase;
    let storage: StorageNode;
    let watcher: Watcher;
    let file: NetworkFile;
    let reader: Reader;
    let bot: Bot;
    let requester: WalletSender;
    let workers: WalletSender[];
    let done: bigint;
    const calls: ApiCall[] = [];

    /** Sends `text` as user `user` and returns the bot's replies to it. */
    const say = async (text: string, user = 42, b = bot): Promise<Reply[]> => {
        const from = calls.length;
        await b.handleUpdate(textUpdate(text, user));
        return calls
            .slice(from)
            .map(replyOf)
            .filter((r): r is Reply => r !== undefined);
    };
    const one = async (text: string, user?: number) => {
        const replies = await say(text, user);
        expect(replies).toHaveLength(1);
        return replies[0];
    };

    beforeAll(async () => {
        d = await startDevnet();
        dir = mkdtempSync(join(tmpdir(), 'fog-bot-'));
        db = open({ path: join(dir, 'bot.mdb') });
        storage = await startStorageNode({ dir: join(dir, 'blobs'), port: 0, log: () => undefined });
        file = {
            network: 'devnet',
            endpoint: d.endpoint,
            token: d.protocol.token,
            collection: d.protocol.collection,
            hub: d.protocol.hub,
            storage: storage.url,
            devnet: d.url,
        };

        requester = await staker(d);
        workers = [await staker(d), await staker(d), await staker(d)];
        done = await post(d, requester, { k: 3n, quorum: 2n });
        for (const w of workers) await claim(d, w, done);
        for (const w of workers) await commit(d, w, done);
        for (const w of workers) await reveal(d, w, done);

        watcher = new Watcher({ client: d.client, db, hub: d.protocol.hub, log: () => undefined });
        const index = new NetworkIndex(db, watcher);
        await watcher.pollOnce();
        const store = new StorageClient(storage.url);
        const programs = {
            upper: await store.put(readFileSync(join(DIST, 'examples', 'upper.wasm'))),
            meme: await store.put(readFileSync(join(DIST, 'examples', 'meme.wasm'))),
        };
        reader = new Reader(new Fog(d.client, file), file, () => index.read(), {
            storage: store,
            programs,
            refusals: (a) => index.lastRefusal(a),
        });
        // the limiter has its own test below; here one user asks many things
        bot = createFogBot({ token: 'test', reader, botInfo: CONSOLE_BOT, rateLimit: { ...DEFAULT_RATE_LIMIT, commands: 1_000 } });
        captureApi(bot, (c) => calls.push(c));
        await bot.init();
    });
    afterAll(async () => {
        await watcher.stop();
        await db.close();
        await storage.close();
        await d.close();
        rmSync(dir, { recursive: true, force: true });
    });

    it('greets with the list of commands', async () => {
        const r = await one('/start');
        for (const c of ['/network', '/job', '/map', '/result', '/provider', '/pass', '/rewards', '/epoch', '/post', '/refused'])
            expect(r.text).toContain(c);
        expect(calls.at(-1)!.payload).toMatchObject({ chat_id: 42, parse_mode: 'HTML' });
        expect(calls.at(-1)!.payload.reply_markup).toBeUndefined();
    });

    it('offers the web app as a Mini App button on /start when it knows the app’s https address', async () => {
        const withApp = createFogBot({ token: 'test', reader, botInfo: CONSOLE_BOT, appUrl: 'https://fog.example/app/' });
        const seen: typeof calls = [];
        captureApi(withApp, (c) => seen.push(c));
        await withApp.init();
        await withApp.handleUpdate(textUpdate('/start'));
        expect(seen.at(-1)!.payload).toMatchObject({
            chat_id: 42,
            reply_markup: { inline_keyboard: [[{ text: 'Open Fog', web_app: { url: 'https://fog.example/app/' } }]] },
        });
        expect(String(seen.at(-1)!.payload.text)).toContain('/network');
        expect(parseBotArgs(['--console', '--app-url', 'https://fog.example/'], {})).toMatchObject({
            options: { appUrl: 'https://fog.example/' },
        });
        expect(parseBotArgs(['--console'], { FOG_APP_URL: 'https://fog.example/x' })).toMatchObject({
            options: { appUrl: 'https://fog.example/x' },
        });
        expect(() => parseBotArgs(['--console', '--app-url', 'http://127.0.0.1:8090/'], {})).toThrow(
            "--app-url must be the web app's https address (Telegram opens Mini Apps only over https), got http://127.0.0.1:8090/",
        );
    });

    it('/network: providers, stake, jobs, epoch, burned and emitted FOG', async () => {
        const r = await one('/network');
        expect(r.text).toContain('Fog on devnet');
        expect(r.text).toContain('Providers: 4 staking (4 ever), total stake 800 FOG');
        expect(r.text).toMatch(/Jobs: 0 open, 1 finished \(1 done, 0 without quorum, 0 expired, 0 rejected\)/);
        expect(r.text).toMatch(/Epoch 0, ends in \d+ min/);
        expect(r.text).toContain('Burned: 10 FOG in job prices + 0 FOG slashed; emitted: 0 FOG');
    });

    it('/job: state and result, or why not', async () => {
        const r = await one(`/job ${done}`);
        expect(r.text).toContain(`Job ${done}: done ✅`);
        expect(r.text).toContain('Price 10 FOG, k=3, quorum 2, up to 10,000 Mfuel and 256 MiB');
        const state = await (await d.fog.job(done)).getJobState();
        expect(r.text).toContain(`Result ${state.result.toString(16).padStart(64, '0')}`);
        expect((await one('/job 99')).text).toBe('There is no job 99 (jobs so far: 1).');
        expect((await one('/job seven')).text).toBe('seven is not a job id.');
        expect((await one('/job')).text).toBe('Give a job id: /job 12');
    });

    it('/provider and /pass: stake, reputation, the pass; unknown and malformed addresses', async () => {
        const w = workers[0].address;
        const p = await one(`/provider ${w.toString()}`);
        expect(p.text).toContain('Stake 200 FOG (0 FOG locked by 0 open claims, 200 FOG free)');
        expect(p.text).toContain('Pass: held; offers 4 cores, 4096 MiB');
        expect(p.text).toMatch(/Reputation 1;/);
        const pass = await one(`/pass ${w.toRawString()}`);
        expect(pass.text).toContain('Contributor Pass');
        expect(pass.text).toContain('Status: valid');

        const stranger = (await wallet(d)).address;
        expect((await one(`/provider ${stranger.toString()}`)).text).toMatch(/has never staked\.$/);
        expect((await one(`/pass ${stranger.toString()}`)).text).toMatch(/has no Contributor Pass/);
        expect((await one('/provider EQ-not-an-address')).text).toBe('EQ-not-an-address is not a TON address.');
        expect((await one('/pass')).text).toBe('Give an address: /pass EQ…');
    });

    it('/rewards and /epoch follow an epoch from running to closed', async () => {
        const w = workers[0].address.toString();
        const units = (await (await d.fog.providerOf(workers[0].address)).getProviderState()).curUnits;
        const all = (await (await d.fog.epoch(0n)).getEpochState()).units;
        const n = (x: bigint) => formatAmount(x).replace(' FOG', '');
        expect(units).toBeGreaterThan(0n);
        expect((await one(`/rewards ${w}`)).text).toMatch(
            new RegExp(`Epoch 0: running, ${n(units)} units so far of ${n(all)}; claimable in \\d+ min`),
        );
        expect((await one('/epoch')).text).toMatch(
            new RegExp(`Epoch 0 ends in \\d+ min\nBurned 10 FOG, slashed 0 FOG, work units ${n(all)}\nEmission when closed: base`),
        );

        await advance(d, 700); // past the end of epoch 0 and its close delay
        expect((await one(`/rewards ${w}`)).text).toContain(`Epoch 0: ended; claiming closes it and mints your share of ${n(units)} units`);
        await workers[1].send([await d.fog.claimRewards(workers[1].address, 0n)], true); // closes it
        const closed = await (await d.fog.epoch(0n)).getEpochState();
        expect((await one(`/rewards ${w}`)).text).toContain(
            `Epoch 0: ${formatAmount((closed.emission * units) / closed.units)} to claim (${n(units)} of ${n(all)} units)`,
        );
        expect((await one('/epoch 0')).text).toMatch(/Epoch 0 closed\n.*\nEmission [\d.]+ FOG, [\d.]+ FOG claimed/);
        expect((await one('/epoch 1')).text).toMatch(/Epoch 1 ends in \d+ min; no job has settled in it yet\./);
        expect((await one('/epoch last')).text).toBe('last is not an epoch number.');
    });

    it('/post answers with a Tonkeeper button whose link posts exactly that job from the user’s wallet', async () => {
        const r = await one(`/post ${requester.address.toString()} 5 upper hello from telegram`);
        expect(r.text).toContain('Post a job paying 5 FOG (k=3, quorum 2, up to 10,000 Mfuel)');
        expect(r.buttons).toHaveLength(1);
        expect(r.buttons[0].text).toBe('Sign in Tonkeeper');
        const link = decodeTransferLink(r.buttons[0].url!);
        expect(link.to.equals(await d.fog.walletOf(requester.address))).toBe(true);

        const next = (await d.fog.hub.getHubState()).nextJobId;
        const user = new WalletSender(connect(d.endpoint), requester.identity, { validForSeconds: 86_400 }, d.endpoint);
        await user.send([{ to: link.to, value: link.amount, body: link.body }], true);
        const job = await (await d.fog.job(next)).getJobState();
        expect(job.price).toBe(5n * FOG);
        expect(job.spec.inputHash.toString(16).padStart(64, '0')).toBe(sha256Hex(Buffer.from('hello from telegram')));

        // a meme: the prompt exactly as typed after the program's name, spacing and '|' kept
        const meme = decodeTransferLink(
            (await one(`/post ${requester.address.toString()} 5 meme when  it  verifies | first try`)).buttons[0].url!,
        );
        const store = new StorageClient(storage.url);
        const expected = jobSpec({
            program: readFileSync(join(DIST, 'examples', 'meme.wasm')),
            input: Buffer.from('when  it  verifies | first try'),
            urlOf: (h) => store.urlOf(h),
        });
        expect(meme.body!.hash().equals((await d.fog.post(requester.address, 5n * FOG, expected)).body!.hash())).toBe(true);
    });

    it('/post refuses what would be refunded or cannot be paid', async () => {
        const stranger = (await wallet(d)).address.toString();
        expect((await one(`/post ${stranger} 5 upper hi`)).text).toMatch(/holds no valid Contributor Pass/);
        expect((await one(`/post ${requester.address.toString()} 100000 upper hi`)).text).toMatch(
            /^That wallet holds [\d.]+ FOG; the job costs 100000 FOG\.$/,
        );
        expect((await one(`/post ${requester.address.toString()} lots upper hi`)).text).toMatch(/^lots is not an amount of FOG/);
        expect((await one(`/post ${requester.address.toString()} 5 ${'ab'.repeat(32)} ${'cd'.repeat(32)}`)).text).toBe(
            `The storage node has no blob ${'ab'.repeat(32)}: upload it first.`,
        );
        expect((await one('/post')).text).toMatch(/^Usage: \/post/);
    });

    it('answers an out-of-range number as the user’s mistake, naming the range the chain accepts', async () => {
        const addr = requester.address.toString();
        expect((await one('/epoch 4294967296')).text).toBe('4294967296 is out of range: epoch numbers go from 0 to 4294967295.');
        expect((await one('/epoch 99999999999999999999999')).text).toBe(
            '99999999999999999999999 is out of range: epoch numbers go from 0 to 4294967295.',
        );
        expect((await one('/epoch 4294967295')).text).toMatch(/^Epoch 4294967295 ends in \d+ h; no job has settled in it yet\.$/);
        expect((await one('/job 18446744073709551616')).text).toBe(
            '18446744073709551616 is out of range: job ids go from 0 to 18446744073709551615.',
        );
        expect((await one('/job 18446744073709551615')).text).toMatch(/^There is no job 18446744073709551615 /);
        expect((await one('/result 18446744073709551616')).text).toBe(
            '18446744073709551616 is out of range: job ids go from 0 to 18446744073709551615.',
        );
        expect((await one(`/post ${addr} 0 upper hi`)).text).toBe('A job must pay at least 1 FOG on this network (you offered 0 FOG).');
        expect((await one(`/post ${addr} 0.999999999 upper hi`)).text).toBe(
            'A job must pay at least 1 FOG on this network (you offered 0.999999999 FOG).',
        );
        expect((await one(`/post ${addr} 1 upper hi`)).text).toContain('Post a job paying 1 FOG');
    });

    it('refuses an address outside the basechain instead of showing another address’s pass', async () => {
        const hash = workers[0].address.hash;
        const master = new Address(-1, hash);
        for (const command of ['pass', 'provider', 'rewards']) {
            expect((await one(`/${command} ${master.toRawString()}`)).text).toBe(
                `${master.toRawString()} is on workchain -1; Fog accounts are on the basechain (workchain 0).`,
            );
        }
        expect((await one(`/post ${master.toString()} 5 upper hi`)).text).toMatch(/is on workchain -1; Fog accounts are on the basechain/);
        expect((await one(`/pass ${new Address(0, hash).toRawString()}`)).text).toContain('Status: valid');
    });

    it('/post uploads nothing for a wallet that may not post', async () => {
        const store = new StorageClient(storage.url);
        const stranger = (await wallet(d)).address.toString();
        const text = `not for the node ${Date.now()}`;
        expect((await one(`/post ${stranger} 5 upper ${text}`)).text).toMatch(/holds no valid Contributor Pass/);
        expect((await one(`/post ${requester.address.toString()} 100000 upper ${text}`)).text).toMatch(/^That wallet holds/);
        expect(await store.has(sha256Hex(Buffer.from(text)))).toBe(false);
        expect((await one(`/post ${requester.address.toString()} 5 upper ${text}`)).text).toContain('Post a job paying 5 FOG');
        expect(await store.has(sha256Hex(Buffer.from(text)))).toBe(true);
    });

    it('/refused says why the hub sent a post back, from the hub’s refusal event', async () => {
        const poster = await staker(d);
        expect((await one(`/refused ${poster.address.toString()}`)).text).toMatch(/^The hub has not refused a transfer from/);
        // k = 8 is beyond what the hub allows: it sends the 10 FOG back with the reason
        await post(d, poster, { k: 8n, quorum: 5n });
        await watcher.pollOnce();
        expect((await one(`/refused ${poster.address.toString()}`)).text).toMatch(
            /^The hub refused a job post of [\w-]+ on \d{4}-\d\d-\d\d \d\d:\d\d UTC and sent 10 FOG back: k \(the number of workers\) is 0 or above the maximum the hub allows\.$/,
        );
        expect((await one('/refused nobody')).text).toMatch(/address/i);
    });

    it('/result sends a meme job’s picture and a text job’s text, each checked against the chain', async () => {
        const store = new StorageClient(storage.url);
        const png = await runExample('meme', Buffer.from('fog | in telegram'));
        const text = Buffer.from('HELLO <FROM> FOG');
        const jobs: bigint[] = [];
        for (const output of [png, text]) {
            // as a worker uploads its output: indexed by its output hash, the result it reveals
            const result = hashToUint256(await store.putResult(output));
            const id = await post(d, requester, { k: 3n, quorum: 2n });
            for (const w of workers) await claim(d, w, id);
            for (const w of workers) await commit(d, w, id, result);
            for (const w of workers) await reveal(d, w, id, result);
            jobs.push(id);
        }
        const from = calls.length;
        await bot.handleUpdate(textUpdate(`/result ${jobs[0]}`));
        const sent = calls.slice(from);
        expect(sent.map((c) => c.method)).toEqual(['sendPhoto']);
        const photo = photoOf(sent[0])!;
        expect(photo.bytes.equals(png)).toBe(true);
        expect(photo.filename).toBe(`fog-job-${jobs[0]}.png`);
        expect(photo.caption).toBe(`Job ${jobs[0]}: quorum of 2 of 3 workers, output hash ${resultHashOf(png).slice(0, 16)}…`);
        expect((await one(`/result ${jobs[1]}`)).text).toBe(
            `Job ${jobs[1]} (quorum of 2 of 3 workers, output hash ${resultHashOf(text).slice(0, 16)}…):\nHELLO <FROM> FOG`,
        );
        // the first job's result was never uploaded here; a job still open; no such job; not a number
        expect((await one(`/result ${done}`)).text).toMatch(
            new RegExp(`^Job ${done}'s result [0-9a-f]{64} is not on this bot's storage node`),
        );
        const open = await post(d, requester, { k: 3n, quorum: 2n });
        expect((await one(`/result ${open}`)).text).toMatch(new RegExp(`^Job ${open} has no result: it is (open|checking)`));
        expect((await one('/result 999')).text).toBe('There is no job 999.');
        expect((await one('/result x')).text).toBe('x is not a job id.');
    });

    it('answers unknown commands and plain text', async () => {
        expect((await one('/hello')).text).toBe('I don’t know /hello. /help lists what I do.');
        expect((await one('what is fog?')).text).toBe('Send a command: /help lists them.');
    });

    it('limits each user, not everyone', async () => {
        let now = 1_000_000;
        const limited = createFogBot({
            token: 'test',
            reader,
            botInfo: CONSOLE_BOT,
            rateLimit: { commands: 2, windowMs: 10_000, maxUsers: 100 },
            clock: () => now,
        });
        captureApi(limited, (c) => calls.push(c));
        await limited.init();
        const texts = async (user: number) => (await say('/help', user, limited)).map((r) => r.text);
        expect(await texts(7)).toHaveLength(1);
        expect(await texts(7)).toHaveLength(1);
        expect(await texts(7)).toEqual(['Slow down: try again in 10 s.']);
        expect((await texts(8))[0]).toContain('Commands:'); // another user is not affected
        now += 10_001;
        expect((await texts(7))[0]).toContain('Commands:');
    });

    it('limits channel posts too, each channel on its own', async () => {
        const limited = createFogBot({
            token: 'test',
            reader,
            botInfo: CONSOLE_BOT,
            rateLimit: { commands: 2, windowMs: 10_000, maxUsers: 100 },
            clock: () => 1_000_000,
        });
        captureApi(limited, (c) => calls.push(c));
        await limited.init();
        const post = async (channel: number) => {
            const from = calls.length;
            await limited.handleUpdate(channelPostUpdate('/help', channel));
            return calls
                .slice(from)
                .map(replyOf)
                .filter((r): r is Reply => r !== undefined);
        };
        expect((await post(-1001))[0]).toMatchObject({ chat: -1001, text: expect.stringContaining('Commands:') });
        expect((await post(-1001))[0].text).toContain('Commands:');
        expect(await post(-1001)).toEqual([expect.objectContaining({ chat: -1001, text: 'Slow down: try again in 10 s.' })]);
        expect((await post(-1002))[0].text).toContain('Commands:');
    });

    it('ignores commands addressed to another bot, and answers those addressed to it', async () => {
        const limited = createFogBot({
            token: 'test',
            reader,
            botInfo: CONSOLE_BOT,
            rateLimit: { commands: 2, windowMs: 10_000, maxUsers: 100 },
            clock: () => 1_000_000,
        });
        captureApi(limited, (c) => calls.push(c));
        await limited.init();
        for (const text of ['/epoch@other_bot', '/hello@other_bot', '/help@other_bot x', '/post@other_bot EQ 5 upper hi'])
            expect([text, await say(text, 9, limited)]).toEqual([text, []]);
        // nor do they count against the sender's limit here
        expect((await say(`/help@${CONSOLE_BOT.username}`, 9, limited))[0].text).toContain('Commands:');
        expect((await say('/help', 9, limited))[0].text).toContain('Commands:');
        expect((await say(`/hello@${CONSOLE_BOT.username}`, 10, limited))[0].text).toBe(
            `I don’t know /hello@${CONSOLE_BOT.username}. /help lists what I do.`,
        );
    });

    it('says so in one line when the chain cannot be reached', async () => {
        const down = connect('http://127.0.0.1:9/jsonRPC');
        const broken = createFogBot({
            token: 'test',
            reader: new Reader(new Fog(down, file), file, () => {
                throw new Error('unused');
            }),
            botInfo: CONSOLE_BOT,
        });
        captureApi(broken, (c) => calls.push(c));
        await broken.init();
        const [r] = await say('/job 0', 42, broken);
        expect(r.text).toMatch(/^Could not read the chain just now \(.*unreachable.*\)\. Try again in a moment\.$/);
    });
    it('/map: a map’s shards, done, running and refunded, asked by any of its jobs', async () => {
        const first = (await d.fog.hub.getHubState()).nextJobId;
        await requester.send([await d.fog.postShards(requester.address, 2n * FOG, specOf({ k: 1n, quorum: 1n }), shardsOf(3))], true);
        const [w] = workers;
        await claim(d, w, first);
        await commit(d, w, first);
        await reveal(d, w, first);
        for (const asked of [first, first + 2n]) {
            const r = await one(`/map ${asked}`);
            expect(r.text).toContain(`Map ${first}: 3 shards, jobs ${first}–${first + 2n}, 2 FOG each, k=1`);
            expect(r.text).toContain('1 done, each output verified on chain; 2 running');
            expect(r.text).toContain(`Running: ${first + 1n}, ${first + 2n}`);
        }
        // a plain job is a map of one input
        expect((await one(`/map ${done}`)).text).toContain(`Job ${done} is a map of one input, posted as a plain job`);
        // a map whose requester holds no pass is refunded whole: its jobs never exist
        const stranger = await wallet(d, toNano('10'), 100n * FOG);
        const refunded = (await d.fog.hub.getHubState()).nextJobId;
        await stranger.send([await d.fog.postShards(stranger.address, 2n * FOG, specOf({ k: 1n, quorum: 1n }), shardsOf(2))], true);
        for (const asked of [refunded, refunded + 1n])
            expect((await one(`/map ${asked}`)).text).toBe(
                `Map ${refunded} was refunded whole: its requester held no live Contributor Pass (or the hub could not deploy its jobs); no shard ran`,
            );
        expect((await one('/map 9999')).text).toMatch(/^There is no job 9999/);
        expect((await one('/map')).text).toBe('Give a job id: /map 12');
    });
});
