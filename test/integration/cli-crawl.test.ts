import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CrawlSummaryJson } from '@atlas/crawler';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/ports.ts';
import { atlasEnv, expectMatchesManifest, readable, runAtlas } from './crawler-harness.ts';

/** A Redis logical database of this file's own, so the CLI's default queue names meet no other test's. */
async function ownRedisDatabase(url: string, index: number): Promise<string> {
  const dbUrl = `${url}/${index}`;
  const client = new Redis(dbUrl, { maxRetriesPerRequest: 1 });
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
  return dbUrl;
}

describe('atlas crawl --once --json and atlas export, as an operator runs them', () => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-cli-crawl-'));
    sim = await startSimFed({
      servers: 40,
      seed: 'cli-crawl',
      dir: path.join(dir, 'sim'),
      slowDelayMs: 300,
      rooms: 1500,
    });
    database = await createTestDatabase('cli_crawl');
  });

  afterAll(async () => {
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to run without --once and names the fix', async () => {
    const run = await runAtlas(['crawl'], atlasEnv(sim, database, path.join(dir, 'data'), undefined));
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('needs --once');
  });

  it('crawls until the queues drain, reports progress on stderr and a summary on stdout', {
    timeout: 300_000,
  }, async () => {
    const env = atlasEnv(sim, database, path.join(dir, 'data'), undefined);
    const run = await runAtlas(['crawl', '--once', '--json'], env);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    expect(run.stderr).toMatch(/servers: \d+ probed \(\d+ online\), \d+ crawled · rooms: [\d,]+ stored/);
    const summary = JSON.parse(run.stdout) as CrawlSummaryJson;
    const readableServers = sim.manifest.servers.filter(readable);
    expect(summary).toMatchObject({
      ok: true,
      queueBackend: 'postgres',
      identity: {
        serverName: sim.env.ATLAS_SERVER_NAME,
        servesKeyOverTls: true,
        modes: ['federation', 'client'],
      },
      seeds: sim.manifest.seeds,
    });
    expect(summary.run.crawled).toBeGreaterThanOrEqual(readableServers.length);
    expect(summary.run.jobFailures).toBe(0);
    expect(summary.totals.servers.byStatus.online).toBe(
      sim.manifest.servers.filter((s) => s.reachable).length,
    );
    await expectMatchesManifest(database, sim.manifest);
    expect(summary.totals.rooms.total).toBe(
      Number((await database.sql`select count(*) as n from rooms where not hidden`)[0]?.n),
    );

    const rooms = await runAtlas(['export', 'rooms'], env);
    expect(rooms.exitCode, rooms.stderr).toBe(0);
    const exported = rooms.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The export holds hidden rooms too (marked so); the totals count them on their own.
    expect(exported).toHaveLength(summary.totals.rooms.total + summary.totals.rooms.hidden);
    const sample = sim.manifest.servers.find(
      (s) => s.publishes && s.reachable && s.rooms.some((r) => !r.noindex),
    );
    const sampleRoom = sample?.rooms.find((r) => !r.noindex && r.canonical_alias);
    const line = exported.find((r) => r.room_id === sampleRoom?.room_id);
    expect(line).toMatchObject({
      alias: sampleRoom?.canonical_alias,
      members: sampleRoom?.num_joined_members,
      stale: false,
    });
    expect(line?.servers).toContain(sample?.name);
    expect(['federation', 'estimate']).toContain(line?.complexity_source);

    const servers = await runAtlas(['export', 'servers'], env);
    expect(servers.exitCode, servers.stderr).toBe(0);
    const exportedServers = servers.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const seed = exportedServers.find((s) => s.server_name === sim.manifest.seeds[0]);
    const seedInManifest = sim.manifest.servers.find((s) => s.name === sim.manifest.seeds[0]);
    expect(seed).toMatchObject({
      status: 'online',
      found_via: 'seed',
      software: seedInManifest?.software,
      version: seedInManifest?.version,
      registration: seedInManifest?.registration,
    });

    const bad = await runAtlas(['export', 'users'], env);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('atlas export rooms');
  });

  it('says plainly when it has no federation identity, and crawls the client API', {
    timeout: 300_000,
  }, async () => {
    const noIdentity = await createTestDatabase('cli_no_identity');
    try {
      const env = atlasEnv(sim, noIdentity, path.join(dir, 'data-anon'), undefined);
      for (const name of [
        'ATLAS_SERVER_NAME',
        'ATLAS_TLS_CERT_FILE',
        'ATLAS_TLS_KEY_FILE',
        'ATLAS_FEDERATION_PORT',
      ]) {
        delete env[name];
      }
      // Start from a server that serves its directory without a token, as well as the usual seeds.
      const openServer = sim.manifest.servers.find((s) => s.reachable && s.client_directory);
      if (!openServer) throw new Error('the simulated federation has no open client directory');
      const seeds = [...sim.manifest.seeds, openServer.name];
      const run = await runAtlas(['crawl', '--once', '--json', '--seeds', seeds.join(',')], env);
      expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
      expect(run.stderr).toContain('Atlas has no federation identity: ATLAS_SERVER_NAME is unset');
      const summary = JSON.parse(run.stdout) as CrawlSummaryJson;
      expect(summary.identity).toEqual({ serverName: null, servesKeyOverTls: false, modes: ['client'] });
      expect(summary.seeds).toEqual(seeds);
      // Only directories served without a token were read, and every such server Atlas found was.
      const listed = await noIdentity.sql<
        { server_name: string }[]
      >`select distinct server_name from room_listings`;
      const known = await noIdentity.sql<{ name: string }[]>`select name from servers`;
      const open = sim.manifest.servers
        .filter((s) => s.reachable && s.client_directory && s.rooms.some((r) => !r.noindex))
        .map((s) => s.name);
      const found = new Set(known.map((k) => k.name));
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.map((r) => r.server_name).sort()).toEqual(open.filter((name) => found.has(name)).sort());
      const [sources] = await noIdentity.sql<{ federation: string }[]>`
        select count(*) filter (where complexity_source = 'federation') as federation from rooms`;
      expect(Number(sources?.federation)).toBe(0);
    } finally {
      await noIdentity.drop();
    }
  });
});

