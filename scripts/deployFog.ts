/**
 * npx blueprint run deployFog [config.json] [--testnet | --mainnet | --custom <endpoint> …] [--tonconnect | --deeplink | --mnemonic]
 *
 * Publishes Job's code as a masterchain library (unless the configuration's "jobLibraryTon" is
 * "0"; a library of this build already published is topped up to "jobLibraryTon" instead), deploys the FOG token, the Contributor
 * Pass collection and the hub with the signing wallet as admin, hands the mint and pass
 * authorities to the hub (locked), mints the genesis allocation
 * from the configuration (default deploy/config.json), and writes the network file every other
 * tool reads (FOG_NETWORK_FILE, default .fog/network.json). Set FOG_STORAGE to name a storage node.
 */
import { readFileSync } from 'node:fs';
import type { NetworkProvider } from '@ton/blueprint';
import { fromNano, toNano } from '@ton/core';
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
import { deploymentPlan, DeployStep, GENESIS_CHUNK, parseDeployConfig } from '../wrappers/deployment';
import { jobCodeCell } from '../wrappers/protocol';
import { librarianState } from '../client/library';
import { FogToken } from '../wrappers/FogToken';
import { PassCollection } from '../wrappers/PassCollection';
import { FogWallet } from '../wrappers/FogWallet';
import { Librarian } from '../wrappers/Librarian';

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

    // Job's code is the same for every deployment of this build, and so is its Librarian: one an
    // earlier deployment (or anyone) published is used, topped up to "jobLibraryTon" when it holds less
    let steps = plan.steps;
    const librarian = plan.librarian && open(client, Librarian.fromAddress(plan.librarian));
    if (librarian) {
        const lib = await librarianState(client, await jobCodeCell());
        if (lib.state === 'frozen')
            throw new Error(
                `the Librarian of this build's Job code, ${lib.librarian.toString()}, is frozen (its rent ran out): docs/operating.md, "Job's code as a library", says how to bring it back; nothing was sent`,
            );
        if (lib.state === 'published') {
            const short = config.jobLibraryTon - lib.balance;
            ui.write(
                `Job's code is already published as a library (Librarian ${lib.librarian.toString()}, ${Math.floor(lib.daysLeft)} days of rent)${short > 0n ? `: topping it up with ${fromNano(short)} TON` : ''}`,
            );
            steps = steps.flatMap((st) =>
                st.kind !== 'library'
                    ? [st]
                    : short > 0n
                      ? [
                            {
                                ...st,
                                what: "top up the Librarian of Job's code",
                                messages: [{ to: lib.librarian, value: short, bounce: false }],
                            },
                        ]
                      : [],
            );
        }
    }
    // everything the plan sends, and a margin for the wallet's fees and the forward fees: a
    // masterchain deploy of Job's code costs about 0.6 TON to forward
    const margin = (st: DeployStep) => (st.kind === 'library' ? toNano('1') : toNano('0.1'));
    const needed = steps.reduce((sum, st) => sum + margin(st) + st.messages.reduce((a, m) => a + m.value, 0n), 0n);
    const balance = (await client.getContractState(admin)).balance;
    const forLibrary = steps.filter((st) => st.kind === 'library').reduce((sum, st) => sum + st.messages[0].value, 0n);
    if (balance < needed)
        throw new Error(
            `the deployment sends ${fromNano(needed)} TON in all${forLibrary > 0n ? ` (${fromNano(forLibrary)} of it to the Librarian of Job's code: "jobLibraryTon" in ${configPath} sets it)` : ''}, and ${admin.toString()} holds ${fromNano(balance)}`,
        );

    let minted = 0;
    for (const [i, step] of steps.entries()) {
        ui.write(`${i + 1}/${steps.length} ${step.what}`);
        for (const m of step.messages) await send(provider, client, m);
        if (step.kind === 'library') {
            await waitUntil(
                provider,
                "Job's code to be published as a library",
                async () => (await client.isContractDeployed(librarian!.address)) && (await librarian!.getPublished()),
                (d) => d,
            );
        } else if (step.kind === 'contracts') {
            for (const a of [plan.token, plan.collection, plan.hub])
                await waitUntil(
                    provider,
                    `${a.toString()} to be deployed`,
                    () => client.isContractDeployed(a),
                    (d) => d,
                );
        } else if (step.kind === 'authorities') {
            await waitUntil(
                provider,
                'the hub to hold both authorities',
                async () => [await token.getTokenState(), await collection.getCollectionState()] as const,
                ([t, c]) => !!t.mintAuthority?.equals(plan.hub) && t.authorityLocked && c.authority.equals(plan.hub) && c.authorityLocked,
            );
        } else {
            minted = Math.min(config.genesis.length, minted + GENESIS_CHUNK);
            const last = config.genesis[minted - 1]; // the chunk's last recipient
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
