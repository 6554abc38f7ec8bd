import { insertDiscoveredServers } from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import { type RunningCrawler, startCrawler } from '../crawler.ts';
import { type CrawlerRuntime, type CrawlerRuntimeOptions, createCrawlerRuntime } from '../runtime.ts';
import { sweepDueServers } from '../sweep/sweep.ts';
import { WORKERS } from '../workers/index.ts';
import { openQueues } from './parts.ts';
import type { ProcessBoot } from './run-process.ts';

/** The job queues and the jobs' context (HTTP clients, resolver, federation client), in `parts`. */
export async function openCrawlerRuntime(
  boot: ProcessBoot,
  options: Pick<CrawlerRuntimeOptions, 'factsMeasuredSince'> = {},
): Promise<CrawlerRuntime> {
  const { config, database, log, plan, parts } = boot;
  parts.queues ??= await openQueues(config, database);
  parts.runtime = await createCrawlerRuntime({
    config,
    database,
    queues: parts.queues,
    log,
    identity: plan.identity,
    ...options,
  });
  return parts.runtime;
}

/**
 * The crawler role: the job context, every worker (with the sweeper's scheduler), the seeds
 * recorded, and a first sweep so crawling starts at once instead of at the first tick.
 */
export async function startCrawlerRole(boot: ProcessBoot): Promise<RunningCrawler> {
  const { config, database, log, parts } = boot;
  const { ctx } = parts.runtime ?? (await openCrawlerRuntime(boot));
  const matcher = await ctx.blocks.matcher();
  const seeds = config.seeds
    .map((seed) => parseServerName(seed)?.name)
    .filter((name): name is string => name !== undefined && name !== ctx.ownServerName);
  await insertDiscoveredServers(
    database.sql,
    seeds.map((name) => ({ name, via: 'seed', blocked: matcher(name) })),
  );
  parts.crawler = await startCrawler(ctx, { workers: WORKERS, schedule: true });
  const swept = await sweepDueServers(ctx, { crawls: true, max: 5_000 });
  log.info(
    { seeds: seeds.length, probes: swept.probes, crawls: swept.crawls, queue: ctx.queues.kind },
    'crawler workers started',
  );
  return parts.crawler;
}
