/**
 * The devnet's bootstrap: deploys and wires Fog (FOG, the pass collection, the hub holding both
 * authorities) from a real W5 admin wallet, and serves FOG from that admin's genesis allocation.
 */
import { devnetDefaults } from './config';
import { Address, beginCell, internal, SendMode, toNano } from '@ton/core';
import { SendMessageResult } from '@ton/sandbox';
import { storeJettonTransfer } from '../wrappers/FogToken';
import { deploymentPlan, JOB_LIBRARY_TON, PlannedMessage } from '../wrappers/deployment';
import { Hub, Params } from '../wrappers/Hub';
import { defaultParams, fogTokenInit, hubInit, hubJobCode, passCollectionInit } from '../wrappers/protocol';
import { FogToken } from '../wrappers/FogToken';
import { Identity } from '../client/wallet';
import { failed } from '../client/sender';
import { DevnetChain } from './chain';

const FOG = 1_000_000_000n;

/** Where the deployed protocol lives. */
export interface ProtocolAddresses {
    token: Address;
    collection: Address;
    hub: Address;
    admin: Address;
}

/**
 * Parameters for a devnet: the defaults with windows short enough to watch a job live (a claim
 * window of a minute, epochs of ten minutes) and a small minimum stake.
 */
export function devnetParams(now: number): Params {
    return {
        ...defaultParams(now),
        minStake: 100n * FOG,
        collateral: 10n * FOG,
        unbondingPeriod: 600n,
        claimWindow: 60n,
        commitWindow: BigInt(devnetDefaults.commitWindow),
        revealWindow: 60n,
        epochLength: 600n,
        closeDelay: 30n,
        // a devnet's moves take seconds, not minutes
        disputeAllowance: BigInt(devnetDefaults.disputeAllowance),
    };
}

function failures(r: SendMessageResult): string[] {
    return r.transactions.flatMap((t) => {
        const f = failed(t);
        return f.failed ? [`exit code ${f.exitCode} at ${t.inMessage?.info.dest?.toString()}`] : [];
    });
}

/** Sends `messages` from the admin's W5 wallet inside the devnet and records the transactions. */
async function adminSend(chain: DevnetChain, admin: Identity, messages: PlannedMessage[]) {
    return chain.serial(async () => {
        const wallet = chain.blockchain.openContract(admin.wallet);
        const seqno =
            (await chain.blockchain.getContract(admin.wallet.address)).accountState?.type === 'active' ? await wallet.getSeqno() : 0;
        const r = (await wallet.sendTransfer({
            seqno,
            secretKey: admin.keys.secretKey,
            sendMode: SendMode.PAY_GAS_SEPARATELY | SendMode.IGNORE_ERRORS,
            // valid until a minute of chain time from now: the wallet's default is wall time, which a clock moved forward has passed
            timeout: chain.now() + 60,
            messages: messages.map((m) => internal({ to: m.to, value: m.value, body: m.body, init: m.init, bounce: false })),
        })) as unknown as SendMessageResult;
        chain.record(r.transactions);
        const bad = failures(r);
        if (bad.length) throw new Error(`devnet bootstrap failed: ${bad.join('; ')}`);
    });
}

/** Deploys the protocol with `admin` as its admin and `genesis` FOG (nano) minted to the admin, following the deploy plan. */
export async function deployProtocol(chain: DevnetChain, admin: Identity, params: Params, genesis: bigint): Promise<ProtocolAddresses> {
    await chain.faucet(admin.wallet.address, toNano('10000'));
    const plan = await deploymentPlan(admin.wallet.address, {
        params,
        genesis: [{ address: admin.wallet.address, amount: genesis }],
        sealGenesis: false,
        jobLibraryTon: JOB_LIBRARY_TON,
    });
    for (const step of plan.steps) await adminSend(chain, admin, step.messages);
    return { token: plan.token, collection: plan.collection, hub: plan.hub, admin: admin.wallet.address };
}

/**
 * Throws, naming `--fresh`, unless the saved protocol's contracts run this build's code. After an
 * upgrade that changed a contract, clients built from the new wrappers would otherwise send an old
 * deployment messages it reads differently, and misread its get-methods.
 */
export async function checkSameBuild(chain: DevnetChain, protocol: ProtocolAddresses): Promise<void> {
    const built = {
        hub: (await hubInit(protocol.admin, protocol.token, protocol.collection, devnetParams(0), { jobLibrary: true })).init!.code,
        token: (await fogTokenInit(protocol.admin)).init!.code,
        collection: (await passCollectionInit(protocol.admin)).init!.code,
    };
    const stale: string[] = [];
    for (const [name, code] of Object.entries(built)) {
        const deployed = (await chain.account(protocol[name as keyof typeof built])).code;
        if (!deployed || !deployed.equals(code)) stale.push(name);
    }
    // the hub holds the code it deploys jobs with (a library cell naming Job's) in its data, not its code
    if (!stale.includes('hub')) {
        const jobCode = await chain.serial(() => chain.blockchain.openContract(Hub.fromAddress(protocol.hub)).getJobCode(), false);
        if (!jobCode.equals(await hubJobCode({ jobLibrary: true }))) stale.push('job');
    }
    if (stale.length) {
        throw new Error(
            `the saved chain runs contracts of another build (${stale.join(', ')} ${stale.length === 1 ? 'differs' : 'differ'} from this build's): start the devnet with --fresh to deploy this build's`,
        );
    }
}

/** Transfers `amount` FOG (nano) from the admin's genesis allocation to `to`. */
export async function fogFaucet(chain: DevnetChain, admin: Identity, token: Address, to: Address, amount: bigint): Promise<void> {
    if (amount <= 0n || amount > 1_000_000n * FOG)
        throw new RangeError(`FOG faucet amount must be in (0, 1000000] FOG, got ${amount} nano`);
    // opened inside `serial`: the emulator may have been rebuilt since the call was queued
    const adminWallet = await chain.serial(
        () => chain.blockchain.openContract(FogToken.fromAddress(token)).getGetWalletAddress(admin.wallet.address),
        false,
    );
    await adminSend(chain, admin, [
        {
            to: adminWallet,
            value: toNano('0.1'),
            body: beginCell()
                .store(
                    storeJettonTransfer({
                        $$type: 'JettonTransfer',
                        queryId: 0n,
                        amount,
                        destination: to,
                        responseDestination: admin.wallet.address,
                        customPayload: null,
                        forwardTonAmount: 0n,
                        forwardPayload: beginCell().storeBit(0).endCell().beginParse(),
                    }),
                )
                .endCell(),
        },
    ]);
}
