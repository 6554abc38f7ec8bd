import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { seedRooms, seedServers } from '../support/seed-rooms.ts';

// Which servers Atlas points Matrix clients at (the Element feed, its own publicRooms), with a server
// in each state a directory read can leave it in, and why the operator is told each one is left out.
let api: TestApi;
const TOKEN = 'admin-token-for-listable-servers';
const admin = { authorization: `Bearer ${TOKEN}` };

interface Directory {
  chunk: { room_id: string }[];
  total_room_count_estimate: number;
}
interface Explained {
  servers: string[];
  left_out: { name: string; reason: string; explanation: string; room_count: number | null }[];
}

beforeAll(async () => {
  api = await createTestApi('api_listable', {
    settings: { adminTokens: [TOKEN], vouchedServers: ['vouched.example'] },
  });
  await seedServers(api.database, [
    { name: 'good.example', roomCount: 40, uptime30d: 0.99 },
    { name: 'steady.example', roomCount: 40, uptime30d: 0.9 },
    { name: 'refuses.example', roomCount: 30, publishes: false },
    { name: 'down.example', roomCount: 500, status: 'offline' },
    { name: 'clientonly.example', roomCount: 60, publishes: null, crawlMode: 'client' },
    { name: 'empty.example', roomCount: 0 },
    { name: 'failing.example', roomCount: 20, lastCrawlOutcome: 'failed' },
    { name: 'unread.example', publishes: null },
    { name: 'capped.example', roomCount: 900, roomCapReached: true, lastCrawlOutcome: 'partial' },
    { name: 'vouched.example', roomCount: 800, roomCapReached: true, lastCrawlOutcome: 'partial' },
    { name: 'spammy.example', roomCount: 300 },
    { name: 'new.example', status: 'new', publishes: null },
  ]);
  await api.database.sql`
    update servers set review_signals = '[{"kind":"similar_names","rooms":250,"sample":"Free Crypto 001"}]'::jsonb,
      review_flagged_at = now()
    where name = 'spammy.example'`;
  const room = (server: string) => ({
    roomId: `!lobby:${server}`,
    name: `Lobby of ${server}`,
    canonicalAlias: `#lobby:${server}`,
    members: 10,
    servers: [server],
  });
  await seedRooms(api.database, [
    room('good.example'),
    room('refuses.example'),
    room('down.example'),
    room('clientonly.example'),
    room('capped.example'),
    room('vouched.example'),
    room('spammy.example'),
    // Listed by a browsable server and by one that is offline: still served.
    { ...room('shared.example'), servers: ['steady.example', 'down.example'] },
  ]);
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
});

const BROWSABLE = ['vouched.example', 'good.example', 'steady.example'];

describe('the Element feed', () => {
  it('lists only servers online whose directory Atlas last read over federation and found rooms in', async () => {
    const response = await api.get('/api/v1/element/config.json?self=false');
    const body = (await response.json()) as { room_directory: { servers: string[] } };
    // Most rooms first, then uptime; the vouched-for server despite its room cap.
    expect(body.room_directory.servers).toEqual(BROWSABLE);
  });

  it('tells the operator why every other server is left out', async () => {
    const response = await api.get('/api/v1/admin/element/explain?self=false&limit=2', admin);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Explained;
    expect(body.servers).toEqual(['vouched.example', 'good.example']);
    const reasons = Object.fromEntries(body.left_out.map((s) => [s.name, s.reason]));
    expect(reasons).toEqual({
      'steady.example': 'beyond_limit',
      'refuses.example': 'refuses_federation',
      'down.example': 'offline',
      'clientonly.example': 'not_over_federation',
      'empty.example': 'empty',
      'failing.example': 'read_failed',
      'unread.example': 'not_read',
      'capped.example': 'room_cap',
      'spammy.example': 'review',
      'new.example': 'not_probed',
    });
    const explanation = (name: string) => body.left_out.find((s) => s.name === name)?.explanation;
    expect(explanation('refuses.example')).toContain('refuses publicRooms over federation (403');
    expect(explanation('capped.example')).toContain('ATLAS_VOUCHED_SERVERS');
    expect(explanation('spammy.example')).toContain('similar_names (250 rooms)');
    // Biggest absences first.
    expect(body.left_out[0]?.name).toBe('capped.example');

    const one = (await (
      await api.get('/api/v1/admin/element/explain?server=down.example', admin)
    ).json()) as Explained;
    expect(one.left_out).toEqual([
      expect.objectContaining({ name: 'down.example', reason: 'offline', room_count: 500 }),
    ]);
    expect((await api.get('/api/v1/admin/element/explain')).status).toBe(401);
  });
});

