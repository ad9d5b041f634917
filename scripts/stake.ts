/**
 * npx blueprint run stake <amount FOG> [cores] [memory MiB] [network options] [wallet options]
 *
 * Stakes FOG from the signing wallet; the first stake reaching the minimum mints its Contributor Pass.
 */
import type { NetworkProvider } from '@ton/blueprint';
import { blueprintDefaults, arg, fogOf, send, waitUntil, walletOf } from '../client/blueprint';
import { formatAmount, parseAmount, parseCount } from '../wrappers/units';

export async function run(provider: NetworkProvider, args: string[]) {
    const amount = parseAmount(await arg(provider, args, 0, 'FOG to stake'));
    const cores = parseCount(await arg(provider, args, 1, 'CPU cores you offer', String(blueprintDefaults.stakeCores)), 'cores', 65_535);
    const memory = parseCount(
        await arg(provider, args, 2, 'Memory you offer, MiB', String(blueprintDefaults.stakeMemoryMb)),
        'memory',
        0xffffffff,
    );
    const { fog } = fogOf();
    const owner = await walletOf(provider);
    const balance = await fog.balanceOf(owner);
    if (balance < amount) throw new Error(`this wallet holds ${formatAmount(balance)}, less than ${formatAmount(amount)}`);
    const provider_ = await fog.providerOf(owner);
    const stake = async () => ((await fog.client.isContractDeployed(provider_.address)) ? (await provider_.getProviderState()).stake : 0n);
    const before = await stake();
    await send(provider, fog.client, await fog.stake(owner, amount, cores, memory));
    await waitUntil(provider, 'the stake to arrive', stake, (s) => s >= before + amount);
    const s = await provider_.getProviderState();
    provider
        .ui()
        .write(
            `Staked ${formatAmount(amount)}: stake ${formatAmount(s.stake)}, pass ${s.passHeld ? 'held' : 'not yet (below the minimum)'}.`,
        );
}
