/**
 * The deploy configuration and plan: what the blueprint deploy script and the devnet both follow.
 */
import { Address } from '@ton/core';
import { applyParams, DeployConfigError, deploymentPlan, GENESIS_CHUNK, JOB_LIBRARY_TON, parseDeployConfig } from '../wrappers/deployment';
import { loadGenesisMint } from '../wrappers/FogToken';
import { defaultParams, jobCodeCell, libraryCellOf } from '../wrappers/protocol';

const FOG = 1_000_000_000n;
const NOW = 1_800_000_000;
const admin = Address.parse('EQBGEVgunTcmUC99dmAO2bUiNLRIcb-3UrCd6FBla-Ph6Tg3');
const someone = (i: number) => new Address(0, Buffer.alloc(32, i + 1));

describe('deploy configuration', () => {
    it('fills what it leaves out with the defaults and reads FOG amounts and whole numbers', () => {
        const c = parseDeployConfig(
            {
                params: { minStake: '250.5', epochLength: 3600, closeDelay: 60 },
                genesis: [{ address: admin.toString(), amount: '1000000' }],
            },
            NOW,
        );
        expect(c.params).toEqual({ ...defaultParams(NOW), minStake: 250_500_000_000n, epochLength: 3600n, closeDelay: 60n });
        expect(c.genesis.map((g) => [g.address.toRawString(), g.amount])).toEqual([[admin.toRawString(), 1_000_000n * FOG]]);
        expect(c.sealGenesis).toBe(false);
        expect(c.jobLibraryTon).toBe(JOB_LIBRARY_TON);
        expect(parseDeployConfig({}, NOW).params.epochStart).toBe(BigInt(NOW));
        expect(parseDeployConfig({ jobLibraryTon: '12.5' }, NOW).jobLibraryTon).toBe(12_500_000_000n);
        expect(parseDeployConfig({ jobLibraryTon: '0' }, NOW).jobLibraryTon).toBe(0n);
    });

    it.each([
        [{ params: { minStake: 1000 } }, /params\.minStake must be an amount of FOG as a string/],
        [{ params: { maxK: 9 } }, /params\.maxK must be a whole number from 0 to 7/],
        [{ params: { slashBps: 10_001 } }, /params\.slashBps must be a whole number from 0 to 10000/],
        [{ params: { collateral: '2000' } }, /minStake must cover one collateral/],
        [{ params: { claimWindow: 0 } }, /windows must be positive/],
        [{ params: { maxWindow: 100 } }, /default windows must be within maxWindow/],
        [{ params: { closeDelay: 86_400 } }, /closeDelay must be shorter than an epoch/],
        [{ params: { emissionBase: '200000' } }, /emissionBase must be at most emissionCap/],
        [{ params: { speed: 2 } }, /unknown parameter "speed"/],
        [{ extra: true }, /unknown field "extra"/],
        [{ genesis: [{ address: 'nowhere', amount: '1' }] }, /genesis\[0\]\.address is not a TON address/],
        [{ genesis: [{ address: admin.toString(), amount: '0' }] }, /genesis\[0\]\.amount must be more than 0/],
        [
            {
                genesis: [
                    { address: admin.toString(), amount: '1' },
                    { address: admin.toRawString(), amount: '2' },
                ],
            },
            /genesis lists .* twice/,
        ],
        [{ genesis: [{ address: '-1:' + '11'.repeat(32), amount: '1' }] }, /must be on the basechain/],
        [{ sealGenesis: 'yes' }, /"sealGenesis" must be true or false/],
        [{ jobLibraryTon: 100 }, /"jobLibraryTon" must be an amount of TON as a string/],
        [{ jobLibraryTon: '-1' }, /"jobLibraryTon" must be an amount of TON as a string/],
        [{ jobLibraryTon: '1' }, /would not keep the library a month; give at least 4 TON, or "0"/],
        [[], /must be a JSON object/],
    ])('refuses %j', (json, message) => {
        expect(() => parseDeployConfig(json, NOW, 'config.json')).toThrow(DeployConfigError);
        expect(() => parseDeployConfig(json, NOW, 'config.json')).toThrow(message);
    });

    it('keeps the epoch schedule of a live hub when parameters change', () => {
        const live = defaultParams(NOW);
        expect(applyParams(live, { collateral: '50' }, 'p.json', live).collateral).toBe(50n * FOG);
        expect(() => applyParams(live, { epochLength: 60 }, 'p.json', live)).toThrow(
            /the epoch schedule \(epochStart, epochLength\) is fixed/,
        );
    });
});

