import { silentLogger } from '@atlas/shared/log';
import { createQueueBackend, dispatchJobs, enqueue } from '@atlas/shared/queue';
import {
  createFailoverSearchIndex,
  createMeilisearchIndex,
  createPostgresSearchIndex,
  indexChangedRooms,
  type MeilisearchIndex,
  rebuildSearchIndex,
  type SearchIndex,
  type SearchQuery,
} from '@atlas/shared/search';
import { Meilisearch } from 'meilisearch';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { indexWorker } from '../../apps/crawler/src/search/index-worker.ts';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { startMeilisearch, type TestMeilisearch } from '../support/meilisearch.ts';
import { waitFor } from '../support/ports.ts';
import { seedRooms } from '../support/seed-rooms.ts';

// The indexer keeps Meilisearch in step with the database, with PostgreSQL's room_search beside it,
// through every kind of change, through Meilisearch going away, and through Meilisearch losing its
// data. This file runs a Meilisearch of its own, since it stops it.
let database: TestDatabase;
let meili: TestMeilisearch;
let uid: string;
/** What the index queue writes through: Meilisearch with PostgreSQL beside it. */
let index: SearchIndex;
/** The two halves read directly, to see that each holds what it should. */
let meiliOnly: MeilisearchIndex;
let postgresOnly: SearchIndex;

beforeAll(async () => {
  database = await createTestDatabase('search_meili_sync');
  meili = await startMeilisearch();
  uid = randomNamespace('rooms');
  index = createFailoverSearchIndex({
    primary: createMeilisearchIndex({ url: meili.url, key: meili.key, indexUid: uid, taskTimeoutMs: 20_000 }),
    fallback: createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 }),
    databaseUrl: database.url,
    checkEveryMs: 200,
  });
  await index.init();
  meiliOnly = createMeilisearchIndex({ url: meili.url, key: meili.key, indexUid: uid });
  postgresOnly = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 });
});

afterAll(async () => {
  await index?.close();
  await postgresOnly?.close();
  await meili?.close();
  await database?.drop();
});

const found = async (target: SearchIndex, query: Omit<SearchQuery, 'limit'>) =>
  (await target.search({ limit: 100, ...query })).hits.map((h) => h.roomId).sort();

/** Both halves answer the same. */
async function expectBoth(query: Omit<SearchQuery, 'limit'>, roomIds: string[]): Promise<void> {
  expect(await found(meiliOnly, query), `Meilisearch: ${JSON.stringify(query)}`).toEqual([...roomIds].sort());
  expect(await found(postgresOnly, query), `PostgreSQL: ${JSON.stringify(query)}`).toEqual(
    [...roomIds].sort(),
  );
}

const run = () => indexChangedRooms(database.sql, index, { batchSize: 4 });
const bump = (roomId: string, change: string) =>
  database.sql.unsafe(`update rooms set ${change}, version = version + 1 where room_id = $1`, [roomId]);

