import { createApp } from '@atlas/api';
import { withSearchCache } from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { seedRooms } from '../support/seed-rooms.ts';

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi('api_rooms');
  await seedRooms(api.database, [
    {
      roomId: '!linux:example.org',
      name: 'Linux',
      topic: 'Help with Linux',
      canonicalAlias: '#linux:example.org',
      members: 40,
      complexity: 0.4,
      history: { 7: 30, 30: 10 },
    },
    {
      roomId: '!gaming:example.org',
      name: 'Linux Gaming',
      topic: 'Games on Linux, Proton, Wine',
      canonicalAlias: '#linux-gaming:example.org',
      members: 900,
      complexity: 3,
      history: { 7: 850, 30: 800 },
    },
    {
      roomId: '!space:other.example',
      name: 'Open Source Space',
      roomType: 'm.space',
      members: 300,
      servers: ['other.example'],
    },
    { roomId: '!stale:example.org', name: 'Old Linux Lounge', members: 5, stale: true },
    { roomId: '!hidden:example.org', name: 'Hidden Linux Room', members: 50, hidden: true },
    { roomId: '!noindex:example.org', name: 'Private Linux', topic: 'keep out (atlas-noindex)', members: 20 },
    {
      roomId: '!fr:fr.example',
      name: 'Le salon des développeurs Linux',
      topic: 'On discute de développement logiciel libre en français ici',
      members: 25,
      servers: ['fr.example'],
    },
  ]);
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
});

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

interface RoomList {
  rooms: { room_id: string; growth_7d: number; language: string | null; servers: string[] }[];
  total: number;
  next_cursor: string | null;
}

