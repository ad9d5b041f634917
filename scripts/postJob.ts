/**
 * npx blueprint run postJob <price FOG> <program.wasm> <input file> [k] [network options] [wallet options]
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

export async function run(provider: NetworkProvider, args: string[]) {
    const price = parseAmount(await arg(provider, args, 0, 'Price in FOG'));
    const program = readFileSync(await arg(provider, args, 1, 'Program (.wasm)'));
    const input = readFileSync(await arg(provider, args, 2, 'Input file'));
    const k = parseCount(await arg(provider, args, 3, 'Replication k', String(blueprintDefaults.postJobK)), 'k', 7);
    const { file, fog } = fogOf();
    const storage = storageOf(file);
    const requester = await walletOf(provider);
    const balance = await fog.balanceOf(requester);
    if (balance < price) throw new Error(`this wallet holds ${formatAmount(balance)}, the job costs ${formatAmount(price)}`);
    const [programHash, inputHash] = [await storage.put(program), await storage.put(input)];
    const id = (await fog.hub.getHubState()).nextJobId;
    await send(
        provider,
        fog.client,
        await fog.post(requester, price, jobSpec({ program: programHash, input: inputHash, urlOf: (h) => storage.urlOf(h), k })),
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
            `Posted job ${id} by ${job.requester.equals(requester) ? 'you' : job.requester.toString()}: ${formatAmount(price)}, k=${k}. Follow it: fog job status ${id}`,
        );
}
