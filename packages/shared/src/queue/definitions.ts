import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue Atlas runs, with everything about it stated in one place: how many of its jobs one
 * process runs, how they are retried and kept, and the schedules that feed it. The jobs each queue
 * runs are in jobs.ts.
 *
 * Jobs are idempotent because BullMQ delivers at least once; the database, not the queue, is the
 * record of what was found, so completed jobs are dropped at once and failures kept a while for the
 * dashboard.
 */
export const QUEUE_NAMES = ['probe', 'crawl', 'room-facts', 'index', 'sweep'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** A job scheduler (`upsertJobScheduler`): a stable id, so every process upserts the same one. */
export interface QueueSchedule {
  id: string;
  repeat: { every: number } | { pattern: string };
  /** The job it adds and that job's data. */
  job: string;
  data: Record<string, unknown>;
}

export interface QueueDefinition {
  name: QueueName;
  /** How many of its jobs one process runs at once, from ATLAS_CRAWL_CONCURRENCY. */
  concurrency(crawlConcurrency: number): number;
  jobOptions: DefaultJobOptions;
  /** Upserted by the long-running crawler (`atlas start`, `atlas crawler`), not by `crawl --once`. */
  schedules: readonly QueueSchedule[];
}

const keepFailures = { age: 7 * 24 * 3600, count: 1000 };

/** How often the sweeper looks for servers due for a probe or a directory read. */
const SWEEP_EVERY_MS = 30_000;
/** How often rooms changed since their last indexing are pushed to the search index. */
export const INDEX_EVERY_MS = 15_000;

export const QUEUES: Record<QueueName, QueueDefinition> = {
  // One probe per server at a time. A server that does not answer is a result, recorded in
  // server_checks, not a job failure, so retries only cover Atlas's own faults.
  probe: {
    name: 'probe',
    concurrency: (n) => n,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
    schedules: [],
  },
  // One directory read per server at a time. A read resumes nothing: a retry starts a fresh run, and
  // the upserts make that harmless.
  crawl: {
    name: 'crawl',
    concurrency: (n) => n,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
    schedules: [],
  },
  // The follow-up of a directory read, per listing server: the leads step, then the complexity step.
  // Its jobs mostly wait on one server each (one request at a time per host), and complexity
  // requests have their own few slots, so more of them run at once than of the other queues.
  'room-facts': {
    name: 'room-facts',
    concurrency: (n) => n * 4,
    jobOptions: {
      attempts: 2,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
    schedules: [],
  },
  // Pushes rows changed since their last indexing; a failed run is caught up by the next one. One at
  // a time: two runs would push the same rows.
  index: {
    name: 'index',
    concurrency: () => 1,
    jobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: true,
      removeOnFail: keepFailures,
    },
    schedules: [
      { id: 'atlas-index', repeat: { every: INDEX_EVERY_MS }, job: 'index-changed', data: {} },
      // A nightly full rebuild: growth over 7 and 30 days moves with the calendar even for rooms that
      // did not change, and a rebuild also drops whatever an interrupted run may have left behind.
      { id: 'atlas-index-rebuild', repeat: { pattern: '17 4 * * *' }, job: 'index-rebuild', data: {} },
    ],
  },
  // The scheduler's tick: finds servers due for a probe or a directory read and queues them.
  sweep: {
    name: 'sweep',
    concurrency: () => 1,
    jobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
    schedules: [{ id: 'atlas-sweep', repeat: { every: SWEEP_EVERY_MS }, job: 'sweep', data: {} }],
  },
};

/**
 * How long a job's lock lives without renewal, for every worker: when a crawler process dies
 * (kill -9, a lost container), its running jobs go back to waiting within about lock + check
 * interval, and another worker picks them up. Renewal happens at half the lock duration.
 */
export const WORKER_LOCK = { lockDuration: 20_000, stalledInterval: 10_000 } as const;
