import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withSearchCache } from './cache.ts';
import type { IndexChangeListener, SearchIndex, SearchPage } from './types.ts';

/**
 * An index whose answers the test controls: each search answers with the current `version` in
 * `total`, or fails while `failing` is set. The cache only sees the SearchIndex contract.
 */
function scriptedIndex() {
  const state = { version: 1, failing: false, searches: 0 };
  const index: SearchIndex = {
    backend: 'postgres',
    init: async () => {},
    upsert: async () => {
      state.version++;
    },
    remove: async () => {},
    search: async () => {
      state.searches++;
      if (state.failing) throw new Error('database down');
      return { hits: [], total: state.version, totalExact: true, nextCursor: null } satisfies SearchPage;
    },
    stats: async () => ({ backend: 'postgres', documents: 0 }),
    rebuild: async () => 0,
    close: async () => {},
  };
  return { state, index };
}

const query = { q: 'linux', limit: 20 };
/** Lets background searches settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('withSearchCache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers identical searches from one search while the answer is fresh', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000 });
    const [a, b] = await Promise.all([cache.search(query), cache.search({ ...query, q: ' Linux ' })]);
    vi.advanceTimersByTime(999);
    await cache.search(query);
    expect(state.searches).toBe(1);
    expect(a).toBe(b);
    expect(cache.cacheStats()).toMatchObject({ hits: 2, misses: 1 });
  });

  it('serves an aged answer once while renewing it, then the renewed one', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000 });
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(1500);
    expect((await cache.search(query)).total).toBe(1);
    await settle();
    expect((await cache.search(query)).total).toBe(2);
    expect(state.searches).toBe(2);
    expect(cache.cacheStats()).toMatchObject({ stale: 1, refreshes: 1, hits: 1, misses: 1 });
  });

  it('waits for a new search once an answer is past its stale period', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000 });
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(2000);
    expect((await cache.search(query)).total).toBe(2);
    expect(cache.cacheStats()).toMatchObject({ misses: 2, stale: 0 });
  });

  it('keeps the aged answer when renewing it fails, and does not remember failures', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000 });
    await cache.search(query);
    state.failing = true;
    vi.advanceTimersByTime(1500);
    expect((await cache.search(query)).total).toBe(1);
    await settle();
    expect((await cache.search(query)).total).toBe(1);
    vi.advanceTimersByTime(1000);
    await expect(cache.search(query)).rejects.toThrow('database down');
    state.failing = false;
    expect((await cache.search(query)).total).toBe(1);
  });

  it('forgets every answer on a write through it, including one being renewed', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000 });
    await cache.search(query);
    vi.advanceTimersByTime(1500);
    await cache.search(query);
    await cache.upsert([]);
    await settle();
    expect((await cache.search(query)).total).toBe(2);
    expect(state.searches).toBe(3);
  });

  it('never serves a stale answer when the stale period is 0', async () => {
    const { state, index } = scriptedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 0 });
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(1000);
    expect((await cache.search(query)).total).toBe(2);
  });

  it('keeps an answer past its freshness while the index is watched and unchanged, up to the maximum age', async () => {
    const { state, index, watch } = watchedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 60_000, maxAgeMs: 60_000 });
    watch().watching(true);
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(44_000);
    expect((await cache.search(query)).total).toBe(1);
    expect(state.searches).toBe(1);
    expect(cache.cacheStats()).toMatchObject({ hits: 1, stale: 0 });
    // Past the maximum age (at most 60 s), renewed like any aged answer.
    vi.advanceTimersByTime(16_000);
    expect((await cache.search(query)).total).toBe(1);
    await settle();
    expect((await cache.search(query)).total).toBe(2);
  });

  it('renews an answer once the index changes under it, not before it is ttlMs old', async () => {
    const { state, index, watch } = watchedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000, maxAgeMs: 60_000 });
    watch().watching(true);
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(500);
    watch().changed();
    expect((await cache.search(query)).total).toBe(1);
    expect(cache.cacheStats()).toMatchObject({ hits: 1, stale: 0 });
    vi.advanceTimersByTime(500);
    expect((await cache.search(query)).total).toBe(1);
    await settle();
    expect((await cache.search(query)).total).toBe(2);
    expect(cache.cacheStats()).toMatchObject({ stale: 1, refreshes: 1, changes: 2 });
  });

  it('gives the stale period from when a change is seen to answers older than ttlMs', async () => {
    const { state, index, watch } = watchedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 1000, maxAgeMs: 60_000 });
    watch().watching(true);
    await cache.search(query);
    state.version = 2;
    vi.advanceTimersByTime(30_000);
    watch().changed();
    vi.advanceTimersByTime(999);
    expect((await cache.search(query)).total).toBe(1);
    await settle();
    expect((await cache.search(query)).total).toBe(2);
    vi.advanceTimersByTime(2000);
    watch().changed();
    state.version = 3;
    vi.advanceTimersByTime(1000);
    expect((await cache.search(query)).total).toBe(3);
  });

  it('does not keep an answer whose search ran across a change as unchanged', async () => {
    const { state, index, watch } = watchedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 0, maxAgeMs: 60_000 });
    watch().watching(true);
    const answer = cache.search(query);
    watch().changed();
    await answer;
    state.version = 2;
    vi.advanceTimersByTime(1000);
    expect((await cache.search(query)).total).toBe(2);
  });

  it('falls back to ttlMs while the watch is lost, and counts its return as a change', async () => {
    const { state, index, watch } = watchedIndex();
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 0, maxAgeMs: 60_000 });
    watch().watching(true);
    await cache.search(query);
    watch().watching(false);
    state.version = 2;
    vi.advanceTimersByTime(1000);
    expect((await cache.search(query)).total).toBe(2);
    state.version = 3;
    vi.advanceTimersByTime(1000);
    expect((await cache.search(query)).total).toBe(3);
    vi.advanceTimersByTime(500);
    watch().watching(true);
    state.version = 4;
    vi.advanceTimersByTime(500);
    expect((await cache.search(query)).total).toBe(4);
  });

  it('renews at most maxRenewals answers at a time, the others in turn', async () => {
    const { state, index, watch, release } = watchedIndex({ held: true });
    const cache = withSearchCache(index, { ttlMs: 1000, staleMs: 10_000, maxRenewals: 1 });
    watch().watching(false);
    const words = ['a', 'b', 'c'];
    const first = words.map((q) => cache.search({ q, limit: 20 }));
    release();
    await Promise.all(first);
    vi.advanceTimersByTime(1500);
    for (const q of words) expect((await cache.search({ q, limit: 20 })).total).toBe(1);
    expect(state.inFlight).toBe(1);
    release();
    await settle();
    expect(state.inFlight).toBe(1);
    release();
    await settle();
    release();
    await settle();
    expect(state.inFlight).toBe(0);
    expect(cache.cacheStats()).toMatchObject({ refreshes: 3, stale: 3 });
  });
});

/**
 * `scriptedIndex` that tells of changes: `watch()` is the listener the cache gave it. With `held`,
 * each search waits until `release()` lets every search in flight answer.
 */
function watchedIndex(options: { held?: boolean } = {}) {
  const { state: base, index: inner } = scriptedIndex();
  const state = Object.assign(base, { inFlight: 0 });
  let listener: IndexChangeListener | undefined;
  let waiting: (() => void)[] = [];
  const index: SearchIndex = {
    ...inner,
    search: async (q) => {
      state.inFlight++;
      if (options.held) await new Promise<void>((resolve) => waiting.push(resolve));
      state.inFlight--;
      return inner.search(q);
    },
    watchChanges(given) {
      listener = given;
      return async () => {};
    },
  };
  const watch = () => {
    if (!listener) throw new Error('the cache did not watch the index');
    return listener;
  };
  const release = () => {
    const now = waiting;
    waiting = [];
    for (const resolve of now) resolve();
  };
  return { state, index, watch, release };
}
