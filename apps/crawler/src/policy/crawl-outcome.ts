import type { CrawlMode, CrawlRunStatus } from '@atlas/shared/db';
import type { StopReason } from '../crawl/pager.ts';
import type { CrawlOutcome } from './schedule.ts';

/** How one way of reading a directory ended (the pager's result, as far as a verdict needs it). */
export interface ModeAttempt {
  pages: number;
  stopReason: StopReason;
}

/**
 * Whether a read is over after this way of reading the directory: it read something, or ran out of
 * time, or Atlas is shutting down. Otherwise the next way is tried.
 */
export function readIsSettled(attempt: ModeAttempt): boolean {
  return (
    attempt.pages > 0 ||
    attempt.stopReason === 'aborted' ||
    attempt.stopReason === 'busy' ||
    attempt.stopReason === 'time_cap'
  );
}

/** What reading one server's directory came to, over every way tried. */
export interface DirectoryRead extends ModeAttempt {
  /** The way of the last attempt: the one that read, or the last one tried. */
  mode: CrawlMode;
  /** The failure that stopped the last attempt, described for the database; undefined when none. */
  error: string | undefined;
  /** Each way that read nothing, with why ("federation: HTTP 403 (M_FORBIDDEN)"). */
  failures: string[];
  /** Some way answered that its directory is not for Atlas (403 or 401). */
  refused: boolean;
  /** Federation answered 403: the server does not publish its directory over federation. */
  federationForbidden: boolean;
}

export type CrawlVerdict =
  | { outcome: 'aborted' }
  /** Another crawler process kept the server busy: no verdict on the server, the read runs again soon. */
  | { outcome: 'busy' }
  | {
      outcome: CrawlOutcome;
      /** `crawl_runs.status`. */
      runStatus: CrawlRunStatus;
      /** `crawl_runs.stop_reason`. */
      stopReason: string;
      error: string | null;
      /**
       * Whether the server publishes over federation: only a read over federation shows that
       * homeservers can browse the directory, and a 403 there shows they cannot, whatever another
       * way read. null: this read did not tell.
       */
      publishes: boolean | null;
      /**
       * What becomes of the server's listings: `close` those the read did not see (it saw all Atlas
       * keeps: the whole directory, or its biggest rooms up to the room cap), `count` them as they
       * are (a partial read), or leave them `unchanged` (nothing was read).
       */
      listings: 'close' | 'count' | 'unchanged';
      /** The read stopped at the room cap (true), ended below it (false), or did not tell (null). */
      roomCapReached: boolean | null;
      /** Rooms were read, so the directory is measured for spam signals. */
      reviewable: boolean;
    };

/**
 * The outcome of a directory read (README "crawls outcomes"): `complete` (read to the end),
 * `partial` (a cap or an error stopped it), `forbidden` (403 over federation: the server does not
 * publish, a normal state), `no_access` (no way Atlas has was accepted), `failed`.
 */
export function classifyCrawl(read: DirectoryRead): CrawlVerdict {
  if (read.stopReason === 'aborted') return { outcome: 'aborted' };
  if (read.stopReason === 'busy') return { outcome: 'busy' };
  const publishes = read.federationForbidden
    ? false
    : read.pages > 0 && read.mode === 'federation'
      ? true
      : null;
  const verdict = (
    outcome: CrawlOutcome,
    runStatus: CrawlRunStatus,
    stopReason: string,
    error: string | null,
    listings: 'close' | 'count' | 'unchanged' = 'unchanged',
    roomCapReached: boolean | null = null,
  ): CrawlVerdict => ({
    outcome,
    runStatus,
    stopReason,
    error,
    publishes,
    listings,
    roomCapReached,
    reviewable: read.pages > 0,
  });
  if (read.pages > 0) {
    // A read that reached the cap saw all Atlas keeps of the directory (its biggest rooms), so the
    // listings it did not see go as after a complete read: the server keeps at most the cap.
    if (read.stopReason === 'end') return verdict('complete', 'complete', 'end', null, 'close', false);
    if (read.stopReason === 'room_cap') return verdict('partial', 'partial', 'room_cap', null, 'close', true);
    return verdict('partial', 'partial', read.stopReason, read.error ?? null, 'count');
  }
  if (read.stopReason === 'time_cap') return verdict('failed', 'failed', 'time_cap', read.error ?? null);
  const failures = read.failures.join('; ');
  // 403 over federation: the server does not publish its directory, a normal state (read rarely).
  if (read.federationForbidden) return verdict('forbidden', 'forbidden', 'forbidden', failures);
  if (read.refused) return verdict('no_access', 'forbidden', 'forbidden', failures);
  return verdict('failed', 'failed', 'error', failures);
}

/** Failed reads in a row after this one (`servers.consecutive_crawl_failures`). */
export function crawlFailuresAfter(outcome: CrawlOutcome, before: number): number {
  return outcome === 'failed' ? before + 1 : 0;
}
