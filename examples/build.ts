/**
 * Compiles the example job programs to binaries in dist/examples: WebAssembly text in examples/wat
 * with wabt, AssemblyScript in examples/as with asc (both from npm). Run by `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import wabtFactory from 'wabt';
import { DIST } from '../client/paths';

export const EXAMPLES_DIR = join(DIST, 'examples');

async function main() {
    const wabt = await wabtFactory();
    const src = resolve(__dirname, '..', '..', 'examples', 'wat');
    mkdirSync(EXAMPLES_DIR, { recursive: true });
    for (const file of readdirSync(src).filter((f) => f.endsWith('.wat'))) {
        const module = wabt.parseWat(file, readFileSync(join(src, file), 'utf-8'));
        try {
            writeFileSync(join(EXAMPLES_DIR, file.replace(/\.wat$/, '.wasm')), Buffer.from(module.toBinary({}).buffer));
        } finally {
            module.destroy();
        }
    }
    // AssemblyScript: the memory imported (env.memory), the stub runtime (no GC, no extra imports),
    // optimized; fog.ts (the ABI) and lib/ are imported by programs, not programs themselves
    const asc = require.resolve('assemblyscript/bin/asc.js');
    const as = resolve(__dirname, '..', '..', 'examples', 'as');
    for (const file of readdirSync(as).filter((f) => f.endsWith('.ts') && f !== 'fog.ts')) {
        const out = join(EXAMPLES_DIR, file.replace(/\.ts$/, '.wasm'));
        execFileSync(
            process.execPath,
            [asc, join(as, file), '--outFile', out, '--importMemory', '--runtime', 'stub', '--optimizeLevel', '3', '--shrinkLevel', '0'],
            { stdio: ['ignore', 'ignore', 'inherit'] },
        );
    }
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`examples: ${(e as Error).message}\n`);
        process.exit(1);
    });
}
