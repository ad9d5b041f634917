// Builds every contract of tact.config.json into build/ (wrappers, compiled code, reports).
//
// Each project is compiled by the Tact compiler in a process of its own, as many at once as the
// machine has cores: FunC's WebAssembly compiler is single-threaded, and the projects that hold
// the dispute verifier (Hub, which deploys Dispute, and StepVerifier) take most of a minute each.
// (blueprint's `build --all` compiles them one after another, and its interactive UI's teardown
// throws ERR_USE_AFTER_CLOSE on Node 24 when stdin is not a terminal.) The compilers' progress
// goes to stderr: stdout is for what a command was asked for (`npm start -- --json | jq`).
'use strict';
const { spawn } = require('node:child_process');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');
const { projects } = require('../tact.config.json');

const root = join(__dirname, '..');
const tact = require.resolve('@tact-lang/compiler/bin/tact.js');
const started = Date.now();

/** Compiles one project; resolves with its exit code, its output written to stderr as one block. */
function compile(name) {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [tact, '--config', 'tact.config.json', '--project', name], {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        const out = [];
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => out.push(d));
        child.on('close', (code) => {
            process.stderr.write(Buffer.concat(out));
            process.stderr.write(
                `${name}: ${code === 0 ? 'built' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
            );
            resolve(code === 0 ? 0 : 1);
        });
    });
}

async function main() {
    // the largest first, so that the last to start is a small one
    const queue = projects.map((p) => p.name).sort((a, b) => weight(b) - weight(a));
    let failed = 0;
    const lanes = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) failed += await compile(name);
    });
    await Promise.all(lanes);
    if (failed > 0) {
        console.error(`${failed} contract project(s) failed to build`);
        process.exit(1);
    }
    console.error(`contracts built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Rough compile cost: the projects that include the step verifier are the slow ones. */
function weight(name) {
    return { Hub: 3, StepVerifier: 2 }[name] ?? 1;
}

main();
