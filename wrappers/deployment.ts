/**
 * Deploying Fog: the configuration file and the messages the admin's wallet sends, in order. The
 * devnet and the blueprint deploy script both follow this plan, so they deploy the same thing.
 *
 * Configuration (JSON):
 *
 *   {
 *     "params": { "minStake": "1000", "collateral": "100", "epochLength": 86400, … },
 *     "genesis": [{ "address": "EQ…", "amount": "1000000" }, …],
 *     "sealGenesis": false,
 *     "jobLibraryTon": "100"
 *   }
 *
 * Amounts of FOG (minStake, collateral, minJobPrice, emissionBase, emissionCap, genesis amounts)
 * are decimal strings in FOG; the others are whole numbers (seconds, basis points, ppm). Params
 * left out keep `defaultParams`; `epochStart` is the deployment time unless given. `jobLibraryTon`
 * (TON, a decimal string, default JOB_LIBRARY_TON) is what the Librarian that publishes Job's code
 * as a masterchain library gets for its storage rent; "0" deploys every job with Job's code in its
 * StateInit instead (docs/operating.md, "Job's code as a library").
 */
import { Address, beginCell, Cell, Dictionary, fromNano, StateInit, toNano } from '@ton/core';
import { storeGenesisMint, storeSetMintAuthority } from './FogToken';
import { storeSetPassAuthority } from './PassCollection';
import { Bps, MaxDisputeBase, MaxGenesisRecipients, MaxReplication, Params } from './Hub';
import { defaultParams, fogTokenInit, hubInit, jobCodeCell, librarianInit, passCollectionInit } from './protocol';
import { parseAmount } from './units';

/** Recipients per genesis message (the token's limit, MaxGenesisRecipients). */
export const GENESIS_CHUNK = Number(MaxGenesisRecipients);

export interface GenesisAllocation {
    address: Address;
    /** nano FOG */
    amount: bigint;
}

export interface DeployConfig {
    params: Params;
    genesis: GenesisAllocation[];
    /** Close genesis for good with the last allocation. */
    sealGenesis: boolean;
    /** TON for the Librarian publishing Job's code as a masterchain library; 0: no library, jobs carry the code. */
    jobLibraryTon: bigint;
}

/**
 * The Librarian's TON when a configuration does not say: about two years of the masterchain's
 * storage rent for Job's code at today's prices (docs/operating.md, "Job's code as a library").
 */
export const JOB_LIBRARY_TON = toNano('100');

/** The least TON a Librarian may get: about a month of its rent. */
export const MIN_JOB_LIBRARY_TON = toNano('4');

/** A message the admin's wallet sends. */
export interface PlannedMessage {
    to: Address;
    value: bigint;
    body?: Cell;
    init?: StateInit;
    bounce?: boolean;
}

export interface DeployStep {
    /** What the step does, for the wait that follows it: a deploy script waits for each kind's own effect. */
    kind: 'library' | 'contracts' | 'authorities' | 'genesis';
    what: string;
    messages: PlannedMessage[];
}

export interface DeploymentPlan {
    token: Address;
    collection: Address;
    hub: Address;
    /** The masterchain Librarian publishing Job's code, when the jobs are deployed with a library cell. */
    librarian?: Address;
    params: Params;
    steps: DeployStep[];
}

/** A configuration file's mistake, naming the field. */
export class DeployConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'DeployConfigError';
    }
}

const FOG_PARAMS = new Set(['minStake', 'collateral', 'minJobPrice', 'emissionBase', 'emissionCap']);

function fogAmount(v: unknown, where: string): bigint {
    try {
        if (typeof v !== 'string') throw new TypeError();
        return parseAmount(v);
    } catch {
        throw new DeployConfigError(`${where} must be an amount of FOG as a string, like "1000" or "0.5", got ${JSON.stringify(v)}`);
    }
}

function whole(v: unknown, where: string, max: number): bigint {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
        throw new DeployConfigError(`${where} must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}`);
    return BigInt(v);
}

