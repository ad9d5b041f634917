/**
 * The content-addressed storage node over real HTTP: a node on a temp directory, its results index
 * (by output hash), the client, a fake server for the client's own hash checks, and `main.ts` as a
 * real process.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, Server } from 'node:http';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import { AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchBlob, hashToUint256, sha256Hex, StorageClient, uint256ToHash } from '../client/storage';
import {
    BlobHashMismatchError,
    BlobNotFoundError,
    BlobTooLargeError,
    InvalidBlobUriError,
    InvalidHashError,
    StorageAuthError,
    StorageHttpError,
    StorageUnreachableError,
} from '../client/storage-errors';
import { startStorageNode, StorageNode } from '../oracle/storage/server';
import { MAX_OUTPUT_BYTES, resultHashOf } from '../client/results';

const LIMIT = 64 * 1024;
const root = join(__dirname, '..');

async function tempDir(): Promise<string> {
    return fs.mkdtemp(join(tmpdir(), 'fog-storage-'));
}

function blobPath(dir: string, hash: string): string {
    return join(dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

function resultPath(dir: string, outputHash: string): string {
    return join(dir, 'results', outputHash.slice(0, 2), outputHash.slice(2, 4), outputHash);
}

/** A throwaway server on a free port; `handler` decides what it answers. */
async function fakeServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function closeServer(server: Server): Promise<void> {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
}

