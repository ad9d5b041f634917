/**
 * A wallet that speaks TON Connect 2 over an HTTP bridge (github.com/ton-blockchain/ton-connect:
 * bridge.md, session.md, requests-responses.md), as Tonkeeper does, signing with this client's W5
 * key: no wallet app reaches a devnet, so `fog connect <link>` is the devnet's wallet for the web
 * app (and the tests' too). It takes a connect link (`<universal url>?v=2&id=<app's client
 * id>&r=<ConnectRequest>`), answers with its address and, when asked, a ton_proof of it; then it
 * listens on the bridge and signs and sends every `sendTransaction` the app asks for (once
 * `approve` says yes), answering with the external message's BoC. Every message both ways is
 * end-to-end encrypted (NaCl box, `@tonconnect/protocol`'s SessionCrypto), so the bridge sees none
 * of it.
 */
import { createHash } from 'node:crypto';
import { Address, beginCell, Cell, loadStateInit, storeMessage, storeStateInit } from '@ton/core';
import { sign } from '@ton/crypto';
import { Base64, hexToByteArray, SessionCrypto } from '@tonconnect/protocol';
import type { Outgoing, WalletSender } from './sender';

interface ConnectRequest {
    manifestUrl: string;
    items: ({ name: 'ton_addr' } | { name: 'ton_proof'; payload: string })[];
}

export interface TransactionRequest {
    valid_until?: number;
    network?: string;
    from?: string;
    messages: { address: string; amount: string; payload?: string; stateInit?: string }[];
}

export interface SignedTransaction {
    request: TransactionRequest;
    /** The external message the wallet sent, as the BoC it answered with. */
    boc: string;
}

export class TonConnectWallet {
    private readonly session = new SessionCrypto();
    private appId?: string;
    private nextEventId = 1;
    private abort = new AbortController();
    /** Every transaction signed, in order. */
    readonly signed: SignedTransaction[] = [];
    /** Requests it refused, with why. */
    readonly refused: { method: string; why: string }[] = [];

    /** The app's manifest once connected: its name and address. */
    app?: { name: string; url: string };

    constructor(
        private readonly bridgeUrl: string,
        private readonly wallet: WalletSender,
        private readonly chain = '-3',
        /** Asked before each transaction is signed; a no is answered to the app as the user's refusal. Default: yes. */
        private readonly approve: (tx: TransactionRequest) => Promise<boolean> = async () => true,
    ) {}

    /** Answers the connect link: its address, and a ton_proof when the request asks for one. Then listens for the app's requests. */
    async connect(link: string): Promise<void> {
        const url = new URL(link);
        if (url.searchParams.get('v') !== '2') throw new Error(`not a TON Connect 2 link: ${link}`);
        this.appId = url.searchParams.get('id') ?? undefined;
        if (!this.appId || !/^[0-9a-f]{64}$/.test(this.appId)) throw new Error(`the link names no app client id: ${link}`);
        const request = JSON.parse(url.searchParams.get('r') ?? 'null') as ConnectRequest | null;
        if (!request) throw new Error(`the link carries no connect request: ${link}`);
        const manifest = (await (await fetch(request.manifestUrl)).json()) as { url: string; name: string };
        this.app = { name: String(manifest.name), url: String(manifest.url) };
        const w = this.wallet.identity.wallet;
        const items: unknown[] = [];
        for (const item of request.items) {
            if (item.name === 'ton_addr')
                items.push({
                    name: 'ton_addr',
                    address: w.address.toRawString(),
                    network: this.chain,
                    publicKey: this.wallet.identity.keys.publicKey.toString('hex'),
                    walletStateInit: beginCell().store(storeStateInit(w.init)).endCell().toBoc().toString('base64'),
                });
            if (item.name === 'ton_proof') items.push({ name: 'ton_proof', proof: this.proof(new URL(manifest.url).host, item.payload) });
        }
        await this.send({
            event: 'connect',
            id: this.nextEventId++,
            payload: {
                items,
                device: {
                    platform: 'linux',
                    appName: 'fog-devnet',
                    appVersion: '1.0.0',
                    maxProtocolVersion: 2,
                    features: ['SendTransaction', { name: 'SendTransaction', maxMessages: 4 }],
                },
            },
        });
        void this.listen();
    }

