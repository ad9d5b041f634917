/**
 * One config shape per process (issue 15, item 4): for each family's parse/resolve step, the
 * defaults when nothing is given, the environment fallbacks, and the exact message for a bad value
 * of each validated option. Last, docs/configuration.md names every environment variable the
 * source reads.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Address } from '@ton/core';
import { Command } from 'commander';
import { writeNetworkFile } from '../client/addresses';
import { blueprintDefaults, blueprintSettings } from '../client/blueprint';
import { commonDefaults, commonOptions } from '../client/cli-common';
import { OptionError } from '../client/cli-kit';
import { ROOT } from '../client/paths';
import { benchDefaults, parseBenchArgs } from '../bench/config';
import { DEFAULT_RATE_LIMIT } from '../bot/bot';
import { botDefaults, parseBotArgs } from '../bot/config';
import { devnetDefaults, devnetUsage, parseDemoArgs, parseDevnetArgs, parseStartArgs, startDefaults } from '../devnet/config';
import { everySchedule, oracleDefaults, oracleUsage, parseOracleArgs, parseWatchArgs, watchUsage } from '../oracle/config';
import { parseStorageArgs, storageDefaults } from '../oracle/storage/config';
import { program as fogProgram } from '../requester/cli';
import { requesterDefaults, resolveSubmit } from '../requester/config';
import { parseSimArgs, simDefaults, simUsage } from '../sim/config';
import { program as workerProgram } from '../worker/cli';
import { resolveStake, resolveWorkerStart, StartFlags, workerDefaults } from '../worker/config';
import { DAEMON_DEFAULTS } from '../worker/daemon';
import { KEEP_JOBS } from '../worker/journal';

/** The default commander shows and hands over for `flag` of `command` (a subcommand path). */
function defaultOf(cli: Command, path: string[], flag: string): unknown {
    let cmd = cli;
    for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
    const option = cmd.options.find((o) => o.long === flag);
    if (!option) throw new Error(`${path.join(' ')} has no ${flag}`);
    return option.defaultValue;
}

let dir: string;
let networkFile: string;
beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fog-config-'));
    networkFile = join(dir, 'network.json');
    const at = (n: number) => new Address(0, Buffer.alloc(32, n));
    writeNetworkFile(networkFile, {
        network: 'devnet',
        endpoint: 'http://127.0.0.1:1/jsonRPC',
        token: at(1),
        collection: at(2),
        hub: at(3),
    });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('storage node: parseStorageArgs', () => {
    it('fills in the defaults, takes the token from FOG_STORAGE_TOKEN, and names the bad flag, its range and the value', () => {
        expect(parseStorageArgs(['--dir', dir], {})).toEqual({
            help: false,
            options: { dir, host: '127.0.0.1', port: 7070, maxBlobBytes: storageDefaults.maxBlobBytes, writeToken: undefined },
        });
        const fromEnv = parseStorageArgs(['--dir', dir], { FOG_STORAGE_TOKEN: 'secret' });
        expect(fromEnv.help === false && fromEnv.options.writeToken).toBe('secret');
        expect(() => parseStorageArgs(['--dir', dir, '--port', '70000'], {})).toThrow(
            '--port must be a whole number from 0 to 65535, got "70000"',
        );
        expect(() => parseStorageArgs(['--dir', dir, '--max-bytes', '0'], {})).toThrow(
            `--max-bytes must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}, got "0"`,
        );
        expect(() => parseStorageArgs([], {})).toThrow('--dir is required (the directory that holds the blobs)');
    });
});

