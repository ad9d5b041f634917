// Jest's transform for TypeScript: esbuild strips the types (ts-jest ran TypeScript's compiler on
// every file, several times slower on a cold cache, which is every CI run). Type checking is
// `tsc`'s, once for the whole tree in `npm test`; the tsconfig sets isolatedModules, so every file
// compiles on its own. The tests use no jest.mock, which this transform would not hoist.
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { transformSync, version } = require('esbuild');

/** What else decides the output: esbuild's version and this file (its options). */
const SELF = `esbuild ${version}\0${readFileSync(__filename, 'utf8')}`;

module.exports = {
    process(source, filename) {
        const out = transformSync(source, {
            loader: 'ts',
            format: 'cjs',
            target: 'es2022',
            // import() becomes a require(), as tsc's CommonJS output makes it
            supported: { 'dynamic-import': false },
            sourcefile: filename,
            sourcemap: 'inline',
        });
        return { code: out.code };
    },
    getCacheKey(source, filename) {
        return createHash('sha256').update(`${SELF}\0${filename}\0`).update(source).digest('hex');
    },
};
