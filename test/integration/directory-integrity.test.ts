import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CrawlSummaryJson } from '@atlas/crawler';
import { xMatrixAuthorization } from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestServer } from '../simfed/model.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { atlasEnv, runAtlas } from './crawler-harness.ts';

const CLI = fileURLToPath(new URL('../../apps/cli/bin/atlas.mjs', import.meta.url));

interface RunningApi {
  base: string;
  stop(): Promise<void>;
}

/** `atlas api` as the compose role runs it, on a port of its own, until stopped. */
async function startAtlasApi(env: Record<string, string>): Promise<RunningApi> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'api'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      '`atlas api` to answer /healthz',
      async () => {
        if (child.exitCode !== null) throw new Error(`atlas api exited: ${stderr.slice(-2000)}`);
        return (await fetch(`${base}/healthz`)).ok;
      },
      60_000,
      200,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    base,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

interface Directory {
  chunk: { room_id: string }[];
  next_batch?: string;
  total_room_count_estimate: number;
}

/** Every room a paged publicRooms answers, following next_batch. */
async function everyRoom(page: (since: string | undefined) => Promise<Directory>): Promise<Set<string>> {
  const rooms = new Set<string>();
  let since: string | undefined;
  for (let i = 0; i < 200; i++) {
    const body = await page(since);
    for (const room of body.chunk) rooms.add(room.room_id);
    since = body.next_batch;
    if (!since) return rooms;
  }
  throw new Error('publicRooms did not end within 200 pages');
}

/** What Element can browse, by the simulated federation's own account: answers, publishes over federation, lists rooms. */
function browsable(server: ManifestServer): boolean {
  return server.reachable && server.publishes && server.rooms.some((room) => !room.noindex);
}

