import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CrawlSummaryJson } from '@atlas/crawler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { atlasEnv, readable, runAtlas } from './crawler-harness.ts';

const ROOM_CAP = 300;
const FOLLOW_UP_SECONDS = 20;
/** The endless server answers every request after this long: its rooms' follow-up is slow. */
const DELAY_MS = 1_000;

// One server's directory never ends (every page 100 new, valid-looking rooms), and each of its
// answers takes a second. What bounds the run: the read stops at the room cap (3 pages), and the
// follow-up of its rooms at ATLAS_FOLLOW_UP_SECONDS of work (half for leads), plus the requests in
// flight then (4 at most, a second each); without the budget its 300 rooms would take 10 minutes
// of follow-up (a query/directory and a complexity request each). So the endless server adds about
// 35 s to this crawl of 20 servers; the test allows 240 s for all of it.
describe('a server whose directory never ends', () => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;
  let env: Record<string, string>;
  let endless: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-endless-'));
    sim = await startSimFed({
      servers: 20,
      seed: 'endless-directory',
      dir: path.join(dir, 'sim'),
      slowDelayMs: 300,
      rooms: 400,
      endlessDirectory: { delayMs: DELAY_MS },
    });
    endless = sim.manifest.servers.find((s) => s.endless)?.name ?? '';
    database = await createTestDatabase('directory_endless');
    env = {
      ...atlasEnv(sim, database, path.join(dir, 'data'), undefined),
      ATLAS_DIRECTORY_ROOM_CAP: String(ROOM_CAP),
      ATLAS_FOLLOW_UP_SECONDS: String(FOLLOW_UP_SECONDS),
    };
  });

  afterAll(async () => {
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('crawl --once ends, keeps the cap of its rooms, flags it, and reads every other directory whole', {
    timeout: 240_000,
  }, async () => {
    expect(sim.manifest.seeds).toContain(endless);
    const run = await runAtlas(['crawl', '--once', '--json'], env, { timeoutMs: 230_000 });
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(run.stdout) as CrawlSummaryJson;
    expect(summary.run.stopReasons.room_cap).toBe(1);

    // At most the cap, and the biggest rooms of it: the first three pages.
    const [stored] = await database.sql<{ listed: string; rooms: string }[]>`
      select (select count(*) from room_listings where server_name = ${endless} and active) as listed,
        (select count(*) from rooms where room_id like '!endless%') as rooms`;
    expect(Number(stored?.listed)).toBe(ROOM_CAP);
    expect(Number(stored?.rooms)).toBe(ROOM_CAP);
    const [lastRun] = await database.sql<{ stop_reason: string; pages: number; rooms_stored: number }[]>`
      select stop_reason, pages, rooms_stored from crawl_runs where server_name = ${endless}
      order by id desc limit 1`;
    expect(lastRun).toEqual({ stop_reason: 'room_cap', pages: ROOM_CAP / 100, rooms_stored: ROOM_CAP });

    // Its follow-up stopped at the budget with rooms left for its next read.
    const [budget] = await database.sql<{ spent: number; pending: string }[]>`
      select follow_up_ms as spent,
        (select count(*) from pending_room_facts where server_name = ${endless}) as pending
      from servers where name = ${endless}`;
    expect(budget?.spent).toBeGreaterThanOrEqual(FOLLOW_UP_SECONDS * 1000);
    expect(Number(budget?.pending)).toBeGreaterThan(0);
    expect(Number(budget?.pending)).toBeLessThan(ROOM_CAP);

    // Flagged where the operator and the public API see it, and left out of the Element feed.
    const exported = await runAtlas(['export', 'servers'], env);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const servers = exported.stdout
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { server_name: string; room_cap_reached: boolean; room_count: number },
      );
    expect(servers.filter((s) => s.room_cap_reached).map((s) => s.server_name)).toEqual([endless]);
    expect(servers.find((s) => s.server_name === endless)?.room_count).toBe(ROOM_CAP);
    const explained = await runAtlas(['element-config', '--explain', '--limit', '200'], env);
    expect(explained.stdout).toContain(`  ${endless}: its directory reached the room cap at the last read`);

    // Every other directory was read whole.
    const listings = await database.sql<{ server_name: string; n: string }[]>`
      select server_name, count(*) as n from room_listings where active and server_name <> ${endless}
      group by server_name`;
    const expected = new Map<string, number>();
    for (const server of sim.manifest.servers.filter((s) => readable(s) && !s.endless)) {
      const rooms = server.rooms.filter((r) => !r.noindex).length;
      if (rooms > 0) expected.set(server.name, rooms);
    }
    expect(new Map(listings.map((l) => [l.server_name, Number(l.n)]))).toEqual(expected);
    const runs = await database.sql<{ server_name: string; stop_reason: string }[]>`
      select distinct on (server_name) server_name, stop_reason from crawl_runs
      where server_name <> ${endless} and pages > 0 order by server_name, id desc`;
    expect(runs.filter((r) => r.stop_reason !== 'end')).toEqual([]);
  });
});
