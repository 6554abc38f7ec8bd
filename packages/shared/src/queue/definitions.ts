import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue Atlas runs, with its retry and retention policy stated in one place.
 * Jobs are idempotent because BullMQ delivers at least once; the database, not the queue, is the
 * record of what was found, so completed jobs are dropped quickly and failures kept a while for
 * the dashboard.
 */
export const QUEUE_NAMES = ['probe', 'crawl', 'complexity', 'index', 'sweep'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface QueueDefinition {
  name: QueueName;
  /** How many jobs one process runs at once. */
  concurrency: number;
  jobOptions: DefaultJobOptions;
}

const keepFailures = { age: 7 * 24 * 3600, count: 1000 };

export const QUEUES: Record<QueueName, QueueDefinition> = {
  // One probe per server at a time (the job id is the server name). A server that does not answer
  // is a result, recorded in server_checks, not a job failure, so retries only cover our own faults.
  probe: {
    name: 'probe',
    concurrency: 16,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
  },
  // One crawl per server at a time. A crawl resumes nothing: a retry starts a fresh run, and the
  // upserts make that harmless.
  crawl: {
    name: 'crawl',
    concurrency: 16,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
  },
  complexity: {
    name: 'complexity',
    concurrency: 8,
    jobOptions: {
      attempts: 2,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
  },
  // Pushes rows changed since their last indexing; a failed run is caught up by the next one.
  index: {
    name: 'index',
    concurrency: 1,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
  },
  // The scheduler's tick: finds servers due for a probe or crawl and enqueues them.
  sweep: {
    name: 'sweep',
    concurrency: 1,
    jobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
  },
};

/**
 * A stable job id for deduplication ("one probe per server at a time"). BullMQ refuses ids with
 * ':' and server names and room ids carry one, so the key is base64url-encoded.
 */
export function jobIdFor(queue: QueueName, key: string): string {
  return `${queue}_${Buffer.from(key, 'utf8').toString('base64url')}`;
}
