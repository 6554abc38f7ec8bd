import { recordServerNames, type ServerCandidate } from '@atlas/shared/db';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';

/** A server name just heard of, how, and from what (a room id or alias). */
export type Candidate = ServerCandidate;

/**
 * Records server names Atlas just heard of (`recordServerNames`) and queues a probe for each new
 * one; names this process already recorded are not written again. Directory reads and the leads
 * step call this directly: a job per page or batch would cost more queue bookkeeping than the insert
 * it carried, and a crash after the insert loses nothing (a new server is due for a probe at once,
 * so the sweeper probes it when its probe job was lost).
 */
export async function discoverServers(
  ctx: CrawlerContext,
  candidates: readonly Candidate[],
): Promise<string[]> {
  if (candidates.length === 0) return [];
  const { recorded, added } = await recordServerNames(ctx.database.sql, candidates, {
    isBlocked: await ctx.blocks.matcher(),
    ownServerName: ctx.ownServerName,
    skip: (name) => ctx.knownServers.has(name),
  });
  ctx.stats.discovered += added.length;
  await enqueue(
    ctx.queues,
    'probe',
    added.map((serverName) => ({ serverName })),
  );
  for (const name of recorded) ctx.knownServers.add(name);
  return added;
}

/**
 * Records the seeds, where crawling starts (ATLAS_SEEDS, `--seeds`, or the built-in list); the
 * caller's sweep probes them. Returns the seeds that are server names, other than Atlas's own.
 */
export async function recordSeeds(ctx: CrawlerContext, seeds: readonly string[]): Promise<string[]> {
  const { recorded } = await recordServerNames(
    ctx.database.sql,
    seeds.map((name) => ({ name, via: 'seed' })),
    { isBlocked: await ctx.blocks.matcher(), ownServerName: ctx.ownServerName },
  );
  return recorded;
}
