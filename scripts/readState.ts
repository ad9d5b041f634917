/**
 * npx blueprint run readState [network options]
 *
 * The network's state as the chain holds it: hub counters, parameters, the current epoch and the
 * FOG supply, and the library Job's code is deployed from with the days of rent its Librarian holds
 * (FOG_NETWORK_FILE names the network).
 */
import type { NetworkProvider } from '@ton/blueprint';
import { fogOf } from '../client/blueprint';
import { fromNano } from '@ton/core';
import { jobLibraryStatus } from '../client/library';
import { formatAmount } from '../wrappers/units';

export async function run(provider: NetworkProvider) {
    const { file, fog } = fogOf();
    const [hub, params, token] = await Promise.all([fog.hub.getHubState(), fog.hub.getParams(), fog.token.getTokenState()]);
    const now = await fog.now();
    const epoch = await fog.hub.getEpochOf(BigInt(now));
    const lib = await jobLibraryStatus(fog);
    const ton = (n: bigint) => Number(fromNano(n)).toFixed(2);
    const library = !lib.library
        ? "jobs carry Job's code in their StateInit (no library)"
        : lib.state === 'unknown'
          ? `jobs run code from the masterchain library ${lib.hash}, not this build's Job code: its Librarian is not known here`
          : lib.state === 'published'
            ? `jobs run Job's code from a masterchain library; its Librarian ${lib.librarian.toString()} holds ${ton(lib.balance)} TON, ${Math.floor(lib.daysLeft)} days of rent at ${ton(lib.rentPerYear)} TON a year (top it up with a non-bounceable transfer)`
            : `JOBS CANNOT RUN: the hub deploys them with a library cell (${lib.hash}) that no published library answers (Librarian ${lib.librarian.toString()} ${lib.state}: docs/operating.md, "Job's code as a library")`;
    const f = (n: bigint) => formatAmount(n);
    provider
        .ui()
        .write(
            [
                `Fog on ${file.network}: hub ${file.hub.toString({ testOnly: file.network !== 'mainnet' })}`,
                `jobs posted ${hub.nextJobId}; total stake ${f(hub.totalStaked)}; escrow ${f(hub.totalEscrow)}; strays ${f(hub.strays)}`,
                `FOG supply ${f(token.totalSupply)}; genesis ${token.genesisOpen ? 'open' : 'sealed'}; mint authority ${token.mintAuthority?.equals(file.hub) ? 'the hub' : (token.mintAuthority?.toString() ?? 'none')}`,
                library,
                `epoch ${epoch} (length ${params.epochLength} s, close delay ${params.closeDelay} s)`,
                `params: min stake ${f(params.minStake)}, collateral ${f(params.collateral)}, slash ${Number(params.slashBps) / 100}%, unbonding ${params.unbondingPeriod} s, min price ${f(params.minJobPrice)}, max k ${params.maxK}, windows ${params.claimWindow}/${params.commitWindow}/${params.revealWindow} s (max ${params.maxWindow}), emission ${f(params.emissionBase)} + burned × ${Number(params.emissionRatioPpm) / 1e6} up to ${f(params.emissionCap)}`,
            ].join('\n'),
        );
}
