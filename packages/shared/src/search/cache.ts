import type { SearchIndex, SearchPage, SearchQuery } from './types.ts';

export interface SearchCacheOptions {
  /** How long an answer is reused. The index changes in batches every few seconds; HTTP caches keep answers 30 s. */
  ttlMs?: number;
  maxEntries?: number;
}

/** Searches answered from the cache (or joined to an identical one in flight), and the others. */
export interface SearchCacheStats {
  hits: number;
  misses: number;
}

/**
 * Reuses recent answers to identical searches (same words, filters, sort, page). Directory
 * traffic repeats itself: Element asks every user's homeserver for the same first page, and
 * people type the same few words. Concurrent identical searches share one query. Writes through
 * this index clear the cache; writes by another process show within `ttlMs`.
 */
export function withSearchCache(
  inner: SearchIndex,
  options: SearchCacheOptions = {},
): SearchIndex & { cacheStats(): SearchCacheStats } {
  const ttlMs = options.ttlMs ?? 15_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { at: number; page: Promise<SearchPage> }>();
  const clear = () => entries.clear();
  const stats: SearchCacheStats = { hits: 0, misses: 0 };
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
      const hit = entries.get(key);
      if (hit && now - hit.at < ttlMs) {
        stats.hits++;
        return hit.page;
      }
      stats.misses++;
      if (hit) entries.delete(key);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      const page = inner.search(query);
      entries.set(key, { at: now, page });
      // Failures are not remembered.
      page.catch(() => {
        if (entries.get(key)?.page === page) entries.delete(key);
      });
      return page;
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
