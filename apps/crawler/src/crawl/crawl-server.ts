import { roomCapFor } from '@atlas/shared/config';
import {
  closeCompleteCrawl,
  countActiveListings,
  finishCrawlRun,
  getServer,
  hideNoindexRooms,
  markServerBlocked,
  measureDirectory,
  type ReviewSignal,
  recordCrawlResult,
  startCrawlRun,
  startFollowUpCycle,
  upsertDirectoryRooms,
} from '@atlas/shared/db';
import { serverOfAlias, serverOfRoomId } from '@atlas/shared/matrix';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import type { DirectoryPage } from '../directory/public-rooms.ts';
import { type Candidate, discoverServers } from '../discover/discover-servers.ts';
import { reviewSignals } from '../policy/review.ts';
import { type CrawlOutcome, nextCrawlDelay, withJitter } from '../policy/schedule.ts';
import { type ClientEndpoint, clientEndpoints } from '../remote/client-api.ts';
import { fetchClientPage, fetchFederationPage } from '../remote/directory.ts';
import { DirectoryRefusedError, describeError, stopReasonFor } from '../remote/errors.ts';
import { type PagerResult, pageThroughDirectory } from './pager.ts';
import { recheckMissedListings } from './recheck.ts';

export type CrawlMode = 'federation' | 'client' | 'via';

/** New server names one directory read may put forward; a hostile directory cannot flood discovery. */
const MAX_CANDIDATES_PER_CRAWL = 10_000;

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

/**
 * Reads one server's public room directory (ARCHITECTURE.md "Crawl") page by page, storing each
 * page before asking for the next, and records the run, the outcome and the next read's time.
 * A retry after a crash starts a fresh run; the upserts make that harmless.
 */
