/**
 * npx blueprint run postMap <price per shard, FOG> <program.wasm> <inputs: a directory | a file> <shards> [k] [fuel limit, Mfuel] [network options] [wallet options]
 *
 * A map (docs/map-reduce.md) from the signing wallet, which needs a Contributor Pass: one program
 * over many inputs, posted as one sharded post (one input: a plain job). A directory gives one
 * shard per file, in byte order of the names (`shards` may be left out, or must be their number);
 * a file is cut into `shards` pieces at line ends. Uploads the program and the
 * inputs to the network's storage node, posts, finds the post's id in the hub's events (or the
 * hub's refusal, whose reason it prints), waits until the pass check passed and every job is
 * deployed (or the post was refunded whole), and prints the map's id. Follow it with
 * `fog job shards <id> --wait --out-dir <dir>` (which downloads the outputs, checked) or the bot's
 * `/map <id>`.
 */
import { readFileSync, statSync } from 'node:fs';
import type { NetworkProvider } from '@ton/blueprint';
import { blueprintDefaults, arg, fogOf, SCRIPT_WAIT_MS, send, waitUntil, walletOf } from '../client/blueprint';
import { findPostedId, hubMark } from '../client/posted';
import { formatAmount, parseAmount, parseCount } from '../wrappers/units';
import { storageOf } from '../client/context';
import { jobSpec, shardedSpec } from '../client/actions';
import { dirInputs, splitRecords } from '../client/map-inputs';
import { MAX_SHARDS } from '../wrappers/protocol';
import { DEFAULT_JOB_MFUEL, formatFuel, fuelForJob, MAX_JOB_MFUEL } from '../client/compute/fuel';

export async function run(provider: NetworkProvider, args: string[]) {
    const price = parseAmount(await arg(provider, args, 0, 'Price per shard in FOG'));
    const program = readFileSync(await arg(provider, args, 1, 'Program (.wasm)'));
    const from = await arg(provider, args, 2, 'Inputs: a directory (a shard per file) or a file to cut at line ends');
    let isDir: boolean;
    try {
        isDir = statSync(from).isDirectory();
    } catch {
        throw new Error(`cannot read ${from}`);
    }
    const dir = isDir ? dirInputs(from) : undefined;
    const shards = parseCount(
        await arg(provider, args, 3, `Shards (1 to ${MAX_SHARDS})`, dir ? String(dir.inputs.length) : undefined),
        'shards',
        MAX_SHARDS,
    );
    if (dir && shards !== dir.inputs.length)
        throw new Error(`${from} holds ${dir.inputs.length} files, a shard each: give ${dir.inputs.length} shards (or leave it out)`);
    const inputs = dir ? dir.inputs : splitRecords(readFileSync(from), shards, 'line');
    const k = parseCount(await arg(provider, args, 4, 'Replication k', String(blueprintDefaults.postJobK)), 'k', 7);
    const mfuel = parseCount(await arg(provider, args, 5, 'Fuel limit, Mfuel', String(DEFAULT_JOB_MFUEL)), 'the fuel limit', MAX_JOB_MFUEL);
    const { file, fog } = fogOf();
    const storage = storageOf(file);
    const requester = await walletOf(provider);
    const total = price * BigInt(inputs.length);
    const params = await fog.hub.getParams();
    if (BigInt(k) > params.maxK) throw new Error(`k is at most ${params.maxK} on this network, you asked for ${k}`);
    if (price < params.minJobPrice)
        throw new Error(
            `a shard must pay at least ${formatAmount(params.minJobPrice)} on this network, you offered ${formatAmount(price)}`,
        );
    const poster = await fog.checkPoster(requester, total);
    if (!poster.ok)
        throw new Error(
            poster.reason === 'no-pass'
                ? 'this wallet holds no live Contributor Pass: the hub would refund the whole map (stake the minimum to get one)'
                : `this wallet holds ${formatAmount(poster.balance)}, the map's ${inputs.length} shards cost ${formatAmount(total)}`,
        );
    // checked before anything is uploaded or paid: every input's initial root, the program's ABI
    const request = { program, urlOf: (h: string) => storage.urlOf(h), k, maxMfuel: mfuel };
    const { spec, shards: list } = shardedSpec({ ...request, inputs });
    await storage.put(program);
    for (const input of inputs) await storage.put(input);
    const since = await hubMark(fog.client, file.hub);
    // a map of one input is a plain job, which costs less (docs/gas.md, "Sharded posts")
    const single = inputs.length === 1;
    await send(
        provider,
        fog.client,
        single
            ? await fog.post(requester, price, jobSpec({ ...request, input: inputs[0] }))
            : await fog.postShards(requester, price, spec, list),
    );
    provider.ui().setActionPrompt('Waiting for the hub to take the post…');
    // the hub's event names the post's id, or its refusal the reason (the FOG comes back)
    const first = await findPostedId(fog.client, file.hub, requester, price, since, SCRIPT_WAIT_MS, inputs.length);
    provider.ui().clearActionPrompt();
    const last = first + BigInt(inputs.length - 1);
    if (!single) {
        const group = await fog.shards(first);
        const lastJob = await fog.job(last);
        // the pass check, then the hub's deploy of every job; either can refund the whole map
        const outcome = await waitUntil(
            provider,
            "the post's pass check and its jobs",
            async () => {
                const v = (await fog.client.isContractDeployed(group.address)) ? (await group.getShardsState()).verified : 0n;
                if (v === 2n) return 'refunded';
                return v === 1n && (await fog.client.isContractDeployed(lastJob.address)) ? 'deployed' : 'waiting';
            },
            (o) => o !== 'waiting',
        );
        if (outcome === 'refunded')
            throw new Error(`map ${first} was refunded whole: the pass check failed, or the hub could not deploy its jobs; no shard ran`);
    }
    provider
        .ui()
        .write(
            `Posted map ${first}: ${inputs.length} shards, jobs ${first}–${last}, ${formatAmount(price)} each, k=${k}, up to ${formatFuel(fuelForJob(spec))}. Follow it: fog job shards ${first} --wait --out-dir map-${first} (or /map ${first} in the bot)`,
        );
}
