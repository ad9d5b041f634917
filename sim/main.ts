/**
 * `npm run sim` (`node dist/sim/main.js`): the economics simulation under the parameters of
 * deploy/config.json: 1,000 epochs of the reference network, the supply at three demand levels,
 * the wrong-result acceptance by colluding share, k and quorum, and the parameter sweep. Writes
 * sim/REPORT.md, sim/results.json and the charts (sim/*.png), or into `--out <dir>`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain, OptionError } from '../client/cli-kit';
import { parseDeployConfig } from '../wrappers/deployment';
import { runStudy } from './report';
import { parseSimArgs, simUsage } from './config';

runMain('fog-sim', async () => {
    const command = parseSimArgs(process.argv.slice(2));
    if (command.help) {
        process.stdout.write(simUsage);
        return;
    }
    const { epochs, sweepEpochs, acceptanceJobs, cartelEpochs, config, out } = command.options;
    let json: unknown;
    try {
        json = JSON.parse(readFileSync(config, 'utf8'));
    } catch (e) {
        throw new OptionError(`cannot read ${config}: ${(e as Error).message}`);
    }
    const { params } = parseDeployConfig(json, 0, config);
    const began = Date.now();
    const report = await runStudy({
        params,
        epochs,
        sweepEpochs,
        acceptanceJobs,
        cartelEpochs,
        out,
        progress: (step) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${step}\n`),
    });
    for (const p of report.properties) process.stdout.write(`${p.ok ? '✓' : '✗'} ${p.name}${p.ok ? '' : `: ${p.why[0]}`}\n`);
    process.stdout.write(
        `wrote ${join(out, 'REPORT.md')}, results.json and ${report.charts.length} charts in ${((Date.now() - began) / 1000).toFixed(0)} s\n`,
    );
});
