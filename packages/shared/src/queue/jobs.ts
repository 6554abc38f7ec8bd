import { type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import type { QueueName } from './definitions.ts';

const serverName = z.string().min(1).max(255);

/**
 * Every job Atlas runs: the queue it runs on, its data, and how copies of it are folded together.
 * A job's name says what runs; one processor per name (the crawler's workers).
 *
 * `dedupe` keys a job: while a job with the same key waits or runs, adding another is a no-op, and
 * the key is released when the job ends, completed or failed, so a failure kept for the dashboard
 * never blocks the next request. With `keepLastIfActive`, a request made while the job runs is kept
 * and run after it, so work queued at the last moment is not left behind.
 */
interface JobDefinition<Q extends QueueName, S extends z.ZodType> {
  queue: Q;
  data: S;
  dedupe?: (data: z.output<S>) => string;
  keepLastIfActive?: boolean;
  /** BullMQ priority (lower runs first; jobs without one run before any with one). */
  priority?: number;
}

function job<Q extends QueueName, S extends z.ZodType>(definition: JobDefinition<Q, S>): JobDefinition<Q, S> {
  return definition;
}

export const JOBS = {
  /** Resolution, version, keys, well-knowns, registration of one server; queues its read when due. */
  probe: job({
    queue: 'probe',
    data: z.object({ serverName }),
    dedupe: (data) => data.serverName,
  }),
  /** One read of a server's public room directory, stored page by page. */
  crawl: job({
    queue: 'crawl',
    data: z.object({ serverName }),
    dedupe: (data) => data.serverName,
  }),
  /**
   * The leads step of the rooms a server listed: the servers in each room (query/directory) and the
   * children of spaces. It finds servers no directory lists, so it runs before any complexity step.
   */
  'room-leads': job({
    queue: 'room-facts',
    data: z.object({ listingServer: serverName }),
    dedupe: (data) => `leads ${data.listingServer}`,
    keepLastIfActive: true,
  }),
  /** The complexity step of the rooms whose leads are gathered: Synapse's complexity, or an estimate. */
  'room-complexity': job({
    queue: 'room-facts',
    data: z.object({ listingServer: serverName }),
    dedupe: (data) => `measure ${data.listingServer}`,
    keepLastIfActive: true,
    // Measuring never holds up finding servers.
    priority: 10,
  }),
  /** Pushes rooms changed since their last indexing to the search index. */
  'index-changed': job({ queue: 'index', data: z.object({}), dedupe: () => 'changed' }),
  /** Rebuilds the search index from every room. */
  'index-rebuild': job({ queue: 'index', data: z.object({}) }),
  /** Queues the servers due for a probe or a read, and the follow-up left waiting. */
  sweep: job({ queue: 'sweep', data: z.object({}) }),
};

export type JobName = keyof typeof JOBS;
export type JobData<N extends JobName> = z.output<(typeof JOBS)[N]['data']>;
/** The jobs one queue runs. */
export type JobsOf<Q extends QueueName> = {
  [N in JobName]: (typeof JOBS)[N]['queue'] extends Q ? N : never;
}[JobName];

export function jobsOf(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((name) => JOBS[name].queue === queue);
}

/**
 * A job's name and data, checked first thing. A job this queue does not run, or data that does not
 * match its schema, can never succeed, so it fails without retries (UnrecoverableError), saying why.
 */
export function parseJob<Q extends QueueName>(
  queue: Q,
  job: Job<unknown>,
): { [N in JobsOf<Q>]: { name: N; data: JobData<N> } }[JobsOf<Q>] {
  const name = job.name as JobName;
  const definition = Object.hasOwn(JOBS, name) ? JOBS[name] : undefined;
  if (!definition || definition.queue !== queue) {
    throw new UnrecoverableError(
      `job ${job.id ?? '?'} on ${queue} is a "${job.name}" job, which it does not run`,
    );
  }
  const parsed = definition.data.safeParse(job.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableError(
      `job ${job.id ?? '?'} (${job.name}) on ${queue} has invalid data (${issue ? `${issue.path.join('.') || 'data'}: ${issue.message}` : 'invalid'})`,
    );
  }
  return { name, data: parsed.data } as never;
}

/** One processor per job a queue runs, given the job's checked data. */
export type JobProcessors<Q extends QueueName> = {
  [N in JobsOf<Q>]: (data: JobData<N>, job: Job<unknown>) => Promise<unknown>;
};

/** The worker's processor for a queue: checks each job (`parseJob`), then runs its job's processor. */
export function dispatchJobs<Q extends QueueName>(
  queue: Q,
  processors: JobProcessors<Q>,
): (job: Job<unknown>) => Promise<unknown> {
  return (job) => {
    const { name, data } = parseJob(queue, job);
    const processor = processors[name] as (data: unknown, job: Job<unknown>) => Promise<unknown>;
    return processor(data, job);
  };
}