describe('oracle: parseOracleArgs and parseWatchArgs', () => {
    const base = () => ['--network-file', networkFile, '--key', join(dir, 'keeper.key'), '--data', dir];

    it('fills in the defaults and reads TONCENTER_API_KEY', () => {
        const parsed = parseOracleArgs(base(), { TONCENTER_API_KEY: 'k' });
        if (parsed.help) throw new Error('asked for help');
        expect(parsed.options).toMatchObject({ keyPath: join(dir, 'keeper.key'), data: dir, every: 5, pollMs: 1000, apiKey: 'k' });
        expect(parsed.options.network.network).toBe('devnet');
        expect(
            parseOracleArgs(base(), {}).help === false && (parseOracleArgs(base(), {}) as { options: { apiKey?: string } }).options.apiKey,
        ).toBeUndefined();
        const watch = parseWatchArgs(['--network-file', networkFile, '--data', dir], {});
        expect(watch.help === false && watch.options.pollMs).toBe(500);
        expect(parseOracleArgs(['--help'], {})).toEqual({ help: true });
    });

    it('refuses a bad value with the flag, its range and the value given', () => {
        expect(() => parseOracleArgs([...base(), '--every', '60'], {})).toThrow(
            new OptionError('--every must be a whole number from 1 to 59, got "60"'),
        );
        expect(() => parseOracleArgs([...base(), '--poll-ms', '5'], {})).toThrow(
            '--poll-ms must be a whole number from 10 to 600000, got "5"',
        );
        expect(() => parseOracleArgs(['--network-file', networkFile, '--data', dir], {})).toThrow('--key is required (see --help)');
        expect(() => parseOracleArgs(['--network-file', join(dir, 'none.json')], {})).toThrow(
            `--network-file: no file at ${join(dir, 'none.json')}`,
        );
        expect(() => parseWatchArgs(['--network-file', networkFile, '--data', dir, '--poll-ms', 'fast'], {})).toThrow(
            '--poll-ms must be a whole number from 10 to 600000, got "fast"',
        );
        expect(() => parseWatchArgs(['--network-file', networkFile], {})).toThrow('--data is required (see --help)');
        expect(() => parseWatchArgs(['--bogus'], {})).toThrow("Unknown option '--bogus' (see --help)");
    });

    it('builds the usage texts and the keeper schedule from the defaults', () => {
        expect(oracleUsage).toContain('[--every 5] [--poll-ms 1000]');
        expect(oracleUsage).toContain('(1..59)');
        expect(watchUsage).toContain('[--poll-ms 500]');
        expect(everySchedule(oracleDefaults.every)).toBe('*/5 * * * * *');
    });
});

describe('common options of the user CLIs', () => {
    const parse = (argv: string[]) => {
        const cmd = commonOptions(new Command('x')).action(() => undefined);
        cmd.parse(argv, { from: 'user' });
        return cmd.opts<{ home: string; networkFile: string }>();
    };
    const saved = { home: process.env.FOG_HOME, file: process.env.FOG_NETWORK_FILE };
    afterEach(() => {
        for (const [name, value] of [
            ['FOG_HOME', saved.home],
            ['FOG_NETWORK_FILE', saved.file],
        ] as const) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    });

    it('defaults to ~/.fog and .fog/network.json, then FOG_HOME and FOG_NETWORK_FILE, then the flags', () => {
        delete process.env.FOG_HOME;
        delete process.env.FOG_NETWORK_FILE;
        expect(parse([])).toMatchObject({ home: commonDefaults.home, networkFile: '.fog/network.json' });
        expect(commonDefaults.home).toBe(join(homedir(), '.fog'));
        process.env.FOG_HOME = '/env/home';
        process.env.FOG_NETWORK_FILE = '/env/network.json';
        expect(parse([])).toMatchObject({ home: '/env/home', networkFile: '/env/network.json' });
        expect(parse(['--home', '/flag/home', '--network-file', '/flag/n.json'])).toMatchObject({
            home: '/flag/home',
            networkFile: '/flag/n.json',
        });
    });
});

