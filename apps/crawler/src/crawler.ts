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
          return await dispatch(job);
        } finally {
          release();
        }
      } catch (error) {
        const deferral = deferralOf(error, job.attemptsStarted);
        if (!deferral) throw error;
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
