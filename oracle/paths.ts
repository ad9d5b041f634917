/** Where the oracle's processes keep their LMDB environments inside `--data`. */

/** The environment of `watch.js` (the watcher alone). */
export const WATCH_DB = 'watch.mdb';
/** The environment of `main.js` (watcher + keeper). */
export const ORACLE_DB = 'oracle.mdb';