describe('the indexer keeps Meilisearch in step with the database', () => {
  it('builds the index on its first run, then pushes what crawls store', async () => {
    await seedRooms(database, [
      { roomId: '!a:one.example', name: 'Lighthouse keepers', members: 40, servers: ['one.example'] },
      { roomId: '!b:one.example', name: 'Harbour pilots', members: 30, servers: ['one.example'] },
      { roomId: '!c:two.example', name: 'Tide tables', topic: 'Lighthouse news', servers: ['two.example'] },
    ]);
    expect(await run()).toMatchObject({ ran: true, upserted: 3 });
    await expectBoth({ q: 'lighthouse' }, ['!a:one.example', '!c:two.example']);
    // Atlas built this index: searches may use it.
    expect(await index.recover?.()).toBe(0);
    const page = await index.search({ q: 'harbour', limit: 5 });
    expect(page.servedBy).toEqual({ backend: 'meilisearch', fallback: false });
  });

  it('follows renames, stale rooms, hidden rooms and no-index tags', async () => {
    await bump('!b:one.example', "name = 'Lighthouse pilots'");
    await bump('!c:two.example', 'stale_since = now()');
    await run();
    await expectBoth({ q: 'harbour' }, []);
    await expectBoth({ q: 'lighthouse', filters: { stale: false } }, ['!a:one.example', '!b:one.example']);
    await expectBoth({ q: 'lighthouse', filters: { stale: true } }, ['!c:two.example']);

    await bump('!a:one.example', 'hidden = true');
    await bump('!b:one.example', "topic = 'Pilots of the harbour (atlas-noindex)'");
    expect(await run()).toMatchObject({ removed: 2 });
    await expectBoth({ q: 'lighthouse' }, ['!c:two.example']);
    expect((await meiliOnly.stats()).documents).toBe(1);

    await bump('!a:one.example', 'hidden = false');
    await bump('!b:one.example', "topic = 'Pilots of the harbour'");
    await run();
    await expectBoth({ q: 'lighthouse' }, ['!a:one.example', '!b:one.example', '!c:two.example']);
  });

  it('records what it could not write while Meilisearch was down, searches PostgreSQL meanwhile, and catches up', async () => {
    await meili.stop('SIGKILL');
    await seedRooms(database, [
      { roomId: '!d:one.example', name: 'Foghorn society', servers: ['one.example'] },
    ]);
    await bump('!a:one.example', "name = 'Lantern keepers'");
    // The run does not fail: PostgreSQL has the rooms, and Meilisearch's misses are recorded.
    expect(await run()).toMatchObject({ ran: true, upserted: 2 });
    expect(await found(postgresOnly, { q: 'foghorn' })).toEqual(['!d:one.example']);
    const [misses] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from search_index_misses where index_uid = ${uid}`;
    expect(misses?.n).toBe(2);
    const page = await index.search({ q: 'foghorn', limit: 5 });
    expect(page.servedBy).toEqual({ backend: 'postgres', fallback: true });
    expect(page.hits.map((h) => h.roomId)).toEqual(['!d:one.example']);

    await meili.start();
    await run();
    await expectBoth({ q: 'foghorn' }, ['!d:one.example']);
    await expectBoth({ q: 'lantern' }, ['!a:one.example']);
    await expectBoth({ q: 'keepers' }, ['!a:one.example']);
    const [left] = await database.sql<{ n: number }[]>`
      select count(*)::int as n from search_index_misses where index_uid = ${uid}`;
    expect(left?.n).toBe(0);
    await waitFor('searches to go back to Meilisearch', async () => {
      return (await index.search({ q: 'foghorn', limit: 5 })).servedBy?.backend === 'meilisearch';
    });
  });

  it('rebuilds the index by itself after Meilisearch lost its data folder', async () => {
    await meili.stop();
    await meili.start({ lost: true });
    expect(await meiliOnly.createdAt()).toBeNull();
    const page = await index.search({ q: 'lantern', limit: 5 });
    expect(page.servedBy?.fallback).toBe(true);
    expect(page.hits.map((h) => h.roomId)).toEqual(['!a:one.example']);

    await run();
    await expectBoth({ q: 'lantern' }, ['!a:one.example']);
    expect((await meiliOnly.stats()).documents).toBe(4);
    // With its settings: filters and sorts work.
    await expectBoth({ filters: { servers: ['two.example'], stale: true } }, ['!c:two.example']);
    await waitFor('searches to go back to Meilisearch', async () => {
      return (await index.search({ q: 'lantern', limit: 5 })).servedBy?.backend === 'meilisearch';
    });
  });

  it('nightly rebuilds keep both halves whole, and PostgreSQL alone when Meilisearch is down', async () => {
    expect(await rebuildSearchIndex(database.sql, index)).toMatchObject({ ran: true, upserted: 4 });
    await expectBoth({ q: 'pilots' }, ['!b:one.example']);

    await meili.stop('SIGKILL');
    await bump('!b:one.example', "name = 'Ferry pilots'");
    expect(await rebuildSearchIndex(database.sql, index)).toMatchObject({ ran: true, upserted: 4 });
    expect(await found(postgresOnly, { q: 'ferry' })).toEqual(['!b:one.example']);
    await meili.start();
    // Not knowing what the interrupted rebuild left, the next run builds Meilisearch again.
    await run();
    await expectBoth({ q: 'ferry' }, ['!b:one.example']);
  });
});

describe('the index queue worker', () => {
  it('rebuilds an index deleted while it runs', async () => {
    const queues = await createQueueBackend({
      redisUrl: inject('redisUrl'),
      databaseUrl: database.url,
      namespace: randomNamespace('index'),
    });
    // The worker as the crawler runs it, on this file's Meilisearch (its index is the default one).
    const ctx = {
      config: { meili: { url: meili.url, key: meili.key } },
      database,
      queues,
      log: silentLogger,
    } as unknown as Parameters<typeof indexWorker.setup>[0];
    const setup = await indexWorker.setup(ctx);
    const rooms = createMeilisearchIndex({ url: meili.url, key: meili.key, indexUid: 'rooms' });
    const admin = new Meilisearch({ host: meili.url, apiKey: meili.key });
    const pending = async () =>
      (
        await database.sql<
          { n: number }[]
        >`select count(*)::int as n from rooms where version <> indexed_version`
      )[0]?.n;
    const searchable = async () => (await rooms.search({ q: 'weather', limit: 1 })).total;
    try {
      queues.worker('index', dispatchJobs('index', setup.processors));
      // Its first run builds the index (from room_search) and is done.
      await enqueue(queues, 'index-changed', [{}]);
      await waitFor(
        'the first run',
        async () => (await rooms.createdAt()) !== null && (await pending()) === 0,
      );

      // Enough rooms for a run of several batches.
      await database.sql`
        insert into rooms (room_id, name, num_joined_members)
        select '!w' || lpad(i::text, 4, '0') || ':three.example', 'Weather station ' || i, i
        from generate_series(1, 1500) as i`;
      await database.sql`insert into servers (name, status, found_via) values ('three.example', 'online', 'seed')`;
      await database.sql`
        insert into room_listings (room_id, server_name, active)
        select room_id, 'three.example', true from rooms where room_id like '!w%'`;
      await enqueue(queues, 'index-changed', [{}]);
      let pendingAtDeletion: number | undefined;
      await waitFor(
        'the first batch in Meilisearch',
        async () => {
          if ((await searchable()) === 0) return false;
          await admin.deleteIndex('rooms').waitTask();
          pendingAtDeletion = await pending();
          return true;
        },
        60_000,
        10,
      );
      // Deleted while the run was still going.
      expect(pendingAtDeletion).toBeGreaterThan(0);
      await waitFor('the run to finish', async () => (await pending()) === 0, 60_000);

      // The next run sees the index is not the one it built, and rebuilds it from room_search.
      await enqueue(queues, 'index-changed', [{}]);
      // Every room of room_search (this file's earlier rooms too), not only the run's later batches.
      const [kept] = await database.sql<{ n: number }[]>`select count(*)::int as n from room_search`;
      expect(kept?.n).toBeGreaterThanOrEqual(1500);
      await waitFor('the index rebuilt', async () => (await rooms.stats()).documents === kept?.n, 60_000);
      expect(await rooms.search({ q: 'weather', limit: 1 })).toMatchObject({
        total: 1000,
        totalExact: false,
      });
      const heaviest = await rooms.search({
        q: 'weather',
        filters: { servers: ['three.example'] },
        limit: 2,
      });
      expect(heaviest.hits.map((h) => h.roomId)).toEqual(['!w1500:three.example', '!w1499:three.example']);
    } finally {
      await queues.close();
      await setup.close?.();
    }
  });
});
