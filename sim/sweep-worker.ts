/**
 * One thread of the parameter sweep (sim/report.ts `sweepInParallel`): judges the parameter sets
 * it is given and posts the rows back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EconomicParams } from './model';
import { judge } from './study';

const { sets, epochs } = workerData as { sets: EconomicParams[]; epochs: number };
for (const params of sets) parentPort!.postMessage(judge(params, epochs));
