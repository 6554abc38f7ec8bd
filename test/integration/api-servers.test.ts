import { directoryTotals } from '@atlas/shared/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { seedRooms, seedServers } from '../support/seed-rooms.ts';

let api: TestApi;

interface ServerList {
  servers: { name: string; room_count: number | null }[];
  next_cursor: string | null;
}

beforeAll(async () => {
  api = await createTestApi('api_servers');
  await seedServers(api.database, [
    { name: 'big.example', roomCount: 500, uptime30d: 0.99, registration: 'closed', softwareName: 'Synapse' },
    { name: 'small.example', roomCount: 3, uptime30d: 0.97, registration: 'open', softwareName: 'conduwuit' },
    { name: 'tiny.example', roomCount: 1, uptime30d: 0.5, registration: 'open', publishes: false },
    { name: 'down.example', roomCount: 40, status: 'offline', uptime30d: 0.2 },
    { name: 'evil.example', roomCount: 900, status: 'blocked' },
    {
      name: 'contact.example',
      roomCount: 10,
      contacts: [
        { matrixId: '@admin:contact.example', role: 'm.role.admin' },
        { email: 'a@contact.example', role: 'm.role.security' },
      ],
      supportPage: 'https://contact.example/support',
    },
  ]);
  await seedRooms(api.database, [
    { roomId: '!a:contact.example', name: 'Contact Lounge', members: 12, servers: ['contact.example'] },
    { roomId: '!b:contact.example', name: 'Contact Help', members: 30, servers: ['contact.example'] },
  ]);
  await api.database.sql`
    insert into server_checks (server_name, checked_at, reachable, latency_ms, software_version, registration)
    values ('contact.example', now() - interval '2 hours', true, 40, '1.163.2', 'closed'),
           ('contact.example', now() - interval '3 days', false, null, null, null),
           ('contact.example', now() - interval '10 days', true, 50, '1.160.0', 'closed'),
           ('contact.example', now() - interval '20 days', true, 55, '1.160.0', 'closed')`;
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
});

const names = async (path: string) =>
  ((await (await api.get(path)).json()) as ServerList).servers.map((s) => s.name);

describe('GET /api/v1/servers', () => {
  it('lists the biggest first by default and never a blocked server', async () => {
    const list = await names('/api/v1/servers');
    expect(list[0]).toBe('big.example');
    expect(list).not.toContain('evil.example');
  });

  it('lists the smallest first', async () => {
    expect((await names('/api/v1/servers?sort=smallest')).slice(0, 2)).toEqual([
      'tiny.example',
      'small.example',
    ]);
  });

  it('filters by status, software, registration, publishing, rooms and uptime', async () => {
    expect(await names('/api/v1/servers?status=offline')).toEqual(['down.example']);
    expect(await names('/api/v1/servers?software=CONDUWUIT')).toEqual(['small.example']);
    expect(await names('/api/v1/servers?registration=open&sort=name')).toEqual([
      'small.example',
      'tiny.example',
    ]);
    expect(await names('/api/v1/servers?publishes=false')).toEqual(['tiny.example']);
    expect(await names('/api/v1/servers?min_rooms=5&max_rooms=100&sort=name')).toEqual([
      'contact.example',
      'down.example',
    ]);
    expect(await names('/api/v1/servers?min_uptime=0.95&sort=name')).toEqual([
      'big.example',
      'contact.example',
      'small.example',
    ]);
  });

  it('pages with cursors through every server once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await api.get(`/api/v1/servers?sort=uptime&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as ServerList;
      seen.push(...page.servers.map((s) => s.name));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(5);
  });

  it('answers bad parameters with 400', async () => {
    for (const query of [
      'sort=biggest',
      'status=happy',
      'min_uptime=2',
      'limit=1000',
      'publishes=maybe',
      'cursor=%%%',
    ]) {
      const response = await api.get(`/api/v1/servers?${query}`);
      expect(response.status, query).toBe(400);
    }
  });
});

describe('GET /api/v1/servers/{name}', () => {
  it('shows checks, measured uptime, contacts and rooms', async () => {
    const response = await api.get('/api/v1/servers/contact.example');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      checks: { reachable: boolean }[];
      uptime: { last_day: number; last_30_days: number };
      contacts: { matrix_id?: string; email_address?: string; role: string }[];
      support_page: string;
      rooms: { room_id: string }[];
    };
    expect(body.checks.map((c) => c.reachable)).toEqual([true, false, true, true]);
    expect(body.uptime.last_day).toBe(1);
    expect(body.uptime.last_30_days).toBe(0.75);
    expect(body.contacts).toEqual([
      { matrix_id: '@admin:contact.example', role: 'm.role.admin' },
      { email_address: 'a@contact.example', role: 'm.role.security' },
    ]);
    expect(body.support_page).toBe('https://contact.example/support');
    expect(body.rooms.map((r) => r.room_id)).toEqual(['!b:contact.example', '!a:contact.example']);
  });

  it('answers 404 for unknown and blocked servers, 400 for a malformed name', async () => {
    expect((await api.get('/api/v1/servers/nowhere.example')).status).toBe(404);
    expect((await api.get('/api/v1/servers/evil.example')).status).toBe(404);
    expect((await api.get(`/api/v1/servers/${encodeURIComponent('bad name!')}`)).status).toBe(400);
  });
});

