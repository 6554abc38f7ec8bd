import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  DAY,
  HOUR,
  INTERVALS,
  MAX_BACKOFF_MS,
  MINUTE,
  nextCrawlDelay,
  nextProbeDelay,
  withJitter,
} from './schedule.ts';

describe('backoff', () => {
  it('doubles from the base and stops at seven days', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 5 * MINUTE))).toEqual([5, 10, 20, 40].map((m) => m * MINUTE));
    expect(backoffMs(12, 5 * MINUTE)).toBe(7 * DAY);
    expect(backoffMs(10_000, 5 * MINUTE)).toBe(MAX_BACKOFF_MS);
    expect(backoffMs(0, HOUR)).toBe(HOUR);
  });
});

describe('probe interval', () => {
  it('probes online servers hourly and backs off offline and invalid ones', () => {
    expect(nextProbeDelay('online', 0)).toBe(INTERVALS.probeOnline);
    expect(nextProbeDelay('offline', 1)).toBe(5 * MINUTE);
    expect(nextProbeDelay('offline', 3)).toBe(20 * MINUTE);
    expect(nextProbeDelay('offline', 50)).toBe(7 * DAY);
    expect(nextProbeDelay('invalid', 2)).toBe(2 * HOUR);
  });
});

describe('crawl interval', () => {
  it('depends on the state of the directory', () => {
    expect(nextCrawlDelay('complete', 0, 100)).toBe(6 * HOUR);
    expect(nextCrawlDelay('partial', 0, 200_000)).toBe(12 * HOUR);
    expect(nextCrawlDelay('forbidden', 0, 0)).toBe(7 * DAY);
    expect(nextCrawlDelay('no_access', 0, 0)).toBe(DAY);
    expect(nextCrawlDelay('failed', 1, 0)).toBe(30 * MINUTE);
    expect(nextCrawlDelay('failed', 4, 0)).toBe(4 * HOUR);
    expect(nextCrawlDelay('failed', 40, 0)).toBe(7 * DAY);
    // A publishing server is read far more often than one that refuses.
    expect(nextCrawlDelay('complete', 0, 10)).toBeLessThan(nextCrawlDelay('forbidden', 0, 10));
  });

  it('jitters by at most ten percent', () => {
    expect(withJitter(1000, () => 0)).toBe(900);
    expect(withJitter(1000, () => 1)).toBe(1100);
    expect(withJitter(1000, () => 0.5)).toBe(1000);
  });
});
