import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import {
  getJson,
  killAtlas,
  type RunningAtlas,
  startAtlas,
  untilHealthy,
  untilSearchable,
} from '../support/atlas-process.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { readable } from './crawler-harness.ts';

// `npm start` as the Quick start runs it: no DATABASE_URL and no REDIS_URL, so Atlas starts its own
// PostgreSQL under the data folder and keeps its queues there, crawls, and serves the directory.

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface RoomList {
  rooms: { room_id: string; name: string | null; num_joined_members: number; servers: string[] }[];
  total: number;
}

describe('atlas start on the embedded default (the Quick start)', () => {
  let dir: string;
  let sim: SimFed;
  let atlas: RunningAtlas | undefined;
  let base: string;
  let pgPort: number;
  let env: Record<string, string>;

  /** Every room of a server Atlas can read (not opted out). */
  let expected: Set<string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-start-'));
    sim = await startSimFed({ servers: 12, seed: 'cli-start', dir: path.join(dir, 'sim'), rooms: 300 });
    const httpPort = await freePort();
    pgPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    env = {
      ...sim.env,
      ATLAS_DATA_DIR: path.join(dir, 'data'),
      ATLAS_EMBEDDED_PG_PORT: String(pgPort),
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    expected = new Set(
      sim.manifest.servers
        .filter(readable)
        .flatMap((server) => server.rooms.filter((room) => !room.noindex).map((room) => room.room_id)),
    );
    // `npm start` on an empty data folder, until the crawl has made every readable room searchable.
    atlas = startAtlas(env);
    const running = atlas;
    await untilHealthy(running, base);
    await untilSearchable(running, base, expected.size);
  }, 420_000);

  afterAll(async () => {
    await killAtlas(atlas);
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A stored room with a one-word-first name, to search for. */
  function plainRoom() {
    const room = sim.manifest.servers
      .filter(readable)
      .flatMap((server) => server.rooms)
      .find((r) => !r.noindex && r.name && /^[a-z]{4,}$/i.test(r.name.split(' ')[0] ?? ''));
    if (!room?.name) throw new Error('no plain room in the simulated federation');
    return { ...room, word: room.name.split(' ')[0] ?? '' };
  }

  it('starts its own PostgreSQL, crawls, and serves the rooms it found', async () => {
    // The data folder holds the database and the signing key; the key is the operator's alone.
    expect((await stat(path.join(dir, 'data'))).isDirectory()).toBe(true);
    expect(await portOpen(pgPort)).toBe(true);
    const key = await getJson<{ server_name: string; verify_keys: Record<string, unknown> }>(
      `${base}/_matrix/key/v2/server`,
    );
    expect(key.server_name).toBe(sim.env.ATLAS_SERVER_NAME);
    expect(Object.keys(key.verify_keys)).toHaveLength(1);
    expect(expected.size).toBeGreaterThan(20);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // A search by a word of a stored room's name finds that room, with its member count.
    const room = plainRoom();
    const found = await getJson<RoomList>(
      `${base}/api/v1/rooms?q=${encodeURIComponent(room.word)}&limit=100`,
    );
    const hit = found.rooms.find((r) => r.room_id === room.room_id);
    expect(hit?.num_joined_members).toBe(room.num_joined_members);
    // And the directory's front page is a page, not JSON.
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Find a Matrix room');
  });

  it('stops cleanly on SIGTERM, its PostgreSQL with it, and starts again on the same data', {
    timeout: 240_000,
  }, async () => {
    const first = atlas;
    if (!first) throw new Error('Atlas did not start');
    const keyBefore = await getJson<{ verify_keys: Record<string, unknown> }>(
      `${base}/_matrix/key/v2/server`,
    );
    const statsBefore = await getJson<{ servers: { total: number }; rooms: { known: number } }>(
      `${base}/api/v1/stats`,
    );
    const room = plainRoom();
    const roomBefore = await getJson<Record<string, unknown>>(
      `${base}/api/v1/rooms/${encodeURIComponent(room.room_id)}`,
    );
    first.child.kill('SIGTERM');
    const ended = await first.exited;
    expect(ended, first.output()).toEqual({ code: 0, signal: null });
    await waitFor('the embedded PostgreSQL to stop', async () => !(await portOpen(pgPort)), 30_000);

    atlas = startAtlas(env);
    const second = atlas;
    await untilHealthy(second, base);
    // Same signing key, and everything the first run found is still there and searchable.
    const keyAfter = await getJson<{ verify_keys: Record<string, unknown> }>(`${base}/_matrix/key/v2/server`);
    expect(keyAfter.verify_keys).toEqual(keyBefore.verify_keys);
    const statsAfter = await getJson<{
      servers: { total: number };
      rooms: { known: number; searchable: number };
    }>(`${base}/api/v1/stats`);
    expect(statsAfter.rooms.known).toBeGreaterThanOrEqual(statsBefore.rooms.known);
    expect(statsAfter.servers.total).toBeGreaterThanOrEqual(statsBefore.servers.total);
    expect(statsAfter.rooms.searchable).toBeGreaterThanOrEqual(expected.size);
    const roomAfter = await getJson<Record<string, unknown>>(
      `${base}/api/v1/rooms/${encodeURIComponent(room.room_id)}`,
    );
    expect(roomAfter.name).toBe(roomBefore.name);
    expect(roomAfter.num_joined_members).toBe(roomBefore.num_joined_members);
    expect(roomAfter.first_seen_at).toBe(roomBefore.first_seen_at);
    const found = await getJson<RoomList>(
      `${base}/api/v1/rooms?q=${encodeURIComponent(room.word)}&limit=100`,
    );
    expect(found.rooms.some((r) => r.room_id === room.room_id)).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
