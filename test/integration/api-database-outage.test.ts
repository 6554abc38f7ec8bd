import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, DEFAULT_SETTINGS } from '@atlas/api';
import {
  connectDatabase,
  type Database,
  type EmbeddedDatabase,
  migrateDatabase,
  startEmbeddedPostgres,
} from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { generateSigningKey } from '@atlas/shared/matrix';
import { createPostgresSearchIndex, indexChangedRooms, type SearchIndex } from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { seedRooms } from '../support/seed-rooms.ts';

// The API's own PostgreSQL stops under it, then comes back: callers are asked to retry (503 with
// Retry-After, never 500), and the same requests succeed afterwards without restarting the API.
let dir: string;
let port: number;
let pg: EmbeddedDatabase;
let database: Database;
let search: SearchIndex;
let app: ReturnType<typeof createApp>;

const PATHS = [
  '/api/v1/rooms?q=lounge',
  '/api/v1/servers',
  '/api/v1/rooms/!lounge:outage.example',
  '/',
  '/servers',
];

function get(pathname: string): Promise<Response> {
  return Promise.resolve(
    app.request(pathname, {}, { incoming: { socket: { remoteAddress: '127.0.0.1' } } } as never),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-outage-'));
  port = await freePort();
  pg = await startEmbeddedPostgres({ dataDir: dir, port, log: silentLogger });
  database = connectDatabase(pg.url, { max: 4 });
  await migrateDatabase(database);
  await seedRooms(database, [
    { roomId: '!lounge:outage.example', name: 'Outage lounge', servers: ['outage.example'] },
  ]);
  search = createPostgresSearchIndex({ databaseUrl: pg.url, poolSize: 2 });
  await search.init();
  await indexChangedRooms(database.sql, search);
  app = createApp({
    database,
    log: silentLogger,
    identity: { serverName: 'atlas.test', signingKey: generateSigningKey() },
    search,
    settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
  });
}, 120_000);

afterAll(async () => {
  await search?.close();
  await database?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the API while its database is down', () => {
  it('answers 503 with Retry-After, never 500, and recovers by itself', { timeout: 120_000 }, async () => {
    for (const pathname of PATHS) expect((await get(pathname)).status, pathname).toBe(200);

    await pg.stop();
    for (const pathname of PATHS) {
      // Twice: the first request meets the broken connections, the second a refused new one.
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await get(pathname);
        expect(response.status, `${pathname} while down`).toBe(503);
        expect(Number(response.headers.get('retry-after')), pathname).toBeGreaterThan(0);
      }
    }
    const json = (await (await get('/api/v1/servers')).json()) as {
      error: { code: string; message: string };
    };
    expect(json.error.code).toBe('UNAVAILABLE');
    expect(json.error.message).toContain('try again');
    const page = await get('/servers');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('The directory is not available right now');
    expect((await get('/readyz')).status).toBe(503);

    pg = await startEmbeddedPostgres({ dataDir: dir, port, log: silentLogger });
    for (const pathname of PATHS) expect((await get(pathname)).status, `${pathname} after`).toBe(200);
    const found = (await (await get('/api/v1/rooms?q=lounge')).json()) as { rooms: { room_id: string }[] };
    expect(found.rooms.map((r) => r.room_id)).toEqual(['!lounge:outage.example']);
  });
});
