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
import { load, Machine } from './interpreter';
import { StateCells } from './state';
import { cellHashInt } from './cells';
import { CompiledProgram, Unsupported } from './compiled';

/** How many steps from `from` a liar tries before giving up. */
const TRIES = 500;

/**
 * Steps the faulty and the honest machine run side by side after a fault before their roots are
 * compared: a flipped bit that the program overwrites or compares away (the machines meet again)
 * is given up after this, not after a whole run.
 */
const HEAL_STEPS = 1_000_000;

const flipTop = (m: Machine) => {
    if (m.sp > 0) m.st[2 * (m.sp - 1)] ^= 1;
};

const rootOf = (m: Machine) => cellHashInt(new StateCells(m).cell());

/**
 * The liar for `job` whose fault strikes at the first step from `from` that changes the result
 * (`honest`: the honest run's result, when the caller has it); throws if none of the next 500 does.
 *
 * Cost: the honest run up to `from` once (on the compiled prover where it applies), then for each
 * try a million steps of both runs on the interpreter (a fault the machines heal is dropped there)
 * and, for a fault that lasts, the rest of the faulty run. Trying each step with a whole run
 * instead took mlp-train 8 runs, 8 minutes here, for its lie.
 */
export function liarOf(job: ComputeJob, from: number, honest = new Party(job).result()): Party {
    const loaded = load(job);
    if (!(loaded instanceof Machine)) throw new Error(`the program is refused before it runs (${loaded.reason}): nothing to lie about`);
    let run = loaded;
    const prover = CompiledProgram.of(loaded);
    if (prover !== undefined) {
        try {
            prover.run([from], (_, m) => (run = m.clone()));
        } catch (e) {
            if (!(e instanceof Unsupported)) throw e;
        }
    }
    for (let atStep = from; atStep < from + TRIES; atStep++) {
        run.run(atStep);
        const faulty = run.clone();
        flipTop(faulty);
        const ahead = run.clone();
        faulty.run(atStep + HEAL_STEPS);
        ahead.run(atStep + HEAL_STEPS);
        if (faulty.steps === ahead.steps && rootOf(faulty) === rootOf(ahead)) continue; // healed: the same result
        const liar = new Party(job, { fault: { atStep, apply: flipTop } }, { machine: faulty, faulted: true });
        if (liar.result() !== honest) return liar;
    }
    throw new Error(`no flipped bit from step ${from} to ${from + TRIES - 1} changes the result`);
}
