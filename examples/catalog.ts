/**
 * The example programs `fog job submit --example <name>` runs, with the input each takes when none
 * is given. Their binaries are built into dist/examples by `npm run build`.
 */
import { join } from 'node:path';
import { DIST } from '../client/paths';

export interface Example {
    name: string;
    what: string;
    /** The input used when the user gives none. */
    defaultInput(): Buffer;
}

const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
};

export const EXAMPLES: Example[] = [
    { name: 'upper', what: 'the input text in upper case', defaultInput: () => Buffer.from('hello from fog') },
    { name: 'fnv-rounds', what: '64-bit FNV-1a over the input, as many rounds as its first 4 bytes say', defaultInput: () => Buffer.concat([u32(10_000), Buffer.alloc(1020, 7)]) },
    { name: 'matmul', what: 'the product of two n×n f64 matrices (n = the first 4 bytes; generated from a fixed seed if only n is given)', defaultInput: () => u32(128) },
];

export function exampleNamed(name: string): Example & { program: string } {
    const e = EXAMPLES.find((x) => x.name === name);
    if (!e) throw new Error(`no example "${name}": try ${EXAMPLES.map((x) => x.name).join(', ')}`);
    return { ...e, program: join(DIST, 'examples', `${e.name}.wasm`) };
}
