/**
 * The web app (docs/app.md) in a real headless Chromium (@sparticuz/chromium's binary, driven by
 * puppeteer-core) against an HTTP devnet: the explorer shows what the chain holds and follows a
 * job live, every page works from the keyboard and fits a phone's width, and the server answers
 * malformed requests with a 4xx and stays up. With FOG_SCREENSHOTS=<folder> the run writes each
 * screen there (docs/app/ holds the ones the docs show).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { build } from 'esbuild';
import { Devnet, FOG, startDevnet } from './helpers/devnet';
import { advance, claim, commit, post, resultOf, reveal, staker, wallet } from './helpers/flow';
import { closableAt } from '../client/actions';
import { shardsOf, specOf } from '../client/sandbox/protocol';
import { toNano } from '@ton/core';
import { writeNetworkFile } from '../client/addresses';
import { uint256ToHash, sha256Hex } from '../client/hash';
import { formatAmount } from '../wrappers/units';
import { WalletSender } from '../client/sender';
import { AppServer, parseAppServerArgs, startAppServer } from '../app/server';
import { APP_DIST } from '../app/paths';
import { signInitData } from '../app/auth';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { StorageClient } from '../client/storage';
import { resultHashOf } from '../client/results';
import { runExample, exampleNamed } from '../examples/catalog';
import { TonConnectWallet } from '../client/tonconnect-wallet';
import { jobSpec } from '../client/actions';
import { fuelForJob } from '../client/compute/fuel';
import type { ComputeJob } from '../client/compute/types';
import { Party, stepBound } from '../client/dispute/game';
import { liarOf } from '../client/dispute/liar';
import { disputeHistory } from '../client/dispute/history';
import { MATCH_PHASE, moveFor } from '../worker/dispute';

/** The bot token the app server checks Mini App initData with here. */
const BOT_TOKEN = '123456:fog-test-bot-token';

const SHOTS = process.env.FOG_SCREENSHOTS;

/** The page's globals as the functions run in it use them (this file is type-checked for Node, without the DOM's types). */
interface PageElement {
    textContent: string | null;
    getAttribute(name: string): string | null;
}
declare const document: {
    querySelector(selector: string): PageElement | null;
    documentElement: { scrollWidth: number; clientWidth: number };
    activeElement: PageElement | null;
};
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare const location: { hash: string };
declare const localStorage: { clear(): void };
declare const sessionStorage: { clear(): void };

/** A raw request, so that paths reach the server exactly as written (fetch would normalize `..`). */
function raw(url: string, method: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
        const req = request({ hostname, port, method, path }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        });
        req.on('error', reject);
        req.end();
    });
}

