import { type DiscoverPayload, type FoundVia, jobIdFor, type QueueName } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import type { RoomFactsPayload } from './payloads.ts';

/**
 * Adding jobs. Per-server jobs carry a deduplication id (not a job id): while one probe or crawl
 * of a server waits or runs, adding another is a no-op, and the id is released when the job ends,
 * so a retained failed job never blocks the next probe of its server.
 */

const DISCOVER_BATCH = 1000;

async function addPerServer(
  ctx: CrawlerContext,
  queue: 'probe' | 'crawl',
  names: readonly string[],
): Promise<void> {
  if (names.length === 0) return;
  await ctx.queues.queue<{ serverName: string }>(queue).addBulk(
    names.map((serverName) => ({
      name: queue,
      data: { serverName },
      opts: { deduplication: { id: jobIdFor(queue, serverName) } },
    })),
  );
}

export const enqueueProbes = (ctx: CrawlerContext, names: readonly string[]) =>
  addPerServer(ctx, 'probe', names);
export const enqueueCrawls = (ctx: CrawlerContext, names: readonly string[]) =>
  addPerServer(ctx, 'crawl', names);

export interface Candidate {
  name: string;
  via: FoundVia;
  from?: string | undefined;
}

export async function enqueueDiscover(ctx: CrawlerContext, candidates: readonly Candidate[]): Promise<void> {
  const queue = ctx.queues.queue<DiscoverPayload>('discover');
  for (let i = 0; i < candidates.length; i += DISCOVER_BATCH) {
    const batch = candidates.slice(i, i + DISCOVER_BATCH).map((c) => ({
      name: c.name,
      via: c.via,
      ...(c.from !== undefined ? { from: c.from.slice(0, 512) } : {}),
    }));
    await queue.add('discover', { candidates: batch });
  }
}

/**
 * One complexity job per server at a time works through its queued rooms. A request made while
 * that job runs is kept and run after it (`keepLastIfActive`), so rooms queued at the last moment
 * are never left behind.
 */
export async function enqueueRoomFacts(
  ctx: CrawlerContext,
  listingServers: readonly string[],
): Promise<void> {
  if (listingServers.length === 0) return;
  await ctx.queues.queue<RoomFactsPayload>('complexity').addBulk(
    listingServers.map((listingServer) => ({
      name: 'complexity',
      data: { listingServer },
      opts: { deduplication: { id: jobIdFor('complexity', listingServer), keepLastIfActive: true } },
    })),
  );
}

/** Queues whose jobs the crawler runs; `crawl --once` waits for all of them to drain. */
export const CRAWL_QUEUES: readonly QueueName[] = ['discover', 'probe', 'crawl', 'complexity'];
