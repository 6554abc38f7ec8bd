import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '@atlas/cli';
import { silentLogger } from '@atlas/shared/log';
import { createQueueBackend, dispatchJobs, enqueue, upsertSchedules } from '@atlas/shared/queue';
import {
  createPostgresSearchIndex,
  indexChangedRooms,
  rebuildSearchIndex,
  type SearchIndex,
} from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { indexWorker } from '../../apps/crawler/src/search/index-worker.ts';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/ports.ts';
import { seedRooms, seedServers } from '../support/seed-rooms.ts';

let database: TestDatabase;
let index: SearchIndex;

beforeAll(async () => {
  database = await createTestDatabase('search_indexer');
  index = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 4 });
  await index.init();
  await seedRooms(
    database,
    Array.from({ length: 7 }, (_, i) => ({
      roomId: `!r${i}:example.org`,
      name: `Room number ${i}`,
      members: i + 1,
    })),
  );
});

afterAll(async () => {
  await index?.close();
  await database?.drop();
});

const found = async (q: string) => (await index.search({ q, limit: 50 })).hits.map((h) => h.roomId).sort();
const unindexed = async () =>
  Number(
    (await database.sql<{ n: string }[]>`select count(*) as n from rooms where version <> indexed_version`)[0]
      ?.n,
  );

describe('index queue', () => {
  it('catches up after a run that failed half way', async () => {
    let batches = 0;
    const failing: SearchIndex = {
      ...index,
      async upsert(documents) {
        batches++;
        if (batches === 2) throw new Error('search backend went away');
        await index.upsert(documents);
      },
    };
    await expect(indexChangedRooms(database.sql, failing, { batchSize: 3 })).rejects.toThrow('went away');
    // The first batch was indexed and recorded; the rest is still pending.
    expect(await found('room')).toHaveLength(3);
    expect(await unindexed()).toBe(4);
    const result = await indexChangedRooms(database.sql, index, { batchSize: 3 });
    expect(result).toEqual({ ran: true, upserted: 4, removed: 0 });
    expect(await found('room')).toHaveLength(7);
    expect(await unindexed()).toBe(0);
  });

  it('pushes only rooms whose version moved, and drops hidden ones', async () => {
    await database.sql`update rooms set name = 'Renamed lounge', version = version + 1 where room_id = '!r1:example.org'`;
    await database.sql`update rooms set hidden = true, version = version + 1 where room_id = '!r2:example.org'`;
    expect(await indexChangedRooms(database.sql, index)).toEqual({ ran: true, upserted: 1, removed: 1 });
    expect(await found('lounge')).toEqual(['!r1:example.org']);
    expect(await found('room')).toHaveLength(5);
    expect(await indexChangedRooms(database.sql, index)).toEqual({ ran: true, upserted: 0, removed: 0 });
  });

  it('drops rooms whose only listing servers are blocked', async () => {
    await seedServers(database, [{ name: 'blocked.example', status: 'blocked' }]);
    await seedRooms(database, [
      { roomId: '!spam:blocked.example', name: 'Room of spam', servers: ['blocked.example'] },
    ]);
    await indexChangedRooms(database.sql, index);
    expect(await found('spam')).toEqual([]);
  });

  it('runs one indexer at a time', async () => {
    const holder = await database.sql.reserve();
    try {
      await holder`select pg_advisory_lock(hashtext('atlas-search-indexer'))`;
      expect(await indexChangedRooms(database.sql, index)).toEqual({ ran: false, upserted: 0, removed: 0 });
      expect((await rebuildSearchIndex(database.sql, index)).ran).toBe(false);
    } finally {
      await holder`select pg_advisory_unlock(hashtext('atlas-search-indexer'))`;
      holder.release();
    }
  });

  it('rebuilds everything', async () => {
    await database.sql`delete from room_search`;
    const result = await rebuildSearchIndex(database.sql, index);
    expect(result).toMatchObject({ ran: true, upserted: 6 });
    expect(await found('room')).toHaveLength(5);
  });

  it('runs as the index queue worker on BullMQ', async () => {
    const queues = await createQueueBackend({
      redisUrl: inject('redisUrl'),
      databaseUrl: database.url,
      namespace: randomNamespace('index'),
    });
    const ctx = {
      config: { meili: undefined },
      database,
      queues,
      log: silentLogger,
    } as unknown as Parameters<typeof indexWorker.setup>[0];
    const setup = await indexWorker.setup(ctx);
    try {
      queues.worker('index', dispatchJobs('index', setup.processors));
      await seedRooms(database, [{ roomId: '!late:example.org', name: 'Latecomer lounge' }]);
      await enqueue(queues, 'index-changed', [{}]);
      await waitFor('the index worker', async () => (await found('latecomer')).length === 1);
      await upsertSchedules(queues, 'index');
      const schedulers = await queues.queue('index').getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(['atlas-index', 'atlas-index-rebuild']);
    } finally {
      await queues.close();
      await setup.close?.();
    }
  });
});

describe('CLI', () => {
  async function atlas(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => out.push(chunk));
    stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const code = await main(args, {
      env: { DATABASE_URL: database.url, ATLAS_SERVER_NAME: 'atlas.test', LOG_LEVEL: 'silent' },
      stdout,
      stderr,
    });
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  it('atlas reindex rebuilds the index', async () => {
    await database.sql`delete from room_search`;
    const result = await atlas(['reindex']);
    expect(result.stderr).toContain('search index rebuilt');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ upserted: 7 });
    expect(await found('room')).toHaveLength(5);
  });

  it('atlas element-config prints the feed and merges it into a config file', async () => {
    const printed = await atlas(['element-config', '--limit', '3']);
    expect(printed.code).toBe(0);
    const feed = JSON.parse(printed.stdout) as { room_directory: { servers: string[] } };
    expect(feed.room_directory.servers[0]).toBe('atlas.test');

    const dir = await mkdtemp(path.join(tmpdir(), 'atlas-element-'));
    try {
      const file = path.join(dir, 'config.json');
      await writeFile(
        file,
        JSON.stringify({ default_theme: 'dark', room_directory: { servers: ['matrix.org'], other: 1 } }),
        { mode: 0o640 },
      );
      const merged = await atlas([
        'element-config',
        '--merge',
        file,
        '--include',
        'mine.example',
        '--exclude',
        'atlas.test',
      ]);
      expect(merged.code).toBe(0);
      const written = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      expect(written).toEqual({
        default_theme: 'dark',
        room_directory: { servers: ['mine.example', 'example.org'], other: 1 },
      });
      expect((await stat(file)).mode & 0o777).toBe(0o640);

      await writeFile(file, '{broken');
      const broken = await atlas(['element-config', '--merge', file]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('not valid JSON');
      expect(await readFile(file, 'utf8')).toBe('{broken');
      expect((await atlas(['element-config', '--merge', path.join(dir, 'missing.json')])).code).toBe(1);
      expect((await atlas(['element-config', '--include', 'bad name'])).code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
