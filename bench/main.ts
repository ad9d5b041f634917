/**
 * `npm run bench` (`node dist/bench/main.js`): every benchmark, written to BENCHMARKS.md and
 * BENCHMARKS.json at the repository root (or `--out <dir>`). `--short` is the small run the tests do.
 */
import { join } from 'node:path';
import { runMain } from '../client/cli-kit';
import { benchUsage, parseBenchArgs } from './config';
import { OUTPUT_FILES, runBench } from './bench';

runMain('fog-bench', async () => {
    const command = parseBenchArgs(process.argv.slice(2));
    if (command.help) {
        process.stdout.write(benchUsage);
        return;
    }
    const { out, mode } = command.options;
    const began = Date.now();
    const report = await runBench({
        mode,
        out,
        progress: (step) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${step}\n`),
    });
    for (const g of report.goals)
        process.stdout.write(
            `${g.met === null ? '–' : g.met ? '✓' : '✗'} ${g.name}: ${g.unit === 'ratio' ? g.value.toFixed(2) : `${(g.value * 100).toFixed(2)}%`}\n`,
        );
    process.stdout.write(`wrote ${join(out, OUTPUT_FILES.markdown)} and ${OUTPUT_FILES.json} in ${report.seconds.toFixed(0)} s\n`);
});
