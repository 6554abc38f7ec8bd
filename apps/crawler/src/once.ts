import { hasUnindexedRooms, makeAllServersDue, serversWithPendingFacts } from '@atlas/shared/db';
import { enqueue, INDEX_EVERY_MS } from '@atlas/shared/queue';
import type { CrawlerContext } from './context.ts';
import { recordSeeds } from './discover/discover-servers.ts';
import { progressLine, type QueueDepths, queueDepths } from './progress.ts';
import { sweepDueServers } from './sweep/sweep.ts';

export interface CrawlOnceOptions {
  seeds: readonly string[];
  /** Called about once a second with a progress line. */
  onProgress?(line: string, depths: QueueDepths): void;
  /** Poll interval (ms). */
  intervalMs?: number;
}

/**
 * `atlas crawl --once`: every known server and the seeds become due, probes are queued, and the
 * workers (started by the caller, the index worker among them) discover, probe, crawl, measure and
 * index until every crawler queue is empty, no server has follow-up work left within its budget,
 * and every stored room is in the search index. Jobs left by a crawler that died are picked up too
 * (their locks expire).
 */
export async function crawlUntilDrained(ctx: CrawlerContext, options: CrawlOnceOptions): Promise<void> {
  const { sql } = ctx.database;
  await recordSeeds(ctx, options.seeds);
  await makeAllServersDue(sql);
  await sweepDueServers(ctx, { crawls: false });
  const interval = options.intervalMs ?? 1000;
  const startedAt = Date.now();
  // Empty twice in a row: a job that just finished has queued its follow-ups before completing,
  // so a second look only guards against counts read while a job was moving between states.
  let idleTicks = 0;
  let indexedAt = Date.now();
  while (!ctx.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, interval));
    const depths = await queueDepths(ctx);
    options.onProgress?.(progressLine(ctx, depths), depths);
    await failIfIndexingFailed(ctx, startedAt);
    // Rooms become searchable while the crawl goes on, as the index scheduler makes them in the
    // long run, rather than all at the end.
    if (depths.index === 0 && Date.now() - indexedAt >= INDEX_EVERY_MS && (await hasUnindexedRooms(sql))) {
      await enqueue(ctx.queues, 'index-changed', [{}]);
      indexedAt = Date.now();
      idleTicks = 0;
      continue;
    }
    const pending = Object.values(depths).reduce((sum, n) => sum + n, 0);
    idleTicks = pending === 0 ? idleTicks + 1 : 0;
    if (idleTicks < 2) continue;
    idleTicks = 0;
    // Rooms left queued for measuring (a job of a crawler that died), within their servers' budgets.
    const servers = await serversWithPendingFacts(sql, ctx.settings.directory.followUpMs);
    if (servers.length > 0) {
      await enqueue(
        ctx.queues,
        'room-leads',
        servers.map((listingServer) => ({ listingServer })),
      );
      continue;
    }
    // Stored is not done until searchable (`atlas api` answers searches from the index).
    if (await hasUnindexedRooms(sql)) {
      await enqueue(ctx.queues, 'index-changed', [{}]);
      indexedAt = Date.now();
      continue;
    }
    return;
  }
}

/**
 * Stops the pass when an index job failed after its retries: waiting for the rooms to become
 * searchable would never end while the search backend refuses them.
 */
async function failIfIndexingFailed(ctx: CrawlerContext, since: number): Promise<void> {
  const [job] = await ctx.queues.queue('index').getFailed(0, 0);
  if (job?.finishedOn !== undefined && job.finishedOn >= since) {
    throw new Error(
      `the search index could not be updated (${job.failedReason || 'no reason given'}): the rooms are stored but not searchable; check the search backend (MEILI_URL, or PostgreSQL) and run \`atlas reindex --changed\``,
    );
  }
}

/** Rooms the search index holds now (what `atlas api` can find). */
export async function searchableRooms(ctx: CrawlerContext): Promise<number> {
  // Loaded here, as the index worker loads it: the search package carries language models.
  const { createSearchIndex } = await import('@atlas/shared/search');
  const search = await createSearchIndex({ databaseUrl: ctx.database.url, meili: ctx.config.meili });
  try {
    return (await search.stats()).documents;
  } finally {
    await search.close();
  }
}
