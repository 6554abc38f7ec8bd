import type { QueueName } from '@atlas/shared/queue';
import { indexWorker } from '../search/index-worker.ts';
import { crawlWorker, probeWorker, roomFactsWorker, sweepWorker } from './crawler-workers.ts';
import type { WorkerRegistration } from './registration.ts';

export type { QueueWorker, WorkerRegistration, WorkerSetup } from './registration.ts';

/** Every worker the crawler process runs (one per queue). Add a queue's worker here. */
export const WORKERS: WorkerRegistration[] = [
  probeWorker,
  crawlWorker,
  roomFactsWorker,
  sweepWorker,
  indexWorker,
];

/**
 * Queues whose jobs a pass runs; `crawl --once` runs their workers and waits for all of them to
 * drain: the rooms it stores are searchable when it ends. (The sweeper's tick is not one: a pass
 * sweeps once, itself.)
 */
export const CRAWL_QUEUES: readonly QueueName[] = ['probe', 'crawl', 'room-facts', 'index'];
