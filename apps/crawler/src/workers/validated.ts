import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';

/**
 * Parses a job's data first thing. Data that does not match its schema can never succeed, so the
 * job fails without retries (UnrecoverableError) and names what was wrong.
 */
export function parseJobData<S extends z.ZodType>(schema: S, job: Job<unknown>): z.infer<S> {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableError(
      `job ${job.id ?? '?'} on ${job.queueName} has invalid data (${issue ? `${issue.path.join('.') || 'data'}: ${issue.message}` : 'invalid'})`,
    );
  }
  return parsed.data;
}
