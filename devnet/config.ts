/**
 * Options of the devnet's entry points: `main.ts` (the devnet server), `start.ts` (`npm start`,
 * the whole network on this machine) and `demo.ts` (`npm run demo`). One defaults object, one
 * parse-and-validate step per command line with exact messages, usage text built from the
 * defaults.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ADDRESSES_FILE } from '../client/addresses';
import { OptionError } from '../client/cli-kit';

/** Defaults of the devnet server (`main.ts`). */
export const devnetDefaults = {
    port: 8081,
    host: '127.0.0.1',
    data: '.fog/devnet',
    networkFile: DEFAULT_ADDRESSES_FILE,
    /** Chain seconds per wall-clock second. */
    speed: 1,
    /** Seconds between state saves (0: only on exit). */
    saveEvery: 30,
    /** Seconds the chain's clock starts behind wall time. */
    startBehind: 0,
    /** The base of each party's time in a dispute match, seconds (0: revealed results that differ go to a majority vote). */
    disputeAllowance: 300,
    /** Seconds a claimant has to commit its result (devnetParams' window). */
    commitWindow: 120,
} as const;

/** The range of each numeric option of `main.ts`. */
export const devnetLimits = {
    port: { min: 0, max: 65535 },
    /** --speed lies in (0, max]. */
    speed: { max: 100_000 },
    startBehind: { min: 0, max: 10 * 365 * 86_400 },
    disputeAllowance: { min: 0, max: 86_400 },
    commitWindow: { min: 10, max: 86_400 },
} as const;

/** Defaults of `npm start` (`start.ts`). */
export const startDefaults = {
    workers: 3,
    jobs: 4,
    liars: 1,
    data: '.fog/local',
    networkFile: DEFAULT_ADDRESSES_FILE,
    /** Replicas of each demo job (fewer when there are fewer workers). */
    k: 3,
    /** The base of each party's time in a dispute match (not with --majority), seconds. */
    disputeAllowance: 300,
    /**
     * The commit window, seconds, when liars play disputes: a demonstration liar works out the lie
     * it will defend before it can commit (the run to its fault on the compiled prover, then the
     * rest on the reference interpreter: tens of seconds for mlp-train, more on a loaded 2-core
     * machine running every worker), which the devnet's 120 s would cut short.
     */
    liarCommitWindow: 900,
    /** The demo jobs, in turn: train a model, read digits with it, make a meme, multiply matrices, then the small ones. */
    examples: ['mlp-train', 'mlp-infer', 'meme', 'matmul', 'upper', 'fnv-rounds'],
    /** Rounds of the demo's training run (`fog train`, 4 shards a round) after the demo jobs. */
    train: 3,
    /** Digits generated for the training run (training and held out), as `fog train --samples`. */
    samples: 6000,
} as const;

/** The range of each whole-number option of `start.ts` (the most liars is the number of workers). */
export const startLimits = {
    workers: { min: 1, max: 32 },
    jobs: { min: 0, max: 100 },
    liars: { min: 0 },
    train: { min: 0, max: 20 },
    samples: { min: 100, max: 500_000 },
} as const;

export const devnetUsage = `usage: node dist/devnet/main.js [options]
  --port ${String(devnetDefaults.port).padEnd(19)}HTTP port (0: any free port; the "ready" log line names it)
  --host ${devnetDefaults.host.padEnd(19)}interface to listen on
  --data ${devnetDefaults.data.padEnd(19)}chain state, transaction history and the admin key
  --network-file ${devnetDefaults.networkFile}
                            where to write the endpoint and contract addresses
  --speed ${String(devnetDefaults.speed).padEnd(18)}chain seconds per wall-clock second
  --allow-time-travel       enable POST /devnet/advance (tests and demos)
  --storage <url>           a storage node to name in the network file
  --dispute-allowance ${String(devnetDefaults.disputeAllowance).padEnd(6)}the base of each party's seconds in a dispute match (at most a day; a job
                            adds a second per 5 million fuel of its limit), set at deployment
                            (0: revealed results that differ go to a majority vote)
  --commit-window ${String(devnetDefaults.commitWindow).padEnd(10)}seconds a claimant has to commit its result, set at deployment
  --fresh                   forget the saved chain and deploy anew
  --save-every ${String(devnetDefaults.saveEvery).padEnd(13)}seconds between state saves (0: only on exit)
  --start-behind ${String(devnetDefaults.startBehind).padEnd(11)}start the chain's clock this many seconds behind wall time, so it can
                            be moved forward while wallets signing with wall time still work
`;

