// Builds every contract of tact.config.json into build/ (wrappers, compiled code, reports).
//
// blueprint's `build --all` does the same through its interactive UI, whose teardown throws
// ERR_USE_AFTER_CLOSE on Node 24 when stdin is not a terminal (CI, `npm test < /dev/null`), so
// the build failed after it had succeeded. This calls the same `buildAll` without that UI. The
// compilers' progress goes to stderr: stdout is for what a command was asked for (`npm start --
// --json | jq`).
'use strict';
const { buildAll } = require('@ton/blueprint');
const { projects } = require('../tact.config.json');

console.log = console.error;
// Each contract compiled starts a FunC WebAssembly module that adds an uncaughtException and an
// unhandledRejection listener to this process, so past ten contracts Node warns of a leak. It
// is one pair per contract of a process that then exits: allow exactly that many.
process.setMaxListeners(10 + projects.length * 4);
const started = Date.now();
buildAll().then(
    () => console.error(`contracts built in ${((Date.now() - started) / 1000).toFixed(1)} s`),
    (e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    },
);