/** Uploads `chunks` with chunked transfer encoding (no Content-Length), as a streaming uploader would. */
function putChunked(url: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = request(url, { method: 'PUT' }, (res) => {
            let body = '';
            res.setEncoding('utf-8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        // The node may close the connection mid-upload once it has answered 413.
        req.on('error', (e) => (req.writableEnded ? undefined : reject(e)));
        const next = (i: number): void => {
            if (i === chunks.length) return void req.end();
            req.write(chunks[i], () => setImmediate(() => next(i + 1)));
        };
        next(0);
    });
}

/**
 * A storage node over a fresh directory (blobs up to LIMIT, its log into `events`) for the tests
 * of one describe block: started before them and handed to `use`, closed and removed after.
 */
function nodeFixture(events: Array<Record<string, unknown>>, use: (dir: string, node: StorageNode, client: StorageClient) => void): void {
    let dir = '';
    let node: StorageNode | undefined;
    beforeAll(async () => {
        dir = await tempDir();
        node = await startStorageNode({ dir, maxBlobBytes: LIMIT, log: (e) => events.push(e as Record<string, unknown>) });
        use(dir, node, new StorageClient(node.url));
    });
    afterAll(async () => {
        await node?.close();
        await fs.rm(dir, { recursive: true, force: true });
    });
}

describe('storage node', () => {
    let dir: string;
    let node: StorageNode;
    let client: StorageClient;
    const events: Array<Record<string, unknown>> = [];
    nodeFixture(events, (d, n, c) => ([dir, node, client] = [d, n, c]));

    const tempFiles = () => fs.readdir(join(dir, 'tmp'));

    it('stores and returns a blob under its sha256, sharded on disk', async () => {
        const bytes = randomBytes(10_000);
        const hash = await client.put(bytes);
        expect(hash).toBe(sha256Hex(bytes));
        expect(await client.get(hash)).toEqual(bytes);
        expect(await client.has(hash)).toBe(true);
        expect(existsSync(blobPath(dir, hash))).toBe(true);

        const res = await fetch(client.urlOf(hash));
        expect(res.headers.get('content-type')).toBe('application/octet-stream');
        expect(res.headers.get('content-length')).toBe('10000');
        expect(res.headers.get('etag')).toBe(`"${hash}"`);
        expect(res.headers.get('cache-control')).toContain('immutable');
        await res.arrayBuffer();
        expect(events).toContainEqual(expect.objectContaining({ event: 'request', method: 'PUT', status: 201, hash, created: true }));
    });

    it('is idempotent: a second upload answers 200 and leaves the stored file alone', async () => {
        const bytes = randomBytes(2_000);
        const hash = sha256Hex(bytes);
        const first = await fetch(client.urlOf(hash), { method: 'PUT', body: bytes });
        expect(first.status).toBe(201);
        expect(await first.json()).toEqual({ hash, bytes: 2_000, created: true });
        const before = statSync(blobPath(dir, hash));
        await new Promise((r) => setTimeout(r, 20));

        const again = await fetch(client.urlOf(hash), { method: 'PUT', body: bytes });
        expect(again.status).toBe(200);
        expect(await again.json()).toEqual({ hash, bytes: 2_000, created: false });
        expect(await client.put(bytes)).toBe(hash);
        const after = statSync(blobPath(dir, hash));
        expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
        expect(await tempFiles()).toEqual([]);
    });

    it('refuses a body that does not hash to the URL, storing nothing', async () => {
        const claimed = sha256Hex(Buffer.from('what I said'));
        const sent = Buffer.from('what I sent');
        const res = await fetch(client.urlOf(claimed), { method: 'PUT', body: sent });
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
            error: `body hashes to ${sha256Hex(sent)}, not ${claimed}`,
            expected: claimed,
            actual: sha256Hex(sent),
        });
        expect(existsSync(blobPath(dir, claimed))).toBe(false);
        expect(existsSync(blobPath(dir, sha256Hex(sent)))).toBe(false);
        expect(await tempFiles()).toEqual([]);
    });

    describe('size limit', () => {
        it('answers 413 from the Content-Length alone, and the client says by how much', async () => {
            const big = randomBytes(LIMIT + 1);
            const res = await fetch(client.urlOf(sha256Hex(big)), { method: 'PUT', body: big });
            expect(res.status).toBe(413);
            expect(await res.json()).toEqual({
                error: `blob is ${LIMIT + 1} bytes, over the node's limit of ${LIMIT}`,
                limit: LIMIT,
                bytes: LIMIT + 1,
            });

            const huge = Buffer.alloc(70_000);
            await expect(client.put(huge)).rejects.toThrow(new BlobTooLargeError('upload', 70_000, LIMIT, client.urlOf(sha256Hex(huge))));
            await expect(client.put(huge)).rejects.toThrow(`blob is 70000 bytes, over the node's limit of ${LIMIT}`);
        });

        it('stops a streamed upload as soon as it passes the limit, cleans up and keeps serving', async () => {
            const chunks = Array.from({ length: 40 }, () => randomBytes(8 * 1024)); // 320 KiB, 5x the limit
            const res = await putChunked(client.urlOf(sha256Hex(Buffer.concat(chunks))), chunks);
            expect(res.status).toBe(413);
            expect(JSON.parse(res.body)).toEqual({
                error: `blob is more than ${LIMIT} bytes, over the node's limit of ${LIMIT}`,
                limit: LIMIT,
            });
            expect(await tempFiles()).toEqual([]);

            const health = await fetch(`${node.url}/health`);
            expect(health.status).toBe(200);
            expect(await health.json()).toEqual(expect.objectContaining({ ok: true, maxBlobBytes: LIMIT }));
            const small = randomBytes(100);
            expect(await client.get(await client.put(small))).toEqual(small);
        });

        it('accepts a streamed upload of exactly the limit', async () => {
            const chunks = Array.from({ length: 8 }, () => randomBytes(LIMIT / 8));
            const hash = sha256Hex(Buffer.concat(chunks));
            expect((await putChunked(client.urlOf(hash), chunks)).status).toBe(201);
            expect(sha256Hex(await client.get(hash))).toBe(hash);
        });
    });

    it('never serves a corrupted file: 500, logged, set aside, and healed by a fresh upload', async () => {
        const bytes = randomBytes(5_000);
        const hash = await client.put(bytes);
        await fs.writeFile(blobPath(dir, hash), Buffer.concat([bytes.subarray(0, 4_999), Buffer.from([bytes[4_999] ^ 1])]));

        const res = await fetch(client.urlOf(hash));
        expect(res.status).toBe(500);
        expect(((await res.json()) as { error: string }).error).toMatch(new RegExp(`^blob ${hash} is corrupted on this node`));
        expect(events).toContainEqual(expect.objectContaining({ event: 'blob_corrupt', hash }));
        expect(await fs.readdir(join(dir, 'quarantine'))).toHaveLength(1);

        await expect(client.get(hash)).rejects.toThrow(BlobNotFoundError);
        expect(await client.has(hash)).toBe(false);
        expect(await client.put(bytes)).toBe(hash);
        expect(await client.get(hash)).toEqual(bytes);
    });

    it("reports corruption to the client as a server error carrying the node's reason", async () => {
        const hash = await client.put(randomBytes(300));
        await fs.writeFile(blobPath(dir, hash), 'rot');
        const error = await client.get(hash).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageHttpError);
        expect(error).toMatchObject({ status: 500, url: client.urlOf(hash) });
        expect((error as Error).message).toContain(`blob ${hash} is corrupted on this node`);
    });

    it('answers 400 for a malformed hash, 404 for an unknown blob or route, 405 for a wrong method', async () => {
        for (const bad of ['xyz', 'ab'.repeat(31), 'AB'.repeat(32), `${'ab'.repeat(32)}/x`]) {
            const res = await fetch(`${node.url}/blobs/${bad}`);
            expect([bad, res.status, await res.json()]).toEqual([
                bad,
                400,
                { error: 'not a sha256 hex digest (64 lower-case hex characters)' },
            ]);
        }
        await expect(client.get('xyz')).rejects.toThrow(InvalidHashError);

        const unknown = sha256Hex(Buffer.from('never uploaded'));
        const missing = await fetch(client.urlOf(unknown));
        expect([missing.status, await missing.json()]).toEqual([404, { error: `blob ${unknown} not found` }]);
        await expect(client.get(unknown)).rejects.toThrow(`blob ${unknown} not found at ${client.urlOf(unknown)}`);
        expect(await client.has(unknown)).toBe(false);

        const route = await fetch(`${node.url}/nowhere`);
        expect([route.status, await route.json()]).toEqual([404, { error: 'no route GET /nowhere' }]);
        const del = await fetch(client.urlOf(unknown), { method: 'DELETE' });
        expect([del.status, del.headers.get('allow'), await del.json()]).toEqual([
            405,
            'GET, HEAD, PUT',
            { error: `DELETE is not allowed on /blobs/${unknown} (allowed: GET, HEAD, PUT)` },
        ]);
    });

    it('POST /blobs stores the body and returns the hash it computed', async () => {
        const bytes = randomBytes(1_234);
        const hash = sha256Hex(bytes);
        const res = await fetch(`${node.url}/blobs`, { method: 'POST', body: bytes });
        expect([res.status, res.headers.get('location'), await res.json()]).toEqual([
            201,
            `/blobs/${hash}`,
            { hash, bytes: 1_234, created: true },
        ]);
        const again = await fetch(`${node.url}/blobs`, { method: 'POST', body: bytes });
        expect([again.status, await again.json()]).toEqual([200, { hash, bytes: 1_234, created: false }]);
        expect(await client.get(hash)).toEqual(bytes);
    });

    it('counts blobs in /health, including those found on disk at start', async () => {
        const { blobs } = (await (await fetch(`${node.url}/health`)).json()) as { blobs: number };
        const restarted = await startStorageNode({ dir, log: () => undefined });
        try {
            expect(await (await fetch(`${restarted.url}/health`)).json()).toEqual({ ok: true, blobs, maxBlobBytes: 64 * 1024 * 1024 });
        } finally {
            await restarted.close();
        }
    });
});

