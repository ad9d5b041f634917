/**
 * Builds the web app (docs/app.md) into `dist/app/web/`: app/web/main.ts bundled for the browser
 * by esbuild with the client code it imports, minified, next to index.html, style.css and the
 * icon. Screens loaded on demand (the create screen, with the TON Connect UI) are chunks of their
 * own. Part of `npm run build`. Fails when the first load (app.js and the chunks it imports
 * statically) passes its budget: 300 KB of JavaScript, gzipped.
 *
 *   node dist/app/build.js
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { ROOT } from '../client/paths';
import { APP_DIST } from './paths';
/** The first load's JavaScript budget, gzipped bytes (issue 19). */
export const FIRST_LOAD_BUDGET = 300 * 1024;

const SOURCE = resolve(ROOT, 'app', 'web');

/**
 * Builds the app; `js` and `gzipped` are the first load's bytes (app.js and every chunk it imports
 * statically, each gzipped on its own as a server sends it), `lazy` the on-demand chunks' gzipped bytes.
 */
/**
 * `@tonconnect/ui` draws a few icons from raw.githubusercontent.com (the TON logo inside the QR
 * code, Telegram's, WalletConnect's): the page takes Fog's own icon from its server instead, so
 * nothing is fetched from elsewhere (tests/app.spec.ts watches every request the page makes).
 */
const LOCAL_ICONS: Plugin = {
    name: 'local-icons',
    setup(b) {
        b.onLoad({ filter: /[\\/]@tonconnect[\\/]ui[\\/]lib[\\/]index\.mjs$/ }, (args) => {
            let replaced = 0;
            const contents = readFileSync(args.path, 'utf8').replace(
                /https:\/\/raw\.githubusercontent\.com\/ton-connect\/sdk\/main\/assets\/[\w.-]+\.png/g,
                () => {
                    replaced++;
                    return 'icon.png';
                },
            );
            // a new @tonconnect/ui that draws its icons from elsewhere must not pass unseen
            if (replaced === 0) throw new Error(`no remote icon found in ${args.path}: check what it loads from outside`);
            return { contents, loader: 'js' };
        });
    },
};

export async function buildApp(out = APP_DIST): Promise<{ js: number; gzipped: number; lazy: number }> {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const { metafile } = await build({
        entryPoints: { app: join(SOURCE, 'main.ts') },
        absWorkingDir: ROOT,
        outdir: out,
        splitting: true,
        chunkNames: 'chunk-[hash]',
        metafile: true,
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
        plugins: [LOCAL_ICONS],
        logLevel: 'warning',
    });
    for (const file of ['index.html', 'style.css', 'icon.png']) copyFileSync(join(SOURCE, file), join(out, file));
    // the first load: app.js and, transitively, what it imports statically (shared chunks)
    const outputs = metafile.outputs;
    const key = (file: string) => relative(ROOT, file).split('\\').join('/');
    const first = new Set<string>();
    const visit = (file: string) => {
        if (first.has(file)) return;
        first.add(file);
        for (const i of outputs[file].imports) if (i.kind === 'import-statement') visit(i.path);
    };
    visit(key(join(out, 'app.js')));
    const sizes = (files: string[]) =>
        files.reduce(
            (t, f) => {
                const bytes = readFileSync(join(ROOT, f));
                return { js: t.js + bytes.length, gzipped: t.gzipped + gzipSync(bytes, { level: 9 }).length };
            },
            { js: 0, gzipped: 0 },
        );
    const scripts = Object.keys(outputs).filter((f) => f.endsWith('.js'));
    const { js, gzipped } = sizes(scripts.filter((f) => first.has(f)));
    return { js, gzipped, lazy: sizes(scripts.filter((f) => !first.has(f))).gzipped };
}

if (require.main === module) {
    buildApp().then(
        ({ js, gzipped, lazy }) => {
            const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
            if (gzipped > FIRST_LOAD_BUDGET) {
                console.error(`app: ${kb(gzipped)} of JavaScript gzipped, over the first load's budget of ${kb(FIRST_LOAD_BUDGET)}`);
                process.exit(1);
            }
            console.error(
                `app built in ${APP_DIST}: a first load of ${kb(js)} of JavaScript, ${kb(gzipped)} gzipped (budget ${kb(FIRST_LOAD_BUDGET)}); ${kb(lazy)} gzipped loaded on demand`,
            );
        },
        (e: Error) => {
            console.error(`app: ${e.message}`);
            process.exit(1);
        },
    );
}
