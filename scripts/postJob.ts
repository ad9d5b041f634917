/**
 * npx blueprint run postJob <price FOG> <program.wasm> <input file> [k] [fuel limit, Mfuel] [network options] [wallet options]
 *
 * Uploads the program and input to the network's storage node, posts the job from the signing
 * wallet (which needs a Contributor Pass), and prints its id. Follow it with `fog job status <id>`.
 */
import { readFileSync } from 'node:fs';
import type { NetworkProvider } from '@ton/blueprint';
import { blueprintDefaults, arg, fogOf, send, waitUntil, walletOf } from '../client/blueprint';
import { formatAmount, parseAmount, parseCount } from '../wrappers/units';
import { storageOf } from '../client/context';
import { jobSpec } from '../client/actions';
import { DEFAULT_JOB_MFUEL, formatFuel, fuelForJob, MAX_JOB_MFUEL } from '../client/compute/fuel';

export async function run(provider: NetworkProvider, args: string[]) {
    const price = parseAmount(await arg(provider, args, 0, 'Price in FOG'));
    const program = readFileSync(await arg(provider, args, 1, 'Program (.wasm)'));
    const input = readFileSync(await arg(provider, args, 2, 'Input file'));
    const k = parseCount(await arg(provider, args, 3, 'Replication k', String(blueprintDefaults.postJobK)), 'k', 7);
    const mfuel = parseCount(await arg(provider, args, 4, 'Fuel limit, Mfuel', String(DEFAULT_JOB_MFUEL)), 'the fuel limit', MAX_JOB_MFUEL);
    const { file, fog } = fogOf();
    const storage = storageOf(file);
    const requester = await walletOf(provider);
    const balance = await fog.balanceOf(requester);
    if (balance < price) throw new Error(`this wallet holds ${formatAmount(balance)}, the job costs ${formatAmount(price)}`);
    await storage.put(program);
    await storage.put(input);
    const id = (await fog.hub.getHubState()).nextJobId;
    await send(
        provider,
        fog.client,
        await fog.post(requester, price, jobSpec({ program, input, urlOf: (h) => storage.urlOf(h), k, maxMfuel: mfuel })),
    );
    await waitUntil(
        provider,
        'the job to be posted',
        async () => (await fog.hub.getHubState()).nextJobId,
        (n) => n > id,
    );
    const job = await (await fog.job(id)).getJobState();
    provider
        .ui()
        .write(
            `Posted job ${id} by ${job.requester.equals(requester) ? 'you' : job.requester.toString()}: ${formatAmount(price)}, k=${k}, up to ${formatFuel(fuelForJob(job.spec))}. Follow it: fog job status ${id}`,
        );
}
