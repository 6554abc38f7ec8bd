/**
 * When Atlas contacts a server again (docs/architecture.md, "Politeness"): failures back off, doubling
 * up to a week; a server that publishes its directory is re-read often, one that refuses (403) rarely,
 * and one that is offline only as often as its backoff allows.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const MAX_BACKOFF_MS = 7 * DAY;

export const INTERVALS = {
  /** Re-probe of a server that answered: uptime is measured from these. */
  probeOnline: HOUR,
  /** First retry of a server that did not answer, doubled on each further failure. */
  probeOfflineBase: 5 * MINUTE,
  /** First retry of a name that resolves nowhere (DNS, blocked network), doubled likewise. */
  probeInvalidBase: HOUR,
  /** Re-read of a published directory. */
  crawlPublishing: 6 * HOUR,
  /** Re-read of a very large directory: reading it is a real load on the remote server. */
  crawlLarge: 12 * HOUR,
  /** Re-check of a server that answered 403 (does not publish over federation): a normal state. */
  crawlForbidden: 7 * DAY,
  /** A directory Atlas could not read without credentials it lacks (no identity, no homeserver). */
  crawlNoAccess: DAY,
  /** First retry of a directory read that failed, doubled on each further failure. */
  crawlFailedBase: 30 * MINUTE,
} as const;

/** Directories at least this large are re-read on the `crawlLarge` interval. */
export const LARGE_DIRECTORY_ROOMS = 10_000;

/** `base` doubled for each failure after the first, capped at a week. `failures` < 1 gives `base`. */
export function backoffMs(failures: number, base: number): number {
  const exponent = Math.max(0, Math.min(Math.floor(failures) - 1, 30));
  return Math.min(base * 2 ** exponent, MAX_BACKOFF_MS);
}

export type ProbeVerdict = 'online' | 'offline' | 'invalid';

/** Delay until the next probe, from the verdict and the count of failures in a row (this one included). */
export function nextProbeDelay(verdict: ProbeVerdict, consecutiveFailures: number): number {
  switch (verdict) {
    case 'online':
      return INTERVALS.probeOnline;
    case 'offline':
      return backoffMs(consecutiveFailures, INTERVALS.probeOfflineBase);
    case 'invalid':
      return backoffMs(consecutiveFailures, INTERVALS.probeInvalidBase);
  }
}

export type CrawlOutcome = 'complete' | 'partial' | 'forbidden' | 'no_access' | 'failed';

/**
 * Delay until the next directory read. `consecutiveFailures` counts failed reads in a row, this one
 * included; `rooms` is the size of the directory just read.
 */
export function nextCrawlDelay(outcome: CrawlOutcome, consecutiveFailures: number, rooms: number): number {
  switch (outcome) {
    case 'complete':
    case 'partial':
      return rooms >= LARGE_DIRECTORY_ROOMS ? INTERVALS.crawlLarge : INTERVALS.crawlPublishing;
    case 'forbidden':
      return INTERVALS.crawlForbidden;
    case 'no_access':
      return INTERVALS.crawlNoAccess;
    case 'failed':
      return backoffMs(consecutiveFailures, INTERVALS.crawlFailedBase);
  }
}

/**
 * Spreads `delay` by ±10% so that servers found together are not all contacted again in the same
 * second. `random` is injectable for tests.
 */
export function withJitter(delay: number, random: () => number = Math.random): number {
  return Math.round(delay * (0.9 + 0.2 * random()));
}