describe('storage node: results by output hash', () => {
    let dir: string;
    let node: StorageNode;
    let client: StorageClient;
    const events: Array<Record<string, unknown>> = [];
    nodeFixture(events, (d, n, c) => ([dir, node, client] = [d, n, c]));

    const tempFiles = () => fs.readdir(join(dir, 'tmp'));

    it('stores a result as a blob under its sha256 and indexes it by its output hash, which is what the client gets it by', async () => {
        const output = randomBytes(5_000);
        const hash = await client.putResult(output);
        expect(hash).toBe(resultHashOf(output));
        expect(hash).not.toBe(sha256Hex(output));
        expect(await client.getResult(hash)).toEqual(output);
        expect(await client.hasResult(hash)).toBe(true);
        // the blob is an ordinary blob, and the index entry names it
        expect(await client.get(sha256Hex(output))).toEqual(output);
        expect(await fs.readFile(resultPath(dir, hash), 'utf-8')).toBe(sha256Hex(output));

        const res = await fetch(client.resultUrlOf(hash));
        expect([res.status, res.headers.get('content-length'), res.headers.get('etag')]).toEqual([200, '5000', `"${hash}"`]);
        expect(res.headers.get('cache-control')).toContain('immutable');
        expect(Buffer.from(await res.arrayBuffer())).toEqual(output);
        const head = await fetch(client.resultUrlOf(hash), { method: 'HEAD' });
        expect([head.status, head.headers.get('content-length')]).toEqual([200, '5000']);
        expect(events).toContainEqual(
            expect.objectContaining({ event: 'request', method: 'PUT', status: 201, hash, blob: sha256Hex(output), created: true }),
        );
    });

    it('answers 201 for a new entry and 200 for one already held, with the blob it names', async () => {
        const output = Buffer.from('HELLO FROM FOG');
        const hash = resultHashOf(output);
        const blob = sha256Hex(output);
        const first = await fetch(client.resultUrlOf(hash), { method: 'PUT', body: output });
        expect([first.status, first.headers.get('location'), await first.json()]).toEqual([
            201,
            `/results/${hash}`,
            { hash, blob, bytes: output.length, created: true },
        ]);
        const again = await fetch(client.resultUrlOf(hash), { method: 'PUT', body: output });
        expect([again.status, await again.json()]).toEqual([200, { hash, blob, bytes: output.length, created: false }]);
        expect(await client.putResult(output)).toBe(hash);
        expect(await tempFiles()).toEqual([]);
    });

    it('refuses a body whose output hash is not the URL’s (400), storing neither blob nor entry', async () => {
        const claimed = resultHashOf(Buffer.from('what I said'));
        const sent = Buffer.from('what I sent');
        // its sha256 is no excuse: only the output hash names a result
        for (const url of [client.resultUrlOf(claimed), client.resultUrlOf(sha256Hex(sent))]) {
            const expected = url.slice(url.lastIndexOf('/') + 1);
            const res = await fetch(url, { method: 'PUT', body: sent });
            expect([res.status, await res.json()]).toEqual([
                400,
                { error: `body's output hash is ${resultHashOf(sent)}, not ${expected}`, expected, actual: resultHashOf(sent) },
            ]);
            expect(existsSync(resultPath(dir, expected))).toBe(false);
        }
        expect(existsSync(blobPath(dir, sha256Hex(sent)))).toBe(false);
        expect(await tempFiles()).toEqual([]);
        expect(await client.hasResult(claimed)).toBe(false);
    });

    it('answers 400 for a malformed output hash, 404 for an unknown one, 405 for a wrong method', async () => {
        for (const bad of ['xyz', 'ab'.repeat(31), 'AB'.repeat(32), `${'ab'.repeat(32)}/x`]) {
            for (const method of ['GET', 'PUT']) {
                const res = await fetch(`${node.url}/results/${bad}`, { method, body: method === 'PUT' ? 'x' : undefined });
                expect([bad, method, res.status, await res.json()]).toEqual([
                    bad,
                    method,
                    400,
                    { error: 'not an output hash (64 lower-case hex characters)' },
                ]);
            }
        }
        await expect(client.getResult('xyz')).rejects.toThrow(InvalidHashError);

        const unknown = resultHashOf(Buffer.from('never uploaded'));
        const url = client.resultUrlOf(unknown);
        const missing = await fetch(url);
        expect([missing.status, await missing.json()]).toEqual([404, { error: `result ${unknown} not found` }]);
        const error = await client.getResult(unknown).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobNotFoundError);
        expect(error).toMatchObject({ hash: unknown, url, kind: 'result' });
        expect((error as Error).message).toBe(`result ${unknown} not found at ${url}`);
        expect(await client.hasResult(unknown)).toBe(false);
        // a blob's sha256 is not an output hash
        const blob = await client.put(Buffer.from('a blob, not a result'));
        expect(await client.hasResult(blob)).toBe(false);

        const del = await fetch(url, { method: 'DELETE' });
        expect([del.status, del.headers.get('allow')]).toEqual([405, 'GET, HEAD, PUT']);
        await del.arrayBuffer();
    });

    it('takes no result over the output cap or the node’s limit (413)', async () => {
        const big = randomBytes(LIMIT + 1);
        const res = await fetch(client.resultUrlOf(resultHashOf(big)), { method: 'PUT', body: big });
        expect([res.status, ((await res.json()) as { limit: number }).limit]).toEqual([413, LIMIT]);
        // an output over the cap has no output hash: the client refuses it before sending anything
        expect(() => resultHashOf(Buffer.alloc(MAX_OUTPUT_BYTES + 1))).toThrow(RangeError);
        await expect(client.putResult(Buffer.alloc(MAX_OUTPUT_BYTES + 1))).rejects.toThrow(RangeError);

        // a node taking blobs up to 64 MiB still takes no result over the cap, from its Content-Length alone
        const roomy = await startStorageNode({ dir, log: () => undefined });
        try {
            const answer = await new Promise<{ status: number; body: string } | 'no answer'>((resolve) => {
                const url = `${roomy.url}/results/${'ab'.repeat(32)}`;
                const req = request(url, { method: 'PUT', headers: { 'Content-Length': MAX_OUTPUT_BYTES + 1 } }, (res) => {
                    let body = '';
                    res.setEncoding('utf-8');
                    res.on('data', (c: string) => (body += c));
                    res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
                });
                req.on('error', () => undefined);
                req.flushHeaders();
                setTimeout(() => resolve('no answer'), 2_000).unref();
            });
            expect(answer).not.toBe('no answer');
            const { status, body } = answer as { status: number; body: string };
            expect([status, JSON.parse(body)]).toEqual([
                413,
                expect.objectContaining({ limit: MAX_OUTPUT_BYTES, bytes: MAX_OUTPUT_BYTES + 1 }),
            ]);
        } finally {
            await roomy.close();
        }
    });

    it('never serves a result whose blob rotted (500, set aside) or whose entry names other bytes (500, dropped); a fresh upload heals both', async () => {
        const output = randomBytes(3_000);
        const hash = await client.putResult(output);
        const blob = sha256Hex(output);
        await fs.writeFile(blobPath(dir, blob), Buffer.concat([output.subarray(0, 2_999), Buffer.from([output[2_999] ^ 1])]));
        const rotten = await fetch(client.resultUrlOf(hash));
        expect(rotten.status).toBe(500);
        expect(((await rotten.json()) as { error: string }).error).toMatch(new RegExp(`^blob ${blob} is corrupted on this node`));
        expect(events).toContainEqual(expect.objectContaining({ event: 'blob_corrupt', hash: blob }));
        // the blob is set aside; its entry names nothing the node holds now
        await expect(client.getResult(hash)).rejects.toThrow(BlobNotFoundError);
        expect(await client.putResult(output)).toBe(hash);
        expect(await client.getResult(hash)).toEqual(output);

        // an entry naming another stored blob, as a bad disk could leave it
        const other = await client.put(randomBytes(100));
        await fs.writeFile(resultPath(dir, hash), other);
        const misnamed = await fetch(client.resultUrlOf(hash));
        expect([misnamed.status, ((await misnamed.json()) as { error: string }).error]).toEqual([
            500,
            `result ${hash} was indexed on this node as bytes of another output hash; the entry has been dropped, upload it again`,
        ]);
        expect(events).toContainEqual({ event: 'result_index_corrupt', hash, blob: other });
        expect(existsSync(resultPath(dir, hash))).toBe(false);
        expect(await client.putResult(output)).toBe(hash);
        expect(await client.getResult(hash)).toEqual(output);
    });

    it('keeps the index across a restart: a node started on the same directory serves what was indexed', async () => {
        const output = randomBytes(2_000);
        const hash = await client.putResult(output);
        const restarted = await startStorageNode({ dir, log: () => undefined });
        try {
            expect(await new StorageClient(restarted.url).getResult(hash)).toEqual(output);
        } finally {
            await restarted.close();
        }
    });
});

