/**
 * The layer rule, checked by `npm run layers` (part of `npm test`):
 *
 *   contracts → wrappers → client → examples → roles
 *
 * Each layer imports only the layers before it (and itself). Roles (oracle, worker, requester,
 * bot, devnet, app, bench, sim, scripts) never import each other: what two roles share lives in
 * `client/`. Tests may import anything; nothing imports tests.
 */
const ROLES = '(oracle|worker|requester|bot|devnet|app|bench|sim|scripts)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
    forbidden: [
        {
            name: 'wrappers-import-only-contracts',
            comment:
                'wrappers/ sit right above the compiled contracts (build/): they may import build/ and wrappers/ only. Move shared code down into wrappers/ or the import up out of it.',
            severity: 'error',
            from: { path: '^wrappers/' },
            to: { path: '^(client|examples|tests)/|^' + ROLES + '/' },
        },
        {
            name: 'client-imports-no-role',
            comment:
                'client/ is the library every role uses: it may import wrappers/, build/ and client/ only. Move the piece the client needs into client/.',
            severity: 'error',
            from: { path: '^client/' },
            to: { path: '^(examples|tests)/|^' + ROLES + '/' },
        },
        {
            name: 'examples-import-only-client',
            comment: 'examples/ (the demo programs and their catalog) may import client/ and wrappers/ only.',
            severity: 'error',
            from: { path: '^examples/' },
            to: { path: '^tests/|^' + ROLES + '/' },
        },
        {
            name: 'roles-do-not-import-roles',
            comment: 'A role never imports another role: what two roles share belongs in client/ (see README, Layout).',
            severity: 'error',
            from: { path: '^' + ROLES + '/' },
            to: { path: '^' + ROLES + '/', pathNot: '^$1/' },
        },
        {
            name: 'nothing-imports-tests',
            comment: 'Only tests import tests/helpers: code a role or a benchmark needs belongs in client/.',
            severity: 'error',
            from: { pathNot: '^tests/' },
            to: { path: '^tests/' },
        },
        {
            name: 'no-cycles-across-files',
            comment: 'Two modules that import each other cannot be layered; split out what both need.',
            severity: 'error',
            from: { pathNot: '^build/' },
            to: { circular: true },
        },
    ],
    options: {
        doNotFollow: { path: 'node_modules' },
        exclude: { path: '^(dist|node_modules)/' },
        tsConfig: { fileName: 'tsconfig.json' },
        tsPreCompilationDeps: true,
        moduleSystems: ['cjs', 'es6'],
    },
};
