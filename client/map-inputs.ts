/**
 * A map's inputs (docs/map-reduce.md): a file cut at record boundaries, or a directory's files,
 * for `fog job map` and the blueprint `postMap` script. Apart from client/map.ts, which the web
 * app bundles, because reading a directory needs Node's file system.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SHARDS } from '../wrappers/protocol';

/**
 * `bytes` cut into `count` pieces at record boundaries, as even in size as the records allow: a
 * record is a line (up to and including its newline) or `record` bytes. Throws a RangeError when
 * there are fewer records than pieces, or the size is not a whole number of records.
 */
export function splitRecords(bytes: Buffer, count: number, record: 'line' | number): Buffer[] {
    const ends: number[] = [];
    if (record === 'line') {
        for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) ends.push(at + 1);
        if (ends.at(-1) !== bytes.length && bytes.length > 0) ends.push(bytes.length);
    } else {
        if (bytes.length % record !== 0)
            throw new RangeError(`the file's ${bytes.length} bytes are not a whole number of ${record}-byte records`);
        for (let at = record; at <= bytes.length; at += record) ends.push(at);
    }
    if (ends.length < count)
        throw new RangeError(
            `the file has ${ends.length} ${record === 'line' ? 'lines' : 'records'}, fewer than the ${count} shards asked for`,
        );
    const pieces: Buffer[] = [];
    let from = 0;
    let last = -1;
    for (let i = 0; i < count; i++) {
        // the first record end at or past this piece's share, leaving a record for each piece after it
        let j = last + 1;
        const target = ((i + 1) * bytes.length) / count;
        while (j < ends.length - (count - i) && ends[j] < target) j++;
        if (i === count - 1) j = ends.length - 1;
        pieces.push(bytes.subarray(from, ends[j]));
        from = ends[j];
        last = j;
    }
    return pieces;
}

/** A map's inputs from a directory, one shard per file, in byte order of the names (not the locale's); and the names. */
export function dirInputs(dir: string): { inputs: Buffer[]; from: string[] } {
    let names: string[];
    try {
        names = readdirSync(dir).filter((f) => !f.startsWith('.') && statSync(join(dir, f)).isFile());
    } catch {
        throw new Error(`cannot read the directory ${dir}`);
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    if (names.length < 1 || names.length > MAX_SHARDS)
        throw new Error(`a map has 1 to ${MAX_SHARDS} shards: ${dir} holds ${names.length} files`);
    return {
        inputs: names.map((f) => {
            try {
                return readFileSync(join(dir, f));
            } catch {
                throw new Error(`cannot read the input file ${join(dir, f)}`);
            }
        }),
        from: names,
    };
}
