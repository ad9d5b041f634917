// Runs the longest suites first, so that on CI (two workers, no timing cache from earlier runs)
// they overlap with everything else instead of starting last. Jest's default orders by file size
// when it has no timings, which would leave the slowest suites for the end.
const Sequencer = require('@jest/test-sequencer').default;

const SLOWEST_FIRST = ['scale', 'network', 'sim-model', 'invariants', 'blueprint', 'provider', 'hub', 'watcher', 'sim', 'bench'];

const rank = (path) => {
    const name = path
        .split(/[\\/]/)
        .pop()
        .replace(/\.spec\.ts$/, '');
    const i = SLOWEST_FIRST.indexOf(name);
    return i === -1 ? SLOWEST_FIRST.length : i;
};

class SlowestFirst extends Sequencer {
    sort(tests) {
        return [...tests].sort((a, b) => rank(a.path) - rank(b.path) || b.path.localeCompare(a.path));
    }
}

module.exports = SlowestFirst;