describe('storage node with a write token', () => {
    let dir: string;
    let node: StorageNode;

    beforeAll(async () => {
        dir = await tempDir();
        node = await startStorageNode({ dir, writeToken: 's3cret', log: () => undefined });
    });
    afterAll(async () => {
        await node.close();
        await fs.rm(dir, { recursive: true, force: true });
    });

    it('refuses writes without the token (401) and accepts them with it; reads stay public', async () => {
        const bytes = randomBytes(500);
        const url = `${node.url}/blobs/${sha256Hex(bytes)}`;
        const bare = await fetch(url, { method: 'PUT', body: bytes });
        expect([bare.status, bare.headers.get('www-authenticate'), await bare.json()]).toEqual([
            401,
            'Bearer',
            { error: 'writes to this node need Authorization: Bearer <token>' },
        ]);
        const post = await fetch(`${node.url}/blobs`, { method: 'POST', body: bytes });
        expect(post.status).toBe(401);
        await post.arrayBuffer();

        await expect(new StorageClient(node.url).put(bytes)).rejects.toThrow(new StorageAuthError(url, false));
        await expect(new StorageClient(node.url, { token: 'guess' }).put(bytes)).rejects.toThrow(
            `storage node refused the write to ${url}: wrong token`,
        );
        expect(await fs.readdir(dir)).toEqual(['tmp']);

        const hash = await new StorageClient(node.url, { token: 's3cret' }).put(bytes);
        expect(await new StorageClient(node.url).get(hash)).toEqual(bytes);
    });

    it('refuses a result without the token (401), storing nothing, and accepts it with it; reads stay public', async () => {
        const output = randomBytes(700);
        const url = new StorageClient(node.url).resultUrlOf(resultHashOf(output));
        const bare = await fetch(url, { method: 'PUT', body: output });
        expect([bare.status, bare.headers.get('www-authenticate'), await bare.json()]).toEqual([
            401,
            'Bearer',
            { error: 'writes to this node need Authorization: Bearer <token>' },
        ]);
        await expect(new StorageClient(node.url).putResult(output)).rejects.toThrow(new StorageAuthError(url, false));
        await expect(new StorageClient(node.url, { token: 'guess' }).putResult(output)).rejects.toThrow(
            `storage node refused the write to ${url}: wrong token`,
        );
        expect(existsSync(join(dir, 'results'))).toBe(false);
        expect(existsSync(blobPath(dir, sha256Hex(output)))).toBe(false);

        const hash = await new StorageClient(node.url, { token: 's3cret' }).putResult(output);
        expect(await new StorageClient(node.url).getResult(hash)).toEqual(output);
    });
});

