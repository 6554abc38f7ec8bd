import { type CrawlerRuntime, type CrawlerRuntimeOptions, createCrawlerRuntime } from '@atlas/crawler';
import { openQueues } from './parts.ts';
import type { ProcessBoot } from './run-process.ts';

/**
 * The crawler's job context (HTTP clients, resolver, federation client) over this process's
 * database and queues, registered in `parts` so it is stopped in order.
 */
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
