import { isDatabaseUnavailable } from '@atlas/shared/db';
import type { Release, SharedHolds } from '@atlas/shared/net';
import { isBusy } from '../remote/errors.ts';

/**
 * A job that cannot run now for a reason of Atlas's own (another crawler process works on its
 * server, or this process's fair share for heavy servers is taken): it goes back to the queue,
 * delayed, without counting as an attempt, and nothing is recorded about the server (ADR 0009).
 */
export class JobDeferred extends Error {
  override name = 'JobDeferred';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/**
 * How long a job waits before it is tried again while Atlas's own database is out of reach: a few
 * seconds, jittered, growing with each start up to half a minute.
 */
export function deferDelay(attemptsStarted: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 2_000 * 2 ** Math.max(0, Math.min(attemptsStarted - 1, 4)));
  return Math.round(base * (0.5 + random()));
}

/**
 * How long a job waits when another crawler process has its server (a job of that server runs, or
 * its requests kept it busy): about a second, jittered, growing to five at most. That work ends in
 * seconds, and the job should follow it closely: with waits growing to half a minute, three
 * processes stored a federation's rooms in 201 s where one took 149 s (ADR 0009). A retry costs a
 * few Redis commands.
 */
export function contentionDelay(attemptsStarted: number, random: () => number = Math.random): number {
  const base = Math.min(5_000, 1_000 * 1.5 ** Math.max(0, Math.min(attemptsStarted - 1, 4)));
  return Math.round(base * (0.5 + random()));
}

/**
 * The deferral an error asks for: a `JobDeferred`, a request that found its server busy, or Atlas's
 * own database out of reach (restarting, say), which must not spend the job's attempts either.
 */
export function deferralOf(error: unknown, attemptsStarted: number): JobDeferred | undefined {
  if (error instanceof JobDeferred) return error;
  if (isBusy(error)) return new JobDeferred(error.message, contentionDelay(attemptsStarted));
  if (isDatabaseUnavailable(error)) {
    return new JobDeferred(
      `the database cannot be reached (${error instanceof Error ? error.message : String(error)})`,
      deferDelay(attemptsStarted),
    );
  }
  return undefined;
}

/** The server a job works for (probe, crawl, room follow-up), when it works for one. */
export function serverOfJob(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  const name = record.serverName ?? record.listingServer;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Takes the server's job hold (crawler processes on Redis): one job per server at a time across
 * every process. Held elsewhere: the job is deferred. Without shared holds nothing is held.
 */
export async function holdServerForJob(
  holds: SharedHolds | undefined,
  serverName: string | undefined,
  attemptsStarted: number,
): Promise<Release> {
  if (!holds || serverName === undefined) return () => {};
  const release = await holds.tryAcquire(`job:${serverName}`);
  if (!release) {
    throw new JobDeferred(
      `another crawler process runs a job of ${serverName}`,
      contentionDelay(attemptsStarted),
    );
  }
  return release;
}