describe.each([
  ['postgres', async (): Promise<string | undefined> => undefined],
  ['redis', async (): Promise<string | undefined> => ownRedisDatabase(inject('redisUrl'), 13)],
] as const)('kill -9 of the crawler mid-crawl, then a restart (queues on %s)', (kind, redisUrl) => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `atlas-cli-kill-${kind}-`));
    sim = await startSimFed({
      servers: 40,
      seed: `cli-kill-${kind}`,
      dir: path.join(dir, 'sim'),
      slowDelayMs: 300,
      rooms: 2000,
    });
    database = await createTestDatabase(`cli_kill_${kind}`);
  });

  afterAll(async () => {
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ends with nothing lost or duplicated', { timeout: 400_000 }, async () => {
    const env = atlasEnv(sim, database, path.join(dir, 'data'), await redisUrl());
    let pid = 0;
    const first = runAtlas(['crawl', '--once', '--json'], env, {
      onSpawn: (p) => {
        pid = p;
      },
    });
    // Kill it once it is well into storing rooms, with directory reads still running.
    await waitFor(
      'the first crawl to store rooms',
      async () => {
        const [row] = await database.sql<{ rooms: string; running: string }[]>`
          select (select count(*) from rooms) as rooms,
            (select count(*) from crawl_runs where status = 'running') as running`;
        // Two reads open, so that one is still open when the kill lands a moment after this check.
        return Number(row?.rooms) >= 300 && Number(row?.running) >= 2;
      },
      120_000,
    );
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');

    const second = await runAtlas(['crawl', '--once', '--json'], env);
    expect(second.exitCode, second.stderr.slice(-3000)).toBe(0);
    await expectMatchesManifest(database, sim.manifest);

    // Nothing duplicated: one active listing per room and server that lists it, one snapshot per
    // room and day, no run left open, and every listing server's count equals its directory.
    const expectedListings = new Map<string, number>();
    for (const server of sim.manifest.servers.filter(readable)) {
      expectedListings.set(server.name, server.rooms.filter((r) => !r.noindex).length);
    }
    const listings = await database.sql<{ server_name: string; n: string }[]>`
      select server_name, count(*) as n from room_listings where active group by server_name`;
    expect(new Map(listings.map((l) => [l.server_name, Number(l.n)]))).toEqual(expectedListings);
    const [counts] = await database.sql<
      { snapshots: string; rooms: string; running: string; superseded: string }[]
    >`
      select (select count(*) from room_snapshots) as snapshots, (select count(*) from rooms) as rooms,
        (select count(*) from crawl_runs where status = 'running') as running,
        (select count(*) from crawl_runs where stop_reason = 'superseded') as superseded`;
    expect(Number(counts?.snapshots)).toBe(Number(counts?.rooms));
    expect(Number(counts?.running)).toBe(0);
    // The runs the killed process left open were closed, not resumed as if complete.
    expect(Number(counts?.superseded)).toBeGreaterThan(0);
    const [pending] = await database.sql<{ n: string }[]>`select count(*) as n from pending_room_facts`;
    expect(Number(pending?.n)).toBe(0);
  });
});
