/**
 * The node's disk: blobs sharded as `<dir>/ab/cd/<hash>`, uploads staged in `<dir>/tmp/`, corrupted
 * blobs moved to `<dir>/quarantine/`, and the results index: one small file a result,
 * `<dir>/results/ab/cd/<output hash>`, holding the sha256 of the blob that is the output (written
 * to `tmp/`, synced, then renamed into place, so a crash leaves the old entry or the new one,
 * never a torn one; nothing of it is kept in memory). Knows nothing about HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs, ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isSha256Hex } from '../../client/hash';

const SHARD = /^[0-9a-f]{2}$/;
/** Temp files this code creates (`<pid>-<random>`); only these are swept at start. */
const TEMP_NAME = /^\d+-[0-9a-f]{16}$/;

/** What a read-time check of a stored blob found. */
export type BlobCheck = { kind: 'ok'; size: number } | { kind: 'missing' } | { kind: 'corrupt'; size: number; actual: string };

function errorCode(e: unknown): string | undefined {
    return (e as NodeJS.ErrnoException).code;
}

/** Best effort: makes a rename or link durable; not every platform can fsync a directory. */
async function fsyncDir(path: string): Promise<void> {
    try {
        const dir = await fs.open(path, 'r');
        try {
            await dir.sync();
        } finally {
            await dir.close();
        }
    } catch {
        // Windows and some network filesystems refuse; the blob is still written and synced.
    }
}

/** One upload in progress: a temp file being written and hashed. */
export class BlobWriter {
    private readonly hasher = createHash('sha256');
    private file: FileHandle | undefined;
    private finished = false;
    /** Bytes written so far. */
    bytes = 0;

    constructor(
        private readonly store: BlobStore,
        file: FileHandle,
        /** Where the upload is staged until `commit`. */
        readonly tempPath: string,
    ) {
        this.file = file;
    }

    /** Appends `chunk`; the caller awaits each write before the next (the HTTP layer pauses the socket). */
    async write(chunk: Buffer): Promise<void> {
        if (!this.file) throw new Error('blob writer is closed');
        this.hasher.update(chunk);
        this.bytes += chunk.length;
        let off = 0;
        while (off < chunk.length) off += (await this.file.write(chunk, off)).bytesWritten;
    }

    /** Flushes the temp file to disk and returns the sha256 of everything written. */
    async finish(): Promise<string> {
        if (!this.file || this.finished) throw new Error('blob writer is closed');
        await this.file.sync();
        await this.file.close();
        this.file = undefined;
        this.finished = true;
        return this.hasher.digest('hex');
    }

    /** Publishes the finished temp file as blob `hash`; false if it was already stored (left untouched). */
    async commit(hash: string): Promise<boolean> {
        if (!this.finished) throw new Error('finish the blob before committing it');
        try {
            return await this.store.publish(this.tempPath, hash);
        } finally {
            await this.abort();
        }
    }

    /** Drops the upload: closes and deletes the temp file. Safe to call more than once. */
    async abort(): Promise<void> {
        const file = this.file;
        this.file = undefined;
        if (file) await file.close().catch(() => undefined);
        await fs.rm(this.tempPath, { force: true });
    }
}

/** Content-addressed files under one directory. */
export class BlobStore {
    private constructor(
        /** The root directory. */
        readonly dir: string,
        private blobs: number,
    ) {}

    /** Creates the layout if needed, deletes uploads a crash left in `tmp/`, and counts the blobs. */
    static async open(dir: string): Promise<BlobStore> {
        await fs.mkdir(join(dir, 'tmp'), { recursive: true });
        for (const name of await fs.readdir(join(dir, 'tmp'))) {
            if (TEMP_NAME.test(name)) await fs.rm(join(dir, 'tmp', name), { force: true });
        }
        return new BlobStore(dir, await countBlobs(dir));
    }

    /** Blobs stored (counted at start, then kept up to date by this process). */
    get count(): number {
        return this.blobs;
    }

