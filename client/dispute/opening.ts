/**
 * A dispute party's opening from the metered V8 run (docs/disputes.md, "Opening"): the halted
 * state of a job's run built from what that run ends with, instead of interpreting the whole job.
 * Apart from client/dispute/state.ts because it runs programs (the compute pool's code), which the
 * app's page, which computes initial roots, must not bundle.
 */
import { Cell } from '@ton/core';
import { ComputeJob } from '../compute/types';
import { STACK_BUDGET } from '../compute/meter-costs';
import { prepareTask } from '../compute/programs';
import { RunEnd, runToEnd, WorkerFault } from '../compute/task';
import { InterpretOptions, Machine } from './interpreter';
import { loaded, StateCells } from './state';

/** Value types whose globals the meter's GLOBAL_EXPORT reads as bits: i32, i64, f32, f64. */
const NUMERIC = new Set([0x7f, 0x7e, 0x7d, 0x7c]);

/**
 * The halted state of a job's run taken from the metered V8 run instead of the reference
 * interpreter: a halted state holds only what that run exposes (rootFields), so this is the
 * interpreter's final state, at the cost of one V8 run (milliseconds to seconds where the
 * interpreter takes minutes). A dispute party opens its match with it (client/dispute/game.ts).
 * Undefined where the V8 run cannot give it, and the caller interprets instead:
 * - a program with `data.drop` (the run does not expose which segments it dropped);
 * - a global of a type other than i32, i64, f32 and f64;
 * - a call-depth budget other than the meter's (tests lower it);
 * - a run this thread could not finish (its native stack, an allocation: a WorkerFault);
 * - a verdict the interpreter would not give: a refusal by the meter, or a failure before the
 *   instance existed where the interpreter instantiated.
 * Throws for a program refused before it runs, as the interpreter does: it has no state.
 */
export async function haltedCell(job: ComputeJob, options: InterpretOptions = {}): Promise<Cell | undefined> {
    const machine = await haltedMachine(job, options);
    return machine && new StateCells(machine).cell();
}

/** haltedCell's machine: the interpreter's machine, halted as the metered V8 run ended (or undefined, as there). */
export async function haltedMachine(job: ComputeJob, options: InterpretOptions = {}): Promise<Machine | undefined> {
    if (options.stackBudget !== undefined && options.stackBudget !== STACK_BUDGET) return undefined;
    const machine = loaded(job, options);
    if (machine.halted) return machine;
    if (machine.m.codes.some((c) => c.op.includes(0xfc09))) return undefined;
    if (machine.m.globals.some((g) => !NUMERIC.has(g.type))) return undefined;
    const task = await prepareTask(job, machine.maxOutput);
    if ('status' in task) return undefined;
    let end: RunEnd;
    try {
        end = runToEnd(task, machine.globals.length / 2);
    } catch (e) {
        if (e instanceof WorkerFault) return undefined;
        throw e;
    }
    if (end.state === undefined) return undefined;
    machine.endAs(end.result, end.state);
    return machine;
}
