import { HttpError } from '@atlas/shared/net';
import { describe, expect, it } from 'vitest';
import { contentionDelay, deferDelay, deferralOf, JobDeferred, serverOfJob } from './deferral.ts';

describe('deferring a job', () => {
  it('defers on a busy server about a second later, growing with each start up to five', () => {
    const busy = new HttpError('busy', 'another crawler process kept x.test busy', undefined, {
      transient: true,
    });
    expect(deferralOf(busy, 1)).toBeInstanceOf(JobDeferred);
    expect(deferralOf(busy, 1)?.delayMs).toBeLessThanOrEqual(1_500);
    expect(contentionDelay(1, () => 0.5)).toBe(1_000);
    expect(contentionDelay(2, () => 0.5)).toBe(1_500);
    expect(contentionDelay(50, () => 0.5)).toBe(5_000);
    expect(contentionDelay(1, () => 0)).toBe(500);
  });

  it('waits longer, up to half a minute, while the database is away', () => {
    expect(deferDelay(1, () => 0.5)).toBe(2_000);
    expect(deferDelay(2, () => 0.5)).toBe(4_000);
    expect(deferDelay(50, () => 0.5)).toBe(30_000);
  });

  it('defers while Atlas’s own database cannot be reached', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(deferralOf(refused, 1)?.message).toContain('database cannot be reached');
    const shutdown = Object.assign(new Error('terminating connection'), { code: '57P01' });
    expect(deferralOf(shutdown, 1)).toBeInstanceOf(JobDeferred);
  });

  it("never defers on the server's own failures", () => {
    expect(deferralOf(new HttpError('connect_failed', 'refused'), 1)).toBeUndefined();
    expect(deferralOf(new HttpError('total_timeout', 'slow'), 1)).toBeUndefined();
    expect(deferralOf(new Error('database'), 1)).toBeUndefined();
  });

  it('knows the server a job works for', () => {
    expect(serverOfJob({ serverName: 'a.test' })).toBe('a.test');
    expect(serverOfJob({ listingServer: 'b.test' })).toBe('b.test');
    expect(serverOfJob({})).toBeUndefined();
    expect(serverOfJob(null)).toBeUndefined();
  });
});
