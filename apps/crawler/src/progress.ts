import type { CrawlerContext } from './context.ts';
import { CRAWL_QUEUES } from './workers/index.ts';

/** Jobs not finished yet, per crawler queue. */
export type QueueDepths = Record<string, number>;

const PENDING_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

export async function queueDepths(ctx: CrawlerContext): Promise<QueueDepths> {
  const depths: QueueDepths = {};
  await Promise.all(
    CRAWL_QUEUES.map(async (name) => {
      const counts = await ctx.queues.queue(name).getJobCounts(...PENDING_STATES);
      depths[name] = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
    }),
  );
  return depths;
}

const number = new Intl.NumberFormat('en-US');

/** One human-readable progress line (stderr). */
export function progressLine(ctx: CrawlerContext, depths: QueueDepths): string {
  const s = ctx.stats;
  const seconds = Math.round((Date.now() - s.startedAt) / 1000);
  const queues = CRAWL_QUEUES.map((name) => `${name} ${number.format(depths[name] ?? 0)}`).join(', ');
  return (
    `[${seconds}s] servers: ${number.format(s.probed)} probed (${number.format(s.probes.online)} online), ` +
    `${number.format(s.crawled)} crawled · rooms: ${number.format(s.roomsStored)} stored, ` +
    `${number.format(s.roomsLeads)} asked for servers, ${number.format(s.roomsMeasured)} measured · queues: ${queues}`
  );
}
