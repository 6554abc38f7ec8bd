import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  connectDatabase,
  type Database,
  type EmbeddedDatabase,
  startEmbeddedPostgres,
  textArray,
} from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { loadOrCreateSigningKey } from '@atlas/shared/matrix';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { getJson, killAtlas, type RunningAtlas, startAtlasCommand } from '../support/atlas-process.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { startRedis, type TestRedis } from '../support/redis.ts';
import { expectMatchesManifest, runAtlas, storedRooms } from './crawler-harness.ts';

// Atlas scaled out as the compose stack runs it: three `atlas crawler` processes and two `atlas api`
// processes on one Redis and one PostgreSQL, against a simulated federation that counts, per
// server, the most requests it ever had in flight at once. Then the same crawl with a fault of
// Atlas's own parts in the middle: a crawler killed with kill -9, Redis restarted, PostgreSQL
// restarted. Each time the crawl completes with what a clean one stores, and no server the
// simulated federation kept up is recorded offline.
let dir: string;
let sim: SimFed;
let pgPort: number;
let pg: EmbeddedDatabase;
let redis: TestRedis;
let admin: Database;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-scale-out-'));
  sim = await startSimFed({
    servers: 30,
    seed: 'scale-out',
    dir: path.join(dir, 'sim'),
    slowDelayMs: 300,
    rooms: 1200,
  });
  pgPort = await freePort();
  pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, log: silentLogger });
  admin = connectDatabase(pg.url, { max: 1 });
  // As the compose stack's: an append-only file, so a restart keeps the queues.
  redis = await startRedis({ appendOnly: true });
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await redis?.stop();
  await pg?.stop();
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Variables that give the federation TLS listener (only one process may serve Atlas's key). */
const LISTENER_VARS = ['ATLAS_FEDERATION_PORT', 'ATLAS_TLS_CERT_FILE', 'ATLAS_TLS_KEY_FILE'];

interface Deployment {
  database: Database;
  databaseUrl: string;
  crawlers: RunningAtlas[];
  apis: { process: RunningAtlas; base: string }[];
  /** Everything every process wrote, for the logs' part of an assertion. */
  logs(): string;
  stop(): Promise<void>;
}

/** A fresh database and empty queues, migrated, then two API processes and three crawlers. */
async function deploy(label: string): Promise<Deployment> {
  const name = `scale_${label}`;
  await admin.sql.unsafe(`drop database if exists ${name} with (force)`);
  await admin.sql.unsafe(`create database ${name}`);
  const databaseUrl = pg.url.replace(/\/[^/]+$/, `/${name}`);
  const flush = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  await flush.flushall();
  flush.disconnect();
  const dataDir = path.join(dir, `data-${label}`);
  // Every process signs and serves with one key, as the compose roles share the data volume.
  await loadOrCreateSigningKey(path.join(dataDir, 'signing.key'));
  const base = {
    ...sim.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    ATLAS_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ATLAS_CRAWL_CONCURRENCY: '4',
  };
  const withoutListener = Object.fromEntries(
    Object.entries(base).filter(([key]) => !LISTENER_VARS.includes(key)),
  );
  const migrated = await runAtlas(['migrate'], { ...withoutListener, PORT: '0' });
  expect(migrated.exitCode, migrated.stderr.slice(-2000)).toBe(0);
  const apis: Deployment['apis'] = [];
  for (const [i, env] of [base, withoutListener].entries()) {
    const port = await freePort();
    const api = startAtlasCommand(['api'], { ...env, PORT: String(port) });
    apis.push({ process: api, base: `http://127.0.0.1:${port}` });
    await waitFor(
      `API process ${i + 1} to answer`,
      async () => {
        if (api.child.exitCode !== null) throw new Error(`atlas api exited:\n${api.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      },
      120_000,
      500,
    );
  }
  // Their whole logs: the line that names a fault comes early in a crawl's thousands.
  const crawlers = [1, 2, 3].map(() =>
    startAtlasCommand(['crawler'], { ...withoutListener, PORT: '0' }, { keepOutput: 20_000_000 }),
  );
  const database = connectDatabase(databaseUrl, { max: 2 });
  const everyone = () => [...crawlers, ...apis.map((a) => a.process)];
  return {
    database,
    databaseUrl,
    crawlers,
    apis,
    logs: () =>
      everyone()
        .map((p) => p.output())
        .join('\n'),
    async stop() {
      for (const running of everyone()) await killAtlas(running);
      await database.close();
    },
  };
}

/** Waits until the stored directory matches the manifest in full; fails with what still differs. */
async function untilCrawled(deployment: Deployment, timeoutMs = 420_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const crawler of deployment.crawlers) {
      if (crawler.child.exitCode !== null) throw new Error(`a crawler exited:\n${crawler.output()}`);
    }
    try {
      await expectMatchesManifest(deployment.database, sim.manifest);
      return;
    } catch (error) {
      // The assertion's own message says what is missing.
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}

/** Rooms with what a user sees of them, and the servers that list them. */
async function directory(database: Database): Promise<Map<string, string>> {
  const rooms = await storedRooms(database);
  return new Map(
    [...rooms].map(([id, r]) => [
      id,
      JSON.stringify([r.name, r.topic, r.num_joined_members, r.stale, r.hidden, r.servers]),
    ]),
  );
}

/** Servers the simulated federation kept up that Atlas ever recorded as not answering. */
async function upButRecordedOffline(database: Database): Promise<string[]> {
  const up = sim.manifest.servers.filter((s) => s.reachable).map((s) => s.name);
  const rows = await database.sql<{ name: string }[]>`
    select distinct server_name as name from server_checks
    where not reachable and server_name = any(${textArray(up)}::text[])
    union
    select name from servers where status = 'offline' and name = any(${textArray(up)}::text[])`;
  return rows.map((r) => r.name).sort();
}

/** Every server's most requests in flight at once, for the servers Atlas talked to. */
function maxInFlightPerServer(): Map<string, number> {
  return new Map(
    sim.manifest.servers
      .map((s) => [s.name, sim.stats(s.name).maxInFlight] as const)
      .filter(([, max]) => max > 0),
  );
}

/**
 * Waits until every crawler has started (a fault during a process's start stops it, by design: it
 * fails fast and is restarted) and some directories are stored: the crawl is in progress.
 */
async function untilHalfway(deployment: Deployment): Promise<void> {
  await waitFor(
    'every crawler to start',
    () => deployment.crawlers.every((crawler) => crawler.output().includes('crawler workers started')),
    120_000,
    250,
  );
  await waitFor(
    'the crawl to be under way',
    async () => {
      const [row] = await deployment.database.sql<{ n: number }[]>`
        select count(*)::int as n from crawl_runs where status = 'complete'`;
      return (row?.n ?? 0) >= 3;
    },
    240_000,
    250,
  );
}

/** Distinct rooms Atlas can store: not no-index, listed by servers that answer and publish somehow. */
function storableRooms(): number {
  const ids = new Set<string>();
  for (const server of sim.manifest.servers) {
    if (!server.reachable || !(server.publishes || server.client_directory)) continue;
    for (const room of server.rooms) if (!room.noindex) ids.add(room.room_id);
  }
  return ids.size;
}

/**
 * A crawler with jobs running right now: BullMQ writes the id of the worker running a job into the
 * job's lock, and each crawler logs its workers' ids when it starts.
 */
async function crawlerRunningJobs(deployment: Deployment): Promise<RunningAtlas> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    for (let attempt = 0; attempt < 300; attempt++) {
      const locks = await client.keys('atlas:*:lock');
      const owners = (await Promise.all(locks.map((key) => client.get(key)))).flatMap((token) =>
        token ? [token.slice(0, token.lastIndexOf(':'))] : [],
      );
      const busy = deployment.crawlers.find((crawler) => owners.some((id) => crawler.output().includes(id)));
      if (busy) return busy;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.disconnect();
  }
  throw new Error('no crawler runs a job');
}

let clean: Map<string, string>;

describe('three crawler processes and two API processes on one Redis and one PostgreSQL', () => {
  it('send every server one request at a time, store every room once, and both APIs serve it', {
    timeout: 600_000,
  }, async () => {
    sim.resetStats();
    const deployment = await deploy('clean');
    try {
      await untilCrawled(deployment);
      const most = maxInFlightPerServer();
      expect(most.size).toBeGreaterThan(10);
      expect([...most].filter(([, max]) => max > 1)).toEqual([]);
      // Once: as many rooms shown as the federation publishes to be indexed, none that it does not.
      const gone = await expectMatchesManifest(deployment.database, sim.manifest);
      expect([...gone]).toEqual([]);
      const [shown] = await deployment.database.sql<{ n: number }[]>`
        select count(*)::int as n from rooms where not hidden`;
      expect(shown?.n).toBe(storableRooms());
      expect(await upButRecordedOffline(deployment.database)).toEqual([]);
      clean = await directory(deployment.database);
      // Both API processes serve the rooms once the index has caught up.
      for (const { base } of deployment.apis) {
        await waitFor(
          `${base} to serve every room`,
          async () => {
            const stats = await getJson<{ rooms: { searchable: number } }>(`${base}/api/v1/stats`);
            return stats.rooms.searchable === storableRooms();
          },
          120_000,
          2_000,
        );
      }
    } finally {
      await deployment.stop();
    }
  });
});

describe('faults of Atlas’s own parts during a crawl', () => {
  it('kill -9 of one of three crawlers: the others finish its jobs', { timeout: 600_000 }, async () => {
    sim.resetStats();
    const deployment = await deploy('kill');
    try {
      await untilHalfway(deployment);
      const victim = await crawlerRunningJobs(deployment);
      victim.child.kill('SIGKILL');
      await victim.exited;
      deployment.crawlers.splice(deployment.crawlers.indexOf(victim), 1);
      await untilCrawled(deployment);
      expect(await directory(deployment.database)).toEqual(clean);
      expect(await upButRecordedOffline(deployment.database)).toEqual([]);
      expect([...maxInFlightPerServer()].filter(([, max]) => max > 1)).toEqual([]);
      // The jobs it was running are found stalled (their locks lapse after 20 s, checked every 10 s),
      // which may come after the others finished the crawl without them.
      await waitFor(
        'a crawler to log the jobs of the killed one',
        () => deployment.logs().includes('job stalled'),
        120_000,
        1_000,
      );
    } finally {
      await deployment.stop();
    }
  });

  it('Redis restarted: every process reconnects, says so, and the crawl completes', {
    timeout: 600_000,
  }, async () => {
    sim.resetStats();
    const deployment = await deploy('redis');
    try {
      await untilHalfway(deployment);
      await redis.restart();
      await untilCrawled(deployment);
      expect(await directory(deployment.database)).toEqual(clean);
      expect(await upButRecordedOffline(deployment.database)).toEqual([]);
      expect([...maxInFlightPerServer()].filter(([, max]) => max > 1)).toEqual([]);
      expect(deployment.logs()).toContain('Redis connection lost');
    } finally {
      await deployment.stop();
    }
  });

  it('PostgreSQL restarted: jobs resume, no server pays for it', { timeout: 600_000 }, async () => {
    sim.resetStats();
    const deployment = await deploy('postgres');
    try {
      await untilHalfway(deployment);
      await pg.stop();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, log: silentLogger });
      await untilCrawled(deployment);
      expect(await directory(deployment.database)).toEqual(clean);
      expect(await upButRecordedOffline(deployment.database)).toEqual([]);
      expect(deployment.logs()).toContain('database connection lost');
    } finally {
      await deployment.stop();
    }
  });
});