describe('storage node stopping', () => {
    it('finishes an upload in flight, answers it with Connection: close, logs it, then stops listening', async () => {
        const dir = await tempDir();
        const events: Record<string, unknown>[] = [];
        const node = await startStorageNode({ dir, log: (e) => events.push(e as Record<string, unknown>) });
        try {
            const bytes = randomBytes(3000);
            const hash = sha256Hex(bytes);
            let answered: { status: number; connection: string | undefined } | undefined;
            const done = new Promise<void>((resolve, reject) => {
                const req = request(`${node.url}/blobs/${hash}`, { method: 'PUT' }, (res) => {
                    answered = { status: res.statusCode ?? 0, connection: res.headers.connection };
                    res.resume().on('end', resolve);
                });
                req.on('error', reject);
                req.write(bytes.subarray(0, 1000), () => {
                    // half sent: the node is asked to stop while this request is being read
                    const closed = node.close();
                    setTimeout(() => req.end(bytes.subarray(1000)), 100);
                    closed.catch(reject);
                });
            });
            await done;
            expect(answered).toEqual({ status: 201, connection: 'close' });
            await node.close();
            expect(events).toContainEqual(expect.objectContaining({ event: 'request', method: 'PUT', status: 201, hash }));
            await expect(fetch(`${node.url}/health`)).rejects.toThrow();
            expect(await new StorageClient(node.url).get(hash).catch(() => 'gone')).toBe('gone');
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });
});

describe('storage node and clients that hang up or are refused', () => {
    const TOKEN = 's3cret';
    const auth = `Authorization: Bearer ${TOKEN}\r\n`;
    let dir: string;
    let node: StorageNode;

    beforeAll(async () => {
        dir = await tempDir();
        node = await startStorageNode({ dir, writeToken: TOKEN, maxBlobBytes: LIMIT, log: () => undefined });
    });
    afterAll(async () => {
        await node.close();
        await fs.rm(dir, { recursive: true, force: true });
    });

    /** Descriptors of this process (the node runs in it): files, sockets, pipes. */
    const openFds = () => readdirSync('/proc/self/fd').length;
    const tempFiles = () => fs.readdir(join(dir, 'tmp'));

    /** Polls `probe` until it is at most `want` or `ms` pass, and returns its last value. */
    async function settle(probe: () => number | Promise<number>, want: number, ms = 3_000): Promise<number> {
        const deadline = Date.now() + ms;
        let value = await probe();
        while (value > want && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 20));
            value = await probe();
        }
        return value;
    }

    /** Connects, sends `data` and hangs up as soon as it is written, without waiting for an answer. */
    function hangUpAfter(data: string): Promise<void> {
        return new Promise((resolve) => {
            const socket = connect(node.port, '127.0.0.1', () => socket.write(data, () => socket.destroy()));
            socket.on('error', () => undefined);
            socket.on('close', () => resolve());
        });
    }

    /**
     * Sends `data` on a fresh connection and reads until the node closes it or `ms` pass: what came
     * back, and whether the node ended the connection.
     */
    function exchange(data: string | Buffer, ms = 2_000): Promise<{ head: string; body: string; closed: boolean }> {
        return new Promise((resolve) => {
            let text = '';
            const socket = connect(node.port, '127.0.0.1', () => socket.write(data, () => undefined));
            const done = (closed: boolean) => () => {
                clearTimeout(timer);
                socket.destroy();
                const [head, body = ''] = text.split('\r\n\r\n');
                resolve({ head, body, closed });
            };
            const timer = setTimeout(done(false), ms);
            socket.setEncoding('latin1');
            socket.on('data', (c: string) => (text += c));
            // The node may reset a connection whose body it stopped reading: that is closed, too.
            socket.on('error', () => undefined);
            socket.on('close', done(true));
        });
    }

    it('leaves no temp file and no descriptor behind when thousands of uploaders hang up after the headers', async () => {
        const fdsBefore = openFds();
        const hash = sha256Hex(Buffer.from('never sent'));
        const heads = [
            `PUT /blobs/${hash} HTTP/1.1\r\nHost: fog\r\n${auth}Content-Length: 1000\r\n\r\n`,
            `POST /blobs HTTP/1.1\r\nHost: fog\r\n${auth}Transfer-Encoding: chunked\r\n\r\n`,
            `PUT /blobs/${hash} HTTP/1.1\r\nHost: fog\r\n${auth}Content-Length: 1000\r\n\r\n${'x'.repeat(300)}`,
            // the whole body sent, then gone before the node has read it
            `POST /blobs HTTP/1.1\r\nHost: fog\r\n${auth}Content-Length: 300\r\n\r\n${'x'.repeat(300)}`,
        ];
        const started = Date.now();
        const uploads = 2_000;
        for (let i = 0; i < uploads; i += 100) {
            await Promise.all(Array.from({ length: 100 }, (_, j) => hangUpAfter(heads[(i + j) % heads.length])));
        }
        const elapsed = Date.now() - started;

        expect(await settle(async () => (await tempFiles()).length, 0)).toBe(0);
        // no more descriptors than before (fewer when a connection of an earlier test closed meanwhile)
        expect(await settle(openFds, fdsBefore)).toBeLessThanOrEqual(fdsBefore);
        // the node is still up and still stores blobs
        const bytes = randomBytes(1_000);
        const client = new StorageClient(node.url, { token: TOKEN });
        expect(await client.get(await client.put(bytes))).toEqual(bytes);
        expect(elapsed).toBeLessThan(30_000);
    });

    describe('a refusal closes the connection, and the next request on a fresh one works', () => {
        const hash = sha256Hex(Buffer.from('refused'));
        const cases: Array<[string, string | Buffer, number]> = [
            ['401, body unread', `PUT /blobs/${hash} HTTP/1.1\r\nHost: fog\r\nContent-Length: 500\r\n\r\n${'x'.repeat(500)}`, 401],
            [
                '413 from the Content-Length',
                `PUT /blobs/${hash} HTTP/1.1\r\nHost: fog\r\n${auth}Content-Length: ${LIMIT + 1}\r\n\r\n${'x'.repeat(LIMIT + 1)}`,
                413,
            ],
            [
                '413 while streaming',
                `POST /blobs HTTP/1.1\r\nHost: fog\r\n${auth}Transfer-Encoding: chunked\r\n\r\n${`4000\r\n${'x'.repeat(0x4000)}\r\n`.repeat(8)}0\r\n\r\n`,
                413,
            ],
            [
                '401 with a body larger than the node discards',
                Buffer.concat([
                    Buffer.from(`POST /blobs HTTP/1.1\r\nHost: fog\r\nContent-Length: ${3 << 20}\r\n\r\n`),
                    Buffer.alloc(3 << 20),
                ]),
                401,
            ],
        ];
        it.each(cases)('%s', async (_name, data, status) => {
            const { head, body, closed } = await exchange(data);
            expect(head.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Payload Too Large'}`);
            expect(head.split('\r\n')).toContain('Connection: close');
            expect(JSON.parse(body)).toEqual(expect.objectContaining({ error: expect.any(String) }));
            expect(closed).toBe(true);

            const bytes = randomBytes(100);
            const client = new StorageClient(node.url, { token: TOKEN });
            expect(await client.get(await client.put(bytes))).toEqual(bytes);
            expect(await tempFiles()).toEqual([]);
        });

        it('a keep-alive client is not handed back a socket the node is about to drop', async () => {
            const agent = new Agent({ keepAlive: true, maxSockets: 1 });
            const send = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
                new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
                    const req = request(`${node.url}${path}`, { method: 'PUT', agent, headers }, (res) => {
                        res.resume();
                        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
                    });
                    // the node stops reading a refused body past a bound, so writing the rest may fail
                    req.on('error', (e) => (req.writableEnded ? undefined : reject(e)));
                    req.end(body);
                });
            try {
                const big = Buffer.alloc(3 << 20);
                expect(await send(`/blobs/${sha256Hex(big)}`, big)).toEqual({ status: 401, connection: 'close' });
                const small = randomBytes(100);
                expect(await send(`/blobs/${sha256Hex(small)}`, small, { Authorization: `Bearer ${TOKEN}` })).toEqual({
                    status: 201,
                    connection: 'keep-alive',
                });
            } finally {
                agent.destroy();
            }
        });
    });
});

