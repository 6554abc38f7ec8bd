import { type FoundVia, jobIdFor, type QueueName } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import type { RoomFactsPayload } from './payloads.ts';

/**
 * Adding jobs. Per-server jobs carry a deduplication id (not a job id): while one probe or crawl
 * of a server waits or runs, adding another is a no-op, and the id is released when the job ends,
 * so a retained failed job never blocks the next probe of its server.
 */

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

/** Longest `found_from` kept (a room id or alias; longer ones are cut). */
export const MAX_FOUND_FROM = 512;

/**
 * BullMQ priority of complexity-step jobs. Jobs without a priority (the leads step) are taken
 * first, on Redis and on PostgreSQL alike, so measuring never holds up finding servers.
 */
export const COMPLEXITY_STEP_PRIORITY = 10;

/**
 * One job per server and step at a time works through its queued rooms. A request made while that
 * job runs is kept and run after it (`keepLastIfActive`), so rooms queued at the last moment are
 * never left behind.
 */
async function addRoomFactsJobs(
  ctx: CrawlerContext,
  listingServers: readonly string[],
  step: RoomFactsPayload['step'],
): Promise<void> {
  if (listingServers.length === 0) return;
  await ctx.queues.queue<RoomFactsPayload>('complexity').addBulk(
    listingServers.map((listingServer) => ({
      name: 'complexity',
      data: { listingServer, step },
      opts: {
        deduplication: {
          id: jobIdFor('complexity', step === 'leads' ? listingServer : `measure ${listingServer}`),
          keepLastIfActive: true,
        },
        ...(step === 'complexity' ? { priority: COMPLEXITY_STEP_PRIORITY } : {}),
      },
    })),
  );
}

/** Queues the leads step of the servers' queued rooms; the complexity step follows it. */
export const enqueueRoomFacts = (ctx: CrawlerContext, listingServers: readonly string[]) =>
  addRoomFactsJobs(ctx, listingServers, 'leads');

/** Queues the complexity step of the servers' rooms whose leads are gathered. */
export const enqueueRoomComplexity = (ctx: CrawlerContext, listingServers: readonly string[]) =>
  addRoomFactsJobs(ctx, listingServers, 'complexity');

/**
 * Asks the index queue to push rooms changed since their last indexing into the search index (one
 * such job waits at a time). The index scheduler does this every few seconds in the long run;
 * `crawl --once`, which runs no scheduler, asks itself.
 */
export async function enqueueIndexing(ctx: CrawlerContext): Promise<void> {
  await ctx.queues
    .queue<{ full: boolean }>('index')
    .add('index', { full: false }, { deduplication: { id: jobIdFor('index', 'changed') } });
}

/**
 * Queues whose jobs the crawler runs; `crawl --once` runs their workers and waits for all of them
 * to drain: the rooms it stores are searchable when it ends.
 */
export const CRAWL_QUEUES: readonly QueueName[] = ['probe', 'crawl', 'complexity', 'index'];
