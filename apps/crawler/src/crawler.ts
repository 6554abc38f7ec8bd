import type { Worker } from 'bullmq';
import type { CrawlerContext } from './context.ts';
import { WORKERS } from './workers/index.ts';
import type { WorkerRegistration, WorkerSetup } from './workers/registration.ts';

/**
 * How long a job's lock lives without renewal: when a crawler process dies (kill -9, a lost
 * container), its running jobs go back to waiting within about lock + check interval, and another
 * worker picks them up. Renewal happens at half the lock duration.
 */
export const LOCK_DURATION_MS = 20_000;
export const STALLED_INTERVAL_MS = 10_000;

export interface StartCrawlerOptions {
  /** Workers to run (default: every worker in workers/index.ts). */
  workers?: readonly WorkerRegistration[];
  /** Upsert the workers' job schedulers (the sweeper); `crawl --once` does not. */
  schedule: boolean;
}

export interface RunningCrawler {
  workers: Worker[];
  /** Stops the workers (running jobs see the context's signal and stop early), then closes what they opened. */
  close(options?: { force?: boolean }): Promise<void>;
}

/** Starts one BullMQ worker per registration on the context's queues. */
export async function startCrawler(
  ctx: CrawlerContext,
  options: StartCrawlerOptions,
): Promise<RunningCrawler> {
  const registrations = options.workers ?? WORKERS;
  const workers: Worker[] = [];
  const setups: WorkerSetup[] = [];
  for (const registration of registrations) {
    const setup = await registration.setup(ctx);
    setups.push(setup);
    const log = ctx.log.child({ queue: registration.queue });
    const worker = ctx.queues.worker(registration.queue, setup.processor, {
      ...(registration.concurrency ? { concurrency: registration.concurrency(ctx) } : {}),
      lockDuration: LOCK_DURATION_MS,
      stalledInterval: STALLED_INTERVAL_MS,
    });
    worker.on('failed', (job, error) => {
      ctx.stats.jobFailures++;
      log.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: error }, 'job failed');
    });
    worker.on('error', (error) => log.error({ err: error }, 'worker error'));
    workers.push(worker as Worker);
    if (options.schedule) await registration.schedule?.(ctx);
  }
  return {
    workers,
    async close(closeOptions = {}) {
      await Promise.all(workers.map((worker) => worker.close(closeOptions.force === true)));
      await Promise.all(setups.map((setup) => setup.close?.()));
    },
  };
}
