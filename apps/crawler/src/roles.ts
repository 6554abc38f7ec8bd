import { type CrawlMode, crawlModes } from './crawl/crawl-server.ts';
import { type RunningCrawler, startCrawler } from './crawler.ts';
import { recordSeeds } from './discover/discover-servers.ts';
import { crawlUntilDrained, searchableRooms } from './once.ts';
import type { CrawlerRuntime } from './runtime.ts';
import { sweepDueServers } from './sweep/sweep.ts';
import { CRAWL_QUEUES, WORKERS } from './workers/index.ts';

/**
 * The crawler's roles, as the `atlas` command runs them: continuously (`atlas start`, `atlas
 * crawler`) or once (`atlas crawl --once`). The process around them (database, queues, identity,
 * shutdown) belongs to the command line.
 */

/**
 * The continuous role: every worker (with the sweeper's scheduler), the seeds recorded, and a first
 * sweep so crawling starts at once instead of at the first tick.
 */
export async function startCrawlerRole(runtime: CrawlerRuntime): Promise<RunningCrawler> {
  const { ctx } = runtime;
  const seeds = await recordSeeds(ctx, ctx.config.seeds);
  const crawler = await startCrawler(ctx, { workers: WORKERS, schedule: true });
  const swept = await sweepDueServers(ctx, { crawls: true, max: 5_000 });
  ctx.log.info(
    {
      seeds: seeds.length,
      probes: swept.probes,
      crawls: swept.crawls,
      queue: ctx.queues.kind,
      // The workers' ids, which BullMQ writes into the locks of the jobs they run.
      workerIds: crawler.workers.map((worker) => worker.id),
    },
    'crawler workers started',
  );
  return crawler;
}

/** The one-pass role's workers: the queues a pass drains, without the sweeper's schedule. */
export function startCrawlOnceWorkers(runtime: CrawlerRuntime): Promise<RunningCrawler> {
  return startCrawler(runtime.ctx, {
    workers: WORKERS.filter((worker) => CRAWL_QUEUES.includes(worker.queue)),
    schedule: false,
  });
}

/**
 * One pass from the seeds until the queues are empty and the rooms stored are searchable
 * (`startCrawlOnceWorkers` must be running). Returns, for the summary, the ways directories were
 * tried and how many rooms the search index holds.
 */
export async function crawlOnce(
  runtime: CrawlerRuntime,
  options: { seeds: readonly string[]; onProgress: (line: string) => void },
): Promise<{ modes: CrawlMode[]; searchable: number }> {
  await crawlUntilDrained(runtime.ctx, { seeds: [...options.seeds], onProgress: options.onProgress });
  return { modes: crawlModes(runtime.ctx), searchable: await searchableRooms(runtime.ctx) };
}
