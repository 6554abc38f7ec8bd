import type { Config } from '@atlas/shared/config';
import { type Database, insertDiscoveredServers } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import { parseServerName } from '@atlas/shared/matrix';
import { type RunningCrawler, startCrawler } from '../crawler.ts';
import { createCrawlerRuntime } from '../runtime.ts';
import { sweepDueServers } from '../sweep/sweep.ts';
import { WORKERS } from '../workers/index.ts';
import type { IdentityPlan } from './identity.ts';
import { openQueues, type ProcessParts } from './parts.ts';

/** Writes the identity notice where a person sees it (stderr, plain), and to the log. */
export function announceIdentity(plan: IdentityPlan, stderr: NodeJS.WritableStream, log: Logger): void {
  if (plan.notice) {
    stderr.write(`atlas: ${plan.notice}\n`);
    log.warn({ serverName: plan.identity?.serverName ?? null }, 'federation identity: see the notice above');
  }
}

/**
 * The crawler role: the job context, every worker (with the sweeper's scheduler), the seeds
 * recorded, and a first sweep so crawling starts at once instead of at the first tick.
 */
export async function startCrawlerRole(
  config: Config,
  log: Logger,
  plan: IdentityPlan,
  database: Database,
  parts: ProcessParts,
): Promise<RunningCrawler> {
  parts.queues ??= await openQueues(config, database);
  parts.runtime = await createCrawlerRuntime({
    config,
    database,
    queues: parts.queues,
    log,
    identity: plan.identity,
  });
  const { ctx } = parts.runtime;
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
    { seeds: seeds.length, probes: swept.probes, crawls: swept.crawls, queue: parts.queues.kind },
    'crawler workers started',
  );
  return parts.crawler;
}