describe('what Atlas points Matrix clients at, on a simulated federation', () => {
  let dir: string;
  let sim: SimFed;
  let database: TestDatabase;
  let env: Record<string, string>;
  let api: RunningApi | undefined;
  /** Refuses publicRooms over federation (403), lists its rooms on its client API, which Atlas reads. */
  let refusing: ManifestServer;
  /** Publishes over federation, an empty directory. */
  let empty: ManifestServer;
  /** Publishes over federation, and goes offline after the first crawl. */
  let fading: ManifestServer;
  /** Refuses over federation at first (no client API either), publishes from the second crawl on. */
  let starting: ManifestServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-integrity-'));
    sim = await startSimFed({
      servers: 30,
      seed: 'directory-integrity',
      dir: path.join(dir, 'sim'),
      slowDelayMs: 300,
      rooms: 600,
    });
    const servers = sim.manifest.servers;
    // Rooms another server is found through, and rooms more than one server lists, stay put.
    const bridges = new Set(
      servers.flatMap((s) =>
        s.found_via.kind === 'seed'
          ? []
          : [s.found_via.kind === 'hierarchy' ? s.found_via.space_id : s.found_via.room_id],
      ),
    );
    const listings = new Map<string, number>();
    for (const s of servers)
      for (const r of s.rooms) listings.set(r.room_id, (listings.get(r.room_id) ?? 0) + 1);
    const ownRooms = (s: ManifestServer) =>
      s.rooms.every((r) => !bridges.has(r.room_id) && listings.get(r.room_id) === 1);
    const pick = (what: string, predicate: (s: ManifestServer) => boolean) => {
      const found = servers.find(
        (s) => !sim.manifest.seeds.includes(s.name) && s.behaviour === 'normal' && predicate(s),
      );
      if (!found) throw new Error(`the simulated federation has no server that ${what}`);
      return found;
    };
    refusing = pick(
      'refuses federation and serves its client API',
      (s) => !s.publishes && s.client_directory && s.rooms.length > 0,
    );
    starting = pick('refuses federation with no client API', (s) => !s.publishes && !s.client_directory);
    empty = pick(
      'publishes a few rooms of its own',
      (s) => browsable(s) && ownRooms(s) && s.rooms.length <= 10,
    );
    fading = pick(
      'publishes rooms of its own',
      (s) =>
        browsable(s) && ownRooms(s) && s !== empty && s.rooms.some((r) => r.canonical_alias && !r.noindex),
    );
    await sim.mutate({ removeRooms: empty.rooms.map((r) => r.room_id) });
    database = await createTestDatabase('directory_integrity');
    env = atlasEnv(sim, database, path.join(dir, 'data'), undefined);
  });

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const feed = async () => {
    const response = await fetch(`${api?.base}/api/v1/element/config.json?limit=200&self=false`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { room_directory: { servers: string[] } }).room_directory.servers;
  };
  const clientDirectory = (server?: string) =>
    everyRoom(async (since) => {
      const query = new URLSearchParams({
        limit: '100',
        ...(since ? { since } : {}),
        ...(server ? { server } : {}),
      });
      const response = await fetch(`${api?.base}/_matrix/client/v3/publicRooms?${query}`);
      expect(response.status).toBe(200);
      return (await response.json()) as Directory;
    });
  /** Atlas's directory as a homeserver of the federation asks for it, signed as that server. */
  const federationDirectory = () => {
    const origin = sim.manifest.seeds[0] ?? '';
    const key = sim.signingKey(origin);
    return everyRoom(async (since) => {
      const uri = `/_matrix/federation/v1/publicRooms?limit=100${since ? `&since=${encodeURIComponent(since)}` : ''}`;
      const authorization = xMatrixAuthorization(
        { method: 'GET', uri, origin, destination: sim.atlas.serverName },
        key,
      );
      const response = await fetch(`${api?.base}${uri}`, { headers: { authorization } });
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as Directory;
    });
  };
  /** Rooms with an alias that a server Element can browse lists: what Atlas's publicRooms may serve. */
  const servable = () =>
    new Set(
      sim.manifest.servers
        .filter(browsable)
        .flatMap((s) => s.rooms.filter((r) => !r.noindex && r.canonical_alias).map((r) => r.room_id)),
    );

  it('crawl --once ends with every stored room searchable, and atlas api finds one by a word of its name', {
    timeout: 300_000,
  }, async () => {
    const run = await runAtlas(['crawl', '--once', '--json'], env);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(run.stdout) as CrawlSummaryJson;
    // Nothing is stale or hidden after a first crawl but no-index rooms, which are not stored shown.
    expect(summary.totals.rooms.searchable).toBe(summary.totals.rooms.listed);
    expect(summary.totals.rooms.searchable).toBeGreaterThan(100);
    expect(run.stderr).toContain(`${summary.totals.rooms.searchable} searchable`);

    api = await startAtlasApi(env);
    // A room of a published directory, and the word of its name fewest other rooms share.
    const named = sim.manifest.servers
      .filter(browsable)
      .flatMap((s) => s.rooms)
      .filter((r) => !r.noindex && !r.hostile && r.name);
    const words = (name: string | null) => (name ?? '').toLowerCase().match(/[a-z]{4,}/g) ?? [];
    const counts = new Map<string, number>();
    for (const room of named)
      for (const word of new Set(words(room.name))) counts.set(word, (counts.get(word) ?? 0) + 1);
    const [room, word] = named
      .flatMap((r) => words(r.name).map((w) => [r, w] as const))
      .sort((a, b) => (counts.get(a[1]) ?? 0) - (counts.get(b[1]) ?? 0))[0] ?? [undefined, ''];
    expect(room, 'a named room').toBeDefined();
    const response = await fetch(`${api.base}/api/v1/rooms?q=${encodeURIComponent(word)}&limit=100`);
    expect(response.status).toBe(200);
    const found = ((await response.json()) as { rooms: { room_id: string }[] }).rooms.map((r) => r.room_id);
    expect(found, `searching "${word}" for "${room?.name}"`).toContain(room?.room_id);
  });

  it('the feed and both publicRooms endpoints list only servers Element can browse', {
    timeout: 120_000,
  }, async () => {
    const listed = await feed();
    const expected = sim.manifest.servers.filter(browsable).map((s) => s.name);
    expect([...listed].sort()).toEqual([...expected].sort());
    for (const left of [refusing, empty, starting]) expect(listed).not.toContain(left.name);
    expect(listed).toContain(fading.name);
    // Most rooms first.
    const counts = await database.sql<{ name: string; room_count: number }[]>`
      select name, room_count from servers where name = any(${listed}::text[])`;
    const roomsOf = new Map(counts.map((c) => [c.name, c.room_count]));
    const order = listed.map((name) => roomsOf.get(name) ?? 0);
    expect(order).toEqual([...order].sort((a, b) => b - a));

    const rooms = await clientDirectory();
    expect([...rooms].sort()).toEqual([...servable()].sort());
    expect(await federationDirectory()).toEqual(rooms);
    // Atlas stored what the refusing server's client API lists; it passes none of it on.
    const [stored] = await database.sql<{ n: string }[]>`
      select count(*) as n from room_listings where server_name = ${refusing.name} and active`;
    expect(Number(stored?.n)).toBeGreaterThan(0);
    expect((await clientDirectory(refusing.name)).size).toBe(0);
    expect((await clientDirectory(fading.name)).size).toBeGreaterThan(0);
  });

  it('drops a server that went offline and takes in one that started publishing, after their next read', {
    timeout: 300_000,
  }, async () => {
    await api?.stop();
    await sim.mutate({
      setBehaviour: [{ server: fading.name, behaviour: 'stall_tls' }],
      addRooms: [{ server: starting.name, count: 3 }],
      setPublishes: [{ server: starting.name, publishes: true }],
    });
    const run = await runAtlas(['crawl', '--once', '--json'], env);
    expect(run.exitCode, run.stderr.slice(-3000)).toBe(0);
    api = await startAtlasApi(env);

    const listed = await feed();
    expect([...listed].sort()).toEqual(
      sim.manifest.servers
        .filter(browsable)
        .map((s) => s.name)
        .sort(),
    );
    expect(listed).toContain(starting.name);
    expect(listed).not.toContain(fading.name);
    const rooms = await clientDirectory();
    expect([...rooms].sort()).toEqual([...servable()].sort());
    expect(await federationDirectory()).toEqual(rooms);
    // The offline server's rooms are still stored, still listed by it as far as Atlas knows: kept,
    // not passed on.
    const fadingRooms = fading.rooms.filter((r) => !r.noindex && r.canonical_alias).map((r) => r.room_id);
    const [kept] = await database.sql<{ n: string }[]>`
      select count(*) as n from rooms where room_id = any(${fadingRooms}::text[]) and stale_since is null`;
    expect(Number(kept?.n)).toBe(fadingRooms.length);
    for (const id of fadingRooms) expect(rooms.has(id), id).toBe(false);
    expect((await clientDirectory(fading.name)).size).toBe(0);

    // And the operator is told why each is left out.
    const explained = await runAtlas(['element-config', '--explain', '--limit', '200'], env);
    expect(explained.exitCode, explained.stderr).toBe(0);
    expect(explained.stdout).toContain(`  ${refusing.name}: it refuses publicRooms over federation (403`);
    expect(explained.stdout).toContain(`  ${empty.name}: it publishes no rooms`);
    expect(explained.stdout).toContain(`  ${fading.name}: offline: it did not answer its last probe`);
    expect(explained.stdout).toMatch(/^listed \(\d+\):\n {2}atlas\.simfed\.test:\d+\n/);
  });
});
