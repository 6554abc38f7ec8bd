import postgres from 'postgres';
import type { PgTimestamp } from '../db/timestamps.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import {
  allStoredDocuments,
  builtIndex,
  clearMisses,
  databaseNow,
  forgetBuiltIndex,
  readMisses,
  recordBuiltIndex,
  recordMisses,
  storedDocuments,
} from './index-sync.ts';
import type { MeilisearchIndex } from './meilisearch-index.ts';
import {
  InvalidCursorError,
  type RoomDocument,
  type SearchIndex,
  type SearchPage,
  type SearchQuery,
  type SearchStats,
  type SearchStatus,
} from './types.ts';

export interface FailoverOptions {
  /** Meilisearch: answers searches while it holds the index Atlas built. */
  primary: MeilisearchIndex;
  /** PostgreSQL's `room_search`: written first, always; answers searches in the primary's place. */
  fallback: SearchIndex;
  /** The database holding `room_search` and the primary's bookkeeping (`search_index_*`). */
  databaseUrl: string;
  log?: Logger;
  /** How often a process that uses the index checks that the primary answers and holds Atlas's index. */
  checkEveryMs?: number;
  /** Documents per batch when the primary is refilled from `room_search`. */
  batchSize?: number;
}

/**
 * Cursors say which backend made them: an offset into Meilisearch's order means nothing to
 * PostgreSQL's keyset pages, and a search paged on PostgreSQL stays there to its last page.
 */
const PRIMARY_CURSOR = 'm.';
const FALLBACK_CURSOR = 'p.';

/**
 * Meilisearch with PostgreSQL beside it (ADR 0203). Every write goes to PostgreSQL first, then to
 * Meilisearch; a write Meilisearch misses is recorded in the database and pushed again by the
 * indexer (`recover`), so writes never fail for Meilisearch's sake. Searches go to Meilisearch while
 * it answers and holds the index Atlas built (checked every `checkEveryMs`, and after any failure);
 * otherwise PostgreSQL answers, and the page says so (`servedBy`).
 */
