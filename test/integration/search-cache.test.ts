import {
  createPostgresSearchIndex,
  type PageView,
  type SearchIndex,
  searchView,
  withSearchCache,
} from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/ports.ts';
import { roomDocument } from '../support/seed-rooms.ts';

// The API's answer cache keeps answers until the index changes. The index queue writes through a
// backend of its own (in another process), so the cache must learn of those writes from the
// database: here the writer is a second backend on the same database, as the index queue's is.
let database: TestDatabase;
let writer: SearchIndex;
let cache: ReturnType<typeof withSearchCache>;

beforeAll(async () => {
  database = await createTestDatabase('search_cache');
  writer = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 });
  await writer.init();
  await writer.upsert([roomDocument({ roomId: '!one:example.org', name: 'Lighthouse keepers' })]);
  // No freshness of their own, no stale period: an answer lasts exactly as long as nothing changes.
  cache = withSearchCache(
    // Words another process indexes are read into the typo vocabulary within a second.
    createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2, vocabularyReloadMs: 1_000 }),
    {
      ttlMs: 0,
      staleMs: 0,
    },
  );
  // Starting to watch counts as a change (whatever happened before was not seen).
  await waitFor('the cache to watch the index', () => cache.cacheStats().changes > 0);
});

afterAll(async () => {
  await cache?.close();
  await writer?.close();
  await database?.drop();
});

const names = async (q: string) => (await cache.search({ q, limit: 20 })).hits.map((h) => h.name);

describe('answer cache over the PostgreSQL backend', () => {
  it('keeps an answer while the index does not change, and answers from the index once it does', async () => {
    expect(await names('lighthouse')).toEqual(['Lighthouse keepers']);
    const before = cache.cacheStats();
    expect(await names('lighthouse')).toEqual(['Lighthouse keepers']);
    expect(cache.cacheStats().hits).toBe(before.hits + 1);
    expect(cache.cacheStats().misses).toBe(before.misses);

    await writer.upsert([roomDocument({ roomId: '!two:example.org', name: 'Lighthouse photography' })]);
    await waitFor('the change to reach the cache', () => cache.cacheStats().changes > before.changes);
    expect((await names('lighthouse')).sort()).toEqual(['Lighthouse keepers', 'Lighthouse photography']);

    await writer.remove(['!one:example.org']);
    await waitFor('the removal to reach the cache', () => cache.cacheStats().changes > before.changes + 1);
    expect(await names('lighthouse')).toEqual(['Lighthouse photography']);
  });

  it('does not miss a change made while its watch was cut off', async () => {
    expect(await names('harbour')).toEqual([]);
    const before = cache.cacheStats();
    await database.sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = 'atlas-search-watch' and datname = current_database()`;
    await writer.upsert([roomDocument({ roomId: '!three:example.org', name: 'Harbour pilots' })]);
    // Cut off (a change), then watching again (another): whether the write was announced to the
    // old connection, to the new one or to none, the answer must not outlive it.
    await waitFor('the watch to come back', () => cache.cacheStats().changes >= before.changes + 2);
    expect(await names('harbour')).toEqual(['Harbour pilots']);
  });

  it('corrects a typo of a word another process indexed, without waiting for the vocabulary refresh', async () => {
    // The vocabulary is loaded by a search that corrects words, before the room exists.
    expect(await names('cormorrant')).toEqual([]);
    await writer.upsert([roomDocument({ roomId: '!four:example.org', name: 'Cormorant watchers' })]);
    await waitFor('the typo to find the new room', async () =>
      (await names('cormorrant')).includes('Cormorant watchers'),
    );
  });

  it('announces a write only when it commits, and never stores half of one', async () => {
    const payloads: string[] = [];
    const listening = await database.sql.listen('atlas_search_changed', (payload) => payloads.push(payload));
    try {
      // The typo vocabulary refuses one word, so the second statement of the write fails.
      await database.sql`
        alter table search_terms add constraint no_zeppelin check (term <> 'zeppelin') not valid`;
      try {
        await expect(
          writer.upsert([roomDocument({ roomId: '!five:example.org', name: 'Zeppelin club' })]),
        ).rejects.toThrow(/no_zeppelin/);
      } finally {
        await database.sql`alter table search_terms drop constraint no_zeppelin`;
      }
      const [stored] = await database.sql<{ n: number }[]>`
        select count(*)::int as n from room_search where room_id = '!five:example.org'`;
      expect(stored?.n).toBe(0);

      await writer.upsert([roomDocument({ roomId: '!six:example.org', name: 'Airship club' })]);
      // Notifications arrive in commit order: once the marker is in, every earlier one is too.
      await database.sql`select pg_notify('atlas_search_changed', 'marker')`;
      await waitFor('the marker notification', () => payloads.includes('marker'));
      expect(payloads).toEqual(['', 'marker']);
      expect(await names('airship')).toEqual(['Airship club']);
    } finally {
      await listening.unlisten();
    }
  });

  it('serves each request its own copy of a kept answer, the same as the first', async () => {
    await writer.upsert([
      roomDocument({ roomId: '!seven:example.org', name: 'Tidal pools', topic: 'Rock pools' }),
    ]);
    await waitFor('the room to be found', async () => (await names('tidal')).includes('Tidal pools'));
    const first = await cache.search({ q: 'tidal', limit: 20 });
    const before = cache.cacheStats();
    const second = await cache.search({ q: 'tidal', limit: 20 });
    expect(cache.cacheStats().hits).toBe(before.hits + 1);
    expect(second).toEqual(first);
    // A request that changes what it was given (a route trimming fields) changes no one else's.
    for (const hit of second.hits) hit.name = 'changed';
    second.hits.length = 0;
    const third = await cache.search({ q: 'tidal', limit: 20 });
    expect(cache.cacheStats().hits).toBe(before.hits + 2);
    expect(third.hits.map((h) => [h.name, h.topic])).toEqual([['Tidal pools', 'Rock pools']]);
  });

  it('renders an answer once for each view, and again once the index changes', async () => {
    let renders = 0;
    const view: PageView<string> = {
      render(page) {
        renders++;
        return page.hits.map((h) => h.name).join(', ');
      },
    };
    const query = { q: 'lantern', limit: 20 };
    expect(await cache.searchView(query, view)).toBe('');
    await writer.upsert([roomDocument({ roomId: '!eight:example.org', name: 'Lantern makers' })]);
    await waitFor(
      'the change to be seen',
      async () => (await cache.searchView(query, view)) === 'Lantern makers',
    );
    const rendered = renders;
    // Identical searches, at once and later: the rendering is handed out, not made again.
    const again = await Promise.all([1, 2, 3].map(() => cache.searchView(query, view)));
    expect(again).toEqual(['Lantern makers', 'Lantern makers', 'Lantern makers']);
    expect(await searchView(cache, query, view)).toBe('Lantern makers');
    expect(renders).toBe(rendered);
    // Another view of the same answer has a rendering of its own.
    const count: PageView<number> = { render: (page) => page.hits.length };
    expect(await cache.searchView(query, count)).toBe(1);
    // Without a cache in front, searchView searches and renders each time.
    expect(await searchView(writer, query, view)).toBe('Lantern makers');
    expect(renders).toBe(rendered + 1);
  });
});
