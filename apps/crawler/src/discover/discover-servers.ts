import { type FoundVia, insertDiscoveredServers } from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';

/** A server name just heard of, how, and from what (a room id or alias). */
export interface Candidate {
  name: string;
  via: FoundVia;
  from?: string | undefined;
}

/** Longest `found_from` kept (a room id or alias; longer ones are cut). */
const MAX_FOUND_FROM = 512;

/**
 * Records server names Atlas just heard of and queues a probe for each new one. Names that are not
 * server names are dropped; a name matching an operator block is recorded as blocked and never
 * contacted; Atlas's own name is skipped; names this process already recorded are not written again.
 * Directory reads and the leads step call this directly: a discover job per page or batch cost more
 * queue bookkeeping than the insert it carried, and a crash after the insert loses nothing (a new
 * server is due for a probe at once, so the sweeper probes it when its probe job was lost).
 */
export async function discoverServers(
  ctx: CrawlerContext,
  candidates: readonly Candidate[],
): Promise<string[]> {
  const matcher = await ctx.blocks.matcher();
  const valid = [];
  for (const candidate of candidates) {
    const name = parseServerName(candidate.name)?.name;
    if (!name || name === ctx.ownServerName || ctx.knownServers.has(name)) continue;
    const from = candidate.from?.slice(0, MAX_FOUND_FROM);
    valid.push({ name, via: candidate.via, from, blocked: matcher(name) });
  }
  if (valid.length === 0) return [];
  const added = await insertDiscoveredServers(ctx.database.sql, valid);
  ctx.stats.discovered += added.length;
  await enqueue(
    ctx.queues,
    'probe',
    added.map((serverName) => ({ serverName })),
  );
  for (const server of valid) ctx.knownServers.add(server.name);
  return added;
}
