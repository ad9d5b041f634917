/**
 * npx blueprint run readState [network options]
 *
 * The network's state as the chain holds it: hub counters, parameters, the current epoch and the
 * FOG supply (FOG_NETWORK_FILE names the network).
 */
import type { NetworkProvider } from '@ton/blueprint';
import { fogOf } from '../client/blueprint';
import { formatAmount } from '../wrappers/units';

export async function run(provider: NetworkProvider) {
    const { file, fog } = fogOf();
    const [hub, params, token] = await Promise.all([fog.hub.getHubState(), fog.hub.getParams(), fog.token.getTokenState()]);
    const now = await fog.now();
    const epoch = await fog.hub.getEpochOf(BigInt(now));
    const f = (n: bigint) => formatAmount(n);
    provider
        .ui()
        .write(
            [
                `Fog on ${file.network}: hub ${file.hub.toString({ testOnly: file.network !== 'mainnet' })}`,
                `jobs posted ${hub.nextJobId}; total stake ${f(hub.totalStaked)}; escrow ${f(hub.totalEscrow)}; strays ${f(hub.strays)}`,
                `FOG supply ${f(token.totalSupply)}; genesis ${token.genesisOpen ? 'open' : 'sealed'}; mint authority ${token.mintAuthority?.equals(file.hub) ? 'the hub' : (token.mintAuthority?.toString() ?? 'none')}`,
                `epoch ${epoch} (length ${params.epochLength} s, close delay ${params.closeDelay} s)`,
                `params: min stake ${f(params.minStake)}, collateral ${f(params.collateral)}, slash ${Number(params.slashBps) / 100}%, unbonding ${params.unbondingPeriod} s, min price ${f(params.minJobPrice)}, max k ${params.maxK}, windows ${params.claimWindow}/${params.commitWindow}/${params.revealWindow} s (max ${params.maxWindow}), emission ${f(params.emissionBase)} + burned × ${Number(params.emissionRatioPpm) / 1e6} up to ${f(params.emissionCap)}`,
            ].join('\n'),
        );
}
