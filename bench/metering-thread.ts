/**
 * The thread `measureMetering` (metering.ts) starts, with the pool's resource limits: runs the
 * metering section here and posts its figures back. An error rejects the caller's promise.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { measureMeteringHere, MeteringSizes } from './metering';

if (parentPort === null) throw new Error('metering-thread.js runs only as a worker thread (see bench/metering.ts)');
const port = parentPort;
void measureMeteringHere(workerData as MeteringSizes).then((figures) => port.postMessage(figures));
