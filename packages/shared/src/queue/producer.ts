import type { JobsOptions } from 'bullmq';
import type { QueueBackend } from './backend.ts';
import { QUEUES, type QueueName } from './definitions.ts';
import { JOBS, type JobData, type JobName } from './jobs.ts';

/**
 * A deduplication key BullMQ can hold: base64url, since server names carry ':' (kept from when the
 * key was a job id, which may not contain one).
 */
function dedupeId(queue: QueueName, key: string): string {
  return `${queue}_${Buffer.from(key, 'utf8').toString('base64url')}`;
}

/**
 * Adds jobs, the one way every part of Atlas queues work (the crawler, the sweeper, the admin API),
 * so copies of a job fold together the same way wherever they are asked for (see `JOBS`). Returns
 * the id of each job: a new one, or the one waiting or running that the request folded into.
 */
export async function enqueue<N extends JobName>(
  queues: QueueBackend,
  name: N,
  items: readonly JobData<N>[],
): Promise<string[]> {
  if (items.length === 0) return [];
  const definition = JOBS[name];
  const dedupe = definition.dedupe as ((data: JobData<N>) => string) | undefined;
  const jobs = await queues.queue(definition.queue).addBulk(
    items.map((data) => {
      const opts: JobsOptions = {};
      if (dedupe) {
        opts.deduplication = {
          id: dedupeId(definition.queue, dedupe(data)),
          ...(definition.keepLastIfActive ? { keepLastIfActive: true } : {}),
        };
      }
      if (definition.priority !== undefined) opts.priority = definition.priority;
      return { name, data, opts };
    }),
  );
  return jobs.map((job) => job.id ?? '');
}

/** Upserts the job schedulers of a queue (`QUEUES[queue].schedules`). */
export async function upsertSchedules(queues: QueueBackend, queue: QueueName): Promise<void> {
  for (const schedule of QUEUES[queue].schedules) {
    await queues
      .queue(queue)
      .upsertJobScheduler(schedule.id, schedule.repeat, { name: schedule.job, data: schedule.data });
  }
}
