/**
 * The pieces of map and reduce that need no chain: a composite input's manifest and framing
 * (client/inputs.ts), how `fog job map --split` cuts a file, and how a map's progress reads.
 * The whole flow on a devnet with workers is in network.spec.ts.
 */
import {
    frameParts,
    InputPart,
    inputsManifest,
    INPUTS_HEADER,
    isManifest,
    MalformedInputsError,
    MAX_INPUT_PARTS,
    parseManifest,
    unframeParts,
} from '../client/inputs';
import { resultHashOf } from '../client/results';
import { sha256Hex } from '../client/storage';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Address } from '@ton/core';
import { readTrainingRecord } from '../requester/train';
import { exampleNamed, mlpInferInput, runExample } from '../examples/catalog';
import {
    reduceParts,
    roundAccuracy,
    roundFuel,
    shardParts,
    trainHere,
    TRAINING_DEFAULTS,
    TrainingOptions,
    trainingPlan,
} from '../examples/train';
import { decodeDataset } from '../examples/data/digits';
import { jobSpec } from '../client/actions';
import { mapProgress } from '../client/map';
import { splitRecords } from '../client/map-inputs';
import { JobState } from '../wrappers/Job';
import { PhaseDisputing, PhaseDone, PhaseExpired, PhaseOpen } from '../wrappers/Hub';
import { failureHash } from '../client/results';

const part = (kind: 'blob' | 'result', text: string): InputPart => {
    const hash = kind === 'blob' ? sha256Hex(Buffer.from(text)) : resultHashOf(Buffer.from(text));
    return { kind, hash, uri: `https://storage.example/${kind}s/${hash}` };
};

