/** Where the built package lives, from the sources (ts-node, jest) or from dist/. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The package's root: the nearest folder above this file with a package.json. */
function packageRoot(dir: string): string {
    while (!existsSync(join(dir, 'package.json'))) {
        const up = dirname(dir);
        if (up === dir) throw new Error(`no package.json above ${__dirname}`);
        dir = up;
    }
    return dir;
}

/** The package's root folder. */
export const ROOT = packageRoot(__dirname);

/** The compiled package (`npm run build` writes it). */
export const DIST = resolve(ROOT, 'dist');
