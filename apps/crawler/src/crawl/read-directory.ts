import type { CrawlMode, Server, StartedCrawlRun } from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';
import { type DirectoryRead, readIsSettled } from '../policy/crawl-outcome.ts';
import { DirectoryRefusedError, describeError, isBusy, stopReasonFor } from '../remote/errors.ts';
import { pageFetcher } from './page-fetcher.ts';
import { pageStore } from './page-store.ts';
import { type PagerResult, pageThroughDirectory } from './pager.ts';
import { recheckMissedListings } from './recheck.ts';

/** What a read did besides what its verdict needs: counts for the run, rooms stored and recovered. */
export interface ReadResult extends DirectoryRead {
  roomsSeen: number;
  roomsMalformed: number;
  roomsNoindex: number;
  roomsStored: number;
  /** Rooms a complete read missed that the directory's search found listed after all. */
  recovered: number;
}

/**
 * Reads one server's directory each way of `modes` in turn, until one reads something, storing
 * every page before asking for the next (page-store.ts). A complete read then looks for the
 * biggest rooms it missed (recheck.ts).
 */
export async function readDirectory(
  ctx: CrawlerContext,
  server: Pick<Server, 'name' | 'clientBaseUrl'>,
  run: StartedCrawlRun,
  modes: readonly CrawlMode[],
  limits: { roomCap: number; deadline: number },
): Promise<ReadResult> {
  const fetchPage = pageFetcher(ctx, server, limits.deadline);
  const pages = pageStore(ctx, server.name);
  let result: PagerResult | undefined;
  let mode: CrawlMode = modes[0] ?? 'client';
  const failures: string[] = [];
  let refused = false;
  let federationForbidden = false;
  for (const candidate of modes) {
    mode = candidate;
    result = await pageThroughDirectory({
      limits: { maxPages: ctx.settings.maxPages, maxRooms: limits.roomCap, deadline: limits.deadline },
      fetchPage: fetchPage(candidate),
      onPage: pages.store,
      classifyError: stopReasonFor,
      signal: ctx.signal,
    });
    if (readIsSettled(result)) break;
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
    try {
      recovered = (
        await recheckMissedListings(ctx.database.sql, server.name, run.startedAt, search, pages.store)
      ).found;
    } catch (error) {
      if (!isBusy(error)) throw error;
      // The listings it did not see are not closed: the read runs again soon (ADR 0009).
      result = { ...result, stopReason: 'busy', error };
    }
  }
  await pages.finish();
  return {
    mode,
    pages: result.pages,
    stopReason: result.stopReason,
    error: result.error === undefined ? undefined : describeError(result.error),
    failures,
    refused,
    federationForbidden,
    roomsSeen: result.roomsSeen,
    roomsMalformed: result.malformed,
    roomsNoindex: result.noindex,
    roomsStored: pages.roomsStored,
    recovered,
  };
}
