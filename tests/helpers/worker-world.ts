/**
 * What the worker daemon tests run against, in this process: the HTTP devnet, a storage node
 * holding the upper-case example, a one-thread compute pool and a staked requester.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Devnet, startDevnet } from './devnet';
import { staker } from './flow';
import { DIST } from '../../client/paths';
import { startStorageNode, StorageNode } from '../../oracle/storage/server';
import { StorageClient } from '../../client/storage';
import { ComputePool } from '../../client/compute/pool';
import { WalletSender } from '../../client/sender';

export interface WorkerWorld {
    d: Devnet;
    /** A temporary folder for journals and blobs, removed after the tests. */
    dir: string;
    storage: StorageNode;
    store: StorageClient;
    pool: ComputePool;
    requester: WalletSender;
    /** upper.wasm, already on the storage node. */
    program: Buffer;
}

/** Brings the world up before a describe block's tests (handing it to `use`) and down after them. */
export function workerWorld(name: string, use: (w: WorkerWorld) => void, devnet: Parameters<typeof startDevnet>[0] = {}): void {
    let world: WorkerWorld | undefined;
    beforeAll(async () => {
        const d = await startDevnet(devnet);
        const dir = mkdtempSync(join(tmpdir(), `fog-${name}-`));
        const storage = await startStorageNode({ dir: join(dir, 'blobs'), port: 0, log: () => undefined });
        const store = new StorageClient(storage.url);
        const program = readFileSync(join(DIST, 'examples', 'upper.wasm'));
        await store.put(program);
        world = { d, dir, storage, store, pool: new ComputePool({ threads: 1 }), requester: await staker(d), program };
        use(world);
    }, 120_000);
    afterAll(async () => {
        if (world === undefined) return;
        await world.pool.close();
        await world.storage.close();
        await world.d.close();
        rmSync(world.dir, { recursive: true, force: true });
    });
}