const LIMITS: Record<string, number> = {
    slashBps: Number(Bps),
    maxK: Number(MaxReplication),
    emissionRatioPpm: 100_000_000,
    disputeAllowance: Number(MaxDisputeBase),
};

/**
 * `base` with the parameters of `given` (the "params" object of a configuration file) applied,
 * checked by the rules the hub's `set_params` enforces. With `current` (a live hub's), the epoch
 * schedule must not change.
 */
export function applyParams(base: Params, given: unknown, source: string, current?: Params): Params {
    if (typeof given !== 'object' || given === null || Array.isArray(given))
        throw new DeployConfigError(`${source}: "params" must be an object`);
    const params = { ...base };
    for (const [k, v] of Object.entries(given)) {
        if (!(k in params) || k === '$$type') throw new DeployConfigError(`${source}: unknown parameter "${k}"`);
        (params as unknown as Record<string, bigint>)[k] = FOG_PARAMS.has(k)
            ? fogAmount(v, `params.${k}`)
            : whole(v, `params.${k}`, LIMITS[k] ?? 0xffffffff);
    }
    const p = params;
    const rule = (ok: boolean, why: string) => {
        if (!ok) throw new DeployConfigError(`${source}: ${why}`);
    };
    if (current)
        rule(
            p.epochStart === current.epochStart && p.epochLength === current.epochLength,
            'the epoch schedule (epochStart, epochLength) is fixed at deployment',
        );
    rule(p.maxK >= 1n && p.maxK <= MaxReplication, `maxK must be 1..${MaxReplication}`);
    rule(p.collateral > 0n && p.minStake >= p.collateral, 'minStake must cover one collateral');
    rule(p.epochLength >= 1n, 'epochLength must be at least 1 second');
    rule(p.closeDelay < p.epochLength, 'closeDelay must be shorter than an epoch');
    rule(p.claimWindow > 0n && p.commitWindow > 0n && p.revealWindow > 0n, 'windows must be positive');
    rule(
        p.claimWindow <= p.maxWindow && p.commitWindow <= p.maxWindow && p.revealWindow <= p.maxWindow,
        'default windows must be within maxWindow',
    );
    rule(p.emissionBase <= p.emissionCap, 'emissionBase must be at most emissionCap');
    return params;
}

/** Validates a parsed configuration file; `now` is the default epoch start. */
export function parseDeployConfig(json: unknown, now: number, source = 'the deploy configuration'): DeployConfig {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new DeployConfigError(`${source} must be a JSON object`);
    const o = json as Record<string, unknown>;
    for (const k of Object.keys(o))
        if (!['params', 'genesis', 'sealGenesis', 'jobLibraryTon'].includes(k))
            throw new DeployConfigError(`${source}: unknown field "${k}"`);
    const params = applyParams(defaultParams(now), o.params ?? {}, source);
    if (!Array.isArray(o.genesis ?? [])) throw new DeployConfigError(`${source}: "genesis" must be a list of { "address", "amount" }`);
    const genesis = ((o.genesis ?? []) as unknown[]).map((g, i) => {
        const e = g as Record<string, unknown>;
        let address: Address;
        try {
            address = Address.parse(String(e?.address));
        } catch {
            throw new DeployConfigError(`genesis[${i}].address is not a TON address: ${JSON.stringify(e?.address)}`);
        }
        if (address.workChain !== 0) throw new DeployConfigError(`genesis[${i}].address must be on the basechain`);
        const amount = fogAmount(e?.amount, `genesis[${i}].amount`);
        if (amount === 0n) throw new DeployConfigError(`genesis[${i}].amount must be more than 0`);
        return { address, amount };
    });
    const seen = new Set<string>();
    for (const g of genesis) {
        if (seen.has(g.address.toRawString())) throw new DeployConfigError(`genesis lists ${g.address.toString()} twice`);
        seen.add(g.address.toRawString());
    }
    if (o.sealGenesis !== undefined && typeof o.sealGenesis !== 'boolean')
        throw new DeployConfigError(`${source}: "sealGenesis" must be true or false`);
    let jobLibraryTon = JOB_LIBRARY_TON;
    if (o.jobLibraryTon !== undefined) {
        try {
            if (typeof o.jobLibraryTon !== 'string') throw new TypeError();
            jobLibraryTon = parseAmount(o.jobLibraryTon);
        } catch {
            throw new DeployConfigError(
                `${source}: "jobLibraryTon" must be an amount of TON as a string, like "100", or "0" for no library; got ${JSON.stringify(o.jobLibraryTon)}`,
            );
        }
        if (jobLibraryTon > 0n && jobLibraryTon < MIN_JOB_LIBRARY_TON)
            throw new DeployConfigError(
                `${source}: "jobLibraryTon" of ${o.jobLibraryTon} would not keep the library a month; give at least ${fromNano(MIN_JOB_LIBRARY_TON)} TON, or "0" for no library`,
            );
    }
    return { params, genesis, sealGenesis: o.sealGenesis === true, jobLibraryTon };
}