    /** The `ton-proof` authorization a page would send for this wallet (app/web/wallet.ts): its ton_addr item and a proof of `payload` for `domain`. */
    proofHeader(domain: string, payload: string): string {
        const w = this.wallet.identity.wallet;
        return Buffer.from(
            JSON.stringify({
                address: w.address.toRawString(),
                network: this.chain,
                publicKey: this.wallet.identity.keys.publicKey.toString('hex'),
                walletStateInit: beginCell().store(storeStateInit(w.init)).endCell().toBoc().toString('base64'),
                proof: this.proof(domain, payload),
            }),
        ).toString('base64url');
    }

    /** The ton_proof of this wallet's address for `domain` and the app's `payload` (requests-responses.md, "Address proof signature"). */
    private proof(domain: string, payload: string) {
        const timestamp = Math.floor(Date.now() / 1000);
        const address = this.wallet.identity.wallet.address;
        const u32be = Buffer.alloc(4);
        u32be.writeInt32BE(address.workChain);
        const u32le = Buffer.alloc(4);
        u32le.writeUInt32LE(Buffer.byteLength(domain));
        const u64le = Buffer.alloc(8);
        u64le.writeBigUInt64LE(BigInt(timestamp));
        const message = Buffer.concat([
            Buffer.from('ton-proof-item-v2/'),
            u32be,
            address.hash,
            u32le,
            Buffer.from(domain),
            u64le,
            Buffer.from(payload),
        ]);
        const sha = (b: Buffer) => createHash('sha256').update(b).digest();
        const signed = sha(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from('ton-connect'), sha(message)]));
        return {
            timestamp,
            domain: { lengthBytes: Buffer.byteLength(domain), value: domain },
            payload,
            signature: sign(signed, this.wallet.identity.keys.secretKey).toString('base64'),
        };
    }

    private async send(message: object): Promise<void> {
        const encrypted = this.session.encrypt(JSON.stringify(message), hexToByteArray(this.appId!));
        const url = `${this.bridgeUrl}/message?client_id=${this.session.sessionId}&to=${this.appId}&ttl=300`;
        const r = await fetch(url, { method: 'POST', body: Base64.encode(encrypted) });
        if (!r.ok) throw new Error(`the bridge refused the wallet's message: HTTP ${r.status} ${await r.text()}`);
    }

    /** The last event id the bridge gave this wallet: a stream opened again asks only for what came after it. */
    private lastEventId?: string;

    /**
     * Reads the bridge's event stream for this wallet's client id until `close()` or the app
     * disconnects, opening it again (from the last event it saw) whenever it ends or fails.
     */
    private async listen(): Promise<void> {
        for (let wait = 500; !this.abort.signal.aborted; wait = Math.min(wait * 2, 10_000)) {
            const from = this.lastEventId === undefined ? '' : `&last_event_id=${encodeURIComponent(this.lastEventId)}`;
            const r = await fetch(`${this.bridgeUrl}/events?client_id=${this.session.sessionId}${from}`, {
                headers: { accept: 'text/event-stream' },
                signal: this.abort.signal,
            }).catch(() => undefined);
            if (r?.ok && r.body) {
                wait = 500;
                await this.read(r.body as unknown as AsyncIterable<Uint8Array>).catch(() => undefined);
            }
            if (this.abort.signal.aborted) return;
            await new Promise((done) => setTimeout(done, wait));
        }
    }

    /** One stream's events, each handled on its own: a bad one is answered or dropped, never the end of the stream. */
    private async read(body: AsyncIterable<Uint8Array>): Promise<void> {
        const decoder = new TextDecoder();
        let buffered = '';
        for await (const chunk of body) {
            buffered += decoder.decode(chunk, { stream: true });
            let end: number;
            while ((end = buffered.indexOf('\n\n')) >= 0) {
                const event = buffered.slice(0, end).split('\n');
                buffered = buffered.slice(end + 2);
                const id = event.find((l) => l.startsWith('id:'));
                if (id) this.lastEventId = id.slice(3).trim();
                const data = event
                    .filter((l) => l.startsWith('data:'))
                    .map((l) => l.slice(5).trimStart())
                    .join('\n');
                if (data === '' || data === 'heartbeat') continue;
                try {
                    const m = JSON.parse(data) as { from: string; message: string };
                    // anyone may post to this client id: only the app it connected to is heard
                    if (m.from !== this.appId) continue;
                    await this.handle(m);
                } catch (e) {
                    this.refused.push({ method: 'event', why: (e as Error).message });
                }
            }
        }
    }

    private async handle(m: { from: string; message: string }): Promise<void> {
        const text = this.session.decrypt(Base64.decode(m.message).toUint8Array(), hexToByteArray(m.from));
        const request = JSON.parse(text) as { method: string; params: string[]; id: string };
        if (request.method === 'disconnect') {
            await this.send({ result: {}, id: request.id });
            this.disconnected = true;
            this.close();
            return;
        }
        if (request.method !== 'sendTransaction') {
            this.refused.push({ method: request.method, why: 'not supported' });
            return this.send({ error: { code: 400, message: `${request.method} is not supported` }, id: request.id });
        }
        /** A request that cannot be signed as it is (TON Connect's BAD_REQUEST, code 1). */
        const bad = (why: string) => {
            this.refused.push({ method: request.method, why });
            return this.send({ error: { code: 1, message: why }, id: request.id });
        };
        let tx: TransactionRequest;
        let messages: Outgoing[];
        try {
            tx = JSON.parse(request.params[0]) as TransactionRequest;
            messages = tx.messages.map((x) => {
                const to = Address.parseFriendly(x.address);
                return {
                    to: to.address,
                    bounce: to.isBounceable,
                    value: BigInt(x.amount),
                    body: x.payload ? Cell.fromBase64(x.payload) : undefined,
                    init: x.stateInit ? loadStateInit(Cell.fromBase64(x.stateInit).beginParse()) : undefined,
                };
            });
        } catch (e) {
            return bad(`not a transaction this wallet can read: ${(e as Error).message}`);
        }
        if (tx.from !== undefined && !Address.parse(tx.from).equals(this.wallet.address)) return bad('the request is for another wallet');
        if (tx.network !== undefined && tx.network !== this.chain)
            return bad(`the request is for network ${tx.network}; this wallet is on ${this.chain}`);
        const expired = () => tx.valid_until !== undefined && tx.valid_until < Date.now() / 1000;
        if (expired()) return bad('the request expired');
        if (!(await this.approve(tx))) {
            this.refused.push({ method: request.method, why: 'declined' });
            return this.send({ error: { code: 300, message: 'the user declined the transaction' }, id: request.id });
        }
        // approved after the app stopped waiting: not signed
        if (expired()) return bad('the request expired while it waited for approval');
        try {
            // answered once the wallet's own transaction is in: where its messages land is the app's to follow
            const sent = await this.wallet.send(messages);
            const boc = beginCell().store(storeMessage(sent.tx.inMessage!)).endCell().toBoc().toString('base64');
            this.signed.push({ request: tx, boc });
            await this.send({ result: boc, id: request.id });
        } catch (e) {
            this.refused.push({ method: request.method, why: (e as Error).message });
            await this.send({ error: { code: 0, message: (e as Error).message }, id: request.id });
        }
    }

    /** Whether the app ended the session (its `disconnect`). */
    disconnected = false;

    /** Tells the app the wallet is gone (its `disconnect` event), then stops listening. */
    async disconnect(): Promise<void> {
        if (!this.disconnected && this.appId)
            await this.send({ event: 'disconnect', id: this.nextEventId++, payload: {} }).catch(() => undefined);
        this.disconnected = true;
        this.close();
    }

    close(): void {
        this.abort.abort();
    }
}
