/**
 * npx blueprint run claimRewards [epoch] [network options] [wallet options]
 *
 * Claims the signing provider's share of every finished epoch it earned work units in (or of one).
 */
import type { NetworkProvider } from '@ton/blueprint';
import { fogOf, send, waitUntil, walletOf } from '../client/blueprint';
import { formatAmount } from '../wrappers/units';

export async function run(provider: NetworkProvider, args: string[]) {
    const { fog } = fogOf();
    const owner = await walletOf(provider);
    const only = args[0] === undefined ? undefined : /^\d+$/.test(args[0]) ? BigInt(args[0]) : undefined;
    if (args[0] !== undefined && only === undefined) throw new Error(`not an epoch number: ${args[0]}`);
    const epochs = await fog.claimableEpochs(owner, only);
    const before = await fog.balanceOf(owner);
    for (const epoch of epochs) await send(provider, fog.client, await fog.claimRewards(owner, epoch));
    const after = await waitUntil(
        provider,
        'the reward to be minted',
        () => fog.balanceOf(owner),
        (b) => b > before,
    );
    provider.ui().write(`Claimed ${formatAmount(after - before)} for epoch ${epochs.join(', ')}.`);
}
