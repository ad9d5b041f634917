/**
 * The runtime: `npm test` and `npm start` run on the maintained Node LTS that the project's own
 * install brings (the npm package `node`), not on whatever older Node the machine has; the
 * processes `npm start` spawns run on the same binary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode } from '../client/processes';
import { ROOT } from '../client/paths';

const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf-8')) as { dependencies: Record<string, string> }).dependencies
    .node;

describe('runtime', () => {
    it('pins a Node 24 LTS in package.json', () => {
        expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    });

    it('runs the tests on the pinned Node', () => {
        expect(process.version).toBe(`v${pinned}`);
        expect(process.execPath).toBe(join(ROOT, 'node_modules', 'node', 'bin', 'node'));
    });

    it('starts child processes on the same Node', async () => {
        const out = await runNode('-e', ['console.log(process.version)']);
        expect(out.trim()).toBe(`v${pinned}`);
    });
});
