import { execFile } from 'child_process';
import { join } from 'path';
import { promisify } from 'util';

const run = promisify(execFile);

describe('npm run demo (devnet/demo.ts)', () => {
    it('runs the whole demonstration on the emulator and exits 0 with every step done', async () => {
        const root = join(__dirname, '..');
        const { stdout } = await run(process.execPath, [require.resolve('ts-node/dist/bin'), 'devnet/demo.ts', '--json'], { cwd: root });
        const result = JSON.parse(stdout);
        expect(result.ok).toBe(true);
        const names: string[] = result.steps.map((s: { step: string }) => s.step);
        expect(names.slice(0, 12)).toEqual([
            'deploy FOG master',
            'deploy pass collection',
            'genesis allocation (2 recipients)',
            'set mint authority',
            'mint 100 FOG to alice',
            'transfer 25 FOG alice → bob',
            'burn 10 FOG (bob)',
            "discover alice's wallet (TEP-89)",
            'mint alice a Contributor Pass',
            'alice proves ownership to bob',
            'bob asks who owns the pass',
            "revoke alice's pass",
        ]);
        // The job's life: three workers claim, commit and reveal; the liar's reveal settles it.
        for (const step of [
            'deploy the hub',
            'bob posts a job (k=3, 30 FOG)',
            'claim (worker 3)',
            'commit (worker 3)',
            'reveal (worker 3, lying)',
            'worker 1 claims its epoch reward',
        ]) {
            expect(names).toContain(step);
        }
        for (const s of result.steps) expect(s.gas).toBeGreaterThan(0);
    });
});
