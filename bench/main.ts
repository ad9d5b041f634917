/**
 * `npm run bench` (`node dist/bench/main.js`): every benchmark, written to BENCHMARKS.md and
 * BENCHMARKS.json at the repository root (or `--out <dir>`). `--short` is the small run the tests do.
 */
import { dirname, join } from 'node:path';
import { DIST } from '../client/paths';
import { parseOptions, runMain } from '../client/cli-kit';
import { OUTPUT_FILES, runBench } from './bench';

const USAGE = `usage: node dist/bench/main.js [--short] [--out <dir>]
  --short        a small run (seconds, for the tests): figures too small to judge the goals by
  --out <dir>    where BENCHMARKS.md and BENCHMARKS.json go (default: the repository root)
`;

runMain('fog-bench', async () => {
    const args = parseOptions(process.argv.slice(2), {
        short: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
    });
    if (args.help) {
        process.stdout.write(USAGE);
        return;
    }
    const out = args.out ?? dirname(DIST);
    const began = Date.now();
    const report = await runBench({
        mode: args.short ? 'short' : 'full',
        out,
        progress: (step) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${step}\n`),
    });
    for (const g of report.goals) process.stdout.write(`${g.met === null ? '–' : g.met ? '✓' : '✗'} ${g.name}: ${g.unit === 'ratio' ? g.value.toFixed(2) : `${(g.value * 100).toFixed(2)}%`}\n`);
    process.stdout.write(`wrote ${join(out, OUTPUT_FILES.markdown)} and ${OUTPUT_FILES.json} in ${report.seconds.toFixed(0)} s\n`);
});
