/**
 * Compiles the example job programs (WebAssembly text in examples/wat) to binaries in
 * dist/examples, with wabt from npm. Run by `npm run build`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import wabtFactory from 'wabt';

export const EXAMPLES_DIR = resolve(__dirname, '..', '..', 'dist', 'examples');

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
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`examples: ${(e as Error).message}\n`);
        process.exit(1);
    });
}
