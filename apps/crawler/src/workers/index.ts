import { indexWorker } from '../search/index-worker.ts';
import { complexityWorker, crawlWorker, probeWorker, sweepWorker } from './crawler-workers.ts';
import type { WorkerRegistration } from './registration.ts';

export type { WorkerRegistration, WorkerSetup } from './registration.ts';

/** Every worker the crawler process runs (one per queue). Add a queue's worker here. */
export const WORKERS: WorkerRegistration[] = [
  probeWorker,
  crawlWorker,
  complexityWorker,
  sweepWorker,
  indexWorker,
];
