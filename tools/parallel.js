// Runs shell commands side by side, as many at once as the machine has cores, each one's output
// printed as one block when it ends; exits non-zero if any failed (after all have ended). For the
// steps of `npm run build` and `npm test` that do not depend on each other: on CI's two cores the
// lint, the layer check and the builds of the examples and the web app's types overlap.
//
//     node tools/parallel.js "eslint ." "prettier --check ."
'use strict';
const { spawn } = require('node:child_process');
const { availableParallelism } = require('node:os');

function run(command) {
    return new Promise((resolve) => {
        const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => err.push(d));
        child.on('close', (code, signal) => {
            process.stdout.write(Buffer.concat(out));
            process.stderr.write(Buffer.concat(err));
            if (code !== 0) process.stderr.write(`${command}: failed (${signal ?? `exit ${code}`})\n`);
            resolve(code === 0);
        });
    });
}

async function main() {
    const queue = process.argv.slice(2);
    if (queue.length === 0) {
        console.error('usage: node tools/parallel.js "<command>" ["<command>" ...]');
        process.exit(2);
    }
    let failed = 0;
    const lanes = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
        for (let c = queue.shift(); c !== undefined; c = queue.shift()) if (!(await run(c))) failed++;
    });
    await Promise.all(lanes);
    process.exit(failed > 0 ? 1 : 0);
}

main();
