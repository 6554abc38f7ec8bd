import { claimDueServers, serversWithPendingFacts } from '@atlas/shared/db';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import { HOUR, MINUTE } from '../policy/schedule.ts';

/**
 * How far a claimed server's due time moves while its job waits. The job sets the real next time;
 * if the job is lost, the server is picked up again when the lease runs out.
 */
const PROBE_LEASE_MS = 15 * MINUTE;
const CRAWL_LEASE_MS = HOUR;
/** Servers claimed per query; a sweep loops until nothing is due. */
const CLAIM_BATCH = 500;

export interface SweepOptions {
  /** Also enqueue directory reads that are due (the periodic sweeper does; `crawl --once` lets probes do it). */
  crawls: boolean;
  /** Stop after this many servers of each kind (a periodic tick should stay short). */
  max?: number;
}

/**
 * Queues every server whose probe (and directory read) is due, one job per server at a time, and the
 * leads job of every server with rooms waiting for their follow-up (it queues their complexity job).
 */
export async function sweepDueServers(
  ctx: CrawlerContext,
  options: SweepOptions,
): Promise<{ probes: number; crawls: number; facts: number }> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  let probes = 0;
  let crawls = 0;
  while (probes < max && !ctx.signal.aborted) {
    const names = await claimDueServers(
      ctx.database.sql,
      'probe',
      Math.min(CLAIM_BATCH, max - probes),
      PROBE_LEASE_MS,
    );
    if (names.length === 0) break;
    await enqueue(
      ctx.queues,
      'probe',
      names.map((serverName) => ({ serverName })),
    );
    probes += names.length;
  }
  while (options.crawls && crawls < max && !ctx.signal.aborted) {
    const names = await claimDueServers(
      ctx.database.sql,
      'crawl',
      Math.min(CLAIM_BATCH, max - crawls),
      CRAWL_LEASE_MS,
    );
    if (names.length === 0) break;
    await enqueue(
      ctx.queues,
      'crawl',
      names.map((serverName) => ({ serverName })),
    );
    crawls += names.length;
  }
  // Rooms still waiting to be measured (their job was lost, or Atlas stopped mid-way), of servers
  // whose follow-up budget is not spent.
  const pending = await serversWithPendingFacts(ctx.database.sql, ctx.settings.directory.followUpMs);
  await enqueue(
    ctx.queues,
    'room-leads',
    pending.map((listingServer) => ({ listingServer })),
  );
  return { probes, crawls, facts: pending.length };
}
