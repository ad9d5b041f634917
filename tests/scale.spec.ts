import { historyGas } from '../bench/history';

/**
 * Nothing grows with history: a job's whole lifecycle costs the same gas after hundreds of jobs
 * and providers as the first one did (no contract keeps a map or a list that grows). The default
 * history keeps `npm test` within its time; `FOG_SCALE_JOBS=998` runs the 1,000 jobs and 200
 * providers that `npm run bench` measures.
 */
const JOBS = Number(process.env.FOG_SCALE_JOBS ?? 100);
const PROVIDERS = Math.max(1, Math.floor(JOBS / 5));

describe('scale', () => {
    it(
        `costs the same gas for job #${JOBS + 2} with ${PROVIDERS} providers as for job #1`,
        async () => {
            const { first, last, lastId } = await historyGas({ jobsBetween: JOBS, providers: PROVIDERS });
            expect(lastId).toBe(JOBS + 1);
            const drift = Math.abs(last - first) / first;
            expect(drift).toBeLessThanOrEqual(0.01);
        },
        10 * 60_000,
    );
});
