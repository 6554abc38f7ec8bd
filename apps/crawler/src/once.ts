import { insertDiscoveredServers, makeAllServersDue, serversWithPendingFacts } from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import type { CrawlerContext } from './context.ts';
import { enqueueRoomFacts } from './jobs/enqueue.ts';
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
 * workers (started by the caller) discover, probe, crawl and measure until every crawler queue is
 * empty. Jobs left by a crawler that died are picked up too (their locks expire).
 */
export async function crawlUntilDrained(ctx: CrawlerContext, options: CrawlOnceOptions): Promise<void> {
  const matcher = await ctx.blocks.matcher();
  const seeds = options.seeds
    .map((seed) => parseServerName(seed)?.name)
    .filter((name): name is string => name !== undefined && name !== ctx.ownServerName);
  await insertDiscoveredServers(
    ctx.database.sql,
    seeds.map((name) => ({ name, via: 'seed', blocked: matcher(name) })),
  );
  await makeAllServersDue(ctx.database.sql);
  await sweepDueServers(ctx, { crawls: false });
  const interval = options.intervalMs ?? 1000;
  // Empty twice in a row: a job that just finished has queued its follow-ups before completing,
  // so a second look only guards against counts read while a job was moving between states.
  let idleTicks = 0;
  while (!ctx.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, interval));
    const depths = await queueDepths(ctx);
    options.onProgress?.(progressLine(ctx, depths), depths);
    const pending = Object.values(depths).reduce((sum, n) => sum + n, 0);
    idleTicks = pending === 0 ? idleTicks + 1 : 0;
    if (idleTicks >= 2) {
      // Rooms left queued for measuring (a job of a crawler that died): measure them before leaving.
      const servers = await serversWithPendingFacts(ctx.database.sql);
      if (servers.length === 0) return;
      await enqueueRoomFacts(ctx, servers);
      idleTicks = 0;
    }
  }
}