/**
 * What the admin sends to deploy Fog: the three contracts; the mint and pass authorities handed
 * to the hub and locked; the genesis allocation, GENESIS_CHUNK recipients a message.
 */
export async function deploymentPlan(admin: Address, config: DeployConfig): Promise<DeploymentPlan> {
    const token = await fogTokenInit(admin);
    const collection = await passCollectionInit(admin);
    const jobLibrary = config.jobLibraryTon > 0n;
    const hub = await hubInit(admin, token.address, collection.address, config.params, { jobLibrary });
    const librarian = jobLibrary ? await librarianInit(await jobCodeCell()) : undefined;
    const steps: DeployStep[] = [];
    // before the hub: no job may be deployed with a library cell the network cannot resolve
    if (librarian)
        steps.push({
            kind: 'library',
            what: "publish Job's code as a masterchain library",
            messages: [{ to: librarian.address, value: config.jobLibraryTon, init: librarian.init!, bounce: false }],
        });
    steps.push(
        {
            kind: 'contracts',
            what: 'deploy the FOG token, the pass collection and the hub',
            messages: [
                { to: token.address, value: toNano('0.1'), init: token.init!, bounce: false },
                { to: collection.address, value: toNano('0.1'), init: collection.init!, bounce: false },
                // the hub pays stray records from its own TON (see docs/security.md)
                { to: hub.address, value: toNano('1'), init: hub.init!, bounce: false },
            ],
        },
        {
            kind: 'authorities',
            what: 'hand minting and passes to the hub, for good',
            messages: [
                {
                    to: token.address,
                    value: toNano('0.1'),
                    body: beginCell()
                        .store(storeSetMintAuthority({ $$type: 'SetMintAuthority', queryId: 0n, authority: hub.address, lock: true }))
                        .endCell(),
                },
                {
                    to: collection.address,
                    value: toNano('0.1'),
                    body: beginCell()
                        .store(storeSetPassAuthority({ $$type: 'SetPassAuthority', queryId: 0n, authority: hub.address, lock: true }))
                        .endCell(),
                },
            ],
        },
    );
    const chunks = Math.ceil(config.genesis.length / GENESIS_CHUNK);
    for (let c = 0; c < chunks; c++) {
        const part = config.genesis.slice(c * GENESIS_CHUNK, (c + 1) * GENESIS_CHUNK);
        const recipients = Dictionary.empty(Dictionary.Keys.Address(), Dictionary.Values.BigVarUint(4));
        for (const g of part) recipients.set(g.address, g.amount);
        const close = config.sealGenesis && c === chunks - 1;
        steps.push({
            kind: 'genesis',
            what: `genesis allocation ${c + 1}/${chunks} (${part.length} recipients${close ? ', sealing genesis' : ''})`,
            messages: [
                {
                    to: token.address,
                    value: toNano('0.1') + toNano('0.06') * BigInt(part.length),
                    body: beginCell()
                        .store(storeGenesisMint({ $$type: 'GenesisMint', queryId: 0n, recipients, close }))
                        .endCell(),
                },
            ],
        });
    }
    return {
        token: token.address,
        collection: collection.address,
        hub: hub.address,
        librarian: librarian?.address,
        params: config.params,
        steps,
    };
}
