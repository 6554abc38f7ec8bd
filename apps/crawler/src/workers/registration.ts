import type { JobProcessors, QueueName } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';

export interface WorkerSetup<Q extends QueueName = QueueName> {
  /** One processor per job the queue runs (`JOBS` in @atlas/shared/queue). */
  processors: JobProcessors<Q>;
  /** Called at shutdown, after the worker has stopped (close what `setup` opened). */
  close?(): Promise<void>;
}

/**
 * The worker of one queue in the crawler process. Its concurrency, retries and schedules are the
 * queue's definition (`QUEUES` in @atlas/shared/queue); add a queue's worker in `workers/index.ts`.
 */
export interface QueueWorker<Q extends QueueName> {
  queue: Q;
  /** Called once per process before the worker starts. */
  setup(ctx: CrawlerContext): Promise<WorkerSetup<Q>> | WorkerSetup<Q>;
}

/** The worker of any one queue. */
export type WorkerRegistration = { [Q in QueueName]: QueueWorker<Q> }[QueueName];
