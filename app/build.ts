/**
 * Builds the web app (docs/app.md) into `dist/app/web/`: app/web/main.ts bundled for the browser
 * by esbuild with the client code it imports, minified, next to index.html and style.css. Part of
 * `npm run build`. Fails when the first load passes its budget: 300 KB of JavaScript, gzipped.
 *
 *   node dist/app/build.js
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ROOT } from '../client/paths';
import { APP_DIST } from './paths';
/** The first load's JavaScript budget, gzipped bytes (issue 19). */
export const FIRST_LOAD_BUDGET = 300 * 1024;

const SOURCE = resolve(ROOT, 'app', 'web');

export async function buildApp(out = APP_DIST): Promise<{ js: number; gzipped: number }> {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    await build({
        entryPoints: [join(SOURCE, 'main.ts')],
        outfile: join(out, 'app.js'),
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        target: ['es2022'],
        // client/ and @ton/core use Node's Buffer and client/hash.ts node:crypto: the browser gets
        // the `buffer` package and a sha256 of its own (app/web/node-crypto.ts)
        inject: [join(SOURCE, 'globals.ts')],
        alias: { 'node:crypto': join(SOURCE, 'node-crypto.ts') },
        define: { global: 'globalThis' },
        legalComments: 'none',
        logLevel: 'warning',
    });
    for (const file of ['index.html', 'style.css']) copyFileSync(join(SOURCE, file), join(out, file));
    const js = readFileSync(join(out, 'app.js'));
    return { js: js.length, gzipped: gzipSync(js, { level: 9 }).length };
}

if (require.main === module) {
    buildApp().then(
        ({ js, gzipped }) => {
            const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
            if (gzipped > FIRST_LOAD_BUDGET) {
                console.error(`app: ${kb(gzipped)} of JavaScript gzipped, over the first load's budget of ${kb(FIRST_LOAD_BUDGET)}`);
                process.exit(1);
            }
            console.error(`app built in ${APP_DIST}: ${kb(js)} of JavaScript, ${kb(gzipped)} gzipped (budget ${kb(FIRST_LOAD_BUDGET)})`);
        },
        (e: Error) => {
            console.error(`app: ${e.message}`);
            process.exit(1);
        },
    );
}
