import { insertDiscoveredServers } from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import type { CrawlerContext } from '../context.ts';
import { type Candidate, enqueueProbes } from '../jobs/enqueue.ts';

/**
 * Records server names Atlas just heard of and queues a probe for each new one. Names that are not
 * server names are dropped; a name matching an operator block is recorded as blocked and never
 * contacted; Atlas's own name is skipped.
 */
export async function discoverServers(
  ctx: CrawlerContext,
  candidates: readonly Candidate[],
): Promise<string[]> {
  const matcher = await ctx.blocks.matcher();
  const valid = [];
  for (const candidate of candidates) {
    const name = parseServerName(candidate.name)?.name;
    if (!name || name === ctx.ownServerName) continue;
    valid.push({ name, via: candidate.via, from: candidate.from, blocked: matcher(name) });
  }
  const added = await insertDiscoveredServers(ctx.database.sql, valid);
  ctx.stats.discovered += added.length;
  await enqueueProbes(ctx, added);
  return added;
}
