/**
 * Child processes for `npm start` and the end-to-end tests: run a Fog entry point as its own
 * Node process, read its output line by line, wait for a line, stop it cleanly.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { DIST } from './paths';

/** The compiled entry points (npm run build emits them). */
export { DIST };
export const entry = {
    devnet: resolve(DIST, 'devnet', 'main.js'),
    storage: resolve(DIST, 'oracle', 'storage', 'main.js'),
    oracle: resolve(DIST, 'oracle', 'main.js'),
    worker: resolve(DIST, 'worker', 'cli.js'),
    fog: resolve(DIST, 'requester', 'cli.js'),
    start: resolve(DIST, 'devnet', 'start.js'),
    app: resolve(DIST, 'app', 'server.js'),
};

export interface Managed {
    name: string;
    proc: ChildProcess;
    /** Resolves with the first line (stdout or stderr) that `match` accepts; rejects if the process exits first. */
    waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
    /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
    stop(graceMs?: number): Promise<number | null>;
    exited: Promise<number | null>;
}

/** Starts `script` with `args`; every output line goes to `onLine`. */
export function startNode(
    name: string,
    script: string,
    args: string[],
    onLine: (name: string, line: string, stream: 'out' | 'err') => void = () => undefined,
    env: NodeJS.ProcessEnv = {},
): Managed {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    type Waiter = { match: (l: string) => boolean; resolve: (l: string) => void };
    const waiters = new Set<Waiter>();
    const lastErr: string[] = [];
    const feed = (stream: 'out' | 'err') => (line: string) => {
        onLine(name, line, stream);
        if (stream === 'err' && line.trim() !== '') {
            lastErr.push(line.trim());
            if (lastErr.length > 12) lastErr.shift();
        }
        for (const w of [...waiters]) {
            if (w.match(line)) {
                waiters.delete(w);
                w.resolve(line);
            }
        }
    };
    createInterface({ input: proc.stdout! }).on('line', feed('out'));
    createInterface({ input: proc.stderr! }).on('line', feed('err'));
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    return {
        name,
        proc,
        exited,
        waitForLine(match, timeoutMs = 60_000) {
            return new Promise((res, rej) => {
                const timer = setTimeout(() => {
                    waiters.delete(w);
                    rej(new Error(`${name}: no expected output within ${timeoutMs / 1000} s`));
                }, timeoutMs);
                const w: Waiter = {
                    match,
                    resolve: (l: string) => {
                        clearTimeout(timer);
                        res(l);
                    },
                };
                waiters.add(w);
                void exited.then((code) => {
                    if (waiters.delete(w))
                        rej(
                            new Error(
                                `${name} exited (code ${code}) before the expected output${lastErr.length ? `: ${explain(lastErr)}` : ''}`,
                            ),
                        );
                });
            });
        },
        async stop(graceMs = 10_000) {
            if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            const code = await exited;
            clearTimeout(timer);
            return code;
        },
    };
}

/** Runs `script` to completion; rejects with its last stderr line if it exits non-zero. */
export async function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const out: string[] = [];
    const err: string[] = [];
    const m = startNode('run', script, args, (_, line, stream) => (stream === 'out' ? out : err).push(line), env);
    const code = await m.exited;
    if (code !== 0) throw new Error(err[err.length - 1] ?? `${script} exited with code ${code}`);
    return out.join('\n');
}

/** The lines of a crashed process's stderr that say why: its error lines, or its last lines. */
function explain(lines: string[]): string {
    const errors = lines.filter((l) => /error/i.test(l) && !/^\s*at /.test(l));
    return (errors.length > 0 ? errors : lines.slice(-3)).join(' / ');
}
