import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { textArray } from '@atlas/shared/db';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import {
  expectMatchesManifest,
  type InProcessCrawl,
  inProcessCrawler,
  readable,
  storedRooms,
} from './crawler-harness.ts';

// Crawling a 100-server simulated federation (real DNS, TLS, HTTP and X-Matrix signatures), on the
// embedded default's queue backend (BullMQ on PostgreSQL) and again on Redis.
describe.each([
  ['postgres', (): string | undefined => undefined],
  ['redis', (): string | undefined => inject('redisUrl')],
] as const)('crawling a simulated federation (queues on %s)', (kind, redisUrl) => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;
  let crawler: InProcessCrawl;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `atlas-crawl-${kind}-`));
    // Slow servers answer after 300 ms: slower than every other server, well inside Atlas's timeouts.
    // 3,000 listings (30 a server on average, a few with hundreds) keep the run short.
    sim = await startSimFed({
      servers: 100,
      seed: 'crawler-integration',
      dir,
      slowDelayMs: 300,
      rooms: 3000,
    });
    database = await createTestDatabase(`crawler_${kind}`);
    crawler = await inProcessCrawler({
      sim,
      database,
      redisUrl: redisUrl(),
      namespace: randomNamespace('crawl'),
    });
  });

  afterAll(async () => {
    await crawler?.close();
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds every reachable publishing server and stores every room it publishes', {
    timeout: 300_000,
  }, async () => {
    await crawler.run();
    const gone = await expectMatchesManifest(database, sim.manifest);
    expect([...gone]).toEqual([]);
    // Unreachable and slow servers were probed and recorded, and did not keep the crawl from ending.
    const unreachable = sim.manifest.servers.filter((s) => !s.reachable).map((s) => s.name);
    const checks = await database.sql<{ server_name: string; reachable: boolean; error: string | null }[]>`
      select server_name, reachable, error from server_checks where server_name = any(${textArray(unreachable)}::text[])`;
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((check) => !check.reachable && check.error)).toBe(true);
    // Slow servers are measured as slow, yet online, and their directories read to the end.
    const slow = sim.manifest.servers.filter((s) => s.behaviour === 'slow');
    expect(slow.length).toBeGreaterThan(0);
    const slowRows = await database.sql<{ name: string; status: string; latency_ms: number | null }[]>`
      select name, status, latency_ms from servers where name = any(${textArray(slow.map((s) => s.name))}::text[])`;
    expect(slowRows).toHaveLength(slow.length);
    for (const row of slowRows) {
      expect(row.status, row.name).toBe('online');
      expect(row.latency_ms, row.name).toBeGreaterThanOrEqual(300);
    }
    const slowPublishers = slow.filter((s) => s.publishes).map((s) => s.name);
    const slowReads = await database.sql<{ server_name: string; status: string }[]>`
      select distinct on (server_name) server_name, status from crawl_runs
      where server_name = any(${textArray(slowPublishers)}::text[]) order by server_name, started_at desc`;
    expect(slowReads.map((r) => r.server_name).sort()).toEqual([...slowPublishers].sort());
    for (const read of slowReads) expect(read.status, read.server_name).toBe('complete');
    const [malformed] = await database.sql<
      { n: string }[]
    >`select coalesce(sum(rooms_malformed), 0) as n from crawl_runs`;
    const served = sim.manifest.servers.filter((s) => s.reachable && (s.publishes || s.client_directory));
    expect(Number(malformed?.n)).toBe(served.reduce((sum, s) => sum + s.malformed_entries, 0));
  });

  it('a second crawl after changes updates, stales and adds', { timeout: 300_000 }, async () => {
    const before = await storedRooms(database);
    const changes = await sim.applyChanges('second crawl');
    expect(
      changes.removedRooms.length + changes.renamedRooms.length + changes.addedRooms.length,
    ).toBeGreaterThan(0);
    await crawler.run();
    const gone = await expectMatchesManifest(database, sim.manifest);
    const after = await storedRooms(database);
    for (const roomId of changes.removedRooms) {
      // Removed from every directory: kept, and stale.
      expect(after.get(roomId)?.stale, roomId).toBe(before.has(roomId) ? true : undefined);
      if (before.has(roomId)) expect(gone.has(roomId)).toBe(true);
    }
    // Rooms added to directories Atlas can read are stored (the others are checked by the manifest).
    const readableAdded = changes.addedRooms.filter(({ server, roomId }) => {
      const listing = sim.manifest.servers.find((s) => s.name === server);
      return listing && readable(listing) && listing.rooms.some((r) => r.room_id === roomId && !r.noindex);
    });
    expect(readableAdded.length).toBeGreaterThan(0);
    for (const { roomId } of readableAdded) expect(after.has(roomId), roomId).toBe(true);
    for (const server of changes.addedServers) {
      const [row] = await database.sql`select status from servers where name = ${server}`;
      expect(row, server).toBeDefined();
    }
    for (const id of gone) expect(after.get(id)?.stale, `${id} is no longer listed`).toBe(true);
    // Nothing was deleted.
    for (const id of before.keys()) expect(after.has(id), id).toBe(true);
  });
});