describe('worker: resolveWorkerStart and resolveStake', () => {
    const startDefaultsOf = () => {
        const cli = workerProgram();
        const get = (flag: string) => defaultOf(cli, ['start'], flag) as string;
        return {
            threads: get('--threads'),
            memory: get('--memory'),
            memoryTotal: get('--memory-total'),
            maxMfuel: get('--max-mfuel'),
            wallSeconds: get('--wall-seconds'),
            minPrice: get('--min-price'),
            minPricePerMfuel: get('--min-price-per-mfuel'),
            pollMs: get('--poll-ms'),
            keepJobs: get('--keep-jobs'),
        };
    };

    it('takes the defaults commander shows from workerDefaults, and the daemon and journal agree', () => {
        expect(resolveWorkerStart(startDefaultsOf())).toEqual({
            threads: workerDefaults.threads,
            memoryMb: 1024,
            memoryTotalMb: workerDefaults.memoryTotalMb,
            maxMfuel: 1_000_000,
            wallSeconds: 600,
            minPrice: 0n,
            minPricePerMfuel: 0n,
            fuelRate: undefined,
            pollMs: 1000,
            keepJobs: 10_000,
            storage: undefined,
            allowPrivateUris: false,
            liar: false,
            colluding: false,
        });
        const cli = workerProgram();
        expect(defaultOf(cli, ['stake'], '--memory')).toBe('4096');
        expect(defaultOf(cli, ['stake'], '--cores')).toBe(String(workerDefaults.threads));
        expect(defaultOf(cli, ['faucet'], '--ton')).toBe('10');
        expect(defaultOf(cli, ['faucet'], '--fog')).toBe('1000');
        expect(defaultOf(cli, ['start'], '--home')).toBe(commonDefaults.home);
        expect(DAEMON_DEFAULTS).toEqual({
            maxMfuel: 1_000_000,
            minPrice: 0n,
            minPricePerMfuel: 0n,
            pollMs: 1000,
            safetySeconds: 3,
            lookback: 50,
        });
        expect(resolveWorkerStart({ ...startDefaultsOf(), fuelRate: '3e9', minPricePerMfuel: '0.000001' })).toMatchObject({
            fuelRate: 3_000_000_000,
            minPricePerMfuel: 1_000n,
        });
        expect(KEEP_JOBS).toBe(workerDefaults.keepJobs);
    });

    it('names the flag, its range and the value given', () => {
        const good = startDefaultsOf();
        const bad = (patch: Partial<StartFlags>) => () => resolveWorkerStart({ ...good, ...patch });
        expect(bad({ threads: '0' })).toThrow('--threads must be a whole number from 1 to 256, got "0"');
        expect(bad({ memory: '99999999' })).toThrow(/^--memory must be a whole number from 1 to \d+, got "99999999"$/);
        expect(bad({ memoryTotal: '0' })).toThrow(/^--memory-total must be a whole number from 1 to \d+, got "0"$/);
        expect(bad({ maxMfuel: '4294967296' })).toThrow('--max-mfuel must be a whole number from 1 to 4294967295, got "4294967296"');
        expect(bad({ fuelRate: 'fast' })).toThrow(/^--fuel-rate must be a whole number from 1 to \d+, got "fast"$/);
        expect(bad({ minPricePerMfuel: '1e-3' })).toThrow('not an amount of FOG: "1e-3" (use e.g. 100 or 0.5)');
        expect(bad({ wallSeconds: '0' })).toThrow('--wall-seconds must be a whole number from 1 to 86400, got "0"');
        expect(bad({ minPrice: '-1' })).toThrow('not an amount of FOG: "-1" (use e.g. 100 or 0.5)');
        expect(bad({ pollMs: '1.5' })).toThrow('--poll-ms must be a whole number from 1 to 600000, got "1.5"');
        expect(bad({ keepJobs: 'all' })).toThrow('--keep-jobs must be a whole number from 1 to 100000000, got "all"');
        expect(resolveStake({ amount: '100', cores: '4', memory: '4096' })).toEqual({ amount: 100_000_000_000n, cores: 4, memory: 4096 });
        expect(() => resolveStake({ amount: '1', cores: '65536', memory: '1' })).toThrow(
            '--cores must be a whole number from 1 to 65535, got "65536"',
        );
        expect(() => resolveStake({ amount: '1', cores: '1', memory: '0' })).toThrow(
            '--memory must be a whole number from 1 to 4294967295, got "0"',
        );
        expect(() => resolveStake({ amount: 'lots', cores: '1', memory: '1' })).toThrow(
            'not an amount of FOG: "lots" (use e.g. 100 or 0.5)',
        );
    });
});