/** `main.ts`'s options, checked. */
export interface DevnetOptions {
    port: number;
    host: string;
    data: string;
    networkFile: string;
    speed: number;
    allowTimeTravel: boolean;
    storage: string | undefined;
    fresh: boolean;
    saveEvery: number;
    startBehind: number;
    disputeAllowance: number;
    commitWindow: number;
}

/** Parses `main.ts`'s arguments (without `node` and the script); throws an OptionError. */
export function parseDevnetArgs(argv: string[]): { help: true } | { help: false; options: DevnetOptions } {
    let args;
    try {
        args = parseArgs({
            args: argv,
            options: {
                port: { type: 'string', default: String(devnetDefaults.port) },
                host: { type: 'string', default: devnetDefaults.host },
                data: { type: 'string', default: devnetDefaults.data },
                'network-file': { type: 'string', default: devnetDefaults.networkFile },
                speed: { type: 'string', default: String(devnetDefaults.speed) },
                'allow-time-travel': { type: 'boolean', default: false },
                storage: { type: 'string' },
                fresh: { type: 'boolean', default: false },
                'save-every': { type: 'string', default: String(devnetDefaults.saveEvery) },
                'start-behind': { type: 'string', default: String(devnetDefaults.startBehind) },
                'dispute-allowance': { type: 'string', default: String(devnetDefaults.disputeAllowance) },
                'commit-window': { type: 'string', default: String(devnetDefaults.commitWindow) },
                help: { type: 'boolean', short: 'h', default: false },
            },
            strict: true,
        }).values;
    } catch (e) {
        throw new OptionError((e as Error).message);
    }
    if (args.help) return { help: true };
    const { port: portRange, speed: speedRange, startBehind: behindRange } = devnetLimits;
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < portRange.min || port > portRange.max)
        throw new OptionError(`--port must be ${portRange.min}..${portRange.max}, got ${args.port}`);
    const speed = Number(args.speed);
    if (!(speed > 0 && speed <= speedRange.max))
        throw new OptionError(`--speed must be a number in (0, ${speedRange.max}], got ${args.speed}`);
    const startBehind = Number(args['start-behind']);
    if (!Number.isInteger(startBehind) || startBehind < behindRange.min || startBehind > behindRange.max) {
        throw new OptionError(`--start-behind must be a whole number of seconds ≥ 0, got ${args['start-behind']}`);
    }
    const disputeAllowance = Number(args['dispute-allowance']);
    const allowanceRange = devnetLimits.disputeAllowance;
    if (!Number.isInteger(disputeAllowance) || disputeAllowance < allowanceRange.min || disputeAllowance > allowanceRange.max)
        throw new OptionError(
            `--dispute-allowance must be a whole number of seconds from ${allowanceRange.min} to ${allowanceRange.max}, got ${args['dispute-allowance']}`,
        );
    const commitWindow = Number(args['commit-window']);
    const windowRange = devnetLimits.commitWindow;
    if (!Number.isInteger(commitWindow) || commitWindow < windowRange.min || commitWindow > windowRange.max)
        throw new OptionError(
            `--commit-window must be a whole number of seconds from ${windowRange.min} to ${windowRange.max}, got ${args['commit-window']}`,
        );
    const saveEvery = Number(args['save-every']);
    if (!(saveEvery >= 0)) throw new OptionError(`--save-every must be a number of seconds ≥ 0, got ${args['save-every']}`);
    if (args.storage) {
        try {
            new URL(args.storage);
        } catch {
            throw new OptionError(`--storage is not a URL: ${args.storage}`);
        }
    }
    return {
        help: false,
        options: {
            port,
            host: args.host!,
            data: args.data!,
            networkFile: args['network-file']!,
            speed,
            allowTimeTravel: args['allow-time-travel']!,
            storage: args.storage,
            fresh: args.fresh!,
            saveEvery,
            startBehind,
            disputeAllowance,
            commitWindow,
        },
    };
}

