/**
 * `npm run sim` (`node dist/sim/main.js`): the economics simulation under the parameters of
 * deploy/config.json: 1,000 epochs of the reference network, the supply at three demand levels,
 * the wrong-result acceptance by colluding share, k and quorum, and the parameter sweep. Writes
 * sim/REPORT.md, sim/results.json and the charts (sim/*.png), or into `--out <dir>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../client/paths';
import { parseOptions, runMain, OptionError } from '../client/cli-kit';
import { parseDeployConfig } from '../wrappers/deployment';
import { runStudy } from './report';

const USAGE = `usage: node dist/sim/main.js [--epochs <n>] [--sweep-epochs <n>] [--config <file>] [--out <dir>] [--short]
  --epochs <n>         epochs of the reference run and the supply runs (default 1000)
  --sweep-epochs <n>   epochs each parameter set of the sweep runs at each demand level (default 40)
  --config <file>      the deploy configuration whose parameters are judged (default deploy/config.json)
  --out <dir>          where REPORT.md, results.json and the charts go (default sim/)
  --short              a small run for the tests: 60 epochs, sweep of 6 epochs, fewer acceptance jobs
`;

runMain('fog-sim', async () => {
    const args = parseOptions(process.argv.slice(2), {
        epochs: { type: 'string' },
        'sweep-epochs': { type: 'string' },
        config: { type: 'string', default: join(ROOT, 'deploy', 'config.json') },
        out: { type: 'string', default: join(ROOT, 'sim') },
        short: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
    });
    if (args.help) {
        process.stdout.write(USAGE);
        return;
    }
    const count = (v: string | undefined, flag: string, fallback: number) => {
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new OptionError(`${flag} must be a whole number from 1 to 100000, got ${JSON.stringify(v)}`);
        return n;
    };
    let json: unknown;
    try {
        json = JSON.parse(readFileSync(args.config, 'utf8'));
    } catch (e) {
        throw new OptionError(`cannot read ${args.config}: ${(e as Error).message}`);
    }
    const { params } = parseDeployConfig(json, 0, args.config);
    const began = Date.now();
    const report = await runStudy({
        params,
        epochs: count(args.epochs, '--epochs', args.short ? 60 : 1_000),
        sweepEpochs: count(args['sweep-epochs'], '--sweep-epochs', args.short ? 6 : 40),
        acceptanceJobs: args.short ? 7_000 : 70_000,
        out: args.out,
        progress: (step) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${step}\n`),
    });
    for (const p of report.properties) process.stdout.write(`${p.ok ? '✓' : '✗'} ${p.name}${p.ok ? '' : `: ${p.why[0]}`}\n`);
    process.stdout.write(`wrote ${join(args.out, 'REPORT.md')}, results.json and ${report.charts.length} charts in ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
});
