/**
 * The meme model (docs/memes.md): the sketches it learns from, the VAE programs that train it and
 * draw with it, the shipped model against the record of the network run that trained it, and the
 * objective quality check: a classifier trained separately on real sketches recognises the subject
 * asked for in at least 80% of the pictures memes draw, and a subject's pictures are not alike.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDataset, encodeDataset } from '../examples/data/digits';
import { generateSketches, MEME_MODEL_FILE, sine, SUBJECTS } from '../examples/data/sketches';
import { runExample, vaeAverageInput, vaeMeasures, vaeSampleInput, vaeShardInput } from '../examples/catalog';
import { defaultsOf, shardParts, SKETCH_DEFAULTS, trainHere, TrainingOptions, trainingPlan } from '../examples/train';
import { frameParts } from '../client/inputs';
import {
    gridPrompt,
    measureMemes,
    memeRecord,
    memeSketches,
    qualityProblems,
    qualityTable,
    readPalettePng,
    recordedQuality,
} from '../examples/memes';
import { ROOT } from '../client/paths';
import { resultHashOf } from '../client/results';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const model = readFileSync(MEME_MODEL_FILE);

describe('the sketches (examples/data/sketches.ts)', () => {
    it('are the same bytes from the same seed, balanced over the eight subjects, and differ with the seed', () => {
        const a = generateSketches(20, 5);
        expect(encodeDataset(generateSketches(20, 5))).toEqual(encodeDataset(a));
        expect(encodeDataset(generateSketches(20, 6))).not.toEqual(encodeDataset(a));
        expect([a.features, a.classes, a.maxValue, a.samples.length]).toEqual([1024, 8, 255, 160]);
        for (let k = 0; k < 8; k++) expect(a.samples.filter((s) => s.label === k)).toHaveLength(20);
        // ink and paper both present in every picture, and no two pictures alike
        for (const s of a.samples) expect([Math.min(...s.x), Math.max(...s.x)]).toEqual([0, 255]);
        expect(new Set(a.samples.map((s) => sha(s.x))).size).toBe(160);
        // the training data is a function of the seed alone: pinned, so the shipped model's record stays reproducible
        expect(sha(encodeDataset(generateSketches(10, 1)))).toBe('637afbd2139fbf8ba6393078bb518a810ff782215e248b896e1f52df49876874');
    });

    it('uses a polynomial sine, close to Math.sin', () => {
        for (let x = -20; x <= 20; x += 0.01) expect(Math.abs(sine(x) - Math.sin(x))).toBeLessThan(1e-6);
    });
});

describe('vae-shard, vae-average and vae-sample', () => {
    let first: Buffer;
    beforeAll(async () => {
        first = await runExample('vae-shard', vaeShardInput());
    });

    it('train the same model bit for bit, with its loss and sample count after it', async () => {
        expect(await runExample('vae-shard', vaeShardInput())).toEqual(first);
        const m = vaeMeasures(first);
        expect(m.trained).toBe(80);
        expect(m.trainLoss).toBeGreaterThan(0);
        expect([m.heldOutLoss, m.heldOut]).toEqual([0, 0]);
        // a second round from the model lowers the loss on the same slice
        const next = vaeMeasures(await runExample('vae-shard', vaeShardInput(80, 16, first)));
        expect(next.trainLoss).toBeLessThan(m.trainLoss);
    });

    it('refuse what is not theirs to read, saying why', async () => {
        const parts = (settings: Buffer) => frameParts([settings, Buffer.alloc(0), encodeDataset(generateSketches(1, 3))]);
        const u32 = (...n: number[]) => Buffer.from(new Uint32Array(n).buffer);
        await expect(runExample('vae-shard', parts(u32(16, 4, 1, 0, 15, 1, 0, 0)))).rejects.toThrow(/batch size must be 1..4096/);
        await expect(runExample('vae-shard', parts(u32(16, 4, 1)))).rejects.toThrow(/settings are eight u32/);
        await expect(runExample('vae-shard', vaeShardInput(80, 8, first))).rejects.toThrow(/does not fit the data and the settings/);
        await expect(runExample('vae-average', frameParts([encodeDataset(generateSketches(1, 4))]))).rejects.toThrow(/at least one model/);
        await expect(runExample('vae-average', vaeAverageInput([first.subarray(0, first.length - 24)]))).rejects.toThrow(
            /without its measures/,
        );
        await expect(runExample('vae-sample', vaeSampleInput(first, 8, 1, 1))).rejects.toThrow(/no such subject/);
        await expect(runExample('vae-sample', vaeSampleInput(first, 0, 1, 1, 4.001))).rejects.toThrow(/temperature must be 0..4000/);
        // pixels above the dataset's largest value, and held-out data on another scale than the model's
        const sketches = generateSketches(1, 3);
        const bright = frameParts([u32(16, 4, 1, 16, 15, 1, 0, 0), Buffer.alloc(0), encodeDataset({ ...sketches, maxValue: 200 })]);
        await expect(runExample('vae-shard', bright)).rejects.toThrow(/a pixel above the dataset's largest value/);
        const dim = encodeDataset({
            ...sketches,
            samples: sketches.samples.map((x) => ({ ...x, x: x.x.map((v) => v >> 1) })),
            maxValue: 127,
        });
        await expect(runExample('vae-average', frameParts([dim, first]))).rejects.toThrow(/held-out data does not fit the models/);
        // a model whose weights are not all finite numbers
        const broken = Buffer.from(first);
        broken.writeDoubleLE(Infinity, 24);
        await expect(runExample('vae-sample', vaeSampleInput(broken, 0, 1, 1))).rejects.toThrow(/not a finite number/);
        await expect(
            runExample('vae-sample', vaeSampleInput(Buffer.concat([Buffer.from('FOGM'), Buffer.alloc(60)]), 0, 1, 1)),
        ).rejects.toThrow(/no FOGV header/);
    });

    it('vae-average: one model averages to itself; two to their mean weighted by samples; then measured on held-out sketches', async () => {
        const alone = await runExample('vae-average', vaeAverageInput([first]));
        const weights = (m: Buffer) => new Float64Array(m.buffer.slice(m.byteOffset + 24, m.byteOffset + m.length - 24));
        // (80·w)/80 in f64: the same weight, give or take its last bit
        const [own, averaged] = [weights(first), weights(alone)];
        expect(averaged).toHaveLength(own.length);
        expect(averaged.every((v, i) => Math.abs(v - own[i]) <= 2 ** -50 * Math.abs(own[i]))).toBe(true);
        const a = vaeMeasures(alone);
        expect([a.trained, a.heldOut]).toEqual([80, 40]);
        expect(a.heldOutLoss).toBeGreaterThan(0);
        const other = await runExample('vae-shard', vaeShardInput(40));
        const mean = weights(await runExample('vae-average', vaeAverageInput([first, other])));
        const [wa, wb] = [weights(first), weights(other)];
        for (const i of [0, 1000, wa.length - 1]) expect(mean[i]).toBeCloseTo((80 * wa[i] + 40 * wb[i]) / 120, 12);
    });

    it('vae-sample: picture i of seed s is picture 0 of seed s + i, the same every run', async () => {
        const four = await runExample('vae-sample', vaeSampleInput(model, 2, 4, 10));
        expect(four).toHaveLength(4 * 1024);
        const third = await runExample('vae-sample', vaeSampleInput(model, 2, 1, 12));
        expect(third).toEqual(four.subarray(2048, 3072));
        expect(await runExample('vae-sample', vaeSampleInput(model, 2, 4, 10))).toEqual(four);
        // temperature 0: the mean picture, whatever the seed
        const cold = await runExample('vae-sample', vaeSampleInput(model, 2, 2, 10, 0));
        expect(cold.subarray(0, 1024)).toEqual(cold.subarray(1024));
    });
});

describe('training the sketch model (fog train --task sketches)', () => {
    const small: TrainingOptions = { ...SKETCH_DEFAULTS, samples: 240, shards: 2, rounds: 2, epochs: 1, hidden: 16 };

    it('checks its options and gives the same models on every run, the loss falling', async () => {
        expect(defaultsOf('sketches')).toBe(SKETCH_DEFAULTS);
        expect(() => trainingPlan({ ...small, latent: 0 })).toThrow('latent dimensions must be a whole number from 1 to 256, got 0');
        expect(() => trainingPlan({ ...small, batch: 5000 })).toThrow('batch size must be a whole number from 1 to 4096, got 5000');
        const plan = trainingPlan(small);
        expect(decodeDataset(plan.heldOut).features).toBe(1024);
        const models = await trainHere(plan);
        expect(await trainHere(plan)).toEqual(models);
        const [a, b] = models.map(vaeMeasures);
        expect(b.heldOutLoss).toBeLessThan(a.heldOutLoss);
        expect([b.trained, b.heldOut]).toEqual([216, 24]);
    });
});

describe('the shipped model (examples/data/meme-model.bin)', () => {
    it('is the last model of the recorded network run, whose first shard a run here reproduces bit for bit', async () => {
        const record = memeRecord();
        expect(record.options).toEqual(SKETCH_DEFAULTS);
        expect(record.rounds).toHaveLength(SKETCH_DEFAULTS.rounds);
        expect(resultHashOf(model)).toBe(record.rounds.at(-1)!.model);
        const plan = trainingPlan(SKETCH_DEFAULTS);
        const shard = await runExample('vae-shard', frameParts(shardParts(plan, 0, 0, Buffer.alloc(0))));
        expect(resultHashOf(shard)).toBe(record.rounds[0].shardResults[0]);
    });

    it('is what meme draws with: the sketch vae-sample draws, scaled up and coloured', async () => {
        const [picture] = await memeSketches(model, SUBJECTS.indexOf('moon'), 1);
        const meme = readPalettePng(await runExample('meme', Buffer.from('moon seed:1 | night')));
        // the model's part of the palette: 2 + band × 16 + ink level; compare the ink levels in rows without text
        const side = 32;
        const source = (p: number) => Math.trunc(((2 * p + 1) * 128) / 12) - 128;
        let compared = 0;
        for (let y = 140; y < 240; y++)
            for (let x = 0; x < 384; x++) {
                const [sy, sx] = [source(y), source(x)];
                const clamp = (v: number) => Math.max(0, Math.min(side - 1, v));
                const [y0, y1, fy] = [clamp(sy >> 8), clamp((sy >> 8) + 1), sy & 255];
                const [x0, x1, fx] = [clamp(sx >> 8), clamp((sx >> 8) + 1), sx & 255];
                const top = picture[y0 * side + x0] * (256 - fx) + picture[y0 * side + x1] * fx;
                const bottom = picture[y1 * side + x0] * (256 - fx) + picture[y1 * side + x1] * fx;
                const v = (top * (256 - fy) + bottom * fy) >> 16;
                const ink = Math.min(255, Math.max(0, (v - 64) * 2));
                expect((meme.pixels[y * 384 + x] - 2) % 16).toBe(Math.floor((ink * 16) / 256));
                compared++;
            }
        expect(compared).toBe(38_400);
    });
});

describe('quality (docs/memes.md): a classifier trained on real sketches recognises what was asked for', () => {
    it('in at least 80% of the pictures of every subject, which are not alike; the docs show this very run', async () => {
        const { quality, grid } = await measureMemes(model);
        console.log(
            `meme model quality (${quality.perSubject} pictures a subject, seeds 1–${quality.perSubject}):\n${qualityTable(quality)}`,
        );
        expect(quality.classifier.heldOutRight / quality.classifier.heldOut).toBeGreaterThan(0.95);
        for (const s of quality.subjects) {
            expect(s.recognised / s.of).toBeGreaterThanOrEqual(0.8);
            expect(s.distinct).toBe(s.of);
            // the pictures of one subject vary: their mean distance is a good part of real sketches'
            expect(s.diversity).toBeGreaterThan(0.3 * s.realDiversity);
        }
        expect(qualityProblems(quality)).toEqual([]);
        // the bar train:meme checks before shipping says why a model falls short
        const poor = { ...quality, subjects: quality.subjects.map((s, i) => (i === 0 ? { ...s, recognised: 39, distinct: 49 } : s)) };
        expect(qualityProblems(poor)).toEqual(['cat: 39 of 50 recognised, below 80%', 'cat: only 49 of 50 pictures differ']);
        expect(quality.model).toBe(resultHashOf(model));
        // the docs' figures and grid are exactly this run's
        expect(recordedQuality()).toEqual(quality);
        expect(sha(readFileSync(join(ROOT, 'docs', 'memes', 'grid.png')))).toBe(sha(grid));
        expect(readFileSync(join(ROOT, 'docs', 'memes.md'), 'utf-8')).toContain(qualityTable(quality));
        expect(gridPrompt('cat', 0)).toBe('cat | seed:1');
    });
});
