import { type Job, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { QUEUE_NAMES, QUEUES } from './definitions.ts';
import { JOBS, jobsOf, parseJob } from './jobs.ts';

const job = (name: string, data: unknown) => ({ id: '1', name, data }) as unknown as Job<unknown>;

describe('jobs', () => {
  it('each run on a declared queue, and every queue runs at least one', () => {
    for (const definition of Object.values(JOBS)) expect(QUEUE_NAMES).toContain(definition.queue);
    for (const queue of QUEUE_NAMES) expect(jobsOf(queue).length).toBeGreaterThan(0);
    expect(jobsOf('room-facts').sort()).toEqual(['room-complexity', 'room-leads']);
  });

  it('schedule only jobs of their own queue', () => {
    for (const queue of QUEUE_NAMES) {
      for (const schedule of QUEUES[queue].schedules) expect(jobsOf(queue)).toContain(schedule.job);
    }
  });

  it('are checked by name and data before they run, and fail for good when wrong', () => {
    expect(parseJob('room-facts', job('room-leads', { listingServer: 'a.example' }))).toEqual({
      name: 'room-leads',
      data: { listingServer: 'a.example' },
    });
    expect(() => parseJob('room-facts', job('crawl', { serverName: 'a.example' }))).toThrow(
      UnrecoverableError,
    );
    expect(() => parseJob('crawl', job('crawl', { serverName: '' }))).toThrow(/serverName/);
    expect(() => parseJob('crawl', job('toString', {}))).toThrow(UnrecoverableError);
  });
});
