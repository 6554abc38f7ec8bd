import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withSearchCache } from './cache.ts';
import type { SearchIndex, SearchPage } from './types.ts';

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
});