    /** The file of blob `hash` (which must be a canonical sha256 hex digest). */
    pathOf(hash: string): string {
        return join(this.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
    }

    /** The index file of the result of output hash `hash` (a canonical 64-character hex digest). */
    resultPathOf(hash: string): string {
        return join(this.dir, 'results', hash.slice(0, 2), hash.slice(2, 4), hash);
    }

    /**
     * Records that the result of output hash `outputHash` is blob `blob` (the caller has checked
     * both). Returns false if the index already said so (left untouched); an entry that said
     * anything else is replaced.
     */
    async indexResult(outputHash: string, blob: string): Promise<boolean> {
        if ((await this.resultOf(outputHash)) === blob) return false;
        const target = this.resultPathOf(outputHash);
        const shard = join(target, '..');
        await fs.mkdir(shard, { recursive: true });
        const tempPath = join(this.dir, 'tmp', `${process.pid}-${randomBytes(8).toString('hex')}`);
        try {
            const file = await fs.open(tempPath, 'wx');
            try {
                await file.writeFile(blob);
                await file.sync();
            } finally {
                await file.close();
            }
            await fs.rename(tempPath, target);
        } finally {
            await fs.rm(tempPath, { force: true });
        }
        await fsyncDir(shard);
        return true;
    }

    /** The blob (sha256) the results index holds for output hash `outputHash`, or undefined if none, or an unreadable entry. */
    async resultOf(outputHash: string): Promise<string | undefined> {
        let text: string;
        try {
            text = await fs.readFile(this.resultPathOf(outputHash), 'utf-8');
        } catch (e) {
            if (errorCode(e) === 'ENOENT') return undefined;
            throw e;
        }
        return isSha256Hex(text) ? text : undefined;
    }

    /** Drops the index entry of output hash `outputHash` (one that names the wrong bytes); safe if there is none. */
    async dropResult(outputHash: string): Promise<void> {
        await fs.rm(this.resultPathOf(outputHash), { force: true });
    }

    /** Starts an upload into a fresh temp file. */
    async beginWrite(): Promise<BlobWriter> {
        const tempPath = join(this.dir, 'tmp', `${process.pid}-${randomBytes(8).toString('hex')}`);
        return new BlobWriter(this, await fs.open(tempPath, 'wx'), tempPath);
    }

    /**
     * Links `tempPath` in as blob `hash` without ever replacing an existing file (a hard link fails
     * on an existing name, where a rename would overwrite). Returns true if the blob is new.
     */
    async publish(tempPath: string, hash: string): Promise<boolean> {
        const target = this.pathOf(hash);
        const shard = join(target, '..');
        await fs.mkdir(shard, { recursive: true });
        try {
            await fs.link(tempPath, target);
        } catch (e) {
            const code = errorCode(e);
            if (code === 'EEXIST') return false;
            if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
            // No hard links on this filesystem: identical content makes the check-then-rename race harmless.
            if (await exists(target)) return false;
            await fs.rename(tempPath, target);
        }
        await fsyncDir(shard);
        this.blobs++;
        return true;
    }

    /** Re-hashes blob `hash` from disk. */
    async check(hash: string): Promise<BlobCheck> {
        let size: number;
        try {
            size = (await fs.stat(this.pathOf(hash))).size;
        } catch (e) {
            if (errorCode(e) === 'ENOENT') return { kind: 'missing' };
            throw e;
        }
        const hasher = createHash('sha256');
        for await (const chunk of createReadStream(this.pathOf(hash))) hasher.update(chunk as Buffer);
        const actual = hasher.digest('hex');
        return actual === hash ? { kind: 'ok', size } : { kind: 'corrupt', size, actual };
    }

    /**
     * Blob `hash`'s bytes, read whole, if it holds at most `maxBytes`; undefined if it is missing;
     * 'too large' if it is longer (nothing is read). Does not verify: the caller hashes the bytes.
     */
    async load(hash: string, maxBytes: number): Promise<Buffer | 'too large' | undefined> {
        try {
            const file = await fs.open(this.pathOf(hash), 'r');
            try {
                if ((await file.stat()).size > maxBytes) return 'too large';
                return await file.readFile();
            } finally {
                await file.close();
            }
        } catch (e) {
            if (errorCode(e) === 'ENOENT') return undefined;
            throw e;
        }
    }

    /** A stream of blob `hash`'s bytes (call `check` first: this does not verify). */
    read(hash: string): ReadStream {
        return createReadStream(this.pathOf(hash));
    }

    /**
     * Moves a corrupted blob out of the way so the node answers 404 for it and a fresh upload can
     * store it again. Returns where the file went, or undefined if another request moved it first.
     */
    async quarantine(hash: string): Promise<string | undefined> {
        const to = join(this.dir, 'quarantine', `${hash}.${Date.now()}`);
        await fs.mkdir(join(this.dir, 'quarantine'), { recursive: true });
        try {
            await fs.rename(this.pathOf(hash), to);
        } catch (e) {
            if (errorCode(e) === 'ENOENT') return undefined;
            throw e;
        }
        this.blobs--;
        return to;
    }
}

async function exists(path: string): Promise<boolean> {
    try {
        await fs.access(path);
        return true;
    } catch {
        return false;
    }
}

async function subdirs(path: string): Promise<string[]> {
    const entries = await fs.readdir(path, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && SHARD.test(e.name)).map((e) => join(path, e.name));
}

async function countBlobs(dir: string): Promise<number> {
    let n = 0;
    for (const first of await subdirs(dir)) {
        for (const second of await subdirs(first)) {
            n += (await fs.readdir(second)).filter(isSha256Hex).length;
        }
    }
    return n;
}
