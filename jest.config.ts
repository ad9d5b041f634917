import type { Config } from 'jest';

const config: Config = {
    preset: 'ts-jest',
    testEnvironment: 'node',
    testMatch: ['<rootDir>/tests/**/*.spec.ts'],
    // Type checking is done once for the whole tree by `tsc` in `npm test`; per-file transpiling
    // keeps the suite fast.
    transform: { '^.+\\.ts$': ['ts-jest', {}] },
    testTimeout: 120_000,
    // Suites are independent. Most are CPU-bound, but the end-to-end ones spend much of their time
    // waiting on child processes and chain windows: one worker more than cores finished the suite
    // in 387 s against 474 s with one per core (two cores, measured in one session).
    maxWorkers: '150%',
    modulePathIgnorePatterns: ['<rootDir>/dist/'],
    testSequencer: '<rootDir>/tests/sequencer.js',
};

export default config;
