/**
 * What a worker commits for a run (client/results.ts): the output cell's hash of an output, the
 * failure marker of a failure, and the protocol's 16 MiB output cap between the two.
 */
import { outputCell } from '../client/dispute/cells';
import { sha256Hex } from '../client/hash';
import { failureHash, failureOf, MAX_OUTPUT_BYTES, resultHashOf, underOutputCap } from '../client/results';
import { ProgramResult } from '../client/compute/types';

describe('result hashes', () => {
    it('names an output by its output cell’s hash (length and 64-byte leaves), not by its sha256', () => {
        const output = Buffer.from('HELLO FROM FOG');
        expect(resultHashOf(output)).toBe(outputCell(output).hash().toString('hex'));
        expect(resultHashOf(output)).not.toBe(sha256Hex(output));
        // the length is part of it: trailing zeros give another result
        expect(resultHashOf(Buffer.concat([output, Buffer.alloc(1)]))).not.toBe(resultHashOf(output));
        expect(failureOf(resultHashOf(output))).toBeUndefined();
    });

    it('caps an output at 2^24 bytes, the output tree’s capacity', () => {
        expect(MAX_OUTPUT_BYTES).toBe(16 * 1024 * 1024);
        expect(() => resultHashOf(new Uint8Array(MAX_OUTPUT_BYTES + 1))).toThrow(
            new RangeError(`an output of ${MAX_OUTPUT_BYTES + 1} bytes is over the ${MAX_OUTPUT_BYTES}-byte cap`),
        );
    });

    it('takes an output over the cap for the failure output-limit, and leaves every other verdict alone', () => {
        const ok = (bytes: number): ProgramResult => ({ status: 'ok', output: new Uint8Array(bytes), ms: 1, fuel: 42n });
        expect(underOutputCap(ok(MAX_OUTPUT_BYTES + 1))).toEqual({
            status: 'failed',
            reason: 'output-limit',
            message: `output exceeds the cap of ${MAX_OUTPUT_BYTES} bytes`,
            fuel: 42n,
        });
        const atCap = ok(MAX_OUTPUT_BYTES);
        expect(underOutputCap(atCap)).toBe(atCap);
        const trapped: ProgramResult = { status: 'failed', reason: 'trap', message: 'unreachable', fuel: 7n };
        expect(underOutputCap(trapped)).toBe(trapped);
        expect(failureOf(failureHash('output-limit'))).toBe('output-limit');
    });
});