describe('deployment plan', () => {
    it('deploys, hands over both authorities, and mints genesis 32 recipients a message, sealing with the last', async () => {
        const genesis = Array.from({ length: GENESIS_CHUNK + 1 }, (_, i) => ({ address: someone(i), amount: BigInt(i + 1) * FOG }));
        const plan = await deploymentPlan(admin, { params: defaultParams(NOW), genesis, sealGenesis: true, jobLibraryTon: 0n });
        expect(plan.librarian).toBeUndefined();
        expect(plan.steps.map((s) => s.what)).toEqual([
            'deploy the FOG token, the pass collection and the hub',
            'hand minting and passes to the hub, for good',
            'genesis allocation 1/2 (32 recipients)',
            'genesis allocation 2/2 (1 recipients, sealing genesis)',
        ]);
        expect(plan.steps[0].messages.map((m) => m.to)).toEqual([plan.token, plan.collection, plan.hub]);
        expect(plan.steps[0].messages.every((m) => m.init !== undefined && m.bounce === false)).toBe(true);
        const mints = plan.steps.slice(2).map((s) => loadGenesisMint(s.messages[0].body!.beginParse()));
        expect(mints.map((m) => [m.recipients.size, m.close])).toEqual([
            [32, false],
            [1, true],
        ]);
        expect(mints[1].recipients.get(someone(GENESIS_CHUNK))).toBe(BigInt(GENESIS_CHUNK + 1) * FOG);
        // the same admin and parameters give the same addresses: the plan is deterministic
        const again = await deploymentPlan(admin, { params: defaultParams(NOW), genesis: [], sealGenesis: false, jobLibraryTon: 0n });
        expect(again.hub.equals(plan.hub) && again.token.equals(plan.token)).toBe(true);
        expect(again.steps).toHaveLength(2);
    });

    it("publishes Job's code as a masterchain library first, and the hub deploys jobs with a cell naming it", async () => {
        const plan = await deploymentPlan(admin, {
            params: defaultParams(NOW),
            genesis: [],
            sealGenesis: false,
            jobLibraryTon: JOB_LIBRARY_TON,
        });
        expect(plan.steps.map((s) => s.kind)).toEqual(['library', 'contracts', 'authorities']);
        const [publish] = plan.steps[0].messages;
        expect(publish.to.equals(plan.librarian!)).toBe(true);
        expect(publish.to.workChain).toBe(-1);
        expect(publish.value).toBe(JOB_LIBRARY_TON);
        // the Librarian's data is the code it publishes
        const code = await jobCodeCell();
        expect(publish.init!.data!.beginParse().loadMaybeRef()!.equals(code)).toBe(true);
        // a hub of its own: its jobs' code is a library cell, which changes its address
        const plain = await deploymentPlan(admin, { params: defaultParams(NOW), genesis: [], sealGenesis: false, jobLibraryTon: 0n });
        expect(plan.hub.equals(plain.hub)).toBe(false);
        expect(plan.token.equals(plain.token)).toBe(true);
        const lib = libraryCellOf(code);
        expect(lib.isExotic).toBe(true);
        expect(lib.bits.length).toBe(8 + 256);
        expect(lib.beginParse(true).skip(8).loadBuffer(32).equals(code.hash())).toBe(true);
    });
});
