/**
 * The meme model (docs/memes.md) in `npm run bench`: its size, a meme's time and fuel through the
 * metered pool (the way a worker runs it), and its training on local networks of 1 worker and more
 * (bench/training.ts with `fog train --task sketches`).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ComputePool } from '../client/compute/pool';
import { fuelForJob } from '../client/compute/fuel';
import { isVerdict } from '../client/compute/types';
import { exampleNamed, vaeHeader, vaeWeights } from '../examples/catalog';
import { MEME_MODEL_FILE, SUBJECTS } from '../examples/data/sketches';
import { gridPrompt } from '../examples/memes';
import { measureTraining, TrainingFigures, TrainingSizes } from './training';

export interface MemeSizes {
    /** Memes drawn through the pool (after one that compiles the program). */
    images: number;
    training: TrainingSizes;
}

export interface MemeFigures {
    /** The shipped model's weights and bytes (examples/data/meme-model.bin). */
    weights: number;
    modelBytes: number;
    /** The decoder's weights, built into meme.wasm, and that program's bytes. */
    decoderWeights: number;
    programBytes: number;
    inference: {
        images: number;
        /** The first run: the program fetched, instrumented and compiled (a worker's first meme). */
        firstMs: number;
        /** Each later run's wall time through the pool, queueing included. */
        ms: number[];
        msPerImage: number;
        fuelPerImage: number;
    };
    training: TrainingFigures;
}

/** Sizes, a meme's time through a one-thread pool, and the training runs. */
export async function measureMemes(sizes: MemeSizes): Promise<MemeFigures> {
    const model = readFileSync(MEME_MODEL_FILE);
    const { d, c, h, z } = vaeHeader(model);
    const { encoder, decoder: decoderWeights } = vaeWeights(d, c, h, z);
    const weights = encoder + decoderWeights;
    const program = readFileSync(exampleNamed('meme').program);
    const pool = new ComputePool({ threads: 1 });
    const run = async (prompt: string) => {
        const began = performance.now();
        const r = await pool.run({ program, input: Buffer.from(prompt), fuel: fuelForJob({ maxMfuel: 100_000 }), maxMemoryMb: 64 });
        if (!isVerdict(r) || r.status !== 'ok') throw new Error(`meme failed in the pool: ${JSON.stringify(r)}`);
        return { ms: performance.now() - began, fuel: Number(r.fuel) };
    };
    let inference: MemeFigures['inference'];
    try {
        const first = await run(gridPrompt(SUBJECTS[0], 0));
        const runs = [];
        for (let i = 0; i < sizes.images; i++) runs.push(await run(gridPrompt(SUBJECTS[i % SUBJECTS.length], i + 1)));
        inference = {
            images: sizes.images,
            firstMs: first.ms,
            ms: runs.map((r) => r.ms),
            msPerImage: runs.reduce((a, r) => a + r.ms, 0) / runs.length,
            fuelPerImage: runs.reduce((a, r) => a + r.fuel, 0) / runs.length,
        };
    } finally {
        await pool.close();
    }
    const training = await measureTraining(sizes.training);
    return { weights, modelBytes: model.length, decoderWeights, programBytes: program.length, inference, training };
}
