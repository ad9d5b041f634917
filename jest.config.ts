import type { Config } from 'jest';

const config: Config = {
    // The Node environment, with failed tests' errors made reportable (see the file).
    testEnvironment: '<rootDir>/tests/environment.js',
    testMatch: ['<rootDir>/tests/**/*.spec.ts'],
    // Type checking is done once for the whole tree by `tsc` in `npm test`; per-file transpiling
    // by esbuild keeps the suite fast (tools/jest-esbuild.js).
    transform: { '^.+\\.ts$': '<rootDir>/tools/jest-esbuild.js' },
    testTimeout: 120_000,
    // Suites are independent and CPU-bound (the end-to-end ones through the processes they start):
    // one worker per core. One more finished a warm run faster (387 s against 474 s) but starved a
    // cold CI run into timeouts, so CI keeps two.
    maxWorkers: '100%',
    modulePathIgnorePatterns: ['<rootDir>/dist/'],
    testSequencer: '<rootDir>/tests/sequencer.js',
};

export default config;
