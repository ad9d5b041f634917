/**
 * Options of `npm run sim` (`sim/main.ts`): the defaults of the full and the short run, one
 * parse-and-validate step with exact messages, the usage text built from the defaults.
 */
import { join, relative } from 'node:path';
import { ROOT } from '../client/paths';
import { OptionError, parseOptions } from '../client/cli-kit';

/** Defaults of `npm run sim`: the full run, and what `--short` changes. */
export const simDefaults = {
    /** Epochs of the reference run and the supply runs. */
    epochs: 1_000,
    /** Epochs each parameter set of the sweep runs at each demand level. */
    sweepEpochs: 40,
    /** Jobs of the wrong-result acceptance estimate. */
    acceptanceJobs: 70_000,
    /** Epochs of each run of the cartel study (by vote and with disputes, each share and mode). */
    cartelEpochs: 200,
    config: join(ROOT, 'deploy', 'config.json'),
    out: join(ROOT, 'sim'),
    short: { epochs: 60, sweepEpochs: 6, acceptanceJobs: 7_000, cartelEpochs: 8 },
} as const;

/** The range of `--epochs` and `--sweep-epochs`. */
export const simLimits = { epochs: { min: 1, max: 100_000 } } as const;

export const simUsage = `usage: node dist/sim/main.js [--epochs <n>] [--sweep-epochs <n>] [--config <file>] [--out <dir>] [--short]
  --epochs <n>         epochs of the reference run and the supply runs (default ${simDefaults.epochs})
  --sweep-epochs <n>   epochs each parameter set of the sweep runs at each demand level (default ${simDefaults.sweepEpochs})
  --config <file>      the deploy configuration whose parameters are judged (default ${relative(ROOT, simDefaults.config)})
  --out <dir>          where REPORT.md, results.json and the charts go (default ${relative(ROOT, simDefaults.out)}/)
  --short              a small run for the tests: ${simDefaults.short.epochs} epochs, sweep of ${simDefaults.short.sweepEpochs} epochs, fewer acceptance jobs and cartel epochs
`;

/** `main.ts`'s options, checked. */
export interface SimOptions {
    epochs: number;
    sweepEpochs: number;
    acceptanceJobs: number;
    cartelEpochs: number;
    /** The deploy configuration file (read by main.ts). */
    config: string;
    out: string;
}

/** Parses `main.ts`'s arguments (without `node` and the script); throws an OptionError. */
export function parseSimArgs(argv: string[]): { help: true } | { help: false; options: SimOptions } {
    const args = parseOptions(argv, {
        epochs: { type: 'string' },
        'sweep-epochs': { type: 'string' },
        config: { type: 'string', default: simDefaults.config },
        out: { type: 'string', default: simDefaults.out },
        short: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
    });
    if (args.help) return { help: true };
    const { min, max } = simLimits.epochs;
    const count = (v: string | undefined, flag: string, fallback: number) => {
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min || n > max)
            throw new OptionError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
        return n;
    };
    const size = args.short ? simDefaults.short : simDefaults;
    return {
        help: false,
        options: {
            epochs: count(args.epochs, '--epochs', size.epochs),
            sweepEpochs: count(args['sweep-epochs'], '--sweep-epochs', size.sweepEpochs),
            acceptanceJobs: size.acceptanceJobs,
            cartelEpochs: size.cartelEpochs,
            config: args.config,
            out: args.out,
        },
    };
}
