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

/**
 * A rendering of an answer that the cache keeps beside it, made once per answer rather than on
 * every request that is given it: the API's response body and its ETag. Renderings are kept per
 * view object, so make each view once (per app) and keep it.
 */
export interface PageView<T> {
  render(page: SearchPage): T;
}

/** The answer cache's own method (see `withSearchCache`). */
export type ViewedSearchIndex = SearchIndex & {
  searchView<T>(query: SearchQuery, view: PageView<T>): Promise<T>;
};

/**
 * `view` of the answer to `query`: kept with the answer when `index` is an answer cache, else made
 * from a fresh search.
 */
export function searchView<T>(index: SearchIndex, query: SearchQuery, view: PageView<T>): Promise<T> {
  const viewed = index as Partial<ViewedSearchIndex>;
  return viewed.searchView
    ? viewed.searchView(query, view)
    : index.search(query).then((page) => view.render(page));
}

interface Entry {
  /** When its search started. */
  at: number;
  /**
   * The search while it runs (identical searches meanwhile join it), then its answer as JSON, parsed
   * again for each request. With every search different, new answers are kept all the time; a young
   * collection copies one string without walking it, where an answer as objects is 20 rooms of
   * fields to walk and copy.
   */
  answer: Promise<SearchPage> | string;
  /** Renderings of this answer, by view. Strings are best here too: they are copied without a walk. */
  views: Map<PageView<unknown>, Promise<unknown>> | undefined;
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
 *
 * An answer is kept as its JSON and parsed again for each request given it, so no request can
 * change what the next one gets; `searchView` hands out a rendering kept beside the answer instead
 * (the API's response body), made once per answer.
 */
export function withSearchCache(
  inner: SearchIndex,
  options: SearchCacheOptions = {},
): ViewedSearchIndex & { cacheStats(): SearchCacheStats } {
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
    const entry: Entry = {
      at,
      answer: page,
      views: undefined,
      freshUntil,
      staleUntil: freshUntil + staleMs,
      renewing: false,
    };
    entries.set(key, entry);
    page.then(
      (answer) => {
        if (entry.answer === page) entry.answer = JSON.stringify(answer);
      },
      // Failures are not remembered.
      () => {
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    return entry;
  };

  const answerOf = (entry: Entry): Promise<SearchPage> =>
    typeof entry.answer === 'string' ? Promise.resolve(JSON.parse(entry.answer) as SearchPage) : entry.answer;

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

  /** The entry answering `query`, counted as a hit, a stale answer or a miss (a new entry). */
  const lookup = (query: SearchQuery): Entry => {
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
        return entry;
      }
      if (now < entry.staleUntil) {
        stats.stale++;
        renew(key, entry, query);
        return entry;
      }
      entries.delete(key);
    }
    stats.misses++;
    // Kept in the map while it runs, so a change seen meanwhile shortens it like any other answer.
    return store(key, inner.search(query), now, watched);
  };

  const search = (query: SearchQuery): Promise<SearchPage> => answerOf(lookup(query));

  const searchView = <T>(query: SearchQuery, view: PageView<T>): Promise<T> => {
    const entry = lookup(query);
    const kept = entry.views?.get(view);
    if (kept) return kept as Promise<T>;
    const rendered = answerOf(entry).then((page) => view.render(page));
    entry.views ??= new Map();
    entry.views.set(view, rendered);
    // A failed search or rendering is not kept (the entry itself goes when its search fails).
    rendered.catch(() => {
      if (entry.views?.get(view) === rendered) entry.views.delete(view);
    });
    return rendered;
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
    searchView,
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