describe('storage client', () => {
    it('says which node is unreachable and why', async () => {
        const { url, server } = await fakeServer(() => undefined);
        await closeServer(server); // the port is now free, so nothing listens there
        await expect(new StorageClient(url).get(sha256Hex(Buffer.from('x')))).rejects.toThrow(
            new StorageUnreachableError(url, 'ECONNREFUSED'),
        );
        await expect(new StorageClient(url).put(Buffer.from('x'))).rejects.toThrow(`storage node at ${url} is unreachable (ECONNREFUSED)`);
    });

    it('sends a request again when its connection is dropped, three tries in all, then says so', async () => {
        const blob = Buffer.from('a blob worth the wait');
        let requests = 0;
        let drops = 1;
        // drops the first `drops` requests' connections, as a server closing a keep-alive socket does
        const { url, server } = await fakeServer((req, res) => {
            requests++;
            if (drops > 0) {
                drops--;
                req.socket.destroy();
                return;
            }
            req.resume();
            req.on('end', () => res.end(req.method === 'PUT' ? '{}' : blob));
        });
        try {
            const client = new StorageClient(url);
            expect(await client.get(sha256Hex(blob))).toEqual(blob);
            expect(requests).toBe(2);
            drops = 2;
            expect(await client.put(blob)).toBe(sha256Hex(blob));
            expect(requests).toBe(5);
            drops = 3;
            await expect(client.has(sha256Hex(blob))).rejects.toThrow(`storage node at ${url} is unreachable`);
            expect(requests).toBe(8);
        } finally {
            await closeServer(server);
        }
    });

    it('gives up after timeoutMs', async () => {
        const { url, server } = await fakeServer(() => undefined); // never answers
        try {
            await expect(new StorageClient(url, { timeoutMs: 200 }).has(sha256Hex(Buffer.from('x')))).rejects.toThrow(
                `storage node at ${url} is unreachable (timed out after 200 ms)`,
            );
        } finally {
            await closeServer(server);
        }
    });

    describe('checks what it downloads against the hash', () => {
        const wanted = Buffer.from('the program');
        const hash = sha256Hex(wanted);
        const lie = Buffer.from('another program');
        let fake: { url: string; server: Server };

        beforeAll(async () => {
            fake = await fakeServer((req, res) => {
                if (req.url === '/big') {
                    res.writeHead(200); // chunked, so the size is only found out while reading
                    for (let i = 0; i < 4; i++) res.write(Buffer.alloc(1_000));
                    return void res.end();
                }
                res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
                res.end(lie);
            });
        });
        afterAll(() => closeServer(fake.server));

        it('StorageClient.get throws BlobHashMismatchError', async () => {
            const url = `${fake.url}/blobs/${hash}`;
            const error = await new StorageClient(fake.url).get(hash).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(BlobHashMismatchError);
            expect(error).toMatchObject({ hash, url, actual: sha256Hex(lie) });
            expect((error as Error).message).toBe(`blob ${hash} from ${url} does not match its hash (got ${sha256Hex(lie)})`);
        });

        it('StorageClient.getResult checks the output hash: a tampered body is BlobHashMismatchError of kind result', async () => {
            const hash = resultHashOf(wanted);
            const url = `${fake.url}/results/${hash}`;
            const error = await new StorageClient(fake.url).getResult(hash).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(BlobHashMismatchError);
            expect(error).toMatchObject({ hash, url, actual: resultHashOf(lie), kind: 'result' });
            expect((error as Error).message).toBe(`result ${hash} from ${url} does not match its output hash (got ${resultHashOf(lie)})`);
            // the bytes' sha256 is not what a result is checked against
            const bySha256 = sha256Hex(lie);
            await expect(new StorageClient(fake.url).getResult(bySha256)).rejects.toThrow(BlobHashMismatchError);
        });

        it('fetchBlob does the same for any http(s) URI, and enforces a size cap', async () => {
            await expect(fetchBlob(`${fake.url}/anything`, hash)).rejects.toThrow(BlobHashMismatchError);
            await expect(fetchBlob(`${fake.url}/big`, hash, { maxBytes: 2_500 })).rejects.toThrow(
                `blob at ${fake.url}/big is more than 2500 bytes, over the download limit of 2500`,
            );
            await expect(fetchBlob('ipfs://bafy', hash)).rejects.toThrow(new InvalidBlobUriError('ipfs://bafy'));
            await expect(fetchBlob('not a uri', hash)).rejects.toThrow(InvalidBlobUriError);
        });

        it('fetchBlob returns verified bytes from a real node', async () => {
            const dir = await tempDir();
            const node = await startStorageNode({ dir, log: () => undefined });
            try {
                const client = new StorageClient(node.url);
                await client.put(wanted);
                expect(await fetchBlob(client.urlOf(hash), hash.toUpperCase())).toEqual(wanted);
                await expect(fetchBlob(client.urlOf(hash), hash, { maxBytes: 5 })).rejects.toThrow(
                    new BlobTooLargeError('download', wanted.length, 5, client.urlOf(hash)),
                );
            } finally {
                await node.close();
                await fs.rm(dir, { recursive: true, force: true });
            }
        });
    });

    it('converts hashes to and from the uint256 that job specs store', () => {
        const hash = sha256Hex(Buffer.from('input'));
        expect(uint256ToHash(hashToUint256(hash))).toBe(hash);
        expect(hashToUint256('00'.repeat(31) + '2a')).toBe(42n);
        expect(uint256ToHash(42n)).toBe('00'.repeat(31) + '2a');
        expect(uint256ToHash((1n << 256n) - 1n)).toBe('f'.repeat(64));
        expect(() => uint256ToHash(1n << 256n)).toThrow(InvalidHashError);
        expect(() => uint256ToHash(-1n)).toThrow(InvalidHashError);
        expect(() => hashToUint256('0x2a')).toThrow('not a sha256 hex digest: "0x2a"');
    });
});

