import {
  createFailoverSearchIndex,
  createMeilisearchIndex,
  createPostgresSearchIndex,
  withSearchCache,
} from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { startMeilisearch, type TestMeilisearch } from '../support/meilisearch.ts';
import { waitFor } from '../support/ports.ts';
import { seedRooms } from '../support/seed-rooms.ts';

// When Meilisearch goes away, searches are answered by PostgreSQL and say so, instead of failing;
// when it comes back, they go back to it. This file runs a Meilisearch of its own, since it kills it.
let meili: TestMeilisearch;
let api: TestApi;

const HEADER = 'x-atlas-search-backend';

beforeAll(async () => {
  meili = await startMeilisearch();
  api = await createTestApi('search_fallback', {
    // As `atlas api` builds it, with an answer cache that keeps nothing: every request searches.
    search: (database) =>
      withSearchCache(
        createFailoverSearchIndex({
          primary: createMeilisearchIndex({ url: meili.url, key: meili.key, taskTimeoutMs: 20_000 }),
          fallback: createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 4 }),
          databaseUrl: database.url,
          checkEveryMs: 200,
        }),
        { ttlMs: 0, staleMs: 0 },
      ),
  });
  await seedRooms(api.database, [
    { roomId: '!keepers:one.example', name: 'Lighthouse keepers', members: 400, servers: ['one.example'] },
    { roomId: '!photos:one.example', name: 'Lighthouse photography', members: 90, servers: ['one.example'] },
    { roomId: '!pilots:two.example', name: 'Harbour pilots', members: 60, servers: ['two.example'] },
    {
      roomId: '!tides:two.example',
      name: 'Tide tables',
      topic: 'Lighthouse news',
      members: 5,
      servers: ['two.example'],
    },
  ]);
  // The index queue's first run builds Meilisearch's index.
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
  await meili?.close();
});

interface Seen {
  path: string;
  status: number;
  backend: string | null;
  first?: string | undefined;
}

/** Requests, four at a time, the way people would search, until stopped. */
function underQueries() {
  const seen: Seen[] = [];
  let running = true;
  const paths = [
    '/api/v1/rooms?q=lighthouse',
    '/api/v1/rooms?q=lighthous&sort=members',
    '/api/v1/rooms?limit=2',
    '/api/v1/rooms?server=two.example',
    '/api/v1/stats',
    '/?q=lighthouse',
  ];
  const loops = Array.from({ length: 4 }, async (_, n) => {
    for (let i = n; running; i++) {
      const path = paths[i % paths.length] ?? '/';
      const response = await api.get(path);
      const entry: Seen = { path, status: response.status, backend: response.headers.get(HEADER) };
      if (path.startsWith('/api/v1/rooms?q=lighthouse')) {
        entry.first = ((await response.json()) as { rooms: { room_id: string }[] }).rooms[0]?.room_id;
      } else {
        await response.arrayBuffer();
      }
      seen.push(entry);
    }
  });
  return {
    seen,
    /** Waits until a search answered with this backend header after `from`. */
    async until(backend: string, from = 0) {
      await waitFor(
        `searches answered by "${backend}"`,
        () => seen.slice(from).some((s) => s.backend === backend),
        30_000,
        20,
      );
      return seen.length;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return seen;
    },
  };
}

async function metric(name: string): Promise<number> {
  const text = await (await api.get('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ').at(-1));
}

describe('search when Meilisearch goes away', () => {
  it('answers every search through a kill and two restarts, with PostgreSQL in between, and says which', async () => {
    const load = underQueries();
    try {
      let mark = await load.until('meilisearch');
      expect(await metric('atlas_search_fallback_active')).toBe(0);

      // Killed as a crash would: searches fall back at once.
      await meili.stop('SIGKILL');
      mark = await load.until('postgres; fallback', mark);
      expect(await metric('atlas_search_fallback_active')).toBe(1);

      // Back with its data: searches return to it.
      await meili.start();
      mark = await load.until('meilisearch', mark);
      expect(await metric('atlas_search_fallback_active')).toBe(0);

      // Back without its data: PostgreSQL answers until the index queue has rebuilt the index.
      await meili.stop();
      await meili.start({ lost: true });
      mark = await load.until('postgres; fallback', mark);
      await api.reindex();
      await load.until('meilisearch', mark);
    } finally {
      await load.stop();
    }
    const seen = load.seen;
    const failed = seen.filter((s) => s.status >= 500);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    // Whichever backend answered, the room a person looks for came first.
    const answers = seen.filter((s) => s.first !== undefined);
    expect(new Set(answers.map((s) => s.first))).toEqual(new Set(['!keepers:one.example']));
    expect(new Set(answers.map((s) => s.backend))).toEqual(new Set(['meilisearch', 'postgres; fallback']));
    expect(await metric('atlas_search_primary_failures_total')).toBeGreaterThan(0);
    expect(await metric('atlas_search_queries_total{backend="postgres",fallback="true"}')).toBeGreaterThan(0);
    expect(
      await metric('atlas_search_queries_total{backend="meilisearch",fallback="false"}'),
    ).toBeGreaterThan(0);
  });

  it('keeps paging on the backend that found the first page', async () => {
    const firstPage = async () => {
      const response = await api.get('/api/v1/rooms?q=lighthouse&limit=1');
      return {
        backend: response.headers.get(HEADER),
        body: (await response.json()) as { rooms: { room_id: string }[]; next_cursor: string | null },
      };
    };
    const next = (cursor: string | null) => api.get(`/api/v1/rooms?q=lighthouse&limit=1&cursor=${cursor}`);

    await meili.stop('SIGKILL');
    await waitFor('the fallback', async () => (await firstPage()).backend === 'postgres; fallback');
    const fromPostgres = await firstPage();
    await meili.start();
    await waitFor('Meilisearch back', async () => (await firstPage()).backend === 'meilisearch');
    // A search begun on PostgreSQL ends there, without repeating or skipping rooms.
    const second = await next(fromPostgres.body.next_cursor);
    expect(second.status).toBe(200);
    expect(second.headers.get(HEADER)).toBe('postgres; fallback');
    const rooms = [
      fromPostgres.body.rooms[0]?.room_id,
      ...((await second.json()) as { rooms: { room_id: string }[] }).rooms.map((r) => r.room_id),
    ];
    expect(rooms).toEqual(['!keepers:one.example', '!photos:one.example']);

    // A page Meilisearch found cannot be continued by PostgreSQL: the caller is told to start again.
    const fromMeilisearch = await firstPage();
    expect(fromMeilisearch.backend).toBe('meilisearch');
    await meili.stop('SIGKILL');
    const orphan = await next(fromMeilisearch.body.next_cursor);
    expect(orphan.status).toBe(400);
    expect(((await orphan.json()) as { error: { message: string } }).error.message).toContain('search again');
    await meili.start();
  });
});
