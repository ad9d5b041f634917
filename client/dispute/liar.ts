/**
 * A liar for demonstrations and tests (`fog-worker --liar`, the devnet's `--liars`, the dispute
 * tests): a party that plays the honest run with one fault, consistently, the way a worker that
 * revealed a wrong result and defends it would. Its fault is one bit flipped in the top value of
 * the stack at the first step from `from` where that changes the result, so liars given the same
 * `from` reveal the same wrong result (a colluding pair) and liars given different ones usually
 * do not.
 */
import { ComputeJob } from '../compute/types';
import { Party } from './game';
import { Machine } from './interpreter';

/** How many steps from `from` a liar tries before giving up (each try is a whole run). */
const TRIES = 500;

/**
 * The liar for `job` whose fault strikes at the first step from `from` that changes the result
 * (`honest`: the honest run's result, when the caller has it); throws if none of the next 500 does.
 */
export function liarOf(job: ComputeJob, from: number, honest = new Party(job).result()): Party {
    for (let atStep = from; atStep < from + TRIES; atStep++) {
        const liar = new Party(job, {
            fault: {
                atStep,
                apply: (m: Machine) => {
                    if (m.sp > 0) m.st[2 * (m.sp - 1)] ^= 1;
                },
            },
        });
        if (liar.result() !== honest) return liar;
    }
    throw new Error(`no flipped bit from step ${from} to ${from + TRIES - 1} changes the result`);
}