export async function crawlServer(ctx: CrawlerContext, serverName: string): Promise<CrawlSummary> {
  const { sql } = ctx.database;
  const server = await getServer(ctx.database.db, serverName);
  if (!server || server.status === 'blocked') return { outcome: 'skipped' };
  if (await ctx.blocks.isBlocked(serverName)) {
    await markServerBlocked(sql, serverName);
    return { outcome: 'skipped' };
  }
  // A server that stopped answering waits for its next probe.
  if (server.status !== 'online') return { outcome: 'skipped' };

  const modes = crawlModes(ctx);
  const run = await startCrawlRun(sql, serverName, modes[0] ?? 'client');
  // The rooms this read stores get a fresh follow-up budget (leads, complexity).
  await startFollowUpCycle(sql, serverName);
  // Rooms past the cap are not stored: Synapse pages biggest first, so the cap keeps the biggest.
  const roomCap = Math.min(roomCapFor(ctx.settings.directory, serverName), ctx.settings.maxRooms);
  const deadline = Date.now() + ctx.settings.maxSeconds * 1000;
  const log = ctx.log.child({ server: serverName, crawlRun: run.id });
  const sent = new Set<string>([serverName]);
  let candidatesLeft = MAX_CANDIDATES_PER_CRAWL;
  let roomsStored = 0;
  let factsRequested = false;
  let factsSinceRequest = false;

  const storePage = async (page: DirectoryPage): Promise<void> => {
    const { stored, factsQueued } = await upsertDirectoryRooms(sql, serverName, page.rooms, {
      factsMeasuredBefore: ctx.settings.factsMeasuredBefore(),
    });
    if (page.noindexRoomIds.length > 0) await hideNoindexRooms(sql, serverName, page.noindexRoomIds);
    roomsStored += stored;
    ctx.stats.roomsStored += stored;
    const candidates: Candidate[] = [];
    const offer = (name: string | null, via: Candidate['via'], from: string) => {
      if (name === null || sent.has(name) || candidatesLeft <= 0) return;
      sent.add(name);
      candidatesLeft--;
      candidates.push({ name, via, from });
    };
    for (const room of page.rooms) {
      if (room.canonicalAlias) offer(serverOfAlias(room.canonicalAlias), 'alias', room.canonicalAlias);
      offer(serverOfRoomId(room.roomId), 'room_id', room.roomId);
    }
    await discoverServers(ctx, candidates);
    // The server's leads job works through what the pages queue: asked for on the first page that
    // queues rooms, it takes rooms queued meanwhile too; whatever later pages queued is asked for
    // again when the read ends (a request made while the job runs is kept for after it), so nothing
    // queued late is left behind, at two queue writes per read instead of one per page.
    if (factsQueued > 0) {
      if (factsRequested) factsSinceRequest = true;
      else {
        await enqueue(ctx.queues, 'room-leads', [{ listingServer: serverName }]);
        factsRequested = true;
      }
    }
  };

  let endpoints: Promise<ClientEndpoint[]> | undefined;
  const clientApi = () => {
    endpoints ??= ctx.resolver.resolve(serverName).then(
      (resolved) => clientEndpoints(serverName, server.clientBaseUrl, resolved),
      () => clientEndpoints(serverName, server.clientBaseUrl, undefined),
    );
    return endpoints;
  };
  const fetchPage = (mode: CrawlMode, searchTerm?: string) => (since: string | undefined) => {
    const request = { limit: ctx.settings.pageLimit, since, deadline, signal: ctx.signal, searchTerm };
    switch (mode) {
      case 'federation':
        return fetchFederationPage(ctx.federation, serverName, request);
      case 'client':
        return clientApi().then((endpoints) => fetchClientPage(ctx.http, endpoints, request));
      case 'via': {
        if (!ctx.via) throw new Error('via-homeserver mode is not configured');
        return ctx.via.fetchPage(serverName, request);
      }
    }
  };

  let result: PagerResult | undefined;
  let mode: CrawlMode = modes[0] ?? 'client';
  let federationForbidden = false;
  let refused = false;
  const failures: string[] = [];
  for (const candidate of modes) {
    mode = candidate;
    result = await pageThroughDirectory({
      limits: { maxPages: ctx.settings.maxPages, maxRooms: roomCap, deadline },
      fetchPage: fetchPage(candidate),
      onPage: storePage,
      classifyError: stopReasonFor,
      signal: ctx.signal,
    });
    if (result.pages > 0 || result.stopReason === 'aborted' || result.stopReason === 'time_cap') break;
    // Nothing read this way: remember why and try the next way.
    failures.push(`${candidate}: ${describeError(result.error)}`);
    if (result.error instanceof DirectoryRefusedError) {
      refused = true;
      if (candidate === 'federation' && result.error.status === 403) federationForbidden = true;
    }
  }
  if (!result) throw new Error('no crawl mode to try');
  let recovered = 0;
  // Synapse answers the client API's filtered (POST) directory only with a token, which the
  // client-API mode does not have.
  if (result.stopReason === 'end' && result.pages > 0 && mode !== 'client') {
    const search = (term: string) => fetchPage(mode, term)(undefined);
    recovered = (await recheckMissedListings(sql, serverName, run.startedAt, search, storePage)).found;
    ctx.stats.roomsRecovered += recovered;
  }
  if (factsSinceRequest) await enqueue(ctx.queues, 'room-leads', [{ listingServer: serverName }]);

  const counts = {
    pages: result.pages,
    roomsSeen: result.roomsSeen,
    roomsStored,
    roomsMalformed: result.malformed,
    roomsNoindex: result.noindex,
  };
  ctx.stats.roomsMalformed += result.malformed;
  ctx.stats.roomsNoindex += result.noindex;

  if (result.stopReason === 'aborted') {
    // Shutting down: the run stays partial and the server stays due, so the next start reads it again.
    await finishCrawlRun(sql, run.id, {
      mode,
      status: 'partial',
      stopReason: 'aborted',
      error: null,
      ...counts,
    });
    return { outcome: 'aborted', mode, stopReason: 'aborted', rooms: roomsStored };
  }

  let outcome: CrawlOutcome;
  // Only a read over federation shows that homeservers can browse the directory; a 403 there shows
  // they cannot, whatever another way read.
  const publishes: boolean | null = federationForbidden
    ? false
    : result.pages > 0 && mode === 'federation'
      ? true
      : null;
  let roomCount: number | null = null;
  let roomCapReached: boolean | null = null;
  let signals: ReviewSignal[] | undefined;
  let error: string | null = null;
  let stopReason: string = result.stopReason;
  if (result.pages > 0) {
    if (result.stopReason === 'end' || result.stopReason === 'room_cap') {
      // A read that reached the cap saw all Atlas keeps of the directory (its biggest rooms), so
      // listings it did not see go as after a complete read: the server keeps at most the cap.
      outcome = result.stopReason === 'end' ? 'complete' : 'partial';
      roomCapReached = result.stopReason === 'room_cap';
      roomCount = (await closeCompleteCrawl(sql, serverName, run.startedAt)).roomCount;
    } else {
      outcome = 'partial';
      roomCount = await countActiveListings(sql, serverName);
      if (result.error !== undefined) error = describeError(result.error);
    }
    signals = reviewSignals(await measureDirectory(sql, serverName));
  } else if (result.stopReason === 'time_cap') {
    outcome = 'failed';
    error = describeError(result.error);
  } else if (federationForbidden) {
    // 403 over federation: the server does not publish its directory, a normal state (read rarely).
    outcome = 'forbidden';
    stopReason = 'forbidden';
    error = failures.join('; ');
  } else if (refused) {
    outcome = 'no_access';
    stopReason = 'forbidden';
    error = failures.join('; ');
  } else {
    outcome = 'failed';
    stopReason = 'error';
    error = failures.join('; ');
  }
  const status = outcome === 'no_access' ? 'forbidden' : outcome;
  await finishCrawlRun(sql, run.id, { mode, status, stopReason, error, ...counts });
  const crawlFailures = outcome === 'failed' ? server.consecutiveCrawlFailures + 1 : 0;
  await recordCrawlResult(sql, {
    serverName,
    outcome,
    mode,
    publishes,
    roomCount,
    consecutiveCrawlFailures: crawlFailures,
    nextCrawlAt: new Date(Date.now() + withJitter(nextCrawlDelay(outcome, crawlFailures, roomCount ?? 0))),
    error: outcome === 'complete' ? null : error,
    roomCapReached,
    reviewSignals: signals,
  });
  ctx.stats.crawled++;
  ctx.stats.count(ctx.stats.crawls, outcome);
  ctx.stats.count(ctx.stats.stopReasons, stopReason);
  ctx.stats.count(ctx.stats.modes, mode);
  log.info(
    {
      mode,
      outcome,
      stopReason,
      pages: result.pages,
      rooms: roomsStored,
      recovered,
      malformed: result.malformed,
      ...(roomCapReached ? { roomCap } : {}),
      ...(signals && signals.length > 0 ? { reviewSignals: signals } : {}),
    },
    'directory read',
  );
  return { outcome, mode, stopReason, rooms: roomsStored };
}
