/**
 * What @ton/core and client/ expect of a Node process, for the page: app/build.ts injects this
 * module, so every free `Buffer` in the bundle reads this one, from the `buffer` package (the one
 * @ton/core's own browser use relies on).
 */
export { Buffer } from 'buffer';
