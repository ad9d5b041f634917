import { Address, toNano } from '@ton/core';
import { DevnetChain } from '../../devnet/chain';
import { startDevnetServer } from '../../devnet/server';
import { deployProtocol, devnetParams, fogFaucet, ProtocolAddresses } from '../../devnet/protocol';
import { connect } from '../../client/chain';
import { Identity, newIdentity } from '../../client/wallet';
import { WalletSender } from '../../client/sender';
import { Fog } from '../../client/actions';
import { TonClient } from '@ton/ton';
import { Params } from '../../wrappers/Hub';

export const FOG = 1_000_000_000n;

export interface Devnet {
    chain: DevnetChain;
    url: string;
    endpoint: string;
    client: TonClient;
    protocol: ProtocolAddresses;
    fog: Fog;
    admin: Identity;
    /** A new W5 wallet funded through the devnet's HTTP faucet with `ton` TON and `fog` FOG. */
    funded(ton?: bigint, fog?: bigint): Promise<WalletSender>;
    faucet(to: Address, body: { ton?: bigint; fog?: bigint }): Promise<Response>;
    close(): Promise<void>;
}

/** A devnet in this process (chain + HTTP server), reached by the test only over HTTP. */
export async function startDevnet(
    opts: { dataDir?: string; speed?: number; allowTimeTravel?: boolean; startAt?: number; params?: Partial<Params> } = {},
): Promise<Devnet> {
    const chain = await DevnetChain.open({ dataDir: opts.dataDir, speed: opts.speed, startAt: opts.startAt });
    const admin = await newIdentity('devnet');
    const protocol = await deployProtocol(chain, admin, { ...devnetParams(chain.now()), ...opts.params }, 100_000_000n * FOG);
    const server = await startDevnetServer(
        chain,
        { fogFaucet: (to, amount) => fogFaucet(chain, admin, protocol.token, to, amount) },
        { allowTimeTravel: opts.allowTimeTravel ?? true },
    );
    const client = connect(server.endpoint);
    const faucet = (to: Address, body: { ton?: bigint; fog?: bigint }) =>
        fetch(`${server.url}/devnet/faucet`, {
            method: 'POST',
            body: JSON.stringify({ address: to.toString(), ton: body.ton?.toString(), fog: body.fog?.toString() }),
        });
    return {
        chain,
        url: server.url,
        endpoint: server.endpoint,
        client,
        protocol,
        admin,
        fog: new Fog(client, protocol),
        faucet,
        async funded(ton = toNano('10'), fog = 0n) {
            const id = await newIdentity('devnet');
            const r = await faucet(id.wallet.address, { ton, fog: fog > 0n ? fog : undefined });
            if (!r.ok) throw new Error(`faucet: ${await r.text()}`);
            return new WalletSender(client, id, { pollMs: 20, backoffMs: 20 }, server.endpoint);
        },
        async close() {
            await server.close();
            await chain.close();
        },
    };
}