export function createFailoverSearchIndex(options: FailoverOptions): SearchIndex {
  const { primary, fallback } = options;
  const log = (options.log ?? silentLogger).child({ search: 'meilisearch', index: primary.uid });
  const checkEveryMs = options.checkEveryMs ?? 2_000;
  const batchSize = options.batchSize ?? 1000;
  const sql = postgres(options.databaseUrl, {
    max: 2,
    onnotice: () => {},
    idle_timeout: 60,
    connect_timeout: 15,
    connection: { application_name: 'atlas-search-sync' },
  });
  const counts: Omit<SearchStatus, 'backend' | 'fallbackActive'> = {
    searches: { primary: 0, fallback: 0 },
    primaryFailures: 0,
    missedWrites: 0,
  };
  /** Whether searches go to the primary; undefined until the first check. */
  let usable: boolean | undefined;
  let initialised = false;
  let watching: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const setUsable = (ok: boolean, why?: unknown) => {
    if (ok === usable) return;
    const before = usable;
    usable = ok;
    if (ok && before !== undefined) log.info('Meilisearch is back; searching with it again');
    if (!ok) {
      log.warn(
        { reason: why instanceof Error ? why.message : why },
        'searching with PostgreSQL: Meilisearch cannot be reached or does not hold the index Atlas built',
      );
    }
  };

  /** Usable: Meilisearch answers and its index is the one Atlas last built (not lost and made again). */
  async function check(): Promise<void> {
    try {
      let [createdAt, built] = await Promise.all([primary.createdAt(), builtIndex(sql, primary.uid)]);
      if (!initialised) {
        // Settings are applied once Meilisearch answers, also when it did not at boot.
        await primary.init();
        initialised = true;
        createdAt = await primary.createdAt();
      }
      if (createdAt === null) setUsable(false, 'there is no index');
      else if (createdAt !== built)
        setUsable(false, 'the index is not the one Atlas built; the indexer rebuilds it');
      else setUsable(true);
    } catch (error) {
      setUsable(false, error);
    }
  }

  /** Starts the checks on first use; resolves once the first one is done. */
  function watch(): Promise<void> {
    if (!watching) {
      const loop = () => {
        if (closed) return;
        timer = setTimeout(() => void check().finally(loop), checkEveryMs);
        timer.unref();
      };
      watching = check().finally(loop);
    }
    return watching;
  }

  /** Writes to the primary what was just written to PostgreSQL, or records that it could not. */
  async function toPrimary(roomIds: string[], write: () => Promise<void>): Promise<void> {
    if (roomIds.length === 0) return;
    await watch();
    if (usable !== false) {
      try {
        await write();
        return;
      } catch (error) {
        setUsable(false, error);
      }
    }
    counts.missedWrites += roomIds.length;
    await recordMisses(sql, primary.uid, roomIds);
    log.debug({ rooms: roomIds.length }, 'Meilisearch missed a write; recorded for the indexer');
  }

  /** Refills the primary from `room_search` and records the new index as Atlas's. */
  async function rebuildPrimary(startedAt: PgTimestamp): Promise<number> {
    const count = await primary.rebuild(allStoredDocuments(sql, batchSize));
    const createdAt = await primary.createdAt();
    if (createdAt === null) throw new Error('Meilisearch has no index right after rebuilding it');
    await recordBuiltIndex(sql, primary.uid, createdAt);
    // Everything written before the rebuild started is in it.
    await clearMisses(sql, primary.uid, startedAt);
    await check();
    return count;
  }

  async function pushMisses(): Promise<number> {
    let pushed = 0;
    let after = '';
    for (;;) {
      const misses = await readMisses(sql, primary.uid, after, batchSize);
      const last = misses.roomIds[misses.roomIds.length - 1];
      if (last === undefined) return pushed;
      after = last;
      const documents = await storedDocuments(sql, misses.roomIds);
      const kept = new Set(documents.map((d) => d.roomId));
      await primary.upsert(documents);
      await primary.remove(misses.roomIds.filter((id) => !kept.has(id)));
      await clearMisses(sql, primary.uid, misses.readAt, misses.roomIds);
      pushed += misses.roomIds.length;
    }
  }

  const served = (page: SearchPage, fromPrimary: boolean): SearchPage => ({
    ...page,
    nextCursor: page.nextCursor && (fromPrimary ? PRIMARY_CURSOR : FALLBACK_CURSOR) + page.nextCursor,
    servedBy: fromPrimary
      ? { backend: 'meilisearch', fallback: false }
      : { backend: 'postgres', fallback: true },
  });

  const withCursor = (query: SearchQuery, cursor: string | undefined): SearchQuery => {
    const { cursor: _, ...rest } = query;
    return cursor === undefined ? rest : { ...rest, cursor };
  };

  async function fromFallback(query: SearchQuery): Promise<SearchPage> {
    counts.searches.fallback++;
    return served(await fallback.search(query), false);
  }

  return {
    backend: 'meilisearch',
    async init() {
      await fallback.init();
      try {
        await primary.init();
        initialised = true;
      } catch (error) {
        log.warn({ err: error }, 'Meilisearch cannot be reached; searching with PostgreSQL until it can');
      }
    },
    async upsert(documents: RoomDocument[]) {
      await fallback.upsert(documents);
      await toPrimary(
        documents.map((d) => d.roomId),
        () => primary.upsert(documents),
      );
    },
    async remove(roomIds: string[]) {
      await fallback.remove(roomIds);
      await toPrimary(roomIds, () => primary.remove(roomIds));
    },
    async search(query) {
      const cursor = query.cursor;
      if (cursor?.startsWith(FALLBACK_CURSOR)) {
        return fromFallback(withCursor(query, cursor.slice(FALLBACK_CURSOR.length)));
      }
      // A cursor without a mark is from before cursors had one: Meilisearch's.
      const primaryCursor = cursor?.startsWith(PRIMARY_CURSOR) ? cursor.slice(PRIMARY_CURSOR.length) : cursor;
      await watch();
      if (usable) {
        try {
          const page = await primary.search(withCursor(query, primaryCursor));
          counts.searches.primary++;
          return served(page, true);
        } catch (error) {
          if (error instanceof InvalidCursorError) throw error;
          counts.primaryFailures++;
          setUsable(false, error);
        }
      }
      if (primaryCursor !== undefined) {
        throw new InvalidCursorError(
          'this page came from Meilisearch, which cannot be reached now; search again from the first page',
        );
      }
      return fromFallback(query);
    },
    async stats(): Promise<SearchStats> {
      await watch();
      if (usable) {
        try {
          return await primary.stats();
        } catch (error) {
          setUsable(false, error);
        }
      }
      return { ...(await fallback.stats()), backend: 'meilisearch' };
    },
    async rebuild(source) {
      const count = await fallback.rebuild(source);
      const startedAt = await databaseNow(sql);
      try {
        await rebuildPrimary(startedAt);
      } catch (error) {
        // PostgreSQL holds the new documents; Meilisearch is rebuilt from them once it answers.
        log.warn({ err: error }, 'Meilisearch could not be rebuilt; the indexer tries again once it answers');
        await forgetBuiltIndex(sql, primary.uid);
        setUsable(false, error);
      }
      return count;
    },
    async recover() {
      // Throws while Meilisearch does not answer: nothing can be done until it does.
      const [createdAt, built] = await Promise.all([primary.createdAt(), builtIndex(sql, primary.uid)]);
      if (createdAt === null || createdAt !== built) {
        log.warn(
          { reason: createdAt === null ? 'no index' : built === null ? 'never built' : 'index made again' },
          'rebuilding the Meilisearch index from PostgreSQL',
        );
        return rebuildPrimary(await databaseNow(sql));
      }
      const pushed = await pushMisses();
      // It answered: writes and searches need not wait for the next check to use it again.
      await check();
      return pushed;
    },
    status: () => ({
      backend: 'meilisearch',
      fallbackActive: usable === false,
      searches: { ...counts.searches },
      primaryFailures: counts.primaryFailures,
      missedWrites: counts.missedWrites,
    }),
    async close() {
      closed = true;
      clearTimeout(timer);
      await Promise.all([sql.end({ timeout: 5 }), primary.close(), fallback.close()]);
    },
  };
}