describe('requester: resolveSubmit', () => {
    const flags = () => {
        const cli = fogProgram();
        const get = (flag: string) => defaultOf(cli, ['job', 'submit'], flag) as string;
        return { price: '1', replicas: get('--replicas'), memory: get('--memory'), pricePerMfuel: get('--price-per-mfuel') };
    };

    it('takes the defaults commander shows from requesterDefaults: k 3 with a majority quorum, 256 MiB, the fuel limit left to the post', () => {
        expect(resolveSubmit(flags())).toEqual({
            price: 1_000_000_000n,
            k: 3,
            quorum: 2,
            mfuel: undefined,
            memory: 256,
            pricePerMfuel: 1_000_000n,
        });
        expect(requesterDefaults).toEqual({ replicas: 3, maxMfuel: 10_000, memoryMb: 256, pricePerMfuel: '0.001' });
        expect(resolveSubmit({ ...flags(), mfuel: '234' })).toMatchObject({ mfuel: 234 });
        expect(resolveSubmit({ ...flags(), price: undefined, estimate: true })).toMatchObject({ price: undefined });
        expect(resolveSubmit({ ...flags(), replicas: '7', quorum: '6' })).toMatchObject({ k: 7, quorum: 6 });
    });

    it('gives map, reduce and train the same posting options and defaults as submit', () => {
        const cli = fogProgram();
        for (const path of [['job', 'map'], ['job', 'reduce'], ['train']])
            for (const flag of ['--replicas', '--memory']) expect(defaultOf(cli, path, flag)).toBe(defaultOf(cli, ['job', 'submit'], flag));
    });

    it('names the flag, its range and the value given', () => {
        expect(() => resolveSubmit({ ...flags(), replicas: '8' })).toThrow('-k must be a whole number from 1 to 7, got "8"');
        expect(() => resolveSubmit({ ...flags(), quorum: '1' })).toThrow('--quorum must be more than half of k (3), got 1');
        expect(() => resolveSubmit({ ...flags(), quorum: '4' })).toThrow('--quorum must be a whole number from 1 to 3, got "4"');
        expect(() => resolveSubmit({ ...flags(), mfuel: '0' })).toThrow('--mfuel must be a whole number from 1 to 4294967295, got "0"');
        expect(() => resolveSubmit({ ...flags(), price: undefined })).toThrow(
            '--price <FOG> is required (or --estimate, which suggests one)',
        );
        // map and reduce have no --estimate: their message does not offer it
        const { pricePerMfuel: _, ...mapFlags } = flags();
        expect(() => resolveSubmit({ ...mapFlags, price: undefined })).toThrow(/^--price <FOG> is required$/);
        expect(() => resolveSubmit({ ...flags(), memory: 'big' })).toThrow(/^--memory must be a whole number from 1 to \d+, got "big"$/);
        expect(() => resolveSubmit({ ...flags(), price: '1.0000000001' })).toThrow(
            'not an amount of FOG: "1.0000000001" (use e.g. 100 or 0.5)',
        );
    });
});

