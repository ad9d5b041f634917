// Jest's Node environment, with one change: a failed test's errors are made safe to send to the
// runner before jest reports them. Jest's workers send results to the parent as JSON, and a failed
// `expect(1n).toBe(2n)` carries the two bigints in its matcher result: JSON.stringify throws on
// them, and jest then reports only "Do not know how to serialize a BigInt" for the whole suite,
// hiding which test failed and why. Bigints are written as `123n`; the message and stack, plain
// strings, stay as they were.
const { TestEnvironment } = require('jest-environment-node');

const jsonSafe = (value) => {
    try {
        return JSON.parse(JSON.stringify(value, (_key, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'null');
    } catch (_e) {
        return String(value);
    }
};

const makeSafe = (error) => {
    if (Array.isArray(error)) return error.forEach(makeSafe);
    if (error === null || typeof error !== 'object') return;
    for (const key of Object.keys(error)) error[key] = jsonSafe(error[key]);
};

class FogEnvironment extends TestEnvironment {
    async handleTestEvent(event) {
        if (event.name === 'test_done') event.test.errors.forEach(makeSafe);
    }
}

module.exports = FogEnvironment;
