import { roomCapFor } from '@atlas/shared/config';
import {
  type CrawlMode,
  closeCompleteCrawl,
  countActiveListings,
  finishCrawlRun,
  getServer,
  markServerBlocked,
  measureDirectory,
  recordCrawlResult,
  type Server,
  startCrawlRun,
  startFollowUpCycle,
} from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';
import { classifyCrawl, crawlFailuresAfter } from '../policy/crawl-outcome.ts';
import { reviewSignals } from '../policy/review.ts';
import { type CrawlOutcome, nextCrawlDelay, withJitter } from '../policy/schedule.ts';
import { contentionDelay, JobDeferred } from '../workers/deferral.ts';
import { isHeavy } from '../workers/fair-share.ts';
import { readDirectory } from './read-directory.ts';

export type { CrawlMode } from '@atlas/shared/db';

/**
 * The ways Atlas can read a directory, in order: signed federation when it has an identity; the
 * unauthenticated client API (servers with `allow_public_rooms_without_auth`); the operator's
 * homeserver (via-homeserver mode) when configured.
 */
export function crawlModes(ctx: Pick<CrawlerContext, 'ownServerName' | 'via'>): CrawlMode[] {
  const modes: CrawlMode[] = [];
  if (ctx.ownServerName) modes.push('federation');
  modes.push('client');
  if (ctx.via) modes.push('via');
  return modes;
}

export interface CrawlSummary {
  outcome: CrawlOutcome | 'skipped' | 'aborted';
  mode?: CrawlMode;
  stopReason?: string;
  rooms?: number;
}

/** The server, when its directory is to be read now: known, online, and not blocked. */
async function serverToRead(ctx: CrawlerContext, serverName: string): Promise<Server | undefined> {
  const server = await getServer(ctx.database.db, serverName);
  if (!server || server.status === 'blocked') return undefined;
  if (await ctx.blocks.isBlocked(serverName)) {
    await markServerBlocked(ctx.database.sql, serverName);
    return undefined;
  }
  // A server that stopped answering waits for its next probe.
  return server.status === 'online' ? server : undefined;
}

/**
 * Reads one server's public room directory (docs/architecture.md, "Reading a directory") and
 * records the run, its outcome (`classifyCrawl`) and the next read's time. A retry after a crash
 * starts a fresh run; the upserts make that harmless.
 */
export async function crawlServer(ctx: CrawlerContext, serverName: string): Promise<CrawlSummary> {
  const server = await serverToRead(ctx, serverName);
  if (!server) return { outcome: 'skipped' };
  // Big or slow directories take at most this process's fair share of read slots.
  const leaveShare = isHeavy(server) ? ctx.fairShare.tryEnter() : () => {};
  if (!leaveShare) {
    throw new JobDeferred(
      `${serverName} is big or slow and this process reads ${ctx.fairShare.limit} such directories already`,
      HEAVY_DEFER_MS,
    );
  }
  try {
    return await readAndRecord(ctx, server);
  } finally {
    leaveShare();
  }
}

/** How long a heavy read waits for the fair share (the other reads of big servers take minutes). */
const HEAVY_DEFER_MS = 20_000;

async function readAndRecord(ctx: CrawlerContext, server: Server): Promise<CrawlSummary> {
  const { sql } = ctx.database;
  const serverName = server.name;

  const modes = crawlModes(ctx);
  const run = await startCrawlRun(sql, serverName, modes[0] ?? 'client');
  // The rooms this read stores get a fresh follow-up budget (leads, complexity).
  await startFollowUpCycle(sql, serverName);
  // Rooms past the cap are not stored: Synapse pages biggest first, so the cap keeps the biggest.
  const roomCap = Math.min(roomCapFor(ctx.settings.directory, serverName), ctx.settings.maxRooms);
  const read = await readDirectory(ctx, server, run, modes, {
    roomCap,
    deadline: Date.now() + ctx.settings.maxSeconds * 1000,
  });
  const { mode } = read;
  const counts = {
    pages: read.pages,
    roomsSeen: read.roomsSeen,
    roomsStored: read.roomsStored,
    roomsMalformed: read.roomsMalformed,
    roomsNoindex: read.roomsNoindex,
  };
  ctx.stats.roomsRecovered += read.recovered;
  ctx.stats.roomsMalformed += read.roomsMalformed;
  ctx.stats.roomsNoindex += read.roomsNoindex;

  const verdict = classifyCrawl(read);
  if (verdict.outcome === 'aborted') {
    // Shutting down: the run stays partial and the server stays due, so the next start reads it again.
    await finishCrawlRun(sql, run.id, {
      mode,
      status: 'partial',
      stopReason: 'aborted',
      error: null,
      ...counts,
    });
    return { outcome: 'aborted', mode, stopReason: 'aborted', rooms: read.roomsStored };
  }
  if (verdict.outcome === 'busy') {
    // Another crawler process kept the server busy (ADR 0009): no verdict on the server, whose
    // schedule stays as it was; the job runs again soon, and the upserts make a second run harmless.
    await finishCrawlRun(sql, run.id, {
      mode,
      status: 'partial',
      stopReason: 'busy',
      error: null,
      ...counts,
    });
    throw new JobDeferred(read.error ?? `${serverName} was busy`, contentionDelay(1));
  }
  const { outcome, stopReason } = verdict;
  const roomCount =
    verdict.listings === 'close'
      ? (await closeCompleteCrawl(sql, serverName, run.startedAt)).roomCount
      : verdict.listings === 'count'
        ? await countActiveListings(sql, serverName)
        : null;
  const signals = verdict.reviewable ? reviewSignals(await measureDirectory(sql, serverName)) : undefined;
  await finishCrawlRun(sql, run.id, {
    mode,
    status: verdict.runStatus,
    stopReason,
    error: verdict.error,
    ...counts,
  });
  const crawlFailures = crawlFailuresAfter(outcome, server.consecutiveCrawlFailures);
  await recordCrawlResult(sql, {
    serverName,
    outcome,
    mode,
    publishes: verdict.publishes,
    roomCount,
    consecutiveCrawlFailures: crawlFailures,
    nextCrawlAt: new Date(Date.now() + withJitter(nextCrawlDelay(outcome, crawlFailures, roomCount ?? 0))),
    error: outcome === 'complete' ? null : verdict.error,
    roomCapReached: verdict.roomCapReached,
    reviewSignals: signals,
  });
  ctx.stats.crawled++;
  ctx.stats.count(ctx.stats.crawls, outcome);
  ctx.stats.count(ctx.stats.stopReasons, stopReason);
  ctx.stats.count(ctx.stats.modes, mode);
  ctx.log.child({ server: serverName, crawlRun: run.id }).info(
    {
      mode,
      outcome,
      stopReason,
      pages: read.pages,
      rooms: read.roomsStored,
      recovered: read.recovered,
      malformed: read.roomsMalformed,
      ...(verdict.roomCapReached ? { roomCap } : {}),
      ...(signals && signals.length > 0 ? { reviewSignals: signals } : {}),
    },
    'directory read',
  );
  return { outcome, mode, stopReason, rooms: read.roomsStored };
}