describe('bot: parseBotArgs', () => {
    it('fills in the defaults and reads BOT_TOKEN, FOG_NETWORK_FILE and TONCENTER_API_KEY', () => {
        expect(parseBotArgs([], { BOT_TOKEN: 't' })).toEqual({
            help: false,
            options: { networkFile: '.fog/network.json', data: '.fog/bot', pollMs: 2000, console: false, token: 't', apiKey: undefined },
        });
        const env = { FOG_NETWORK_FILE: '/env/n.json', TONCENTER_API_KEY: 'k' };
        expect(parseBotArgs(['--console'], env)).toMatchObject({
            options: { networkFile: '/env/n.json', console: true, token: undefined, apiKey: 'k' },
        });
        expect(parseBotArgs(['--console', '--network-file', '/flag.json'], env)).toMatchObject({ options: { networkFile: '/flag.json' } });
        expect(DEFAULT_RATE_LIMIT).toEqual(botDefaults.rateLimit);
        expect(DEFAULT_RATE_LIMIT).toEqual({ commands: 8, windowMs: 30_000, maxUsers: 10_000 });
    });

    it('refuses to run for Telegram without a token, and a bad --poll-ms', () => {
        expect(() => parseBotArgs([], { BOT_TOKEN: '' })).toThrow('set BOT_TOKEN (from @BotFather), or try it with --console');
        expect(() => parseBotArgs(['--console', '--poll-ms', '0'], {})).toThrow(
            '--poll-ms must be a whole number from 10 to 600000, got "0"',
        );
    });
});

describe('devnet: parseDevnetArgs, parseStartArgs, parseDemoArgs', () => {
    it('fills in the defaults of the server and builds its usage from them', () => {
        expect(parseDevnetArgs([])).toEqual({
            help: false,
            options: {
                port: 8081,
                host: '127.0.0.1',
                data: '.fog/devnet',
                networkFile: '.fog/network.json',
                speed: 1,
                allowTimeTravel: false,
                storage: undefined,
                fresh: false,
                saveEvery: 30,
                startBehind: 0,
                disputeAllowance: 300,
                commitWindow: 120,
            },
        });
        expect(devnetUsage).toContain('  --port 8081               HTTP port');
        expect(devnetUsage).toContain('  --save-every 30           seconds between state saves');
        expect(devnetUsage).toContain(`  --network-file ${devnetDefaults.networkFile}\n`);
    });

    it('names the bad flag and the value given', () => {
        expect(() => parseDevnetArgs(['--port', '65536'])).toThrow('--port must be 0..65535, got 65536');
        expect(() => parseDevnetArgs(['--speed', '0'])).toThrow('--speed must be a number in (0, 100000], got 0');
        expect(() => parseDevnetArgs(['--start-behind=-1'])).toThrow('--start-behind must be a whole number of seconds ≥ 0, got -1');
        expect(() => parseDevnetArgs(['--save-every', 'x'])).toThrow('--save-every must be a number of seconds ≥ 0, got x');
        expect(() => parseDevnetArgs(['--storage', 'nowhere'])).toThrow('--storage is not a URL: nowhere');
        expect(() => parseDevnetArgs(['--dispute-allowance', '86401'])).toThrow(
            '--dispute-allowance must be a whole number of seconds from 0 to 86400, got 86401',
        );
        expect(parseDevnetArgs(['--dispute-allowance', '0'])).toMatchObject({ options: { disputeAllowance: 0 } });
        expect(() => parseDevnetArgs(['--commit-window', '9'])).toThrow(
            '--commit-window must be a whole number of seconds from 10 to 86400, got 9',
        );
        expect(() => parseDevnetArgs(['--commit-window', '1.5'])).toThrow(
            '--commit-window must be a whole number of seconds from 10 to 86400, got 1.5',
        );
        expect(parseDevnetArgs([])).toMatchObject({ options: { commitWindow: 120 } });
        expect(parseDevnetArgs(['--commit-window', '900'])).toMatchObject({ options: { commitWindow: 900 } });
    });

    it('npm start: 3 workers, 4 jobs, 1 liar, disputes, a 3-round training run; too many liars are refused', () => {
        expect(parseStartArgs([])).toEqual({
            workers: 3,
            jobs: 4,
            liars: 1,
            disputes: true,
            colluding: false,
            examples: ['mlp-train', 'mlp-infer', 'meme', 'matmul', 'upper', 'fnv-rounds'],
            train: 3,
            samples: 6000,
            once: false,
            json: false,
            data: join(process.cwd(), '.fog/local'),
            networkFile: join(process.cwd(), '.fog/network.json'),
        });
        expect(startDefaults).toMatchObject({ workers: 3, jobs: 4, liars: 1 });
        expect(() => parseStartArgs(['--workers', '33'])).toThrow('--workers must be a whole number from 1 to 32, got 33');
        expect(() => parseStartArgs(['--jobs', '101'])).toThrow('--jobs must be a whole number from 0 to 100, got 101');
        expect(() => parseStartArgs(['--workers', '2', '--liars', '3'])).toThrow('--liars must be a whole number from 0 to 2, got 3');
        // by majority vote the liars must be fewer than half of k; with disputes (the default) one honest worker is enough
        expect(() => parseStartArgs(['--liars', '2', '--majority'])).toThrow(
            '--liars 2 would outvote the honest workers of a k=3 job: use fewer liars than half of k, or leave out --majority',
        );
        expect(parseStartArgs(['--liars', '1', '--majority'])).toMatchObject({ liars: 1, disputes: false });
        expect(parseStartArgs(['--liars', '2', '--colluding'])).toMatchObject({ liars: 2, disputes: true, colluding: true });
        expect(parseStartArgs(['--liars', '2', '--disputes'])).toMatchObject({ liars: 2, disputes: true, colluding: false, train: 3 });
        expect(() => parseStartArgs(['--majority', '--colluding'])).toThrow(
            '--majority settles differing results by vote: it cannot go with --colluding',
        );
        expect(() => parseStartArgs(['--majority', '--disputes'])).toThrow(
            '--majority settles differing results by vote: it cannot go with --disputes',
        );
        expect(parseStartArgs(['--train', '0'])).toMatchObject({ train: 0 });
        expect(() => parseStartArgs(['--train', '21'])).toThrow('--train must be a whole number from 0 to 20, got 21');
        expect(parseStartArgs(['--samples', '1500'])).toMatchObject({ samples: 1500 });
        expect(() => parseStartArgs(['--samples', '99'])).toThrow('--samples must be a whole number from 100 to 500000, got 99');
        expect(() => parseStartArgs(['--liars', '3', '--colluding'])).toThrow(
            '--liars 3 would hold every seat of a k=3 job: leave at least one honest worker',
        );
        expect(parseStartArgs(['--examples', 'upper, fnv-rounds'])).toMatchObject({ examples: ['upper', 'fnv-rounds'] });
        expect(() => parseStartArgs(['--examples', 'upper,nope'])).toThrow(
            '--examples takes a comma-separated list of mlp-train, mlp-infer, meme, matmul, upper, fnv-rounds; got upper,nope',
        );
        expect(parseDemoArgs([])).toEqual({ json: false });
        expect(parseDemoArgs(['--json'])).toEqual({ json: true });
    });
});

