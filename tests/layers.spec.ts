/**
 * The layer rule (`.dependency-cruiser.cjs`): the real tree passes it, and a tree with a wrong
 * import fails it with the rule's name and its explanation.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string, dirs: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve) =>
        execFile(depcruise, ['--config', config, '--output-type', 'err-long', ...dirs], { cwd }, (e, stdout, stderr) =>
            resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
        ),
    );
}

/** Writes `files` (path → source) into a fresh folder laid out like the repository. */
async function tree(files: Record<string, string>): Promise<string> {
    const dir = await fs.mkdtemp(join(tmpdir(), 'fog-layers-'));
    await fs.writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }));
    for (const [path, source] of Object.entries(files)) {
        await fs.mkdir(join(dir, path, '..'), { recursive: true });
        await fs.writeFile(join(dir, path), source);
    }
    return dir;
}

describe('layer check', () => {
    it('passes on this repository', async () => {
        const dirs = [
            'bench',
            'bot',
            'client',
            'devnet',
            'examples',
            'oracle',
            'requester',
            'scripts',
            'sim',
            'tests',
            'worker',
            'wrappers',
        ];
        const { code, output } = await cruise(root, dirs);
        expect([code, output]).toEqual([0, expect.stringContaining('no dependency violations found')]);
    }, 60_000);

    it.each([
        [
            'worker/daemon.ts',
            "import { keeper } from '../oracle/keeper';",
            'roles-do-not-import-roles',
            'worker/daemon.ts → oracle/keeper.ts',
            'A role never imports another role',
        ],
        [
            'client/results.ts',
            "import { keeper } from '../oracle/keeper';",
            'client-imports-no-role',
            'client/results.ts → oracle/keeper.ts',
            'client/ is the library every role uses',
        ],
        [
            'wrappers/Hub.ts',
            "import { keeper } from '../client/jobs';",
            'wrappers-import-only-contracts',
            'wrappers/Hub.ts → client/jobs.ts',
            'wrappers/ sit right above',
        ],
        [
            'bench/gas.ts',
            "import { keeper } from '../tests/helpers/flow';",
            'nothing-imports-tests',
            'bench/gas.ts → tests/helpers/flow.ts',
            'Only tests import tests/helpers',
        ],
    ])(
        'refuses %s importing across the rule',
        async (from, line, rule, edge, why) => {
            const dir = await tree({
                [from]: `${line}\nexport const used = keeper;\n`,
                'oracle/keeper.ts': 'export const keeper = 1;\n',
                'client/jobs.ts': 'export const keeper = 2;\n',
                'tests/helpers/flow.ts': 'export const keeper = 3;\n',
            });
            try {
                const dirs = ['client', 'oracle', 'tests', from.split('/')[0]];
                const { code, output } = await cruise(dir, [...new Set(dirs)]);
                expect(code).not.toBe(0);
                expect(output).toContain(`error ${rule}: ${edge}`);
                expect(output.replace(/\s+/g, ' ')).toContain(why);
            } finally {
                await fs.rm(dir, { recursive: true, force: true });
            }
        },
        60_000,
    );

    it('lets a role import itself, client/ and examples/', async () => {
        const dir = await tree({
            'worker/daemon.ts':
                "import { a } from './journal';\nimport { b } from '../client/jobs';\nimport { c } from '../examples/catalog';\nexport const used = a + b + c;\n",
            'worker/journal.ts': 'export const a = 1;\n',
            'client/jobs.ts': 'export const b = 2;\n',
            'examples/catalog.ts': "import { b } from '../client/jobs';\nexport const c = b;\n",
        });
        try {
            expect(await cruise(dir, ['client', 'examples', 'worker'])).toMatchObject({ code: 0 });
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    }, 60_000);
});
