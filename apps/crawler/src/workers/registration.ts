import type { Processor, QueueName } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';

export interface WorkerSetup {
  processor: Processor<unknown>;
  /** Called at shutdown, after the worker has stopped (close what `setup` opened). */
  close?(): Promise<void>;
}

/**
 * One worker of the crawler process. Other parts of Atlas add theirs (the search index worker) with
 * one line in `workers/index.ts`, or pass extra registrations to `startCrawler`.
 */
export interface WorkerRegistration {
  queue: QueueName;
  /** Jobs this process runs at once (default: the queue's definition). */
  concurrency?(ctx: CrawlerContext): number;
  /** Called once per process before the worker starts. */
  setup(ctx: CrawlerContext): Promise<WorkerSetup> | WorkerSetup;
  /** Job schedulers the queue needs (`upsertJobScheduler` with stable ids); run by `atlas start`/`crawler`. */
  schedule?(ctx: CrawlerContext): Promise<void>;
}
