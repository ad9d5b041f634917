import { historyGas } from '../bench/history';

/**
 * Nothing grows with history: a job's whole lifecycle costs the same gas after 1,000 jobs and
 * 200 providers as the first one did (no contract keeps a map or a list that grows).
 */
describe('scale', () => {
    it(
        'costs the same gas for job #1000 with 200 providers as for job #1',
        async () => {
            const { first, last, lastId } = await historyGas({ jobsBetween: 998, providers: 200 });
            expect(lastId).toBe(999);
            const drift = Math.abs(last - first) / first;
            expect(drift).toBeLessThanOrEqual(0.01);
        },
        10 * 60_000,
    );
});