describe('main.ts as a process', () => {
    const script = join(root, 'dist/oracle/storage/main.js');
    const children: ChildProcess[] = [];

    // `npm test` builds first; when run alone, build if dist is missing or older than the sources.
    beforeAll(async () => {
        const sources = await fs.readdir(join(root, 'oracle/storage'));
        const newest = Math.max(...sources.map((f) => statSync(join(root, 'oracle/storage', f)).mtimeMs));
        if (existsSync(script) && statSync(script).mtimeMs >= newest) return;
        // tsc exits non-zero for type errors anywhere in the tree but still emits; only the output matters here.
        const output = await new Promise<string>((resolve) =>
            execFile('npx', ['tsc', '-p', '.'], { cwd: root }, (_e, out, err) => resolve(out + err)),
        );
        if (!existsSync(script) || statSync(script).mtimeMs < newest) throw new Error(`could not build ${script}:\n${output}`);
    }, 120_000);
    afterAll(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

    function run(
        args: string[],
        env: Record<string, string> = {},
    ): { child: ChildProcess; exit: Promise<{ code: number | null; stdout: string; stderr: string }> } {
        const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, ...env } });
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (c: Buffer) => (stdout += c));
        child.stderr?.on('data', (c: Buffer) => (stderr += c));
        const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
            child.on('exit', (code) => resolve({ code, stdout, stderr })),
        );
        return { child, exit };
    }

    function listening(child: ChildProcess): Promise<{ event: string; url: string }> {
        return new Promise((resolve, reject) => {
            let buffered = '';
            child.stdout?.on('data', (c: Buffer) => {
                buffered += c;
                const line = buffered.split('\n').find((l) => l.includes('"listening"'));
                if (line) resolve(JSON.parse(line));
            });
            child.on('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
        });
    }

    it('prints the listening line, serves, and exits 0 on SIGTERM', async () => {
        const dir = await tempDir();
        try {
            const { child, exit } = run(['--dir', join(dir, 'blobs'), '--port', '0', '--max-bytes', '1000'], {
                FOG_STORAGE_TOKEN: 'from-env',
            });
            const ready = await listening(child);
            expect(ready).toMatchObject({
                event: 'listening',
                url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
                maxBlobBytes: 1000,
                auth: true,
            });

            await expect(new StorageClient(ready.url).put(Buffer.from('hi'))).rejects.toThrow(StorageAuthError);
            const client = new StorageClient(ready.url, { token: 'from-env' });
            expect(await client.get(await client.put(Buffer.from('hi')))).toEqual(Buffer.from('hi'));

            child.kill('SIGTERM');
            const { code, stdout, stderr } = await exit;
            expect([code, stderr]).toEqual([0, '']);
            const lines = stdout
                .trim()
                .split('\n')
                .map((l) => JSON.parse(l) as { event: string; method?: string; status?: number });
            // A request still finishing when the signal lands is logged after 'stopping'.
            expect(lines[0].event).toBe('listening');
            expect(lines.filter((l) => l.event === 'stopping')).toHaveLength(1);
            const requests = lines.filter((l) => l.event === 'request').map((l) => `${l.method} ${l.status}`);
            expect(requests.sort()).toEqual(['GET 200', 'PUT 201', 'PUT 401']);
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });

    it('exits non-zero with one line, no stack, on a bad option', async () => {
        const dir = await tempDir();
        const taken = await startStorageNode({ dir: join(dir, 'taken'), log: () => undefined });
        try {
            const cases: Array<[string[], string]> = [
                [[], 'fog-storage: --dir is required (the directory that holds the blobs)\n'],
                [['--dir', 'x', '--port', '70000'], 'fog-storage: --port must be a whole number from 0 to 65535, got "70000"\n'],
                [
                    ['--dir', 'x', '--max-bytes', '0'],
                    `fog-storage: --max-bytes must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got "0"\n`,
                ],
                [['--dir', 'x', '--colour'], "fog-storage: Unknown option '--colour' (see --help)\n"],
                [
                    ['--dir', join(dir, 'second'), '--port', String(taken.port)],
                    `fog-storage: port ${taken.port} on 127.0.0.1 is already in use\n`,
                ],
            ];
            const results = await Promise.all(cases.map(([args]) => run(args).exit));
            results.forEach(({ code, stdout, stderr }, i) => {
                expect([cases[i][0], code, stdout, stderr]).toEqual([cases[i][0], 1, '', cases[i][1]]);
            });
        } finally {
            await taken.close();
            await fs.rm(dir, { recursive: true, force: true });
        }
    });
});
