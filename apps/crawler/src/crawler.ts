import { isDatabaseUnavailable } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import { dispatchJobs, QUEUES, upsertSchedules } from '@atlas/shared/queue';
import { DelayedError, type Job, type Worker } from 'bullmq';
import type { CrawlerContext } from './context.ts';
import { deferralOf, holdServerForJob, serverOfJob } from './workers/deferral.ts';
import { WORKERS } from './workers/index.ts';
import type { WorkerRegistration, WorkerSetup } from './workers/registration.ts';

export interface StartCrawlerOptions {
  /** Workers to run (default: every worker in workers/index.ts). */
  workers?: readonly WorkerRegistration[];
  /** Upsert the queues' job schedulers (the sweeper, the index); `crawl --once` does not. */
  schedule: boolean;
}

export interface RunningCrawler {
  workers: Worker[];
  /** Stops the workers (running jobs see the context's signal and stop early), then closes what they opened. */
  close(options?: { force?: boolean }): Promise<void>;
}

/** Starts one BullMQ worker per registration on the context's queues, as each queue's definition says. */
export async function startCrawler(
  ctx: CrawlerContext,
  options: StartCrawlerOptions,
): Promise<RunningCrawler> {
  const workers: Worker[] = [];
  const setups: WorkerSetup[] = [];
  const databaseWatch = watchDatabase(ctx.log);
  for (const registration of options.workers ?? WORKERS) {
    const { queue } = registration;
    const setup = (await registration.setup(ctx)) as WorkerSetup;
    setups.push(setup);
    const log = ctx.log.child({ queue });
    const dispatch = dispatchJobs(queue, setup.processors);
    const processor = async (job: Job<unknown>, token?: string): Promise<unknown> => {
      try {
        const release = await holdServerForJob(ctx.serverHolds, serverOfJob(job.data), job.attemptsStarted);
        try {
          const result = await dispatch(job);
          databaseWatch.reached();
          return result;
        } finally {
          release();
        }
      } catch (error) {
        const deferral = deferralOf(error, job.attemptsStarted);
        if (!deferral) throw error;
        if (isDatabaseUnavailable(error)) databaseWatch.lost(error);
        ctx.stats.jobsDeferred++;
        log.debug(
          { jobId: job.id, job: job.name, delayMs: deferral.delayMs, reason: deferral.message },
          'job deferred',
        );
        await job.moveToDelayed(Date.now() + deferral.delayMs, token);
        throw new DelayedError();
      }
    };
    const worker = ctx.queues.worker(queue, processor, {
      concurrency: QUEUES[queue].concurrency(ctx.settings.concurrency),
    });
    worker.on('failed', (job, error) => {
      ctx.stats.jobFailures++;
      log.warn({ jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: error }, 'job failed');
    });
    worker.on('error', (error) => log.error({ err: error }, 'worker error'));
    // The process that ran it stopped renewing its lock (killed, or cut off from the queue): BullMQ
    // hands the job to a worker again. Its upserts make running it a second time harmless.
    worker.on('stalled', (jobId) =>
      log.warn({ jobId }, 'job stalled: the process running it stopped; running it again'),
    );
    workers.push(worker as Worker);
    if (options.schedule) await upsertSchedules(ctx.queues, queue);
  }
  return {
    workers,
    async close(closeOptions = {}) {
      await Promise.all(workers.map((worker) => worker.close(closeOptions.force === true)));
      await Promise.all(setups.map((setup) => setup.close?.()));
    },
  };
}

/**
 * One log line when jobs find the database out of reach, and one when a job succeeds again
 * (postgres.js connects again by itself on the next query; the jobs meanwhile wait, deferred).
 */
function watchDatabase(log: Logger): { lost(error: unknown): void; reached(): void } {
  let lostAt: number | undefined;
  return {
    lost(error) {
      if (lostAt !== undefined) return;
      lostAt = Date.now();
      log.warn(
        { part: 'database', err: error },
        'database connection lost: jobs wait and try again with backoff',
      );
    },
    reached() {
      if (lostAt === undefined) return;
      log.info({ part: 'database', downMs: Date.now() - lostAt }, 'database connection back');
      lostAt = undefined;
    },
  };
}
