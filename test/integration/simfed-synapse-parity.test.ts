import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestRoom, ManifestServer } from '../simfed/model.ts';
import { encodeSinceToken } from '../simfed/since-token.ts';
import type { Located, RawResponse } from '../simfed/spec-client.ts';
import { rawRequest, wellKnownSite } from '../simfed/spec-client.ts';
import { type SignedSimFed, startSignedSimFed } from './simfed-signed.ts';

// Each difference the Synapse suite found between real Synapse 1.163.2 and the simulated
// federation, asserted as Synapse behaves (status, errcode, body, headers), bugs included: Atlas
// is tested against what it will meet.

/** Tokens real Synapse 1.163.2 sent: {m: 1, r: "!piY…", d: true}, and its prev_batch past the end {m: 0, r: "", d: false}. */
const SYNAPSE_TOKEN = 'g6FtAaFy2SwhcGlZNDdyamZqVkJELUk2QnN6LXQ1SGhFWjZRcWsyTDk2bkdUX2xQYkdMb6Fkww';
const SYNAPSE_TOKEN_ROOM = '!piY47rjfjVBD-I6Bsz-t5HhEZ6Qqk2L96nGT_lPbGLo';
const SYNAPSE_END_TOKEN = 'g6FtAKFyoKFkwg';
const INTERNAL_ERROR = { errcode: 'M_UNKNOWN', error: 'Internal server error' };