describe('GET /api/v1/rooms', () => {
  it('searches, an exact name first, leaving out stale, hidden and no-index rooms', async () => {
    const response = await api.get('/api/v1/rooms?q=linux');
    expect(response.status).toBe(200);
    const body = await json<RoomList>(response);
    expect(body.rooms.map((r) => r.room_id)).toEqual([
      '!linux:example.org',
      '!gaming:example.org',
      '!fr:fr.example',
    ]);
    expect(body.total).toBe(3);
  });

  it('includes stale rooms when asked', async () => {
    const body = await json<RoomList>(await api.get('/api/v1/rooms?q=linux&include_stale=true'));
    expect(body.rooms.map((r) => r.room_id)).toContain('!stale:example.org');
  });

  it('filters and sorts; growth comes from the snapshots, language from the text', async () => {
    const spaces = await json<RoomList>(await api.get('/api/v1/rooms?type=space'));
    expect(spaces.rooms.map((r) => r.room_id)).toEqual(['!space:other.example']);
    const joinable = await json<RoomList>(await api.get('/api/v1/rooms?joinable=true&sort=members'));
    expect(joinable.rooms.map((r) => r.room_id)).not.toContain('!gaming:example.org');
    expect(joinable.rooms.map((r) => r.room_id)).toContain('!space:other.example');
    const growth = await json<RoomList>(await api.get('/api/v1/rooms?sort=growth7d&limit=1'));
    expect(growth.rooms[0]?.room_id).toBe('!gaming:example.org');
    expect(growth.rooms[0]?.growth_7d).toBe(50);
    const french = await json<RoomList>(await api.get('/api/v1/rooms?language=fr'));
    expect(french.rooms.map((r) => r.room_id)).toEqual(['!fr:fr.example']);
    const byServer = await json<RoomList>(await api.get('/api/v1/rooms?server=other.example,fr.example'));
    expect(byServer.rooms).toHaveLength(2);
  });

  it('pages with cursors', async () => {
    const first = await json<RoomList>(await api.get('/api/v1/rooms?limit=2&sort=members'));
    expect(first.rooms).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = await json<RoomList>(
      await api.get(`/api/v1/rooms?limit=2&sort=members&cursor=${first.next_cursor}`),
    );
    expect(second.rooms.map((r) => r.room_id)).not.toContain(first.rooms[0]?.room_id);
  });

  it('answers a bad parameter with a 400 envelope naming it', async () => {
    for (const query of [
      'limit=0',
      'limit=abc',
      'sort=loudest',
      'type=channel',
      'min_members=-1',
      'joinable=x',
    ]) {
      const response = await api.get(`/api/v1/rooms?${query}`, { 'x-request-id': 'req-1' });
      expect(response.status, query).toBe(400);
      const body = await json<{ error: { code: string; message: string; requestId: string } }>(response);
      expect(body.error.code).toBe('BAD_REQUEST');
      expect(body.error.message).toContain(query.split('=')[0]);
      expect(body.error.requestId).toBe('req-1');
    }
  });

  it('refuses a cursor from another query', async () => {
    const first = await json<RoomList>(await api.get('/api/v1/rooms?limit=1&sort=members'));
    const response = await api.get(`/api/v1/rooms?limit=1&sort=newest&cursor=${first.next_cursor}`);
    expect(response.status).toBe(400);
    expect((await json<{ error: { message: string } }>(response)).error.message).toContain('cursor');
  });

  it('sets ETag and Cache-Control, answers 304 to a matching If-None-Match, and opens CORS', async () => {
    const response = await api.get('/api/v1/rooms?q=linux', { origin: 'https://elsewhere.example' });
    const tag = response.headers.get('etag');
    expect(tag).toBeTruthy();
    expect(response.headers.get('cache-control')).toContain('max-age=30');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const again = await api.get('/api/v1/rooms?q=linux', { 'if-none-match': tag ?? '' });
    expect(again.status).toBe(304);
    // Errors are readable cross-origin too, so a browser can show what was wrong.
    const refused = await api.get('/api/v1/rooms?limit=0', { origin: 'https://elsewhere.example' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('GET /api/v1/rooms with the answer cache (as atlas start serves it)', () => {
  it('answers a repeated search with the same bytes and ETag, and 304 to that ETag', async () => {
    const app = createApp({ ...api.deps, search: withSearchCache(api.deps.search) });
    const get = (path: string, headers: Record<string, string> = {}) =>
      Promise.resolve(
        app.request(path, { headers }, { incoming: { socket: { remoteAddress: '127.0.0.1' } } }),
      );
    const first = await get('/api/v1/rooms?q=linux');
    const firstBody = await first.text();
    const again = await get('/api/v1/rooms?q=linux');
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(firstBody);
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(JSON.parse(firstBody).rooms[0].room_id).toBe('!linux:example.org');
    const other = await get('/api/v1/rooms?q=linux&sort=members');
    expect(JSON.parse(await other.text()).rooms[0].room_id).toBe('!gaming:example.org');
    expect(other.headers.get('etag')).not.toBe(first.headers.get('etag'));
    const revalidated = await get('/api/v1/rooms?q=linux', {
      'if-none-match': first.headers.get('etag') ?? '',
    });
    expect(revalidated.status).toBe(304);
  });
});

describe('GET /api/v1/rooms/{roomId}', () => {
  it('shows a room with its listings and member history', async () => {
    const response = await api.get(`/api/v1/rooms/${encodeURIComponent('!gaming:example.org')}`);
    expect(response.status).toBe(200);
    const body = await json<{
      name: string;
      listings: { server_name: string }[];
      members_history: { num_joined_members: number }[];
    }>(response);
    expect(body.name).toBe('Linux Gaming');
    expect(body.listings.map((l) => l.server_name)).toEqual(['example.org']);
    expect(body.members_history.map((h) => h.num_joined_members)).toEqual([800, 850, 900]);
  });

  it('answers 404 for unknown, hidden and no-index rooms, 400 for a malformed id', async () => {
    for (const id of ['!nope:example.org', '!hidden:example.org', '!noindex:example.org']) {
      const response = await api.get(`/api/v1/rooms/${encodeURIComponent(id)}`);
      expect(response.status, id).toBe(404);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBe('NOT_FOUND');
    }
    expect((await api.get('/api/v1/rooms/not-a-room')).status).toBe(400);
  });
});