describe('a composite input', () => {
    it('writes a manifest that reads back part for part, in order', () => {
        const parts = [part('result', 'a'), part('blob', 'b'), part('result', 'c')];
        const manifest = inputsManifest(parts);
        expect(manifest.toString('latin1').startsWith(INPUTS_HEADER)).toBe(true);
        expect(manifest.toString('latin1').split('\n')).toHaveLength(parts.length + 2);
        expect(parseManifest(manifest)).toEqual(parts);
        expect(isManifest(manifest)).toBe(true);
    });

    it('is not a manifest unless it begins with the header: any other input is the program’s as it is', () => {
        for (const plain of ['', 'fog-inputs 1', 'fog-inputs 2\nblob', ' fog-inputs 1\n', 'hello'])
            expect(parseManifest(Buffer.from(plain))).toBeUndefined();
    });

    it('refuses, the same way on every worker, an input that begins with the header but is not a manifest as written', () => {
        const good = inputsManifest([part('blob', 'x')]).toString('latin1');
        const h = '0'.repeat(64);
        const bad = [
            INPUTS_HEADER, // no parts
            good.slice(0, -1), // no final newline
            good + '\n', // an empty line
            good.replace('blob', 'Blob'),
            good.replace(/[0-9a-f]{64}/, 'A'.repeat(64)), // upper-case hex
            good.replace(/[0-9a-f]{64}/, h.slice(1)), // 63 digits
            good.replace('https://', 'ftp://'),
            good.replace('https://storage.example/', 'https://storage example/'),
            good.replace(' https', '  https'),
            good.slice(0, -1) + '\r\n',
            INPUTS_HEADER + `blob ${h} https://x/y\n`.repeat(MAX_INPUT_PARTS + 1),
        ];
        for (const text of bad) expect(() => parseManifest(Buffer.from(text, 'latin1'))).toThrow(MalformedInputsError);
    });

    it('will not write a manifest of no parts, too many, or a part it could not read back', () => {
        expect(() => inputsManifest([])).toThrow(/1 to 1024 parts/);
        expect(() => inputsManifest(Array.from({ length: MAX_INPUT_PARTS + 1 }, () => part('blob', 'x')))).toThrow(/1 to 1024 parts/);
        expect(() => inputsManifest([{ ...part('blob', 'x'), uri: 'https://x/a b' }])).toThrow(/part 0 cannot be written/);
        expect(() => inputsManifest([{ ...part('blob', 'x'), hash: 'AB'.repeat(32) }])).toThrow(/part 0 cannot be written/);
    });

    it('is what jobSpec computes the initial root over: a manifest needs the framed parts, and only a manifest takes them', () => {
        const program = readFileSync(exampleNamed('concat').program);
        const urlOf = (h: string) => `https://storage.example/blobs/${h}`;
        const manifest = inputsManifest([part('blob', 'x')]);
        expect(() => jobSpec({ program, input: manifest, urlOf })).toThrow(/workers read as a composite input's manifest/);
        expect(() => jobSpec({ program, input: Buffer.from('plain'), programInput: frameParts([]), urlOf })).toThrow(
            /a program input goes with a composite input/,
        );
        const framed = frameParts([Buffer.from('x')]);
        const spec = jobSpec({ program, input: manifest, programInput: framed, urlOf });
        expect(spec.inputHash).toBe(BigInt('0x' + sha256Hex(manifest)));
        const plain = jobSpec({ program, input: framed, urlOf });
        expect(spec.initialRoot).toBe(plain.initialRoot);
    });

    it('frames parts as count, then length and bytes each, and unframes them back; refuses what is not framed', () => {
        const parts = [Buffer.from('one'), Buffer.alloc(0), Buffer.alloc(70_000, 9)];
        const framed = frameParts(parts);
        expect(framed.readUInt32LE(0)).toBe(3);
        expect(framed.readUInt32LE(4)).toBe(3);
        expect(framed.length).toBe(4 + 3 * 4 + 3 + 70_000);
        expect(unframeParts(framed)).toEqual(parts);
        expect(() => unframeParts(framed.subarray(0, framed.length - 1))).toThrow(/runs past the end/);
        expect(() => unframeParts(Buffer.concat([framed, Buffer.from([0])]))).toThrow(/1 bytes after the last part/);
        expect(() => unframeParts(Buffer.alloc(2))).toThrow(/start with their count/);
    });

    it('is read by the concat reducer as the parts joined, and a frame that lies about a length fails the run', async () => {
        const parts = ['map ', 'and ', 'reduce'].map((t) => Buffer.from(t));
        expect((await runExample('concat', frameParts(parts))).toString()).toBe('map and reduce');
        const framed = frameParts(parts);
        framed.writeUInt32LE(99, 4);
        await expect(runExample('concat', framed)).rejects.toThrow(/trap/);
    });
});

describe('fog job map --split', () => {
    const text = Buffer.from(Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));

    it('cuts at line ends into pieces as even as the lines allow, losing and reordering nothing', () => {
        for (const count of [1, 2, 3, 4, 10]) {
            const pieces = splitRecords(text, count, 'line');
            expect(pieces).toHaveLength(count);
            expect(Buffer.concat(pieces)).toEqual(text);
            for (const p of pieces) expect(p.at(-1)).toBe(10);
            const sizes = pieces.map((p) => p.length);
            expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(7 * Math.ceil(10 / count));
        }
        // a last line without its newline is a line too
        expect(splitRecords(Buffer.from('a\nb'), 2, 'line').map(String)).toEqual(['a\n', 'b']);
        // one long line and many short ones: every piece still gets a line
        const skewed = Buffer.from('x'.repeat(1000) + '\n' + 'y\n'.repeat(5));
        const pieces = splitRecords(skewed, 4, 'line');
        expect(pieces.every((p) => p.length > 0)).toBe(true);
        expect(Buffer.concat(pieces)).toEqual(skewed);
    });

    it('cuts at whole records of a size, and refuses a file of fewer records than shards or of a part record', () => {
        const records = Buffer.alloc(64 * 10, 1);
        const pieces = splitRecords(records, 3, 64);
        expect(pieces.map((p) => p.length)).toEqual([256, 192, 192]);
        expect(() => splitRecords(records, 11, 64)).toThrow(/10 records, fewer than the 11 shards/);
        expect(() => splitRecords(Buffer.alloc(100), 2, 64)).toThrow(/not a whole number of 64-byte records/);
        expect(() => splitRecords(Buffer.from('a\nb\n'), 3, 'line')).toThrow(/2 lines, fewer than the 3 shards/);
        expect(() => splitRecords(Buffer.alloc(0), 1, 'line')).toThrow(/0 lines/);
    });
});

