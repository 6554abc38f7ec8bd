import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestRoom } from '../simfed/model.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { type InProcessCrawl, inProcessCrawler, storedRooms } from './crawler-harness.ts';

// Synapse pages a directory by (members, room id) from the last room it sent. A room whose member
// count grows past that point while Atlas reads the directory is not in that read at all; it must
// not be marked stale for it.
describe('a room that grows behind a directory read', () => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;
  let crawler: InProcessCrawl;
  const namespace = randomNamespace('recheck');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-recheck-'));
    // The first seed lists 350 rooms: four pages of 100.
    sim = await startSimFed({ servers: 4, seed: 'recheck', dir, bigServerRooms: 350 });
    database = await createTestDatabase('crawler_recheck');
    crawler = await inProcessCrawler({
      sim,
      database,
      redisUrl: undefined,
      namespace,
      env: { ATLAS_PAGE_LIMIT: '100' },
    });
  });

  afterAll(async () => {
    await crawler?.close();
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is looked for with the directory search and stays listed; a room really gone goes stale', {
    timeout: 300_000,
  }, async () => {
    await crawler.run();
    const big = sim.manifest.seeds[0] ?? '';
    const listing = sim.manifest.servers.find((s) => s.name === big);
    if (!listing) throw new Error('the big server is in the manifest');
    const stored = await storedRooms(database);
    const listedElsewhere = new Set(
      sim.manifest.servers.filter((s) => s.name !== big).flatMap((s) => s.rooms.map((r) => r.room_id)),
    );
    // Two of its smallest rooms (the last page), found by their alias, listed by no other server.
    const smallest = listing.rooms
      .filter(
        (r): r is ManifestRoom & { canonical_alias: string } =>
          !r.noindex &&
          r.canonical_alias !== null &&
          !listedElsewhere.has(r.room_id) &&
          stored.get(r.room_id)?.stale === false,
      )
      .sort((a, b) => a.num_joined_members - b.num_joined_members);
    const [grows, removed] = smallest;
    if (!grows || !removed) throw new Error('the big server lists small rooms with aliases');
    const top = Math.max(...listing.rooms.map((r) => r.num_joined_members));

    await sim.mutate({ removeRooms: [removed.room_id] });
    // The second read gets its first page, then the room grows past every room on it.
    const hold = sim.holdDirectory(big, 1);
    const second = crawler.run();
    await hold.reached;
    await sim.mutate({ changeMembers: [{ roomId: grows.room_id, members: top + 1_000 }] });
    hold.release();
    await second;

    // The paged read did miss it: two rooms fewer than the first read (the removed one and it).
    const runs = await database.sql<{ rooms_seen: number; status: string }[]>`
      select rooms_seen, status from crawl_runs where server_name = ${big} order by id`;
    expect(runs.map((r) => r.status)).toEqual(['complete', 'complete']);
    expect(runs[1]?.rooms_seen).toBe((runs[0]?.rooms_seen ?? 0) - 2);
    expect(sim.stats(big).byEndpoint['POST /_matrix/federation/v1/publicRooms'] ?? 0).toBeGreaterThan(0);

    const after = await storedRooms(database);
    expect(after.get(grows.room_id)).toMatchObject({ stale: false, num_joined_members: top + 1_000 });
    expect(after.get(removed.room_id)?.stale).toBe(true);
  });
});
