import wabtFactory from 'wabt';

let wabt: ReturnType<typeof wabtFactory> | undefined;

/** wabt's post-MVP features (e.g. `{ exceptions: true }`), beyond the ones it enables by default. */
export type WatFeatures = Parameters<Awaited<ReturnType<typeof wabtFactory>>['parseWat']>[2];

/** Compiles WebAssembly text to a binary module. */
export async function wat(text: string, features?: WatFeatures): Promise<Uint8Array> {
    wabt ??= wabtFactory();
    const module = (await wabt).parseWat('program.wat', text, features);
    try {
        return module.toBinary({}).buffer;
    } finally {
        module.destroy();
    }
}