describe('a map’s progress', () => {
    const job = (phase: bigint, result = 0n) => ({ phase, result }) as unknown as JobState;
    it('counts shards done, running (and disputing), whose program failed, and refunded, with a bar of the final ones', () => {
        const states = [
            job(PhaseDone, BigInt('0x' + resultHashOf(Buffer.from('out')))),
            job(PhaseDone, BigInt('0x' + failureHash('trap'))),
            job(PhaseExpired),
            job(PhaseOpen),
            job(PhaseDisputing),
            job(PhaseDone, 1n),
        ];
        const { line, counts } = mapProgress(7n, states, 12);
        expect(counts).toEqual({ done: 2, running: 2, 'program-failed': 1, refunded: 1 });
        expect(line).toBe('map 7: [########....] 2/6 done · 2 running (1 disputing) · 1 program failed · 1 refunded');
    });
});

describe('data-parallel training (examples/train.ts, fog train)', () => {
    const small: TrainingOptions = { ...TRAINING_DEFAULTS, samples: 600, shards: 3, rounds: 2, epochs: 2, hidden: 16 };

    it('cuts the generated digits into held-out ones and one slice per shard, losing none', () => {
        const plan = trainingPlan(small);
        const held = decodeDataset(plan.heldOut).samples.length;
        const slices = plan.slices.map((s) => decodeDataset(s).samples.length);
        expect(held).toBe(60);
        expect(slices).toEqual([180, 180, 180]);
        // the same options give the same bytes: the data is part of the schedule
        expect(trainingPlan(small).slices).toEqual(plan.slices);
        expect(trainingPlan({ ...small, seed: 2 }).slices[0]).not.toEqual(plan.slices[0]);
    });

    it('refuses options that are out of range, naming them', () => {
        expect(() => trainingPlan({ ...small, shards: 0 })).toThrow('shards must be a whole number from 1 to 64, got 0');
        expect(() => trainingPlan({ ...small, rate: 0 })).toThrow(
            /learning rate in ten-thousandths must be a whole number from 1 to 10000/,
        );
        expect(() => trainingPlan({ ...small, samples: 25, shards: 30 })).toThrow('23 training samples cannot be cut into 30 shards');
        expect(() => trainingPlan({ ...small, hidden: 1.5 })).toThrow('hidden units must be a whole number from 1 to 1024, got 1.5');
        expect(() => trainingPlan({ ...small, seed: 0 })).toThrow('seed must be a whole number from 1 to 4294967295, got 0');
        // checked before the data is made: a reduce over 64 big models and 450,000 held-out digits does not fit
        expect(() => trainingPlan({ ...small, samples: 500_000, heldOutPercent: 90, hidden: 1024, shards: 64 })).toThrow(
            /^a reduce would read \d+ bytes, more than a composite input holds \(67112964\): fewer samples, hidden units or shards$/,
        );
    });

    it('reads a record to resume from, and refuses one it cannot go on with, saying why (fog train --resume)', () => {
        const dir = mkdtempSync(join(tmpdir(), 'fog-record-'));
        try {
            const path = join(dir, 'model.bin.json');
            const hub = new Address(0, Buffer.alloc(32, 1)).toString();
            const requester = new Address(0, Buffer.alloc(32, 2)).toString();
            const model = 'ab'.repeat(32);
            const good = {
                options: small,
                jobPrice: '1000000000',
                k: 1,
                quorum: 1,
                mfuel: 63,
                memory: 256,
                hub,
                requester,
                storage: 'http://127.0.0.1:7070',
                rounds: [{ round: 1, map: '0', shards: ['0', '1', '2'], reduce: '3', model, seconds: 1 }],
                pending: { round: 2, mapSince: '12345', map: '4' },
            };
            const write = (r: unknown) => writeFileSync(path, typeof r === 'string' ? r : JSON.stringify(r));
            write(good);
            expect(readTrainingRecord(path)).toEqual(good);
            // a finished run reads too (its model may still have to be written)
            write({ ...good, rounds: [...good.rounds, { ...good.rounds[0], round: 2 }], pending: undefined });
            expect(readTrainingRecord(path).rounds).toHaveLength(2);
            expect(() => readTrainingRecord(join(dir, 'none.json'))).toThrow(/^--resume: there is no .*none\.json/);
            write('{ "options": ');
            expect(() => readTrainingRecord(path)).toThrow(/is not a training record: /);
            const refused = /is not a record of a fog train run this version can go on with$/;
            // an earlier version's record (no terms, network or wallet), a round out of order, an id
            // that is no id, a pending round that is not the next, a bad address, a finished run with a round under way
            for (const bad of [
                { options: small, jobPrice: '1', k: 1, rounds: [] },
                { ...good, rounds: [{ ...good.rounds[0], round: 2 }] },
                { ...good, pending: { round: 2, map: 'four' } },
                { ...good, pending: { round: 3 } },
                { ...good, hub: 'not an address' },
                { ...good, rounds: [...good.rounds, { ...good.rounds[0], round: 2 }] },
            ]) {
                write(bad);
                expect(() => readTrainingRecord(path)).toThrow(refused);
            }
            write({ ...good, options: { ...small, shards: 0 } });
            expect(() => readTrainingRecord(path)).toThrow(
                /holds a schedule that is not valid: shards must be a whole number from 1 to 64, got 0/,
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('measures the fuel a round’s shard and reduce use, as the limit fog train posts from', async () => {
        const plan = trainingPlan(small);
        const fuel = await roundFuel(plan, 256);
        expect(fuel.shard).toBeGreaterThan(fuel.reduce);
        // twice the epochs, about twice the shard's fuel
        const longer = await roundFuel(trainingPlan({ ...small, epochs: 4 }), 256);
        expect(Number(longer.shard) / Number(fuel.shard)).toBeGreaterThan(1.7);
        expect(longer.reduce).toBe(fuel.reduce);
    });

    it('trains here to the same bytes every time, each round from the last, and learns', async () => {
        const plan = trainingPlan(small);
        const models = await trainHere(plan);
        expect(models).toHaveLength(2);
        expect(await trainHere(plan)).toEqual(models);
        expect(models[1]).not.toEqual(models[0]);
        const last = roundAccuracy(models[1]);
        expect(last).toMatchObject({ heldOut: 60, trained: 540 });
        expect(last.heldOutRight / last.heldOut).toBeGreaterThan(0.7);
        // the round's model is mlp-shard's next input: a model mlp-infer reads as it is
        const digits = decodeDataset(plan.heldOut).samples.slice(0, 5);
        const read = (
            await runExample(
                'mlp-infer',
                mlpInferInput(
                    models[1],
                    digits.map((s) => s.x),
                ),
            )
        )
            .toString()
            .trim()
            .split('\n');
        expect(read).toHaveLength(5);
    });

    it('fails the same way on every worker on parts that are not a shard’s or a reduce’s', async () => {
        const plan = trainingPlan(small);
        const parts = shardParts(plan, 0, 0, Buffer.alloc(0));
        await expect(runExample('mlp-shard', frameParts(parts.slice(0, 2)))).rejects.toThrow(/expects three parts/);
        await expect(runExample('mlp-shard', frameParts([Buffer.alloc(20), parts[1], parts[2]]))).rejects.toThrow(/six u32/);
        const model = await runExample('mlp-shard', frameParts(parts));
        const wider = await runExample('mlp-shard', frameParts(shardParts(trainingPlan({ ...small, hidden: 8 }), 0, 0, Buffer.alloc(0))));
        await expect(runExample('mlp-shard', frameParts(shardParts(plan, 1, 0, wider)))).rejects.toThrow(/does not fit/);
        await expect(runExample('mlp-average', frameParts(reduceParts(plan, [model, wider])))).rejects.toThrow(/different sizes/);
        await expect(runExample('mlp-average', frameParts(reduceParts(plan, [model.subarray(0, model.length - 16)])))).rejects.toThrow(
            /without its accuracy counts/,
        );
        await expect(runExample('mlp-average', frameParts([plan.heldOut]))).rejects.toThrow(/at least one model/);
    });
});