describe('bench and sim', () => {
    it('bench: the full run into the repository root by default', () => {
        expect(parseBenchArgs([])).toEqual({ help: false, options: { mode: 'full', out: ROOT } });
        expect(benchDefaults.out).toBe(ROOT);
        expect(parseBenchArgs(['--short', '--out', dir])).toEqual({ help: false, options: { mode: 'short', out: dir } });
        expect(() => parseBenchArgs(['--long'])).toThrow("Unknown option '--long' (see --help)");
    });

    it('sim: 1000 epochs and a sweep of 40 (60 and 6 with --short), deploy/config.json into sim/', () => {
        expect(parseSimArgs([])).toEqual({
            help: false,
            options: {
                epochs: 1000,
                sweepEpochs: 40,
                acceptanceJobs: 70_000,
                cartelEpochs: 200,
                config: join(ROOT, 'deploy', 'config.json'),
                out: join(ROOT, 'sim'),
            },
        });
        expect(parseSimArgs(['--short'])).toMatchObject({
            options: { epochs: 60, sweepEpochs: 6, acceptanceJobs: 7_000, cartelEpochs: 8 },
        });
        expect(parseSimArgs(['--short', '--epochs', '7'])).toMatchObject({ options: { epochs: 7, sweepEpochs: 6 } });
        expect(() => parseSimArgs(['--epochs', '0'])).toThrow('--epochs must be a whole number from 1 to 100000, got "0"');
        expect(() => parseSimArgs(['--sweep-epochs', '100001'])).toThrow(
            '--sweep-epochs must be a whole number from 1 to 100000, got "100001"',
        );
        expect(simUsage).toContain('(default 1000)');
        expect(simUsage).toContain('(default deploy/config.json)');
        expect(simDefaults.short.epochs).toBe(60);
    });
});

