// ESLint for the whole tree (`npm run lint`, part of `npm test`): the recommended JavaScript and
// typescript-eslint rules, and, with the types, the rules that keep a promise from failing
// silently in a daemon. Formatting is Prettier's job (`npm run format`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
    { ignores: ['dist/', 'build/', 'node_modules/', 'examples/as/', 'temp/', '.fog/'] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { globals: { ...globals.node } },
        rules: {
            // `_`-prefixed names are deliberately unused (positional parameters, destructuring).
            '@typescript-eslint/no-unused-vars': [
                'error',
                { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
            ],
        },
    },
    {
        files: ['**/*.ts'],
        languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
        rules: {
            // A promise nobody awaits or catches is a failure nobody sees.
            '@typescript-eslint/no-floating-promises': 'error',
            '@typescript-eslint/no-misused-promises': 'error',
            '@typescript-eslint/await-thenable': 'error',
        },
    },
    {
        // the web page's code is type-checked with the DOM's types, by its own tsconfig
        files: ['app/web/**/*.ts'],
        languageOptions: {
            globals: { ...globals.browser },
            parserOptions: { project: './app/web/tsconfig.json', tsconfigRootDir: import.meta.dirname },
        },
    },
    {
        files: ['**/*.js', '**/*.cjs'],
        rules: { '@typescript-eslint/no-require-imports': 'off' },
    },
);
