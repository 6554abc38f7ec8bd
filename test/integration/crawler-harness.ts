import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, DEFAULT_SETTINGS, startServer } from '@atlas/api';
import { CRAWL_QUEUES, crawlUntilDrained, createCrawlerRuntime, startCrawler, WORKERS } from '@atlas/crawler';
import { type Config, loadConfig } from '@atlas/shared/config';
import type { Database } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { loadOrCreateSigningKey } from '@atlas/shared/matrix';
import { createQueueBackend } from '@atlas/shared/queue';
import { createPostgresSearchIndex } from '@atlas/shared/search';
import { expect } from 'vitest';
import type { Manifest, ManifestRoom, ManifestServer } from '../simfed/model.ts';
import type { SimFed } from '../simfed/simfed.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(REPO_ROOT, 'apps/cli/bin/atlas.mjs');

/** Atlas's environment for a simulated federation and a test database. */
export function atlasEnv(
  sim: SimFed,
  database: Database,
  dataDir: string,
  redisUrl: string | undefined,
): Record<string, string> {
  return {
    ...sim.env,
    DATABASE_URL: database.url,
    ATLAS_DATA_DIR: dataDir,
    // The HTTP listener is not under test; the federation TLS listener comes from the manifest.
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  };
}

export interface InProcessCrawl {
  dataDir: string;
  run(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The crawler in this process, wired the way `atlas crawl --once` wires it: the real workers on the
 * real queues (PostgreSQL or Redis), and Atlas's key served over TLS on its simulated server name.
 */
export async function inProcessCrawler(options: {
  sim: SimFed;
  database: Database;
  redisUrl: string | undefined;
  namespace: string;
  /** More settings, e.g. `ATLAS_PAGE_LIMIT`. */
  env?: Record<string, string>;
}): Promise<InProcessCrawl> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'atlas-crawler-it-'));
  const config: Config = loadConfig({
    ...atlasEnv(options.sim, options.database, dataDir, options.redisUrl),
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const signingKey = await loadOrCreateSigningKey(path.join(dataDir, 'signing.key'));
  if (!config.serverName || !config.federation)
    throw new Error('the simfed manifest gives Atlas a TLS identity');
  const identity = { serverName: config.serverName, signingKey };
  const search = createPostgresSearchIndex({ databaseUrl: options.database.url });
  const app = createApp({
    database: options.database,
    log: silentLogger,
    identity,
    search,
    // A whole simulated federation fetches the key from one loopback address.
    settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
  });
  const server = await startServer(app, {
    http: { host: '127.0.0.1', port: 0 },
    federation: { host: options.sim.atlas.host, ...config.federation },
  });
  return {
    dataDir,
    async run() {
      const queues = await createQueueBackend({
        redisUrl: options.redisUrl,
        databaseUrl: options.database.url,
        namespace: options.namespace,
      });
      const runtime = await createCrawlerRuntime({
        config,
        database: options.database,
        queues,
        log: silentLogger,
        identity,
        // As `atlas crawl --once`: every room listed is measured again, once.
        factsMeasuredSince: new Date(),
        ...(options.namespace ? { queueNamespace: options.namespace } : {}),
      });
      const crawler = await startCrawler(runtime.ctx, {
        workers: WORKERS.filter((worker) => CRAWL_QUEUES.includes(worker.queue)),
        schedule: false,
      });
      try {
        await crawlUntilDrained(runtime.ctx, { seeds: config.seeds, intervalMs: 250 });
      } finally {
        runtime.abort();
        await crawler.close();
        await queues.close();
        await runtime.close();
      }
    },
    async close() {
      await server.close();
      await search.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `atlas <args>` as a subprocess with exactly `env` (plus PATH and HOME). */
export function runAtlas(
  args: string[],
  env: Record<string, string>,
  options: { onSpawn?: (pid: number) => void; timeoutMs?: number } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) options.onSpawn?.(child.pid);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** A server whose directory Atlas can read: it answers, and publishes over federation or the client API. */
export function readable(server: ManifestServer): boolean {
  return server.reachable && (server.publishes || server.client_directory);
}

/** Synapse answers complexity only for rooms anyone may join or read (else 404). */
function complexityServed(room: ManifestRoom, manifest: Manifest): boolean {
  const visible = room.join_rule === 'public' || room.world_readable;
  const reachable = new Set(manifest.servers.filter((s) => s.reachable).map((s) => s.name));
  return visible && room.servers_in_room.some((name) => reachable.has(name));
}

interface StoredRoom {
  room_id: string;
  name: string | null;
  topic: string | null;
  num_joined_members: number;
  complexity: number | null;
  complexity_source: string | null;
  servers_in_room: number | null;
  stale: boolean;
  hidden: boolean;
  servers: string[];
}

interface StoredServer {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  registration_stages: string[] | null;
  publishes: boolean | null;
}

export async function storedRooms(database: Database): Promise<Map<string, StoredRoom>> {
  const rows = await database.sql<StoredRoom[]>`
    select r.room_id, r.name, r.topic, r.num_joined_members, r.complexity, r.complexity_source, r.servers_in_room,
      r.stale_since is not null as stale, r.hidden,
      coalesce(array(select l.server_name from room_listings l where l.room_id = r.room_id and l.active
        order by l.server_name), '{}') as servers
    from rooms r`;
  return new Map(rows.map((row) => [row.room_id, row]));
}

export async function storedServers(database: Database): Promise<Map<string, StoredServer>> {
  const rows = await database.sql<StoredServer[]>`
    select name, status, software_name, software_version, registration, registration_stages, publishes from servers`;
  return new Map(rows.map((row) => [row.name, row]));
}

// C0/C1 controls (tab and newline aside) and bidi embeddings, overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNCLEAN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/**
 * What a user would check against the manifest: every server that can be reached and read is known
 * and online with its software and registration; every room it publishes is stored (no-index ones
 * are not) with the member count it publishes, the servers that list it, clean text, and the
 * complexity its resident servers report (an estimate, marked as one, where none will say); the
 * servers in the room where its alias can be looked up; servers that cannot be reached are not
 * online. Returns the ids of stored rooms that no directory lists any more.
 */
export async function expectMatchesManifest(database: Database, manifest: Manifest): Promise<Set<string>> {
  const rooms = await storedRooms(database);
  const servers = await storedServers(database);
  const reachable = new Map(manifest.servers.map((s) => [s.name, s.reachable]));
  const expected = new Map<string, { room: ManifestRoom; listedBy: Set<string> }>();
  const noindex = new Set<string>();
  for (const server of manifest.servers) {
    const stored = servers.get(server.name);
    if (!server.reachable) {
      if (stored) expect(stored.status, `${server.name} (${server.behaviour})`).not.toBe('online');
      continue;
    }
    if (!readable(server)) continue;
    expect(stored, `server ${server.name} (found via ${server.found_via.kind})`).toBeDefined();
    expect(stored?.status, server.name).toBe('online');
    expect([stored?.software_name, stored?.software_version], server.name).toEqual([
      server.software,
      server.version,
    ]);
    expect(stored?.registration, server.name).toBe(server.registration);
    if (server.registration === 'open') {
      expect(stored?.registration_stages, server.name).toEqual(
        [...new Set(server.registration_stages.flat())].sort(),
      );
    }
    if (server.publishes) expect(stored?.publishes, server.name).toBe(true);
    for (const room of server.rooms) {
      if (room.noindex) {
        noindex.add(room.room_id);
        continue;
      }
      const entry = expected.get(room.room_id) ?? { room, listedBy: new Set<string>() };
      entry.listedBy.add(server.name);
      expected.set(room.room_id, entry);
    }
  }
  for (const server of manifest.servers) {
    if (server.reachable && !server.publishes && !server.client_directory) {
      expect(servers.get(server.name)?.publishes, `${server.name} answers 403`).toBe(false);
    }
  }

  const missing = [...expected.keys()].filter((id) => !rooms.has(id));
  expect(missing, 'rooms published by reachable servers but not stored').toEqual([]);
  for (const id of noindex) {
    if (!expected.has(id))
      expect(rooms.get(id)?.hidden ?? true, `no-index room ${id} is not shown`).toBe(true);
  }
  const problems: string[] = [];
  for (const [id, { room, listedBy }] of expected) {
    const stored = rooms.get(id);
    if (!stored) continue;
    if (stored.num_joined_members !== room.num_joined_members) {
      problems.push(
        `${id}: ${stored.num_joined_members} members stored, ${room.num_joined_members} published`,
      );
    }
    if (stored.stale || stored.hidden) problems.push(`${id}: listed but stale or hidden`);
    if (!room.hostile && stored.name !== room.name)
      problems.push(`${id}: named "${stored.name}", published "${room.name}"`);
    const listing = [...listedBy].sort();
    if (stored.servers.join(',') !== listing.join(',')) {
      problems.push(`${id}: listed by ${listing.join(',')}, stored ${stored.servers.join(',')}`);
    }
    if (UNCLEAN.test(stored.name ?? '') || UNCLEAN.test(stored.topic ?? ''))
      problems.push(`${id}: text not cleaned`);
    if (complexityServed(room, manifest)) {
      if (stored.complexity_source !== 'federation' || stored.complexity !== room.complexity) {
        problems.push(
          `${id}: complexity ${stored.complexity} (${stored.complexity_source}), Synapse says ${room.complexity}`,
        );
      }
    } else if (stored.complexity_source !== 'estimate' || stored.complexity === null) {
      problems.push(`${id}: no server serves its complexity, yet it is not marked as an estimate`);
    }
    const aliasServer = room.canonical_alias?.slice(room.canonical_alias.indexOf(':') + 1);
    if (aliasServer && reachable.get(aliasServer) && stored.servers_in_room !== room.servers_in_room.length) {
      problems.push(
        `${id}: ${stored.servers_in_room} servers in room, query/directory says ${room.servers_in_room.length}`,
      );
    }
  }
  expect(problems.slice(0, 20), `${problems.length} rooms differ from the manifest`).toEqual([]);
  return new Set([...rooms.keys()].filter((id) => !expected.has(id) && !noindex.has(id)));
}