describe("Atlas's own publicRooms", () => {
  it('serves only rooms a browsable server lists', async () => {
    const body = (await (await api.get('/_matrix/client/v3/publicRooms')).json()) as Directory;
    expect(body.chunk.map((c) => c.room_id).sort()).toEqual([
      '!lobby:good.example',
      '!lobby:shared.example',
      '!lobby:vouched.example',
    ]);
    expect(body.total_room_count_estimate).toBe(3);
  });

  it('answers nothing for server= a server that is not browsable', async () => {
    for (const server of ['refuses.example', 'down.example', 'clientonly.example', 'capped.example']) {
      const body = (await (
        await api.get(`/_matrix/client/v3/publicRooms?server=${server}`)
      ).json()) as Directory;
      expect(body, server).toEqual({ chunk: [], total_room_count_estimate: 0 });
    }
    const good = (await (
      await api.get('/_matrix/client/v3/publicRooms?server=good.example')
    ).json()) as Directory;
    expect(good.chunk.map((c) => c.room_id)).toEqual(['!lobby:good.example']);
  });
});

describe('servers that reached the room cap or raised spam signals', () => {
  it('are flagged in the server JSON the public API serves', async () => {
    const capped = (await (await api.get('/api/v1/servers/capped.example')).json()) as Record<
      string,
      unknown
    >;
    expect(capped.room_cap_reached).toBe(true);
    const good = (await (await api.get('/api/v1/servers/good.example')).json()) as Record<string, unknown>;
    expect(good.room_cap_reached).toBe(false);
    const list = (await (await api.get('/api/v1/servers?limit=100')).json()) as {
      servers: { name: string; room_cap_reached: boolean }[];
    };
    expect(list.servers.filter((s) => s.room_cap_reached).map((s) => s.name)).toEqual([
      'capped.example',
      'vouched.example',
    ]); // The server's page says so to a person choosing a server.
    const page = await (await api.get('/servers/capped.example')).text();
    expect(page).toContain('lists more rooms than Atlas keeps from one server');
    expect(await (await api.get('/servers/good.example')).text()).not.toContain('lists more rooms than');
  });

  it('are listed for review in the admin API, vouched or not, never hidden', async () => {
    const response = await api.get('/api/v1/admin/servers/flagged', admin);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      servers: {
        name: string;
        vouched: boolean;
        review_signals: unknown[];
        room_cap_reached_at: string | null;
      }[];
    };
    const byName = new Map(body.servers.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['capped.example', 'spammy.example', 'vouched.example']);
    expect(byName.get('vouched.example')?.vouched).toBe(true);
    expect(byName.get('capped.example')?.room_cap_reached_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byName.get('spammy.example')?.review_signals).toEqual([
      { kind: 'similar_names', rooms: 250, sample: 'Free Crypto 001' },
    ]);
    // Their rooms are still stored and searchable on Atlas's own API.
    const search = (await (await api.get('/api/v1/rooms?q=lobby&limit=50')).json()) as {
      rooms: { room_id: string }[];
    };
    expect(search.rooms.map((r) => r.room_id)).toContain('!lobby:spammy.example');
    expect(search.rooms.map((r) => r.room_id)).toContain('!lobby:capped.example');
  });
});
