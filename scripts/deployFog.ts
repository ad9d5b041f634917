/**
 * npx blueprint run deployFog [config.json] [--testnet | --mainnet | --custom <endpoint> …] [--tonconnect | --deeplink | --mnemonic]
 *
 * Deploys the FOG token, the Contributor Pass collection and the hub with the signing wallet as
 * admin, hands the mint and pass authorities to the hub (locked), mints the genesis allocation
 * from the configuration (default deploy/config.json), and writes the network file every other
 * tool reads (FOG_NETWORK_FILE, default .fog/network.json). Set FOG_STORAGE to name a storage node.
 */
import { readFileSync } from 'node:fs';
import type { NetworkProvider } from '@ton/blueprint';
import { writeNetworkFile } from '../client/addresses';
import {
    arg,
    blueprintDefaults,
    blueprintSettings,
    devnetBehind,
    endpointOf,
    networkFilePath,
    networkOf,
    send,
    waitUntil,
    walletOf,
} from '../client/blueprint';
import { connect, open } from '../client/chain';
import { deploymentPlan, GENESIS_CHUNK, parseDeployConfig } from '../wrappers/deployment';
import { FogToken } from '../wrappers/FogToken';
import { PassCollection } from '../wrappers/PassCollection';
import { FogWallet } from '../wrappers/FogWallet';

export async function run(provider: NetworkProvider, args: string[]) {
    const ui = provider.ui();
    const configPath = await arg(provider, args, 0, 'Deploy configuration file', blueprintDefaults.deployConfig);
    let json: unknown;
    try {
        json = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
        throw new Error(`cannot read the deploy configuration ${configPath}: ${(e as Error).message}`, { cause: e });
    }
    const admin = await walletOf(provider);
    const endpoint = endpointOf(provider);
    const client = connect(endpoint, blueprintSettings().apiKey);
    // the first epoch starts now, by the chain's clock
    const config = parseDeployConfig(json, (await client.getContractState(admin)).timestampt, configPath);
    const plan = await deploymentPlan(admin, config);
    const token = open(client, FogToken.fromAddress(plan.token));
    const collection = open(client, PassCollection.fromAddress(plan.collection));
    if (await client.isContractDeployed(plan.hub)) throw new Error(`this exact deployment already exists: hub ${plan.hub.toString()}`);

    for (const [i, step] of plan.steps.entries()) {
        ui.write(`${i + 1}/${plan.steps.length} ${step.what}`);
        for (const m of step.messages) await send(provider, client, m);
        if (i === 0) {
            for (const a of [plan.token, plan.collection, plan.hub])
                await waitUntil(
                    provider,
                    `${a.toString()} to be deployed`,
                    () => client.isContractDeployed(a),
                    (d) => d,
                );
        } else if (i === 1) {
            await waitUntil(
                provider,
                'the hub to hold both authorities',
                async () => [await token.getTokenState(), await collection.getCollectionState()] as const,
                ([t, c]) => !!t.mintAuthority?.equals(plan.hub) && t.authorityLocked && c.authority.equals(plan.hub) && c.authorityLocked,
            );
        } else {
            const last = config.genesis[Math.min(config.genesis.length, (i - 1) * GENESIS_CHUNK) - 1]; // the chunk's last recipient
            const wallet = open(client, FogWallet.fromAddress(await token.getGetWalletAddress(last.address)));
            await waitUntil(
                provider,
                'the genesis allocation',
                async () => (await client.isContractDeployed(wallet.address)) && (await wallet.getGetWalletData()).balance,
                (b) => b !== false && b >= last.amount,
            );
        }
    }
    const path = networkFilePath();
    const devnet = await devnetBehind(endpoint);
    writeNetworkFile(path, {
        network: devnet ? 'devnet' : networkOf(provider),
        endpoint,
        token: plan.token,
        collection: plan.collection,
        hub: plan.hub,
        storage: blueprintSettings().storage,
        devnet,
    });
    ui.write(
        `Fog is deployed. Hub ${plan.hub.toString()}, token ${plan.token.toString()}, passes ${plan.collection.toString()}; network file ${path}`,
    );
}