describe('blueprint scripts: blueprintSettings', () => {
    it('defaults to .fog/network.json, and reads FOG_NETWORK_FILE, FOG_NETWORK, FOG_STORAGE and TONCENTER_API_KEY', () => {
        expect(blueprintSettings({})).toEqual({
            networkFile: '.fog/network.json',
            network: undefined,
            storage: undefined,
            apiKey: undefined,
        });
        expect(blueprintDefaults.deployConfig).toBe('deploy/config.json');
        expect(
            blueprintSettings({ FOG_NETWORK_FILE: '/n.json', FOG_NETWORK: 'devnet', FOG_STORAGE: 'http://s', TONCENTER_API_KEY: 'k' }),
        ).toEqual({
            networkFile: '/n.json',
            network: 'devnet',
            storage: 'http://s',
            apiKey: 'k',
        });
        // empty values count as unset; a FOG_NETWORK naming no network is ignored
        expect(blueprintSettings({ FOG_NETWORK_FILE: '', FOG_NETWORK: 'moonnet', FOG_STORAGE: '' })).toMatchObject({
            networkFile: '.fog/network.json',
            network: undefined,
            storage: undefined,
        });
    });
});

describe('docs/configuration.md', () => {
    const SKIP = new Set(['node_modules', 'dist', 'build', '.git', 'coverage']);
    function sources(d: string): string[] {
        return readdirSync(d).flatMap((name) => {
            const path = join(d, name);
            if (SKIP.has(name) || name.startsWith('.')) return [];
            if (statSync(path).isDirectory()) return sources(path);
            return /\.(ts|js|cjs)$/.test(name) ? [path] : [];
        });
    }

    /** Every environment variable the source reads: process.env.<name>, env.<name> (a parse step's env), commander's .env(<name>). */
    function variablesRead(): Map<string, string> {
        const found = new Map<string, string>();
        const patterns = [/process\.env\.([A-Z][A-Z0-9_]*)/g, /\benv\.([A-Z][A-Z0-9_]*)/g, /\.env\('([A-Z][A-Z0-9_]*)'\)/g];
        for (const file of sources(ROOT)) {
            const text = readFileSync(file, 'utf8');
            const names = patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
            // a table of names handed to commander's .env(), as client/cli-common.ts's commonEnv
            for (const table of text.matchAll(/Env = \{([^}]*)\}/g))
                names.push(...[...table[1].matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]));
            for (const name of names) if (!found.has(name)) found.set(name, relative(ROOT, file));
        }
        for (const m of readFileSync(join(ROOT, 'package.json'), 'utf8').matchAll(/\b(FOG_[A-Z0-9_]+)=/g))
            if (!found.has(m[1])) found.set(m[1], 'package.json');
        return found;
    }

    it('finds the variables it should (the scan is not empty-handed)', () => {
        const read = variablesRead();
        expect(read.get('FOG_HOME')).toBe(join('client', 'cli-common.ts'));
        for (const name of [
            'FOG_HOME',
            'FOG_NETWORK_FILE',
            'FOG_STORAGE_TOKEN',
            'BOT_TOKEN',
            'TONCENTER_API_KEY',
            'FOG_FAULT_JOBS',
            'FOG_GAS_UPDATE',
            'FOG_NETWORK',
        ])
            expect(read.has(name)).toBe(true);
    });

    it('names every environment variable read anywhere in the source', () => {
        const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
        const missing = [...variablesRead()]
            .filter(([name]) => !doc.includes(`\`${name}\``))
            .map(([name, file]) => `${name} (read in ${file})`);
        expect(missing).toEqual([]);
    });
});