/** `start.ts`'s options, checked (paths made absolute). */
export interface StartOptions {
    workers: number;
    jobs: number;
    liars: number;
    /** Revealed results that differ play dispute matches (docs/disputes.md), as on the default network; false with --majority (a vote). */
    disputes: boolean;
    /** The liars reveal the same wrong result (not with --majority). */
    colluding: boolean;
    /** The examples the demo jobs run, in turn. */
    examples: string[];
    /** Rounds of the training run after the demo jobs (0: none). */
    train: number;
    /** Digits generated for the training run. */
    samples: number;
    once: boolean;
    json: boolean;
    data: string;
    networkFile: string;
}

/** Parses `start.ts`'s arguments; throws an Error naming the flag, its range and the value given. */
export function parseStartArgs(argv: string[]): StartOptions {
    const { values } = parseArgs({
        args: argv,
        options: {
            workers: { type: 'string', default: String(startDefaults.workers) },
            jobs: { type: 'string', default: String(startDefaults.jobs) },
            liars: { type: 'string', default: String(startDefaults.liars) },
            disputes: { type: 'boolean', default: false },
            majority: { type: 'boolean', default: false },
            colluding: { type: 'boolean', default: false },
            examples: { type: 'string', default: startDefaults.examples.join(',') },
            train: { type: 'string' },
            samples: { type: 'string', default: String(startDefaults.samples) },
            once: { type: 'boolean', default: false },
            json: { type: 'boolean', default: false },
            data: { type: 'string', default: startDefaults.data },
            'network-file': { type: 'string', default: startDefaults.networkFile },
        },
        strict: true,
    });
    const count = (name: string, v: string, min: number, max: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min || n > max)
            throw new OptionError(`--${name} must be a whole number from ${min} to ${max}, got ${v}`);
        return n;
    };
    const workers = count('workers', values.workers!, startLimits.workers.min, startLimits.workers.max);
    const liars = count('liars', values.liars!, startLimits.liars.min, workers);
    const k = Math.min(startDefaults.k, workers);
    // disputes are the network's default (--disputes says so explicitly); --majority votes instead
    if (values.majority && (values.disputes || values.colluding))
        throw new OptionError(
            `--majority settles differing results by vote: it cannot go with --${values.disputes ? 'disputes' : 'colluding'}`,
        );
    const disputes = !values.majority;
    // with disputes one honest worker is enough; by majority the liars must be fewer than half
    if (disputes && liars >= k && liars > 0)
        throw new OptionError(`--liars ${liars} would hold every seat of a k=${k} job: leave at least one honest worker`);
    if (!disputes && liars * 2 >= k && liars > 0)
        throw new OptionError(
            `--liars ${liars} would outvote the honest workers of a k=${k} job: use fewer liars than half of k, or leave out --majority`,
        );
    const jobs = count('jobs', values.jobs!, startLimits.jobs.min, startLimits.jobs.max);
    const examples = values.examples!.split(',').map((e) => e.trim());
    const unknown = examples.filter((e) => !(startDefaults.examples as readonly string[]).includes(e));
    if (unknown.length > 0 || examples.length === 0)
        throw new OptionError(`--examples takes a comma-separated list of ${startDefaults.examples.join(', ')}; got ${values.examples}`);
    const train =
        values.train === undefined ? startDefaults.train : count('train', values.train, startLimits.train.min, startLimits.train.max);
    return {
        workers,
        jobs,
        liars,
        disputes,
        colluding: values.colluding!,
        examples,
        train,
        samples: count('samples', values.samples!, startLimits.samples.min, startLimits.samples.max),
        once: values.once!,
        json: values.json!,
        data: resolve(values.data!),
        networkFile: resolve(values['network-file']!),
    };
}

/** `demo.ts`'s options: `--json` prints the steps as JSON instead of a table. */
export function parseDemoArgs(argv: string[]): { json: boolean } {
    return { json: argv.includes('--json') };
}