describe('GET /api/v1/stats', () => {
  it('counts servers and rooms, and shares software', async () => {
    const response = await api.get('/api/v1/stats');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      servers: { total: number; online: number; offline: number; open_registration: number };
      rooms: { known: number; searchable: number };
      software: { name: string; servers: number }[];
      growth: { day: string; servers_discovered: number }[];
    };
    // The blocked server is not counted.
    expect(body.servers.total).toBe(5);
    expect(body.servers.offline).toBe(1);
    expect(body.servers.online).toBe(4);
    expect(body.servers.open_registration).toBe(2);
    expect(body.rooms).toMatchObject({ known: 2, searchable: 2 });
    expect(body.software[0]).toMatchObject({ name: 'Synapse', servers: 3 });
    expect(body.growth).toHaveLength(30);
    // Nor is it among the servers discovered.
    expect(body.growth[29]?.servers_discovered).toBe(5);
  });

  it('agrees with the totals of `atlas crawl --once`: blocked servers and hidden rooms are not counted', async () => {
    const other = await createTestApi('api_totals');
    try {
      await seedServers(other.database, [
        { name: 'up.example' },
        { name: 'down.example', status: 'offline' },
        { name: 'evil.example', status: 'blocked' },
      ]);
      await seedRooms(other.database, [
        { roomId: '!listed:up.example', servers: ['up.example'] },
        { roomId: '!gone:up.example', servers: ['up.example'], stale: true },
        { roomId: '!hidden:up.example', servers: ['up.example'], hidden: true },
        { roomId: '!hidden-gone:up.example', servers: ['up.example'], hidden: true, stale: true },
      ]);
      await other.reindex();
      const stats = (await (await other.get('/api/v1/stats')).json()) as {
        servers: { total: number };
        rooms: { known: number; stale: number };
      };
      const totals = await directoryTotals(other.database.sql);
      expect({ servers: stats.servers.total, rooms: stats.rooms.known, stale: stats.rooms.stale }).toEqual({
        servers: totals.servers.total,
        rooms: totals.rooms.total,
        stale: totals.rooms.stale,
      });
      expect(stats.servers.total).toBe(2);
      expect(stats.rooms).toMatchObject({ known: 2, stale: 1 });
    } finally {
      await other.close();
    }
  });
});

describe('GET /api/v1/element/config.json', () => {
  const feed = async (query = '') => {
    const response = await api.get(`/api/v1/element/config.json${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { room_directory: { servers: string[] } }).room_directory.servers;
  };

  it("lists only servers Element can browse, most rooms first, with Atlas's own name first", async () => {
    const servers = await feed();
    expect(servers).toEqual(['atlas.test', 'big.example', 'contact.example', 'small.example']);
    // Offline (down), refusing publicRooms over federation (tiny) and blocked (evil) servers are
    // not browsable from Element.
  });

  it('takes limit, include, exclude, registration and software', async () => {
    expect(await feed('?limit=2&self=false')).toEqual(['big.example', 'contact.example']);
    expect(await feed('?self=false&include=mine.example&exclude=big.example&limit=3')).toEqual([
      'mine.example',
      'contact.example',
      'small.example',
    ]);
    expect(await feed('?self=false&registration_open=true')).toEqual(['small.example']);
    expect(await feed('?self=false&software=conduwuit')).toEqual(['small.example']);
  });

  it('sets an ETag and answers 304 to a client that already has the list', async () => {
    const first = await api.get('/api/v1/element/config.json?limit=2');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^"[0-9a-f]{40}"$/);
    expect(first.headers.get('content-type')).toContain('application/json');
    expect(first.headers.get('cache-control')).toContain('max-age=300');
    const again = await api.get('/api/v1/element/config.json?limit=2', { 'if-none-match': tag ?? '' });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(tag);
    const other = await api.get('/api/v1/element/config.json?limit=3', { 'if-none-match': tag ?? '' });
    expect(other.status).toBe(200);
  });

  it('answers bad parameters with 400', async () => {
    expect((await api.get('/api/v1/element/config.json?limit=0')).status).toBe(400);
    expect((await api.get('/api/v1/element/config.json?include=bad%20name')).status).toBe(400);
  });
});