describe('the web app', () => {
    let d: Devnet;
    let dir: string;
    let networkFile: string;
    let app: AppServer;
    let storage: StorageNode;
    let browser: Browser;
    /** Every request the page made to anywhere but this machine (there must be none). */
    const outside: string[] = [];
    let page: Page;
    let requester: WalletSender;
    let worker: WalletSender;
    /** The job the explorer test follows to its result. */
    let followed: bigint;
    /** The map the map test shows. */
    let mapped: bigint;

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'fog-app-'));
        d = await startDevnet();
        networkFile = join(dir, 'network.json');
        storage = await startStorageNode({ dir: join(dir, 'blobs'), port: 0, log: () => undefined });
        writeNetworkFile(networkFile, {
            network: 'devnet',
            endpoint: d.endpoint,
            hub: d.protocol.hub,
            token: d.protocol.token,
            collection: d.protocol.collection,
            devnet: d.url,
            storage: storage.url,
        });
        app = await startAppServer({ networkFile, port: 0, bridge: true, botToken: BOT_TOKEN });
        [requester, worker] = [await staker(d), await staker(d)];
        browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
        // TON Connect's QR code copies its link: the tests read it as a user's wallet app would take it
        await browser
            .defaultBrowserContext()
            .overridePermissions(app.url.replace(/\/$/, ''), ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
        page = await browser.newPage();
        page.on('request', (r) => {
            const url = new URL(r.url());
            if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1') outside.push(r.url());
        });
        await page.setViewport({ width: 1024, height: 800 });
    }, 120_000);

    afterAll(async () => {
        await browser?.close();
        await app?.close();
        await storage?.close();
        await d?.close();
        rmSync(dir, { recursive: true, force: true });
    });

    /** Writes the page as `name`.png when FOG_SCREENSHOTS names a folder. */
    async function shot(name: string, on: Page = page) {
        if (!SHOTS) return;
        mkdirSync(SHOTS, { recursive: true });
        await on.screenshot({ path: join(SHOTS, `${name}.png`) as `${string}.png`, fullPage: true });
    }

    /** Whether the page is wider than its viewport (it must never be: no sideways scrolling). */
    const overflows = () => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

    const text = (selector: string) => page.$eval(selector, (e) => e.textContent ?? '');

    it('serves the page, its script and the network’s public addresses; refuses what it does not serve and stays up', async () => {
        const net = (await (await fetch(`${app.url}network.json`)).json()) as Record<string, string>;
        expect(net).toEqual({
            network: 'devnet',
            endpoint: d.endpoint,
            hub: d.protocol.hub.toString({ testOnly: true }),
            token: d.protocol.token.toString({ testOnly: true }),
            collection: d.protocol.collection.toString({ testOnly: true }),
            storage: storage.url,
        });
        const index = await fetch(app.url);
        expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(await index.text()).toContain('<script type="module" src="app.js">');
        expect((await fetch(`${app.url}app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
        expect((await raw(app.url, 'HEAD', '/style.css')).status).toBe(200);

        expect(await raw(app.url, 'POST', '/')).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
        expect((await raw(app.url, 'DELETE', '/network.json')).status).toBe(405);
        expect((await raw(app.url, 'GET', '/%zz')).status).toBe(400);
        expect((await raw(app.url, 'GET', '/..%2f..%2fpackage.json')).status).toBe(400);
        expect((await raw(app.url, 'GET', '/../../package.json')).status).toBe(400);
        expect((await raw(app.url, 'GET', '/a%00b')).status).toBe(400);
        expect((await raw(app.url, 'GET', '/nothing-here.js')).status).toBe(404);
        // the devnet wallet's link says how to answer it from a terminal, the link quoted and escaped
        const walletPage = await raw(app.url, 'GET', `/wallet?v=2&id=${'ab'.repeat(32)}&r=%7B%22x%22%3A%22%3Cb%3E'%22%7D`);
        expect(walletPage.status).toBe(200);
        expect(walletPage.body).toContain(`npx fog connect &#39;${app.publicUrl.replace(/\/$/, '')}/wallet?v=2&#38;id=${'ab'.repeat(32)}`);
        expect(walletPage.body).not.toContain('<b>');
        // a network file that is gone is the server's problem, said as such, not a crash
        const other = await startAppServer({ networkFile: join(dir, 'missing.json'), port: 0 });
        try {
            const r = await raw(other.url, 'GET', '/network.json');
            expect(r.status).toBe(503);
            expect(r.body).toContain('no network file');
        } finally {
            await other.close();
        }
        expect((await fetch(`${app.url}network.json`)).status).toBe(200);
    });

    it('the devnet answers browsers on its toncenter endpoint as toncenter does, and only there', async () => {
        const pre = await fetch(d.endpoint, { method: 'OPTIONS' });
        expect(pre.status).toBe(204);
        expect(pre.headers.get('access-control-allow-origin')).toBe('*');
        expect(pre.headers.get('access-control-allow-headers')).toContain('content-type');
        const rpc = await fetch(d.endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'getMasterchainInfo', params: {} }),
        });
        expect(rpc.headers.get('access-control-allow-origin')).toBe('*');
        expect((await fetch(`${d.url}/devnet/info`)).headers.get('access-control-allow-origin')).toBeNull();
        // a page on any site could post to the faucet or the clock without a preflight: refused
        const before = await d.fog.now();
        const forged = await fetch(`${d.url}/devnet/advance`, {
            method: 'POST',
            headers: { origin: 'https://example.com', 'content-type': 'text/plain' },
            body: JSON.stringify({ seconds: 86_400 }),
        });
        expect(forged.status).toBe(403);
        expect(await d.fog.now()).toBeLessThan(before + 3_600);
    });

    it('the explorer shows the network’s totals and recent jobs as the chain holds them, and follows a job live', async () => {
        const first = await post(d, requester);
        const second = await post(d, requester, { k: 1n, quorum: 1n });
        followed = second;
        await claim(d, worker, second);
        await page.goto(app.url, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('[data-total="jobs"]')?.textContent === '2', { timeout: 30_000 });
        const hub = await d.fog.hub.getHubState();
        expect(await text('[data-total="staked"]')).toBe(formatAmount(hub.totalStaked));
        expect(await text('[data-total="escrow"]')).toBe(formatAmount(hub.totalEscrow));
        const rows = await page.$$eval('table.jobs tbody tr', (trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
        expect(rows).toEqual([
            [String(second), 'open', '0/1', '10 FOG'],
            [String(first), 'open', '0/3', '10 FOG'],
        ]);
        expect(await overflows()).toBe(false);
        await shot('explorer');

        // to the job with the keyboard alone: Tab to its link, Enter
        let focused = '';
        for (let i = 0; i < 20 && focused !== `#/job/${second}`; i++) {
            await page.keyboard.press('Tab');
            focused = await page.evaluate(() => document.activeElement?.getAttribute('href') ?? '');
        }
        expect(focused).toBe(`#/job/${second}`);
        await page.keyboard.press('Enter');
        await page.waitForFunction((id) => document.querySelector('h2')?.textContent === `Job ${id}`, { timeout: 30_000 }, String(second));
        expect(await page.$$eval('table.seats tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent))).toEqual(['claimed']);
        expect(await page.title()).toBe(`Job ${second} · Fog`);

        // the worker commits and reveals: the page follows without a reload
        await commit(d, worker, second);
        await page.waitForFunction(() => document.querySelector('table.seats tbody td:nth-child(2)')?.textContent === 'committed', {
            timeout: 30_000,
        });
        await reveal(d, worker, second);
        await page.waitForFunction(() => document.querySelector('table.seats tbody td:nth-child(2)')?.textContent === 'revealed', {
            timeout: 30_000,
        });
        expect(await text('table.seats tbody td:nth-child(3)')).toBe(uint256ToHash(resultOf(second)));
        // its one seat revealed: the job settled on that result
        await page.waitForFunction(() => document.querySelector('.outcome')?.textContent === 'done', { timeout: 30_000 });
        expect(await text('[data-result]')).toBe(uint256ToHash(resultOf(second)));
        await shot('job');

        // and on to the worker's record
        await page.click('table.seats tbody td:first-child a');
        await page.waitForSelector('[data-stake]', { timeout: 30_000 });
        const provider = await (await d.fog.providerOf(worker.address)).getProviderState();
        expect(await text('[data-stake]')).toBe(formatAmount(provider.stake));
        await shot('provider');
    }, 120_000);

    it('says what is wrong with an address it cannot show, and offers the way back', async () => {
        for (const [hash, words] of [
            ['#/job/12345', 'No job 12345 yet'],
            ['#/job/abc', '“abc” is not a job number.'],
            ['#/provider/not-an-address', '“not-an-address” is not a TON address.'],
            ['#/provider/%E0%A4%A', '“%E0%A4%A” is not a TON address.'],
            ['#/nowhere', 'There is no page “#/nowhere”.'],
        ]) {
            await page.goto(`${app.url}${hash}`, { waitUntil: 'load' });
            await page.waitForFunction(
                (w) => document.querySelector('[role="alert"]')?.textContent?.includes(w),
                { timeout: 30_000 },
                words,
            );
        }
        // a wallet that never staked has no record
        const stranger = (await d.funded()).address.toString({ testOnly: true });
        await page.goto(`${app.url}#/provider/${stranger}`, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('has never staked'), {
            timeout: 30_000,
        });
    }, 60_000);

    it('lists a job number whose contract never came (a refunded sharded post) as such, and the rest of the list with it', async () => {
        const stranger = await wallet(d, toNano('10'), 100n * FOG);
        const refunded = (await d.fog.hub.getHubState()).nextJobId;
        await stranger.send([await d.fog.postShards(stranger.address, 2n * FOG, specOf({ k: 1n, quorum: 1n }), shardsOf(2))], true);
        expect((await d.fog.hub.getHubState()).nextJobId).toBe(refunded + 2n);
        await page.goto(app.url, { waitUntil: 'load' });
        await page.waitForFunction(
            (n) => document.querySelector('[data-total="jobs"]')?.textContent === n,
            { timeout: 30_000 },
            String(refunded + 2n),
        );
        const rows = await page.$$eval('table.jobs tbody tr', (trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
        expect(rows.slice(0, 2)).toEqual([
            [String(refunded + 1n), 'not deployed: being posted, or its post was refused and refunded'],
            [String(refunded), 'not deployed: being posted, or its post was refused and refunded'],
        ]);
        expect(rows.slice(2).map((r) => r[1])).toEqual(['done', 'open']);
        await page.goto(`${app.url}#/job/${refunded}`, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent?.includes('refunded'), { timeout: 30_000 });
    }, 60_000);

    it('shows a map’s shards, reached from any of its jobs, and says why a map refunded whole has none', async () => {
        const first = (await d.fog.hub.getHubState()).nextJobId;
        mapped = first;
        await requester.send([await d.fog.postShards(requester.address, 2n * FOG, specOf({ k: 1n, quorum: 1n }), shardsOf(3))], true);
        await claim(d, worker, first + 1n);
        await commit(d, worker, first + 1n);
        await reveal(d, worker, first + 1n);
        // a shard's page names its map; the link leads there
        await page.goto(`${app.url}#/job/${first + 2n}`, { waitUntil: 'load' });
        await page.waitForFunction((w) => document.querySelector('main p a')?.textContent === w, { timeout: 30_000 }, `map ${first}`);
        expect(await text('main h2 + p')).toBe(`Shard 3 of map ${first}`);
        await page.click('main h2 + p a');
        await page.waitForFunction((w) => document.querySelector('h2')?.textContent === w, { timeout: 30_000 }, `Map ${first}`);
        expect(await page.title()).toBe(`Map ${first} · Fog`);
        expect(await text('[data-count="done"]')).toBe('1');
        expect(await text('[data-count="running"]')).toBe('2');
        const rows = await page.$$eval('table.jobs tbody tr', (trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
        expect(rows).toEqual([
            [String(first), 'running', 'open', '0/1'],
            [String(first + 1n), 'done', 'done', '1/1'],
            [String(first + 2n), 'running', 'open', '0/1'],
        ]);
        expect(await overflows()).toBe(false);
        await shot('map');
        // the sharded post the last test saw refunded whole (no pass), asked by its second job
        await page.goto(`${app.url}#/map/${first - 1n}`, { waitUntil: 'load' });
        await page.waitForFunction(
            (w) => document.querySelector('[role="alert"]')?.textContent?.startsWith(w),
            { timeout: 30_000 },
            `Map ${first - 2n} was refunded whole`,
        );
        await page.goto(`${app.url}#/map/x1`, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('[role="alert"]')?.textContent === '“x1” is not a job number.', {
            timeout: 30_000,
        });
    }, 60_000);

    /** The job the create test posted through the wallet, and its verified output. */
    let created: bigint;

    /**
     * Connects `wallet` in TON Connect's modal, open on `on`: the devnet's wallet is the one on
     * offer; its QR code copies the connect link, which the wallet takes as a user's wallet would
     * from the code.
     */
    async function connectInModal(on: Page, wallet: TonConnectWallet, screenshot?: string) {
        await on.waitForSelector('xpath/.//button[@data-tc-wallet-item][contains(., "Fog devnet")]');
        if (screenshot) await shot(screenshot, on);
        const [choice] = await on.$$('xpath/.//button[@data-tc-wallet-item][contains(., "Fog devnet")]');
        await choice.click();
        const qr = await on.waitForSelector('#tc-widget-root button:not([data-tc-icon-button]):not([data-tc-button])');
        await qr!.click();
        const link = await on.waitForFunction(() => navigator.clipboard.readText().then((t) => (t.includes('v=2') ? t : false)), {
            timeout: 10_000,
        });
        await wallet.connect((await link.jsonValue()) as string);
    }

    it('creates a meme job: a wallet connected through TON Connect (a local bridge) proves its address, signs the post, the job lands, and the page follows it to the verified picture', async () => {
        const tonWallet = new TonConnectWallet(`${app.publicUrl}bridge`, requester);
        try {
            await page.setViewport({ width: 1024, height: 800 });
            await page.goto(`${app.url}#/create`, { waitUntil: 'load' });
            await page.waitForSelector('form#create');
            const prompt = 'when the wallet signs | in the browser';
            // the form from the keyboard alone: Tab to the text and write it, to k and pick 1, to the button and press Enter
            const tabTo = async (id: string) => {
                for (let i = 0; i < 30 && (await page.evaluate(() => document.activeElement?.getAttribute('id'))) !== id; i++)
                    await page.keyboard.press('Tab');
                expect(await page.evaluate(() => document.activeElement?.getAttribute('id'))).toBe(id);
            };
            await tabTo('text');
            await page.keyboard.down('Control');
            await page.keyboard.press('KeyA');
            await page.keyboard.up('Control');
            await page.keyboard.type(prompt);
            await tabTo('k');
            await page.keyboard.press('Home');
            expect(await page.$eval('#k', (e) => (e as unknown as { value: string }).value)).toBe('1');
            await shot('create');
            await tabTo('post');
            await page.keyboard.press('Enter');
            await connectInModal(page, tonWallet, 'connect');
            // the page asks the server for the spec with the wallet's proof, builds the post, the wallet signs it, the hub opens the job
            await page.waitForFunction(() => /^#\/job\/\d+$/.test(location.hash), { timeout: 60_000 });
            created = BigInt((await page.evaluate(() => location.hash)).split('/')[2]);
            expect(tonWallet.refused).toEqual([]);
            expect(tonWallet.signed).toHaveLength(1);
            const state = await (await d.fog.job(created)).getJobState();
            expect(state.requester.equals(requester.address)).toBe(true);
            expect(state.price).toBe(5n * FOG);
            expect(state.spec.k).toBe(1n);
            const program = readFileSync(exampleNamed('meme').program);
            expect(uint256ToHash(state.spec.programHash)).toBe(sha256Hex(program));
            expect(uint256ToHash(state.spec.inputHash)).toBe(sha256Hex(Buffer.from(prompt)));
            // the blobs are on the storage node, where workers fetch them from, and the job's page links each hash to its bytes
            const store = new StorageClient(storage.url);
            expect((await store.get(sha256Hex(Buffer.from(prompt)))).toString()).toBe(prompt);
            await page.waitForSelector(`a[href$="/blobs/${sha256Hex(program)}"]`);
            const href = await page.$eval(`a[href$="/blobs/${sha256Hex(program)}"]`, (a) => a.getAttribute('href')!);
            expect(Buffer.from(await (await fetch(href)).arrayBuffer()).equals(program)).toBe(true);
            expect(await page.$(`a[href="#/provider/${requester.address.toString({ testOnly: true })}"]`)).not.toBeNull();
            // a worker draws it, stores the output and reveals: the page shows the picture once the chain settles
            const output = await runExample('meme', Buffer.from(prompt));
            const result = BigInt('0x' + resultHashOf(output));
            await store.putResult(output);
            await claim(d, worker, created);
            await commit(d, worker, created, result);
            await reveal(d, worker, created, result);
            await page.waitForSelector('img[data-output]', { timeout: 30_000 });
            await page.waitForFunction(
                () => (document.querySelector('img[data-output]') as unknown as { naturalWidth: number })?.naturalWidth > 0,
            );
            const shown = await page.$eval('img[data-output]', (e) => e.getAttribute('src')!);
            expect(Buffer.from(await (await fetch(new URL(shown, app.url))).arrayBuffer()).equals(output)).toBe(true);
            expect(await page.$('button[data-share]')).not.toBeNull();
            await shot('meme');
            expect(outside).toEqual([]);
        } finally {
            tonWallet.close();
        }
    }, 120_000);

    it('shows a connected wallet’s account, and claims its rewards, unstakes and withdraws, each signed in the wallet', async () => {
        // the worker's wallet this time: the requester's session (its wallet gone) is forgotten, as a
        // user's "Disconnect" would (a second browser profile would do too, but this Chromium runs as one process)
        const tonWallet = new TonConnectWallet(`${app.publicUrl}bridge`, worker);
        const mine = page;
        try {
            await mine.setViewport({ width: 1024, height: 800 });
            await mine.goto(`${app.url}#/`, { waitUntil: 'load' });
            await mine.evaluate(() => {
                localStorage.clear();
                sessionStorage.clear();
            });
            await mine.goto(`${app.url}#/account`, { waitUntil: 'load' });
            // a new fragment alone does not load the page again: the page's TON Connect starts afresh only on a reload
            await mine.reload({ waitUntil: 'load' });
            await mine.waitForSelector('#account-connect');
            await mine.click('#account-connect');
            await connectInModal(mine, tonWallet);
            const provider = await d.fog.providerOf(worker.address);
            const before = await provider.getProviderState();
            const field = (selector: string) => mine.$eval(selector, (e) => e.textContent ?? '');
            await mine.waitForSelector('[data-stake]');
            expect(await field('[data-stake]')).toBe(formatAmount(before.stake));
            expect(await field('[data-pass]')).toContain('held');
            expect(await field('[data-balance]')).toBe(formatAmount(await d.fog.balanceOf(worker.address)));
            // the worker settled jobs in this epoch: once it is over, its rewards are claimable
            expect(before.curUnits).toBeGreaterThan(0n);
            const params = await d.fog.hub.getParams();
            await advance(d, closableAt(before.curEpoch, params) - (await d.fog.now()) + 1);
            // the map's post closed a shard in this epoch and has not reported it: the epoch waits
            // for that report, and the page offers no claim (it would bounce) until it arrives
            await mine.waitForFunction(
                (n: string) => document.querySelector(`li[data-epoch="${n}"]`)?.textContent?.includes('waiting for 1 sharded report'),
                { timeout: 15_000 },
                String(before.curEpoch),
            );
            expect(await mine.$(`button[data-claim="${before.curEpoch}"]`)).toBeNull();
            // and the client (fog-worker rewards, the daemon) says so instead of sending a claim that would bounce
            await expect(d.fog.claimableEpochs(worker.address)).rejects.toThrow(
                `epoch ${before.curEpoch} is waiting for 1 sharded report (the keeper sends them once the epoch has ended): try again shortly`,
            );
            // the keeper's flush, sent here by hand
            await worker.send([await d.fog.flushShards(mapped)], true);
            const claimButton = await mine.waitForSelector(`button[data-claim="${before.curEpoch}"]`, { timeout: 15_000 });
            await shot('account', mine);
            const fogBefore = await d.fog.balanceOf(worker.address);
            await claimButton!.click();
            await mine.waitForFunction(
                (n: string) => !document.querySelector(`li[data-epoch="${n}"]`),
                { timeout: 30_000 },
                String(before.curEpoch),
            );
            expect(await d.fog.balanceOf(worker.address)).toBeGreaterThan(fogBefore);
            // unstake 10 FOG: it unbonds, then is withdrawn once the period has passed
            await mine.type('#unstake-amount', '10');
            await mine.click('#unstake button[type=submit]');
            await mine.waitForFunction(() => document.querySelector('[data-unbonding]')?.textContent?.startsWith('10 FOG'), {
                timeout: 30_000,
            });
            const unbonding = await provider.getProviderState();
            expect(unbonding.unbonding).toBe(10n * FOG);
            await advance(d, Number(unbonding.unbondingUntil) - (await d.fog.now()) + 1);
            const withdraw = await mine.waitForSelector('button[data-withdraw]', { timeout: 15_000 });
            const fogUnbonded = await d.fog.balanceOf(worker.address);
            await withdraw!.click();
            await mine.waitForFunction(() => document.querySelector('[data-unbonding]')?.textContent === '0 FOG', { timeout: 30_000 });
            expect(await d.fog.balanceOf(worker.address)).toBe(fogUnbonded + 10n * FOG);
            expect(tonWallet.refused).toEqual([]);
            expect(tonWallet.signed).toHaveLength(3);
            // a bad amount is said, and nothing is signed
            await mine.type('#stake-amount', 'lots');
            await mine.click('#stake button[type=submit]');
            await mine.waitForFunction(() => (document.querySelector('#account-status')?.textContent ?? '') !== '');
            expect(await field('#account-status')).not.toBe('');
            expect(tonWallet.signed).toHaveLength(3);
            expect(outside).toEqual([]);
        } finally {
            tonWallet.close();
        }
    }, 120_000);

    it('shows a job’s dispute move by move: the two parties, each open, split and proof with its time, and the outcome', async () => {
        // a job of the upper-case program for two workers, one of them lying: their results differ
        const program = readFileSync(exampleNamed('upper').program);
        const input = Buffer.from('one honest worker is enough');
        const store = new StorageClient(storage.url);
        await store.put(program);
        await store.put(input);
        const spec = jobSpec({ program, input, urlOf: (h) => store.urlOf(h), k: 2, quorum: 2, maxMfuel: 1 });
        const id = (await d.fog.hub.getHubState()).nextJobId;
        await requester.send([await d.fog.post(requester.address, 10n * FOG, spec)], true);
        const job: ComputeJob = { program, input, fuel: fuelForJob(spec), maxMemoryMb: Number(spec.maxMemoryMb) };
        const honest = new Party(job);
        const liar = liarOf(job, 100, honest.result());
        const liarWallet = await staker(d);
        const sides = [
            { wallet: worker, party: honest },
            { wallet: liarWallet, party: liar },
        ];
        for (const { wallet: w } of sides) await claim(d, w, id);
        for (const { wallet: w, party } of sides) await commit(d, w, id, await party.openResult());
        for (const { wallet: w, party } of sides) await reveal(d, w, id, await party.openResult());

        // the page shows the match as soon as it starts, and follows it
        await page.goto(`${app.url}#/job/${id}`, { waitUntil: 'load' });
        await page.waitForSelector('section.match[data-match="0"]', { timeout: 30_000 });
        expect(await text('section.match .outcome')).toMatch(
            /^Under way: (A to open \(\d+ s left\), B to open \(\d+ s left\)|A to open|B to open)/,
        );
        const dispute = await d.fog.dispute(id);
        for (let turn = 0; turn < 40; turn++) {
            const state = await dispute.getDisputeState();
            if (state.phase === MATCH_PHASE.over) break;
            let moved = false;
            for (const { wallet: w, party } of sides) {
                try {
                    const move = await moveFor(party, w.address, state);
                    if (move === undefined) continue;
                    await w.send([await d.fog.disputeMove(id, move)], true);
                    moved = true;
                } catch (e) {
                    // the liar's proof of its last step is refused (its step does end where the honest party said)
                    if (party !== liar) throw e;
                }
            }
            if (!moved) {
                // nobody can move: the silent party's clock runs out
                await advance(d, Number(state.clockA > state.clockB ? state.clockA : state.clockB) + 2);
                await worker.send([await d.fog.disputeMove(id, { kind: 'timeout' })], true);
            }
        }
        const played = await dispute.getDisputeState();
        expect(played.phase).toBe(MATCH_PHASE.over);
        const honestSide = played.a!.equals(worker.address) ? 'a' : 'b';
        expect(Number(played.winner)).toBe(honestSide === 'a' ? 1 : 2);

        // the page: both parties with their revealed results, every move in order, the honest side's win
        await page.waitForSelector('section.match .outcome[data-winner="a"], section.match .outcome[data-winner="b"]', { timeout: 30_000 });
        expect(await page.$eval('section.match .outcome', (e) => e.getAttribute('data-winner'))).toBe(honestSide);
        const moves = await page.$$eval('section.match ol.moves li', (lis) => lis.map((li) => li.getAttribute('data-move')));
        expect(moves.slice(0, 2)).toEqual(['open', 'open']);
        expect(moves.filter((m) => m === 'bisect').length).toBeGreaterThanOrEqual(5);
        const history = await disputeHistory(d.client, dispute.address);
        expect(moves).toEqual(history.matches[0].moves.map((m) => m.kind));
        const texts = await page.$$eval('section.match ol.moves li', (lis) => lis.map((li) => li.textContent ?? ''));
        // the first split is of the whole run, the steps a 1-Mfuel job can take; the last is the segment the contract holds
        expect(texts[2]).toContain(`claim of the whole run and split steps 0–${stepBound(1).toLocaleString('en-US')} into 16`);
        const lastSplit = history.matches[0].moves.filter((m) => m.kind === 'bisect').at(-1)!;
        expect([lastSplit.from, lastSplit.to]).toEqual([played.start, played.start + played.length]);
        expect(texts[moves.lastIndexOf('bisect')]).toContain(
            `split steps ${played.start.toLocaleString('en-US')}–${(played.start + played.length).toLocaleString('en-US')} into ${played.parts}`,
        );
        const last = history.matches[0].moves.at(-1)!;
        if (last.kind === 'prove') expect(texts.at(-1)).toContain(`proved step ${last.from.toLocaleString('en-US')}`);
        const shownParties = await page.$$eval('section.match dl.fields dd a', (as) => as.map((a) => a.getAttribute('href')));
        expect(shownParties).toEqual([played.a!, played.b!].map((a) => `#/provider/${a.toString({ testOnly: true })}`));
        expect(await text('section.match dl.fields')).toContain(`revealed ${uint256ToHash(await honest.openResult())}`);
        expect(await text('section.match dl.fields')).toContain(`revealed ${uint256ToHash(await liar.openResult())}`);
        expect(await overflows()).toBe(false);
        await shot('dispute');
    }, 120_000);

    it('shows the epochs: burned, work units and minted FOG as each epoch’s contract holds them', async () => {
        await page.goto(`${app.url}#/`, { waitUntil: 'load' });
        await page.waitForSelector('#epochs');
        expect(await page.$$eval('#epochs ~ table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent))).toContain('0');
        await page.click('a[href="#/epoch/0"]');
        await page.waitForSelector('[data-units]');
        // epoch 0 holds this file's jobs and was closed by the account test's claim
        const e = await (await d.fog.epoch(0n)).getEpochState();
        expect(e.closed).toBe(true);
        expect(await text('[data-burned]')).toBe(formatAmount(e.burned));
        expect(await text('[data-units]')).toBe(formatAmount(e.units).replace(' FOG', ''));
        expect(await text('[data-emission]')).toBe(formatAmount(e.emission));
        expect(await text('[data-minted]')).toContain(formatAmount(e.minted));
        expect(await text('[data-epoch-state]')).toMatch(/^Closed: /);
        await shot('epoch');
        await page.goto(`${app.url}#/epoch/x`, { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelector('[role=alert]')?.textContent === '“x” is not an epoch number.');
    });

    it('stores nothing for a caller it cannot name: forged or stale Telegram initData, a proof of nothing; and rate-limits a caller it can', async () => {
        const jobs = (authorization: string | undefined, body: unknown = { example: 'upper', text: 'hello', k: 1 }) =>
            fetch(`${app.url}api/jobs`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
                body: JSON.stringify(body),
            }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string; spec?: string } }));
        const now = Math.floor(Date.now() / 1000);
        const user = JSON.stringify({ id: 4242, first_name: 'Ada' });
        const valid = signInitData({ auth_date: String(now), query_id: 'AAH', user }, BOT_TOKEN);
        expect(await jobs(undefined)).toMatchObject({ status: 401, body: { error: expect.stringContaining('Authorization') } });
        // initData signed with another bot's token, and a valid one with its user changed: both forged
        const forged = signInitData({ auth_date: String(now), user }, '999:another-bot');
        expect(await jobs(`tma ${forged}`)).toMatchObject({
            status: 401,
            body: { error: 'Telegram initData refused: hash does not match' },
        });
        const tampered = valid.replace(encodeURIComponent('Ada'), encodeURIComponent('Eve'));
        expect(tampered).not.toBe(valid);
        expect((await jobs(`tma ${tampered}`)).status).toBe(401);
        const stale = signInitData({ auth_date: String(now - 2 * 86_400), user }, BOT_TOKEN);
        expect(await jobs(`tma ${stale}`)).toMatchObject({ status: 401, body: { error: expect.stringContaining('too old') } });
        expect((await jobs('ton-proof bm90IGEgcHJvb2Y')).status).toBe(401);
        // a wallet that proves its address but holds no pass: a key pair costs nothing, a pass costs a stake
        const challenge = (await (await fetch(`${app.url}api/challenge`)).json()) as { payload: string; tma: boolean };
        expect(challenge.tma).toBe(true);
        const passless = new TonConnectWallet(`${app.publicUrl}bridge`, await wallet(d));
        const domain = new URL(app.publicUrl).host;
        expect(await jobs(`ton-proof ${passless.proofHeader(domain, challenge.payload)}`)).toMatchObject({
            status: 403,
            body: { error: 'this wallet holds no Contributor Pass: posting needs one (stake to get it)' },
        });
        // the same proof made for another site is not this server's
        expect(await jobs(`ton-proof ${passless.proofHeader('evil.example', challenge.payload)}`)).toMatchObject({ status: 401 });
        // and one made with a challenge this server never gave
        expect(await jobs(`ton-proof ${passless.proofHeader(domain, 'f'.repeat(112))}`)).toMatchObject({ status: 401 });
        expect((await jobs('basic x')).status).toBe(401);
        // a known caller with a bad request is told what is wrong, and nothing is stored
        expect(await jobs(`tma ${valid}`, { example: 'rm -rf', text: 'x', k: 1 })).toMatchObject({ status: 400 });
        expect(await jobs(`tma ${valid}`, { example: 'upper', text: '', k: 1 })).toMatchObject({ status: 400 });
        expect(await jobs(`tma ${valid}`, { example: 'upper', text: 'x', k: 9 })).toMatchObject({ status: 400 });
        expect((await fetch(`${app.url}api/jobs`, { method: 'POST', headers: { authorization: `tma ${valid}` }, body: '{' })).status).toBe(
            400,
        );
        expect(
            (await fetch(`${app.url}api/jobs`, { method: 'POST', headers: { authorization: `tma ${valid}` }, body: 'x'.repeat(10_000) }))
                .status,
        ).toBe(413);
        expect((await fetch(`${app.url}api/jobs`)).status).toBe(405);
        expect((await fetch(`${app.url}api/results/nothex`)).status).toBe(400);
        expect((await fetch(`${app.url}api/results/${'0'.repeat(64)}`)).status).toBe(404);
        expect((await fetch(`${app.url}api/nothing`)).status).toBe(404);
        // a valid caller gets a spec, a few times; then is asked to wait
        const first = await jobs(`tma ${valid}`);
        expect(first.status).toBe(200);
        expect(first.body.spec).toMatch(/^[A-Za-z0-9+/=]+$/);
        let limited;
        for (let i = 0; i < 5 && !limited; i++) {
            const r = await jobs(`tma ${valid}`);
            if (r.status === 429) limited = r;
            else expect(r.status).toBe(200);
        }
        expect(limited).toMatchObject({
            status: 429,
            body: { error: expect.stringMatching(/too many jobs from you: try again in \d+ s/) },
        });
        // and the server is still up
        expect((await fetch(`${app.url}network.json`)).status).toBe(200);
    });

    it('behind proxies and replicas: servers sharing FOG_APP_SECRET accept each other’s challenges, and --trust-proxy limits by the address X-Forwarded-For names', async () => {
        const secret = Buffer.alloc(32, 7);
        const servers = await Promise.all([
            startAppServer({ networkFile, port: 0, botToken: BOT_TOKEN, secret, trustProxy: 1 }),
            startAppServer({ networkFile, port: 0, botToken: BOT_TOKEN, secret }),
            startAppServer({ networkFile, port: 0, botToken: BOT_TOKEN }),
        ]);
        try {
            const [proxied, twin, stranger] = servers;
            const jobs = (s: AppServer, authorization: string, headers: Record<string, string> = {}) =>
                fetch(`${s.url}api/jobs`, {
                    method: 'POST',
                    headers: { 'content-type': 'application/json', authorization, ...headers },
                    body: JSON.stringify({ example: 'upper', text: 'hello', k: 1 }),
                }).then(async (r) => ({ status: r.status, error: ((await r.json()) as { error?: string }).error }));
            // a challenge from one server, proved by a (passless) wallet: its twin knows the challenge
            // (and refuses only for want of a pass); a server with its own secret does not know it
            const payload = ((await (await fetch(`${proxied.url}api/challenge`)).json()) as { payload: string }).payload;
            const w = new TonConnectWallet(`${app.publicUrl}bridge`, await wallet(d));
            const proof = (s: AppServer) => `ton-proof ${w.proofHeader(new URL(s.publicUrl).host, payload)}`;
            expect(await jobs(twin, proof(twin))).toMatchObject({ status: 403, error: expect.stringContaining('no Contributor Pass') });
            expect(await jobs(stranger, proof(stranger))).toMatchObject({ status: 401 });

            // one proxy in front: the client is the last X-Forwarded-For entry, whatever the client wrote before it
            const from = (ip: string) => ({ 'x-forwarded-for': `10.9.9.9, ${ip}` });
            // (a burst of 30, refilled at one a second: the count is a lower bound on a slow machine)
            let limited;
            for (let i = 0; i < 60 && !limited; i++) {
                const r = await jobs(proxied, 'basic x', from('203.0.113.7'));
                if (r.status === 429) limited = { ...r, after: i };
            }
            expect(limited).toMatchObject({ status: 429, error: expect.stringContaining('from this address') });
            expect(limited!.after).toBeGreaterThanOrEqual(30);
            expect((await jobs(proxied, 'basic x', from('203.0.113.8'))).status).toBe(401);
            // without --trust-proxy the header is anybody's words: every request is its peer's
            // (sixty requests, each naming another address: were the header believed, none would wait)
            let waited;
            for (let i = 0; i < 60 && !waited; i++) {
                const r = await jobs(stranger, 'basic x', from(`198.51.100.${i}`));
                if (r.status === 429) waited = r;
                else expect(r.status).toBe(401);
            }
            expect(waited).toMatchObject({ status: 429, error: expect.stringContaining('from this address') });
        } finally {
            await Promise.all(servers.map((s) => s.close()));
        }
        expect(() => parseAppServerArgs(['--trust-proxy', '1.5'])).toThrow(
            '--trust-proxy must be a whole number of proxies 0..16, got 1.5',
        );
        expect(() => parseAppServerArgs(['--trust-proxy='])).toThrow('--trust-proxy must be a whole number of proxies 0..16, got ');
        expect(() => parseAppServerArgs(['--trust-proxy', '17'])).toThrow('got 17');
        process.env.FOG_APP_SECRET = 'abc';
        try {
            expect(() => parseAppServerArgs([])).toThrow('FOG_APP_SECRET must be hex, 16 bytes (32 digits) or more');
            process.env.FOG_APP_SECRET = '07'.repeat(32);
            expect(parseAppServerArgs(['--trust-proxy', '2'])).toMatchObject({ secret: Buffer.alloc(32, 7), trustProxy: 2 });
        } finally {
            delete process.env.FOG_APP_SECRET;
        }
    });

    it('fits a phone: no screen scrolls sideways at 360 px', async () => {
        await page.setViewport({ width: 360, height: 740, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
        for (const hash of [
            '#/',
            `#/job/${followed}`,
            `#/map/${mapped}`,
            `#/provider/${worker.address.toString({ testOnly: true })}`,
            '#/create',
            `#/job/${created}`,
            '#/account',
            '#/epoch/0',
        ]) {
            await page.goto(`${app.url}${hash}`, { waitUntil: 'load' });
            await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') === 'false', { timeout: 30_000 });
            expect(await overflows()).toBe(false);
        }
        await shot('job-mobile');
    }, 60_000);

    it('hashes in the page exactly as Node does (the bundle’s sha256 stands in for node:crypto)', async () => {
        const bundle = await build({
            stdin: {
                contents: "import { sha256Hex } from './client/hash'; (globalThis as any).sha256Hex = sha256Hex;",
                resolveDir: join(__dirname, '..'),
                loader: 'ts',
            },
            bundle: true,
            write: false,
            format: 'iife',
            platform: 'browser',
            inject: [join(__dirname, '..', 'app', 'web', 'globals.ts')],
            alias: { 'node:crypto': join(__dirname, '..', 'app', 'web', 'node-crypto.ts') },
            logLevel: 'silent',
        });
        await page.goto(app.url, { waitUntil: 'load' });
        await page.addScriptTag({ content: bundle.outputFiles[0].text });
        const samples = [
            new Uint8Array(0),
            new TextEncoder().encode('fog'),
            Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255),
        ];
        for (const bytes of samples) {
            const inPage = await page.evaluate(
                (b) => (globalThis as unknown as { sha256Hex(x: Uint8Array): string }).sha256Hex(new Uint8Array(b)),
                [...bytes],
            );
            expect(inPage).toBe(sha256Hex(bytes));
        }
        expect(APP_DIST).toContain(join('dist', 'app', 'web'));
    }, 60_000);
});
