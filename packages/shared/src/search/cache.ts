import type { SearchIndex, SearchPage, SearchQuery } from './types.ts';

export interface SearchCacheOptions {
  /** How long an answer is fresh. The index changes in batches every few seconds; HTTP caches keep answers 30 s. */
  ttlMs?: number;
  /**
   * How long after that an answer may still be served while the search runs again in the
   * background (0: never). Answers are then at most `ttlMs + staleMs` old, as HTTP caches are
   * told they may be (max-age and stale-while-revalidate).
   */
  staleMs?: number;
  maxEntries?: number;
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
}

interface Entry {
  at: number;
  page: Promise<SearchPage>;
  refreshing: boolean;
}

/**
 * Reuses recent answers to identical searches (same words, filters, sort, page). Directory
 * traffic repeats itself: Element asks every user's homeserver for the same first page, and
 * people type the same few words. Concurrent identical searches share one query. An answer past
 * `ttlMs` is served once more while it is renewed in the background, so popular searches never
 * wait for the database when their answer ages out (all at once, for answers cached together).
 * Writes through this index clear the cache; writes by another process show within
 * `ttlMs + staleMs`.
 */
export function withSearchCache(
  inner: SearchIndex,
  options: SearchCacheOptions = {},
): SearchIndex & { cacheStats(): SearchCacheStats } {
  const ttlMs = options.ttlMs ?? 15_000;
  const staleMs = options.staleMs ?? 15_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const clear = () => entries.clear();
  const stats: SearchCacheStats = { hits: 0, stale: 0, misses: 0, refreshes: 0 };

  const store = (key: string, page: Promise<SearchPage>, at: number): Entry => {
    if (!entries.has(key) && entries.size >= maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    const entry: Entry = { at, page, refreshing: false };
    entries.set(key, entry);
    // Failures are not remembered.
    page.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry;
  };

  const refresh = (key: string, entry: Entry, query: SearchQuery) => {
    entry.refreshing = true;
    const at = Date.now();
    const page = inner.search(query);
    page.then(
      () => {
        stats.refreshes++;
        // Unless a write cleared the cache meanwhile: this answer may predate it.
        if (entries.get(key) === entry) store(key, page, at);
      },
      // The old answer stays (until it is too old) and the next request tries again.
      () => {
        entry.refreshing = false;
      },
    );
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
    search(query: SearchQuery) {
      const key = JSON.stringify([
        query.q?.trim().toLowerCase() ?? '',
        query.filters ?? {},
        query.sort ?? '',
        query.limit,
        query.cursor ?? '',
      ]);
      const now = Date.now();
      const entry = entries.get(key);
      if (entry) {
        const age = now - entry.at;
        if (age < ttlMs) {
          stats.hits++;
          return entry.page;
        }
        if (age < ttlMs + staleMs) {
          stats.stale++;
          if (!entry.refreshing) refresh(key, entry, query);
          return entry.page;
        }
        entries.delete(key);
      }
      stats.misses++;
      return store(key, inner.search(query), now).page;
    },
    stats: () => inner.stats(),
    async rebuild(source) {
      const count = await inner.rebuild(source);
      clear();
      return count;
    },
    close: () => inner.close(),
  };
}
