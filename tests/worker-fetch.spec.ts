/**
 * How a worker gets a job's blobs: its own storage node first, the job's URI otherwise (mirrored),
 * never a private address a stranger pointed it at.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex, StorageClient } from '../client/storage';
import { BlobHashMismatchError } from '../client/storage-errors';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { FetchedBlobs, isPrivateHost, jobBlob, jobInput, UnfetchableBlobError } from '../worker/fetch';
import { frameParts, inputsManifest, MalformedInputsError } from '../client/inputs';

describe('isPrivateHost', () => {
    it.each([
        ['127.0.0.1', true],
        ['10.1.2.3', true],
        ['172.16.0.1', true],
        ['172.31.255.255', true],
        ['172.32.0.1', false],
        ['192.168.1.1', true],
        ['169.254.169.254', true],
        ['100.64.0.1', true],
        ['0.0.0.0', true],
        ['8.8.8.8', false],
        ['::1', true],
        ['[::1]', true],
        ['fd00::1', true],
        ['fe80::1', true],
        ['::ffff:127.0.0.1', true],
        // as a URL writes them: the IPv4 address in hex
        ['[::ffff:7f00:1]', true],
        ['::ffff:a00:1', true],
        ['::ffff:a9fe:a9fe', true],
        ['::7f00:1', true],
        ['64:ff9b::a00:1', true],
        ['::ffff:808:808', false],
        ['64:ff9b::808:808', false],
        ['2001:4860::8888', false],
        ['localhost', true],
        ['api.localhost', true],
        ['storage.example.com', false],
    ])('%s → %s', (host, expected) => {
        expect(isPrivateHost(host)).toBe(expected);
    });
});

describe('jobBlob', () => {
    let dirs: string[];
    let own: StorageNode;
    let other: StorageNode;
    let ownClient: StorageClient;
    let otherClient: StorageClient;
    const quiet = () => undefined;

    beforeAll(async () => {
        dirs = [mkdtempSync(join(tmpdir(), 'fog-fetch-')), mkdtempSync(join(tmpdir(), 'fog-fetch-'))];
        own = await startStorageNode({ dir: dirs[0], port: 0, log: quiet });
        other = await startStorageNode({ dir: dirs[1], port: 0, log: quiet });
        ownClient = new StorageClient(own.url);
        otherClient = new StorageClient(other.url);
    });
    afterAll(async () => {
        await own.close();
        await other.close();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('reads a blob its own node holds without contacting the job’s URI', async () => {
        const hash = await ownClient.put(Buffer.from('held locally'));
        const bytes = await jobBlob('http://10.255.255.1/never-contacted', hash, { storage: ownClient });
        expect(bytes.toString()).toBe('held locally');
    });

    it('refuses a private address that is not its node, unless allowed; then mirrors what it fetched', async () => {
        const bytes = Buffer.from('somewhere on the LAN');
        const hash = await otherClient.put(bytes);
        const uri = otherClient.urlOf(hash);
        await expect(jobBlob(uri, hash, { storage: ownClient })).rejects.toThrow(UnfetchableBlobError);
        await expect(jobBlob(uri, hash, { storage: ownClient })).rejects.toThrow(
            /refusing to fetch http:\/\/127\.0\.0\.1:\d+: a private or loopback address/,
        );
        expect(await ownClient.has(hash)).toBe(false);

        expect(await jobBlob(uri, hash, { storage: ownClient, allowPrivate: true })).toEqual(bytes);
        expect(await ownClient.has(hash)).toBe(true);
    });

    it('refuses a private IPv4 address written inside an IPv6 URL', async () => {
        const hash = sha256Hex(Buffer.from('x'));
        for (const host of ['[::ffff:127.0.0.1]', '[::ffff:a9fe:a9fe]', '[::7f00:1]'])
            await expect(jobBlob(`http://${host}:1/x`, hash, {})).rejects.toThrow(/a private or loopback address/);
    });

    it('refuses a host name that resolves to a private address, and one that does not resolve', async () => {
        const hash = sha256Hex(Buffer.from('x'));
        for (const inside of ['10.1.2.3', '::ffff:127.0.0.1', 'fd00::5']) {
            await expect(jobBlob('http://blobs.example/x', hash, { resolve: async () => ['93.184.216.34', inside] })).rejects.toThrow(
                new RegExp(
                    `refusing to fetch http://blobs.example: blobs.example resolves to ${inside.replace(/\./g, '\\.')}, a private or loopback address`,
                ),
            );
        }
        await expect(
            jobBlob('http://nowhere.example/x', hash, {
                resolve: async () => {
                    throw new Error('getaddrinfo ENOTFOUND nowhere.example');
                },
            }),
        ).rejects.toThrow(/cannot resolve nowhere.example: getaddrinfo ENOTFOUND/);
    });

    it('refuses a redirect to a private address, checking every hop', async () => {
        const bytes = Buffer.from('behind a redirect');
        const hash = await otherClient.put(bytes);
        // the worker's own origin answers the job's URI with a redirect to another private origin
        const redirector = createServer((req, res) => {
            if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
            if (req.url !== '/job-blob') return res.writeHead(404).end();
            res.writeHead(302, { location: otherClient.urlOf(hash) }).end();
        });
        await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
        try {
            const base = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
            const storage = new StorageClient(base);
            await expect(jobBlob(`${base}/job-blob`, hash, { storage })).rejects.toThrow(
                /refusing to fetch http:\/\/127\.0\.0\.1:\d+: a private or loopback address/,
            );
            expect(await jobBlob(`${base}/job-blob`, hash, { storage, allowPrivate: true })).toEqual(bytes);
            await expect(jobBlob(`${base}/loop`, hash, { storage, allowPrivate: true })).rejects.toThrow(/more than 5 redirects/);
        } finally {
            redirector.close();
        }
    });

    it('checks the hash of what a URI serves, and refuses what is not a URL', async () => {
        const liar = createServer((_, res) => res.end('not what the job names'));
        await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
        try {
            const uri = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/program.wasm`;
            const named = sha256Hex(Buffer.from('the program the job names'));
            await expect(jobBlob(uri, named, { storage: ownClient, allowPrivate: true })).rejects.toBeInstanceOf(BlobHashMismatchError);
            expect(await ownClient.has(named)).toBe(false);
        } finally {
            liar.close();
        }
        await expect(jobBlob('not a url', sha256Hex(Buffer.from('x')), {})).rejects.toThrow(/the job's URI is not a URL/);
    });

    describe('jobInput (a composite input: its parts fetched by hash and framed)', () => {
        it('hands a plain input over as it is', async () => {
            const hash = await ownClient.put(Buffer.from('plain'));
            expect((await jobInput(ownClient.urlOf(hash), hash, { storage: ownClient })).toString()).toBe('plain');
        });

        it('fetches results and blobs, from its own node or the part’s URI (mirroring those), and frames them in order', async () => {
            const [a, b, c] = [Buffer.from('first output'), Buffer.from(''), Buffer.from('a data slice')];
            const [ha, hb] = [await ownClient.putResult(a), await otherClient.putResult(b)];
            const hc = await otherClient.put(c);
            const manifest = inputsManifest([
                { kind: 'result', hash: ha, uri: ownClient.resultUrlOf(ha) },
                { kind: 'result', hash: hb, uri: otherClient.resultUrlOf(hb) },
                { kind: 'blob', hash: hc, uri: otherClient.urlOf(hc) },
            ]);
            const hm = await ownClient.put(manifest);
            const source = { storage: ownClient, allowPrivate: true };
            expect(await jobInput(ownClient.urlOf(hm), hm, source)).toEqual(frameParts([a, b, c]));
            expect(await ownClient.hasResult(hb)).toBe(true);
            expect(await ownClient.has(hc)).toBe(true);
            // a part's URI is a stranger's too: a private one is refused unless allowed
            const hd = await otherClient.put(Buffer.from('only over there'));
            const far = inputsManifest([{ kind: 'blob', hash: hd, uri: otherClient.urlOf(hd) }]);
            const hf = await ownClient.put(far);
            await expect(jobInput(ownClient.urlOf(hf), hf, { storage: ownClient })).rejects.toThrow(
                /refusing to fetch .*private or loopback/,
            );
        });

        it('gives up on parts that take longer than its budget, all of them together', async () => {
            const slow = createServer((_, res) => void setTimeout(() => res.end('late'), 3_000));
            await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
            try {
                const base = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
                const h = sha256Hex(Buffer.from('late'));
                const manifest = inputsManifest([{ kind: 'blob', hash: h, uri: `${base}/late` }]);
                const hm = await ownClient.put(manifest);
                const started = Date.now();
                await expect(jobInput(ownClient.urlOf(hm), hm, { storage: ownClient, allowPrivate: true }, 300)).rejects.toThrow(
                    /timed out after \d+ ms/,
                );
                expect(Date.now() - started).toBeLessThan(2_000);
            } finally {
                slow.closeAllConnections();
                slow.close();
            }
        });

        it('refuses a part whose bytes are not what the manifest names, one that is missing, and a malformed manifest', async () => {
            const real = Buffer.from('the real output');
            const h = await otherClient.putResult(real);
            // the blob's sha256 is not its output hash: asked as a result by it, the node has none
            const asBlob = sha256Hex(real);
            const wrong = inputsManifest([{ kind: 'result', hash: asBlob, uri: otherClient.resultUrlOf(asBlob) }]);
            const hw = await ownClient.put(wrong);
            await expect(jobInput(ownClient.urlOf(hw), hw, { storage: ownClient, allowPrivate: true })).rejects.toThrow(
                /^result [0-9a-f]{64} not found at/,
            );
            // a node that serves other bytes under the right name is caught by the hash
            const liar = createServer((_, res) => res.end('other bytes'));
            await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
            try {
                const uri = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/results/${h}`;
                const lying = inputsManifest([{ kind: 'result', hash: h, uri }]);
                const hl = await ownClient.put(lying);
                await expect(jobInput(ownClient.urlOf(hl), hl, { storage: ownClient, allowPrivate: true })).rejects.toBeInstanceOf(
                    BlobHashMismatchError,
                );
                expect(await ownClient.hasResult(h)).toBe(false);
            } finally {
                liar.close();
            }
            const bad = Buffer.from(`fog-inputs 1\nblob ${'ab'.repeat(32)} ftp://x/y\n`);
            const hb = await ownClient.put(bad);
            await expect(jobInput(ownClient.urlOf(hb), hb, { storage: ownClient })).rejects.toBeInstanceOf(MalformedInputsError);
        });
    });
});

describe('FetchedBlobs (what the daemon fetched to decide, kept for the computation)', () => {
    const blobs = (n: number) => ({ program: Buffer.alloc(n, 1), input: Buffer.alloc(n, 2) });

    it('hands each job its blobs once', () => {
        const f = new FetchedBlobs();
        const b = blobs(10);
        f.put('7', b);
        expect(f.take('7')).toBe(b);
        expect(f.take('7')).toBeUndefined();
        expect(f.size).toEqual({ entries: 0, bytes: 0 });
    });

    it('stays within its entries and bytes, forgetting the oldest first', () => {
        const f = new FetchedBlobs(3, 100);
        for (const id of ['1', '2', '3', '4']) f.put(id, blobs(5));
        expect(f.size).toEqual({ entries: 3, bytes: 30 });
        expect(f.take('1')).toBeUndefined();
        f.put('big', blobs(40));
        // 80 bytes with the three others' 30 is more than 100: the oldest goes
        expect(f.size).toEqual({ entries: 3, bytes: 100 });
        expect(f.take('2')).toBeUndefined();
        expect(f.take('3')).toBeDefined();
        expect(f.take('4')).toBeDefined();
        // a job too large to hold is not held, and pushes nothing out
        f.put('huge', blobs(60));
        expect(f.take('huge')).toBeUndefined();
        expect(f.take('big')).toBeDefined();
    });

    it('replaces a job put twice without counting it twice', () => {
        const f = new FetchedBlobs();
        f.put('5', blobs(10));
        f.put('5', blobs(20));
        expect(f.size).toEqual({ entries: 1, bytes: 40 });
    });
});
