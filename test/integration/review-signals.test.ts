import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type DirectoryRoomRow,
  finishCrawlRun,
  flaggedServers,
  insertDiscoveredServers,
  measureDirectory,
  startCrawlRun,
  upsertDirectoryRooms,
} from '@atlas/shared/db';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REVIEW_THRESHOLDS, reviewSignals } from '../../apps/crawler/src/policy/review.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { type InProcessCrawl, inProcessCrawler } from './crawler-harness.ts';

const room = (roomId: string, name: string): DirectoryRoomRow => ({
  roomId,
  name,
  topic: null,
  canonicalAlias: null,
  avatarUrl: null,
  numJoinedMembers: 3,
  worldReadable: false,
  guestCanJoin: false,
  joinRule: 'public',
  roomType: null,
});

/** A directory read as the crawler records one, `daysAgo` days back. */
async function readDirectory(
  database: TestDatabase,
  server: string,
  rooms: DirectoryRoomRow[],
  daysAgo = 0,
): Promise<void> {
  const run = await startCrawlRun(database.sql, server, 'federation');
  for (let i = 0; i < rooms.length; i += 500)
    await upsertDirectoryRooms(database.sql, server, rooms.slice(i, i + 500));
  await finishCrawlRun(database.sql, run.id, {
    mode: 'federation',
    status: 'complete',
    stopReason: 'end',
    pages: 1,
    roomsSeen: rooms.length,
    roomsStored: rooms.length,
    roomsMalformed: 0,
    roomsNoindex: 0,
    error: null,
  });
  if (daysAgo > 0) {
    const shift = `${daysAgo} days`;
    await database.sql`update crawl_runs set started_at = started_at - ${shift}::interval,
      finished_at = finished_at - ${shift}::interval where id = ${run.id}`;
    await database.sql`update room_listings set first_seen_at = first_seen_at - ${shift}::interval,
      last_seen_at = last_seen_at - ${shift}::interval where server_name = ${server}`;
  }
}

describe('what a directory shows about how it is made', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('review_measures');
    await insertDiscoveredServers(database.sql, [
      { name: 'wave.example', via: 'seed' },
      { name: 'newcomer.example', via: 'seed' },
      { name: 'people.example', via: 'seed' },
    ]);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('counts the rooms a known directory gained within a day, and the biggest family of numbered names', async () => {
    await readDirectory(
      database,
      'wave.example',
      Array.from({ length: 30 }, (_, i) => room(`!old${i}:wave.example`, `Old room ${i}`)),
      3,
    );
    const wave = Array.from({ length: 2_100 }, (_, i) =>
      room(`!wave${i}:wave.example`, `Free Crypto ${String(i).padStart(4, '0')}!`),
    );
    await readDirectory(database, 'wave.example', wave);
    const measures = await measureDirectory(database.sql, 'wave.example');
    expect(measures).toEqual({
      newListings: 2_100,
      similarNames: { rooms: 2_100, sample: 'Free Crypto 0000!' },
    });
    expect(reviewSignals(measures).map((s) => s.kind)).toEqual(['growth', 'similar_names']);
  });

  it('does not call a server met for the first time grown, nor rooms people named flagged', async () => {
    await readDirectory(
      database,
      'newcomer.example',
      Array.from({ length: 2_500 }, (_, i) =>
        room(`!n${i}:newcomer.example`, `Topic ${i % 7} ${'x'.repeat(i % 50)}`),
      ),
    );
    expect((await measureDirectory(database.sql, 'newcomer.example')).newListings).toBe(0);
    const names = ['Linux', 'Linux Gaming', 'Rust', 'Matrix HQ', 'Offtopic', 'General', '#1', '2', 'Room 3'];
    await readDirectory(
      database,
      'people.example',
      names.map((name, i) => room(`!p${i}:people.example`, name)),
    );
    const people = await measureDirectory(database.sql, 'people.example');
    expect(people.similarNames?.rooms).toBe(1);
    expect(reviewSignals(people)).toEqual([]);
    expect(REVIEW_THRESHOLDS.similarNames).toBeGreaterThan(1);
  });
});

describe('a directory of numbered rooms, through the crawler', () => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;
  let crawler: InProcessCrawl;
  let big: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-review-'));
    sim = await startSimFed({ servers: 6, seed: 'review-signals', dir, rooms: 200, bigServerRooms: 160 });
    big = sim.manifest.seeds[0] ?? '';
    const rooms = (sim.manifest.servers.find((s) => s.name === big)?.rooms ?? []).filter((r) => !r.noindex);
    await sim.mutate({
      renameRooms: rooms.slice(0, 120).map((r, i) => ({ roomId: r.room_id, name: `Giveaway #${i + 1}` })),
    });
    database = await createTestDatabase('review_crawl');
    crawler = await inProcessCrawler({
      sim,
      database,
      redisUrl: inject('redisUrl'),
      namespace: randomNamespace('review'),
    });
  });
  afterAll(async () => {
    await crawler?.close();
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('flags the server for review and keeps every one of its rooms', { timeout: 180_000 }, async () => {
    await crawler.run();
    const flagged = await flaggedServers(database.sql, { limit: 10 });
    expect(flagged.map((s) => s.name)).toEqual([big]);
    expect(flagged[0]?.review_signals).toEqual([
      { kind: 'similar_names', rooms: 120, sample: expect.stringMatching(/^Giveaway #\d+$/) },
    ]);
    expect(flagged[0]?.review_flagged_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const [kept] = await database.sql<{ n: string }[]>`
      select count(*) as n from rooms where name like 'Giveaway #%' and not hidden and stale_since is null`;
    expect(Number(kept?.n)).toBe(120);
  });
});