interface Page {
  chunk: { room_id: string; name?: string; num_joined_members: number }[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

const FED = '/_matrix/federation/v1/publicRooms';
const CLIENT = '/_matrix/client/v3/publicRooms';

/** Synapse's order: joined members, then room id, both descending (`a` sorts before `b` when > 0). */
function after(room: ManifestRoom, bound: ManifestRoom): boolean {
  return (
    room.num_joined_members < bound.num_joined_members ||
    (room.num_joined_members === bound.num_joined_members && room.room_id < bound.room_id)
  );
}

describe('simulated federation behaves like Synapse 1.163', () => {
  let fed: SignedSimFed;
  const page = (res: RawResponse): Page => {
    expect(res.status, res.body.toString()).toBe(200);
    return res.json() as Page;
  };
  const fedPage = async (server: string, query: string) =>
    page(await fed.signed({ destination: server, method: 'GET', uri: query ? `${FED}?${query}` : FED }));
  /** Every entry of a directory, following next_batch through `get`. */
  const walk = async (get: (since: string | undefined) => Promise<Page>) => {
    const ids: string[] = [];
    let since: string | undefined;
    for (let n = 0; n < 100; n++) {
      const body = await get(since);
      ids.push(...body.chunk.map((r) => r.room_id));
      if (!body.next_batch) return ids;
      since = body.next_batch;
    }
    throw new Error('paging did not end');
  };
  const publishing = (s: ManifestServer) => s.reachable && s.publishes;
  const site = (server: ManifestServer): Located => wellKnownSite(server.name);
  /** Serves its well-known files on 443 (not an IP literal, not parked where 443 is closed). */
  const on443 = (s: ManifestServer) =>
    s.reachable &&
    s.resolution !== 'ip_literal' &&
    !s.endpoint?.startsWith(`${fed.sim.network.replace(/\.0\/24$/, '')}.2:`);

  beforeAll(async () => {
    fed = await startSignedSimFed({
      servers: 30,
      seed: 'synapse-parity',
      databaseName: 'simfed_parity',
      rooms: 1_500,
      slowDelayMs: 200,
      stallMs: 60_000,
    });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('(1) answers a malformed since with 500 M_UNKNOWN, over federation and on the client API', async () => {
    // A Synapse bug (RoomListNextBatch.from_token raises), mimicked because crawlers meet it.
    const seed = fed.server((s) => s.name === fed.sim.manifest.seeds[0]);
    for (const since of ['garbage', 'x', 'g6FtAaFy']) {
      const res = await fed.signed({ destination: seed.name, method: 'GET', uri: `${FED}?since=${since}` });
      expect(res.status, since).toBe(500);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual(INTERNAL_ERROR);
    }
    const post = await fed.signed({
      destination: seed.name,
      method: 'POST',
      uri: FED,
      content: { since: 5 },
    });
    expect([post.status, post.json()]).toEqual([500, INTERNAL_ERROR]);
    // Falsy tokens mean the first page, as Python's `if since_token:` has it.
    const zero = await fed.signed({
      destination: seed.name,
      method: 'POST',
      uri: FED,
      content: { since: 0, limit: 1 },
    });
    expect(page(zero).chunk).toHaveLength(1);
    expect((await fedPage(seed.name, 'since=&limit=2')).chunk).toHaveLength(2);

    const open = fed.server((s) => s.reachable && s.client_directory);
    const client = await fed.clientApi(open.name, 'GET', `${CLIENT}?since=garbage`);
    expect([client.status, client.json()]).toEqual([500, INTERNAL_ERROR]);
  });

  it('(2) takes a token from any server: it is a position, not a session', async () => {
    const b = fed.server((s) => publishing(s) && s.malformed_entries === 0 && s.rooms.length >= 40);
    const a = fed.server(
      (s) => publishing(s) && s.malformed_entries === 0 && s.name !== b.name && s.rooms.length > 10,
    );
    const fromA = await fedPage(a.name, 'limit=5');
    const bound = a.rooms[4];
    if (!fromA.next_batch || !bound) throw new Error('A has a second page');
    const onB = await fedPage(b.name, `limit=100&since=${encodeURIComponent(fromA.next_batch)}`);
    const expected = b.rooms.filter((r) => after(r, bound)).slice(0, 100);
    expect(onB.chunk.map((r) => r.room_id)).toEqual(expected.map((r) => r.room_id));
    expect(onB.prev_batch).toEqual(expect.any(String));
    expect(onB.total_room_count_estimate).toBe(b.rooms.length + b.local_only_rooms.length);

    // A's token for a room that sorts after all of C's: an empty page, Synapse's (0, "") prev_batch.
    const clean = fed.sim.manifest.servers.filter((x) => publishing(x) && x.malformed_entries === 0);
    let pair: { c: ManifestServer; from: ManifestServer; index: number } | undefined;
    for (const c of clean) {
      const last = c.rooms[c.rooms.length - 1];
      for (const from of clean) {
        if (!last || pair || from.name === c.name) continue;
        const index = from.rooms.findIndex((r, i) => i < 99 && i < from.rooms.length - 1 && after(r, last));
        if (index >= 0) pair = { c, from, index };
      }
    }
    if (!pair) throw new Error('no server lists a room that sorts after all rooms of another');
    const token = (await fedPage(pair.from.name, `limit=${pair.index + 1}`)).next_batch;
    const empty = await fedPage(pair.c.name, `since=${encodeURIComponent(token ?? '')}`);
    expect(empty).toEqual({
      chunk: [],
      prev_batch: SYNAPSE_END_TOKEN,
      total_room_count_estimate: pair.c.rooms.length + pair.c.local_only_rooms.length,
    });
  });

  it("(3) pages by (members, room id) descending with Synapse's tokens; rooms that change mid-crawl are skipped or repeated", async () => {
    // Synapse's own bytes: unpadded standard base64 of msgpack {m, r, d}.
    expect(encodeSinceToken({ members: 1, roomId: SYNAPSE_TOKEN_ROOM, forwards: true })).toBe(SYNAPSE_TOKEN);
    expect(encodeSinceToken({ members: 0, roomId: '', forwards: false })).toBe(SYNAPSE_END_TOKEN);

    const b = fed.server(
      (s) =>
        publishing(s) &&
        s.malformed_entries === 0 &&
        (s.rooms[19]?.num_joined_members ?? 0) > 1 &&
        s.rooms.length >= 60,
    );
    const first = await fedPage(b.name, 'limit=20');
    expect(first.chunk.map((r) => r.room_id)).toEqual(b.rooms.slice(0, 20).map((r) => r.room_id));
    const next = first.next_batch ?? '';
    expect(next).toMatch(/^[A-Za-z0-9+/]+$/);
    const bytes = Buffer.from(next, 'base64');
    const lastId = Buffer.from(b.rooms[19]?.room_id ?? '');
    expect([...bytes.subarray(0, 3)]).toEqual([0x83, 0xa1, 0x6d]);
    expect(bytes.includes(lastId)).toBe(true);
    expect([...bytes.subarray(-3)]).toEqual([0xa1, 0x64, 0xc3]);
    // A real Synapse token reads here too.
    expect((await fedPage(b.name, `since=${encodeURIComponent(SYNAPSE_TOKEN)}`)).prev_batch).toEqual(
      expect.any(String),
    );

    const second = await fedPage(b.name, `limit=20&since=${encodeURIComponent(next)}`);
    expect(second.chunk.map((r) => r.room_id)).toEqual(b.rooms.slice(20, 40).map((r) => r.room_id));
    const back = await fedPage(b.name, `limit=20&since=${encodeURIComponent(second.prev_batch ?? '')}`);
    expect(back.chunk.map((r) => r.room_id)).toEqual(first.chunk.map((r) => r.room_id));
    expect(back.next_batch).toBe(next);
    expect(back.prev_batch).toBeUndefined();

    // Between page 1 and the rest, one room of page 3 grows past the bound and one of page 1 shrinks below it.
    const grows = b.rooms[45];
    const shrinks = b.rooms[5];
    const top = b.rooms[0];
    if (!grows || !shrinks || !top) throw new Error('B has three pages');
    await fed.sim.mutate({
      changeMembers: [
        { roomId: grows.room_id, members: top.num_joined_members + 1_000 },
        { roomId: shrinks.room_id, members: 1 },
      ],
    });
    const rest = await walk((since) =>
      fedPage(b.name, `limit=20&since=${encodeURIComponent(since ?? next)}`),
    );
    const seen = [...first.chunk.map((r) => r.room_id), ...rest];
    expect(seen.filter((id) => id === shrinks.room_id)).toHaveLength(2);
    expect(seen).not.toContain(grows.room_id);
    expect(new Set(seen).size).toBe(b.rooms.length - 1);
  });

  it('(4) lists world-readable invite-only and knock_restricted rooms; complexity only where public or world readable', async () => {
    const listed = fed.sim.manifest.servers
      .filter(publishing)
      .flatMap((s) => s.rooms.map((room) => ({ s, room })));
    const find = (what: string, predicate: (r: ManifestRoom) => boolean) => {
      const found = listed.find(({ room }) => predicate(room));
      if (!found) throw new Error(`no ${what} room in the manifest`);
      return found;
    };
    const invite = find('invite-only', (r) => r.join_rule === 'invite');
    const restricted = find(
      'knock_restricted',
      (r) => r.join_rule === 'knock_restricted' && !r.world_readable,
    );
    const knock = find('knock', (r) => r.join_rule === 'knock' && !r.world_readable);
    expect(invite.room.world_readable).toBe(true);
    expect(Number(restricted.room.room_version)).toBeGreaterThanOrEqual(10);
    for (const { s, room } of [invite, restricted]) {
      const ids = await walk((since) => fedPage(s.name, since ? `since=${encodeURIComponent(since)}` : ''));
      expect(ids).toContain(room.room_id);
    }
    const complexity = (server: string, roomId: string) =>
      fed.signed({
        destination: server,
        method: 'GET',
        uri: `/_matrix/federation/unstable/rooms/${encodeURIComponent(roomId)}/complexity`,
      });
    const readable = await complexity(invite.s.name, invite.room.room_id);
    expect([readable.status, readable.json()]).toEqual([200, { v1: invite.room.complexity }]);
    for (const { s, room } of [restricted, knock]) {
      const res = await complexity(s.name, room.room_id);
      expect([res.status, res.json()]).toEqual([
        404,
        { errcode: 'M_INVALID_PARAM', error: 'Room not found' },
      ]);
    }
    const hierarchy = await fed.signed({
      destination: restricted.s.name,
      method: 'GET',
      uri: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(restricted.room.room_id)}`,
    });
    expect(hierarchy.status).toBe(200);
    expect((hierarchy.json() as { room: unknown }).room).toMatchObject({
      room_id: restricted.room.room_id,
      join_rule: 'knock_restricted',
      allowed_room_ids: expect.any(Array),
      children_state: [],
    });
  });

  it('(5) leaves m.federate: false rooms out over federation, counts them, and lists them on the client API', async () => {
    const p = fed.server((s) => publishing(s) && s.local_only_rooms.length > 0);
    const local = p.local_only_rooms.map((r) => r.room_id);
    expect(p.local_only_rooms.every((r) => !r.federate && r.servers_in_room.join() === p.name)).toBe(true);
    const overFederation = await walk((since) =>
      fedPage(p.name, since ? `since=${encodeURIComponent(since)}` : ''),
    );
    expect(overFederation.filter((id) => local.includes(id))).toEqual([]);
    expect([...overFederation].sort()).toEqual(p.rooms.map((r) => r.room_id).sort());
    expect((await fedPage(p.name, 'limit=1')).total_room_count_estimate).toBe(p.rooms.length + local.length);

    const onClient = await walk(async (since) =>
      page(
        await fed.clientApi(p.name, 'GET', `${CLIENT}${since ? `?since=${encodeURIComponent(since)}` : ''}`, {
          token: p.access_token,
        }),
      ),
    );
    expect([...onClient].sort()).toEqual([...p.rooms.map((r) => r.room_id), ...local].sort());

    // Where Atlas can only read the client API, those rooms are in `rooms`: it must store them.
    const clientOnly = fed.server(
      (s) => s.reachable && !s.publishes && s.client_directory && s.rooms.some((r) => !r.federate),
    );
    expect(clientOnly.local_only_rooms).toEqual([]);
    const open = await walk(async (since) =>
      page(
        await fed.clientApi(
          clientOnly.name,
          'GET',
          `${CLIENT}${since ? `?since=${encodeURIComponent(since)}` : ''}`,
        ),
      ),
    );
    expect([...open].sort()).toEqual(clientOnly.rooms.map((r) => r.room_id).sort());
  });

  it('(6) answers query/directory without room_alias with a 500, and a malformed alias with a 400', async () => {
    const seed = fed.sim.manifest.seeds[0] ?? '';
    const query = (q: string) =>
      fed.signed({ destination: seed, method: 'GET', uri: `/_matrix/federation/v1/query/directory${q}` });
    const missing = await query('');
    expect([missing.status, missing.json()]).toEqual([500, INTERNAL_ERROR]);
    const empty = await query('?room_alias=');
    expect([empty.status, empty.json()]).toEqual([
      400,
      { errcode: 'M_INVALID_PARAM', error: "Expected RoomAlias string to start with '#'" },
    ]);
    const noColon = await query('?room_alias=%23nocolon');
    expect([noColon.status, noColon.json()]).toEqual([
      400,
      { errcode: 'M_INVALID_PARAM', error: "Expected RoomAlias of the form '#localname:domain'" },
    ]);
  });

  it('(7) answers the hierarchy of an unknown or foreign room with 404 M_UNKNOWN', async () => {
    const seed = fed.server((s) => s.name === fed.sim.manifest.seeds[0]);
    const hierarchy = (server: string, roomId: string) =>
      fed.signed({
        destination: server,
        method: 'GET',
        uri: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}`,
      });
    const unknown = await hierarchy(seed.name, '!nope:elsewhere.simfed.test');
    expect([unknown.status, unknown.json()]).toEqual([
      404,
      { errcode: 'M_UNKNOWN', error: 'Unknown room: !nope:elsewhere.simfed.test' },
    ]);
    const room = seed.rooms[0];
    const outsider = fed.server((s) => s.reachable && !!room && !room.servers_in_room.includes(s.name));
    const foreign = await hierarchy(outsider.name, room?.room_id ?? '');
    expect([foreign.status, foreign.json()]).toEqual([
      404,
      { errcode: 'M_UNKNOWN', error: `Unknown room: ${room?.room_id}` },
    ]);
  });

  it('(8) puts a trailing slash on the base_url of /.well-known/matrix/client', async () => {
    const server = fed.server((s) => on443(s) && s.client_well_known);
    const res = await rawRequest(fed.client, site(server), 'GET', '/.well-known/matrix/client');
    expect(res.json()).toEqual({
      'm.homeserver': { base_url: `https://${server.name.replace(/:\d+$/, '')}/` },
    });
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('(9) answers missing well-known files as Synapse does: server in text/plain, support in HTML, client in JSON', async () => {
    const plain = fed.server((s) => on443(s) && !s.delegated_to);
    const server = await rawRequest(fed.client, site(plain), 'GET', '/.well-known/matrix/server');
    expect([server.status, server.headers['content-type'], server.body.toString()]).toEqual([
      404,
      'text/plain',
      '404. Is anything ever truly *well* known?\n',
    ]);
    const noSupport = fed.server((s) => on443(s) && s.contacts.length === 0 && !s.support_page);
    const support = await rawRequest(fed.client, site(noSupport), 'GET', '/.well-known/matrix/support');
    expect([support.status, support.headers['content-type']]).toEqual([404, 'text/html; charset=utf-8']);
    expect(support.body.toString()).toContain('<h1>No Such Resource</h1>');
    expect(support.headers['access-control-allow-origin']).toBeUndefined();
    const noClient = fed.server((s) => on443(s) && !s.client_well_known);
    const client = await rawRequest(fed.client, site(noClient), 'GET', '/.well-known/matrix/client');
    expect([client.status, client.json()]).toEqual([
      404,
      { errcode: 'M_NOT_FOUND', error: '.well-known not available' },
    ]);
  });

  it('(10) fetches another directory through a token-authenticated publicRooms?server=, passing a 403 on', async () => {
    const home = fed.server((s) => s.reachable && s.behaviour === 'normal' && s.client_directory);
    const x = fed.server(
      (s) => publishing(s) && s.behaviour === 'normal' && s.rooms.length > 150 && s.name !== home.name,
    );
    const via = (query: string, token: string | undefined = home.access_token) =>
      fed.clientApi(
        home.name,
        'GET',
        `${CLIENT}?server=${encodeURIComponent(x.name)}${query}`,
        token ? { token } : {},
      );

    expect(page(await via('&limit=5'))).toEqual(await fedPage(x.name, 'include_all_networks=false&limit=5'));
    const all = await walk(async (since) =>
      page(await via(since ? `&since=${encodeURIComponent(since)}` : '')),
    );
    expect([...all].sort()).toEqual(x.rooms.map((r) => r.room_id).sort());

    const closed = fed.server((s) => s.reachable && s.behaviour === 'normal' && !s.publishes);
    const refused = await fed.clientApi(
      home.name,
      'GET',
      `${CLIENT}?server=${encodeURIComponent(closed.name)}`,
      {
        token: home.access_token,
      },
    );
    expect([refused.status, refused.json()]).toEqual([
      403,
      {
        errcode: 'M_FORBIDDEN',
        error: `You are not allowed to view the public rooms list of ${closed.name}`,
      },
    ]);
    // A token is needed to ask for another server, even where the local directory is open.
    const anonymous = await via('', '');
    expect([anonymous.status, anonymous.json()]).toEqual([
      401,
      { errcode: 'M_MISSING_TOKEN', error: 'Missing access token' },
    ]);
    const wrong = await via('', 'syt_wrong');
    expect([wrong.status, wrong.json()]).toEqual([
      401,
      { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.', soft_logout: false },
    ]);
    const failed = { errcode: 'M_UNKNOWN', error: 'Failed to fetch room list' };
    const remote500 = await via('&since=garbage');
    expect([remote500.status, remote500.json()]).toEqual([502, failed]);
    const offline = fed.server((s) => s.behaviour === 'offline_refused');
    const gone = await fed.clientApi(
      home.name,
      'GET',
      `${CLIENT}?server=${encodeURIComponent(offline.name)}`,
      {
        token: home.access_token,
      },
    );
    expect([gone.status, gone.json()]).toEqual([502, failed]);
    const invalid = await fed.clientApi(home.name, 'GET', `${CLIENT}?server=bad%20name`, {
      token: home.access_token,
    });
    expect([invalid.status, invalid.json()]).toEqual([
      400,
      { errcode: 'M_INVALID_PARAM', error: 'Invalid server name: bad name' },
    ]);

    // Search goes over federation as POST (MSC2197).
    const named = x.rooms.find((r) => r.name && /^[A-Za-z]+ [a-z]+$/.test(r.name));
    const term = named?.name?.split(' ')[1] ?? '';
    const search = page(
      await fed.clientApi(home.name, 'POST', `${CLIENT}?server=${encodeURIComponent(x.name)}`, {
        token: home.access_token,
        body: { limit: 100, filter: { generic_search_term: term } },
      }),
    );
    expect(search.chunk.map((r) => r.room_id)).toContain(named?.room_id);

    // Synapse keeps a remote page for 30 s: a rename shows directly at once, through the homeserver later.
    const first = x.rooms[0];
    if (!first) throw new Error('X lists rooms');
    await fed.sim.mutate({ renameRooms: [{ roomId: first.room_id, name: 'Renamed just now' }] });
    expect((await fedPage(x.name, 'include_all_networks=false&limit=5')).chunk[0]?.name).toBe(
      'Renamed just now',
    );
    expect(page(await via('&limit=5')).chunk[0]?.name).toBe(first.name ?? undefined);
    expect(page(await via('&limit=6')).chunk[0]?.name).toBe('Renamed just now');
  });

  it('(11) sends Server: Synapse/<version> from Synapse servers and CORS headers on JSON answers', async () => {
    const synapse = fed.server((s) => s.reachable && s.behaviour === 'normal' && s.software === 'Synapse');
    const other = fed.server((s) => s.reachable && s.behaviour === 'normal' && s.software !== 'Synapse');
    const version = async (server: string) =>
      fed.signed({ destination: server, method: 'GET', uri: '/_matrix/federation/v1/version' });
    const fromSynapse = await version(synapse.name);
    expect(fromSynapse.headers).toMatchObject({
      server: `Synapse/${synapse.version}`,
      'content-type': 'application/json',
      'cache-control': 'no-cache, no-store, must-revalidate',
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization, Date',
      'access-control-expose-headers': 'Synapse-Trace-Id, Server',
    });
    const fromOther = await version(other.name);
    expect(fromOther.headers.server).toBeUndefined();
    expect(fromOther.headers['access-control-allow-origin']).toBe('*');
    const refused = await fed.clientApi(synapse.name, 'POST', CLIENT, { body: {} });
    expect(refused.status).toBe(401);
    expect(refused.headers).toMatchObject({
      server: `Synapse/${synapse.version}`,
      'access-control-allow-origin': '*',
    });
  });
});
