import { createHash } from 'node:crypto';
import type { SearchIndex, SearchPage, SearchQuery } from './types.ts';

/**
 * Keys longer than this are kept as their hash: a filter may name every server Atlas lists (the
 * Matrix directory's), and ten thousand copies of such a list would be a lot of memory.
 */
const LONGEST_KEY = 512;

export interface SearchCacheOptions {
  /**
   * How long an answer is fresh once the index may have changed under it (a change was seen since
   * the search ran, or changes cannot be watched). Also the least time an answer is kept, so that an
   * index written every few seconds does not send every search back to the database each time.
   */
  ttlMs?: number;
  /**
   * How long after that an answer may still be served while the search runs again in the
   * background (0: never). HTTP caches are told the same (max-age and stale-while-revalidate).
   */
  staleMs?: number;
  /**
   * How long an answer is kept while the index is watched and has not changed (each answer between
   * 3/4 of this and this, so that answers cached together do not all age out together). A bound
   * for changes a watch could miss without noticing.
   */
  maxAgeMs?: number;
  maxEntries?: number;
  /** Renewals in flight at once: they run beside the searches people wait for, never ahead of them. */
  maxRenewals?: number;
}

/** How searches were answered. */
export interface SearchCacheStats {
  /** From a fresh answer (or joined to an identical search in flight). */
  hits: number;
  /** From an answer past its freshness, while the search ran again in the background. */
  stale: number;
  /** By a search the caller waited for. */
  misses: number;
  /** Background searches that renewed an answer. */
  refreshes: number;
  /** Changes to the index seen (including watches that started or restarted). */
  changes: number;
}

interface Entry {
  /** When its search started. */
  at: number;
  page: Promise<SearchPage>;
  freshUntil: number;
  staleUntil: number;
  renewing: boolean;
}

interface Renewal {
  key: string;
  entry: Entry;
  query: SearchQuery;
}

/**
 * Reuses answers to identical searches (same words, filters, sort, page). Directory traffic
 * repeats itself: Element asks every user's homeserver for the same first page, and people type
 * the same few words. Concurrent identical searches share one query.
 *
 * How long an answer lasts depends on what is known about the index:
 * - watched (the backend has `watchChanges`) and unchanged since the search ran: up to `maxAgeMs`;
 * - otherwise `ttlMs` from when the search ran, or until the change is seen if that is later.
 * An answer past that is served for `staleMs` more while it is renewed in the background, at most
 * `maxRenewals` at a time. So a change committed by any process shows in every answer served
 * `ttlMs + staleMs` after it was seen (30 s by default, what HTTP caches are told), and a watch that
 * fails is noticed and falls back to that; writes through this index clear the cache at once.
 */
export function withSearchCache(
  inner: SearchIndex,
  options: SearchCacheOptions = {},
): SearchIndex & { cacheStats(): SearchCacheStats } {
  const ttlMs = options.ttlMs ?? 15_000;
  const staleMs = options.staleMs ?? 15_000;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const maxRenewals = Math.max(1, options.maxRenewals ?? 2);
  const entries = new Map<string, Entry>();
  const stats: SearchCacheStats = { hits: 0, stale: 0, misses: 0, refreshes: 0, changes: 0 };
  /** Moves on with every change seen, so a search that ran across one is not kept as unchanged. */
  let generation = 0;
  let watched = false;
  const pending: Renewal[] = [];
  let renewing = 0;

  /** Answers older than the change now last `ttlMs` from their search, or until now if later. */
  const changed = () => {
    generation++;
    stats.changes++;
    const now = Date.now();
    for (const entry of entries.values()) {
      entry.freshUntil = Math.min(entry.freshUntil, Math.max(entry.at + ttlMs, now));
      entry.staleUntil = entry.freshUntil + staleMs;
    }
  };
  const clear = () => {
    generation++;
    entries.clear();
  };

  const stopWatching = inner.watchChanges?.({
    changed,
    watching(on) {
      // Starting (again): changes made while nobody watched went unseen. Stopping: from now on
      // they cannot be seen.
      changed();
      watched = on;
    },
  });

  const store = (key: string, page: Promise<SearchPage>, at: number, unchanged: boolean): Entry => {
    if (!entries.has(key) && entries.size >= maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    const freshUntil = at + (unchanged ? maxAgeMs * (0.75 + Math.random() / 4) : ttlMs);
    const entry: Entry = { at, page, freshUntil, staleUntil: freshUntil + staleMs, renewing: false };
    entries.set(key, entry);
    // Failures are not remembered.
    page.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry;
  };

  const renewNext = () => {
    while (renewing < maxRenewals) {
      const renewal = pending.shift();
      if (!renewal) return;
      const { key, entry, query } = renewal;
      // Cleared, replaced or too old by now: the next request searches itself.
      if (entries.get(key) !== entry || Date.now() >= entry.staleUntil) {
        entry.renewing = false;
        continue;
      }
      renewing++;
      const at = Date.now();
      const startedIn = generation;
      const unchanged = watched;
      const page = inner.search(query);
      page
        .then(
          () => {
            stats.refreshes++;
            // Unless a write cleared the cache meanwhile: this answer may predate it.
            if (entries.get(key) === entry) store(key, page, at, unchanged && generation === startedIn);
          },
          // The old answer stays (until it is too old) and the next request tries again.
          () => {
            entry.renewing = false;
          },
        )
        .finally(() => {
          renewing--;
          renewNext();
        });
    }
  };

  const renew = (key: string, entry: Entry, query: SearchQuery) => {
    if (entry.renewing) return;
    entry.renewing = true;
    pending.push({ key, entry, query });
    renewNext();
  };

  const search = (query: SearchQuery): Promise<SearchPage> => {
    const text = JSON.stringify([
      query.q?.trim().toLowerCase() ?? '',
      query.filters ?? {},
      query.sort ?? '',
      query.limit,
      query.cursor ?? '',
    ]);
    const key = text.length > LONGEST_KEY ? createHash('sha256').update(text).digest('base64url') : text;
    const now = Date.now();
    const entry = entries.get(key);
    if (entry) {
      if (now < entry.freshUntil) {
        stats.hits++;
        return entry.page;
      }
      if (now < entry.staleUntil) {
        stats.stale++;
        renew(key, entry, query);
        return entry.page;
      }
      entries.delete(key);
    }
    stats.misses++;
    // Kept in the map while it runs, so a change seen meanwhile shortens it like any other answer.
    return store(key, inner.search(query), now, watched).page;
  };

  return {
    cacheStats: () => ({ ...stats }),
    backend: inner.backend,
    init: () => inner.init(),
    async upsert(documents) {
      await inner.upsert(documents);
      clear();
    },
    async remove(roomIds) {
      await inner.remove(roomIds);
      clear();
    },
    search,
    stats: () => inner.stats(),
    async rebuild(source) {
      const count = await inner.rebuild(source);
      clear();
      return count;
    },
    ...(inner.recover ? { recover: inner.recover.bind(inner) } : {}),
    ...(inner.status ? { status: inner.status.bind(inner) } : {}),
    async close() {
      await stopWatching?.();
      await inner.close();
    },
  };
}
