import { generateSigningKey, type SigningKey, signingKeyFromSeed } from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestServer } from '../simfed/model.ts';
import { referenceCrawl } from '../simfed/reference-crawl.ts';
import type { SimFed } from '../simfed/simfed.ts';
import {
  federationRequest,
  locateServer,
  rawRequest,
  type SpecClientOptions,
} from '../simfed/spec-client.ts';
import { type SignedSimFed, startSignedSimFed } from './simfed-signed.ts';

// The simulated servers speak the federation API to a signed caller whose key they fetch over TLS,
// exactly as Synapse would: Atlas's own HTTP app serves that key here.
describe('simulated federation: signed federation API', () => {
  let fed: SignedSimFed;
  let sim: SimFed;
  let atlasKey: SigningKey;
  let client: SpecClientOptions;

  const server = (predicate: (s: ManifestServer) => boolean): ManifestServer => fed.server(predicate);
  const signed: SignedSimFed['signed'] = (call) => fed.signed(call);

  beforeAll(async () => {
    fed = await startSignedSimFed({
      servers: 30,
      seed: 'federation-test',
      databaseName: 'simfed_federation',
      rooms: 1_500,
      slowDelayMs: 200,
      stallMs: 60_000,
    });
    ({ sim, atlasKey, client } = fed);
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('accepts a request signed by the key Atlas serves over TLS, and counts it', async () => {
    const seed = server((s) => s.name === sim.manifest.seeds[0]);
    const before = sim.stats(seed.name).verified;
    const res = await signed({
      destination: seed.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms?limit=5',
    });
    expect(res.status).toBe(200);
    expect(sim.stats(seed.name).verified).toBe(before + 1);
    expect(sim.totals().keyFetches).toBeGreaterThanOrEqual(1);
  });

  it('rejects a wrong key, a wrong destination, a changed query string and a missing header with 401', async () => {
    const seed = server((s) => s.name === sim.manifest.seeds[0]);
    const uri = '/_matrix/federation/v1/publicRooms?limit=5';
    const before = sim.stats(seed.name).rejected;
    // Same key id as the one Atlas publishes, different key.
    const impostor = signingKeyFromSeed(atlasKey.keyId, Buffer.alloc(32, 7));
    const cases = [
      federationRequest(client, {
        destination: seed.name,
        method: 'GET',
        uri,
        signAs: { serverName: sim.atlas.serverName, key: impostor },
      }),
      federationRequest(client, {
        destination: seed.name,
        method: 'GET',
        uri,
        signAs: { serverName: sim.atlas.serverName, key: generateSigningKey() },
      }),
      signed({
        destination: seed.name,
        method: 'GET',
        uri,
        signedDestination: sim.manifest.seeds[1] ?? 'other.example',
      }),
      signed({ destination: seed.name, method: 'GET', uri: `${uri}&since=x`, signedUri: uri }),
      federationRequest(client, { destination: seed.name, method: 'GET', uri }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ errcode: 'M_UNAUTHORIZED', error: expect.any(String) });
    }
    expect(sim.stats(seed.name).rejected).toBe(before + cases.length);
  });

  it('answers a malformed Authorization header with 400, as Synapse does', async () => {
    const seed = sim.manifest.seeds[0] ?? '';
    const res = await rawRequest(
      client,
      await locateServer(client, seed),
      'GET',
      '/_matrix/federation/v1/publicRooms',
      {
        authorization: 'X-Matrix origin="atlas.simfed.test",key="ed25519:1"',
      },
    );
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ errcode: 'M_UNAUTHORIZED' });
  });

  it('pages every directory to the end: no duplicates, at most 100 a page, no next_batch at the end', async () => {
    const crawl = await referenceCrawl({
      client,
      seeds: sim.manifest.seeds,
      identity: { serverName: sim.atlas.serverName, key: atlasKey },
      limit: 500,
    });
    expect(crawl.largestPage).toBe(100);
    for (const s of sim.manifest.servers.filter((x) => x.reachable && x.publishes)) {
      const walked = crawl.rooms.get(s.name);
      expect(walked, s.name).toBeDefined();
      expect(new Set(walked).size, `${s.name} repeats rooms`).toBe(walked?.length);
      expect([...(walked ?? [])].sort(), s.name).toEqual(s.rooms.map((r) => r.room_id).sort());
      expect(crawl.malformed.get(s.name), s.name).toBe(s.malformed_entries);
    }
    expect(sim.manifest.servers.some((s) => s.malformed_entries > 0 && s.reachable && s.publishes)).toBe(
      true,
    );
  });

  it('finds every server of the manifest from the seeds, by the paths the manifest names', async () => {
    const crawl = await referenceCrawl({
      client,
      seeds: sim.manifest.seeds,
      identity: { serverName: sim.atlas.serverName, key: atlasKey },
    });
    expect([...crawl.found.keys()].sort()).toEqual(sim.manifest.servers.map((s) => s.name).sort());
    const kinds = new Set(sim.manifest.servers.map((s) => s.found_via.kind));
    expect(kinds).toEqual(new Set(['seed', 'alias', 'room_id', 'query_directory', 'hierarchy']));
    for (const s of sim.manifest.servers) {
      if (s.found_via.kind === 'query_directory' || s.found_via.kind === 'hierarchy') {
        // Hidden from every directory: only the named path can reveal it.
        expect(crawl.found.get(s.name), s.name).toBe(s.found_via.kind);
      }
    }
    expect([...crawl.reachable].sort()).toEqual(
      sim.manifest.servers
        .filter((s) => s.reachable)
        .map((s) => s.name)
        .sort(),
    );
  });

  it('limits pages to what was asked and cuts them at 100', async () => {
    const big = server((s) => s.reachable && s.publishes && s.rooms.length > 250);
    const small = await signed({
      destination: big.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms?limit=37',
    });
    const body = small.json() as { chunk: unknown[]; next_batch?: string; total_room_count_estimate: number };
    expect(body.chunk).toHaveLength(37);
    expect(body.next_batch).toEqual(expect.any(String));
    // Synapse counts the rooms it leaves out over federation (m.federate: false) too.
    expect(body.total_room_count_estimate).toBe(big.rooms.length + big.local_only_rooms.length);
    const capped = await signed({
      destination: big.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms?limit=1000',
    });
    expect((capped.json() as { chunk: unknown[] }).chunk).toHaveLength(100);
    const bad = await signed({
      destination: big.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms?since=bogus',
    });
    expect(bad.status).toBe(500);
  });

  it('says 403 M_FORBIDDEN where federation publishing is off, and serves the client API where allowed', async () => {
    const closed = server((s) => s.reachable && !s.publishes && !s.client_directory);
    const res = await signed({
      destination: closed.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms',
    });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ errcode: 'M_FORBIDDEN' });
    const clientNo = await federationRequest(client, {
      destination: closed.name,
      method: 'GET',
      uri: '/_matrix/client/v3/publicRooms',
    });
    expect(clientNo.status).toBe(401);
    expect(clientNo.json()).toMatchObject({ errcode: 'M_MISSING_TOKEN' });

    const clientOnly = server((s) => s.reachable && !s.publishes && s.client_directory && s.rooms.length > 0);
    const fed = await signed({
      destination: clientOnly.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms',
    });
    expect(fed.status).toBe(403);
    const open = await federationRequest(client, {
      destination: clientOnly.name,
      method: 'GET',
      uri: '/_matrix/client/v3/publicRooms?limit=100',
    });
    expect(open.status).toBe(200);
    const ids = (open.json() as { chunk: { room_id: string }[] }).chunk.map((r) => r.room_id);
    expect(ids.sort()).toEqual(
      clientOnly.rooms
        .map((r) => r.room_id)
        .slice(0, 100)
        .sort(),
    );
  });

  it('filters POST publicRooms by generic_search_term', async () => {
    const seed = server((s) => s.name === sim.manifest.seeds[0]);
    const named = seed.rooms.find((r) => r.name && /^[A-Za-z]+ [a-z]+$/.test(r.name));
    if (!named?.name) throw new Error('no plainly named room');
    const term = named.name.split(' ')[1] ?? '';
    const res = await signed({
      destination: seed.name,
      method: 'POST',
      uri: '/_matrix/federation/v1/publicRooms',
      content: { limit: 100, filter: { generic_search_term: term.toUpperCase() } },
    });
    expect(res.status).toBe(200);
    const chunk = (res.json() as { chunk: { room_id: string }[] }).chunk;
    const expected = seed.rooms.filter((r) =>
      `${r.name ?? ''}\n${r.topic ?? ''}\n${r.canonical_alias ?? ''}`
        .toLowerCase()
        .includes(term.toLowerCase()),
    );
    expect(chunk.map((r) => r.room_id).sort()).toEqual(
      expected
        .map((r) => r.room_id)
        .slice(0, 100)
        .sort(),
    );
    expect(chunk.length).toBeGreaterThan(0);
  });

  it('answers complexity on resident servers only, with state events / 500', async () => {
    const seed = server((s) => s.name === sim.manifest.seeds[0]);
    const room = seed.rooms.find((r) => r.join_rule === 'public' && r.complexity > 0);
    if (!room) throw new Error('no public room');
    const uri = `/_matrix/federation/unstable/rooms/${encodeURIComponent(room.room_id)}/complexity`;
    const res = await signed({ destination: seed.name, method: 'GET', uri });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ v1: room.complexity });
    const outsider = server((s) => s.reachable && !room.servers_in_room.includes(s.name));
    const absent = await signed({ destination: outsider.name, method: 'GET', uri });
    expect(absent.status).toBe(404);
  });

  it('answers query/directory with the servers in the room, for its own aliases only', async () => {
    const hidden = server((s) => s.found_via.kind === 'query_directory');
    if (hidden.found_via.kind !== 'query_directory') throw new Error('unreachable');
    const { alias, from, room_id } = hidden.found_via;
    const res = await signed({
      destination: from,
      method: 'GET',
      uri: `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(alias)}`,
    });
    expect(res.status).toBe(200);
    const body = res.json() as { room_id: string; servers: string[] };
    expect(body.room_id).toBe(room_id);
    expect(body.servers).toContain(hidden.name);
    const listed = server((s) => s.name === from).rooms.find((r) => r.room_id === room_id);
    expect([...body.servers].sort()).toEqual([...(listed?.servers_in_room ?? [])].sort());

    const foreign = await signed({
      destination: from,
      method: 'GET',
      uri: `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent('#x:elsewhere.simfed.test')}`,
    });
    expect(foreign.status).toBe(400);
    const unknown = await signed({
      destination: from,
      method: 'GET',
      uri: `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(`#nope:${from}`)}`,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ errcode: 'M_NOT_FOUND' });
  });

  it('answers the space hierarchy with each child and its via servers', async () => {
    const hidden = server((s) => s.found_via.kind === 'hierarchy');
    if (hidden.found_via.kind !== 'hierarchy') throw new Error('unreachable');
    const { from, space_id, room_id } = hidden.found_via;
    const res = await signed({
      destination: from,
      method: 'GET',
      uri: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(space_id)}`,
    });
    expect(res.status).toBe(200);
    const body = res.json() as {
      room: {
        room_id: string;
        room_type: string;
        children_state: { state_key: string; content: { via: string[] } }[];
      };
      children: unknown[];
      inaccessible_children: unknown[];
    };
    expect(body.room).toMatchObject({ room_id: space_id, room_type: 'm.space' });
    expect(body.room.children_state).toContainEqual(
      expect.objectContaining({ type: 'm.space.child', state_key: room_id, content: { via: [hidden.name] } }),
    );
    expect(Array.isArray(body.children)).toBe(true);
    expect(Array.isArray(body.inaccessible_children)).toBe(true);
  });

  it('serves precise changes: renamed and resized rooms, new rooms, publishing turned off', async () => {
    const host = server(
      (s) => s.reachable && s.publishes && s.rooms.length >= 3 && !sim.manifest.seeds.includes(s.name),
    );
    const [first, second] = host.rooms;
    if (!first || !second) throw new Error('too few rooms');
    const summary = await sim.mutate({
      renameRooms: [{ roomId: first.room_id, name: 'A brand new name' }],
      changeMembers: [{ roomId: second.room_id, members: 4_321, stateEvents: 12_345 }],
      addRooms: [{ server: host.name, count: 2 }],
    });
    expect(summary.addedRooms).toHaveLength(2);
    const page = await signed({
      destination: host.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms',
    });
    const chunk = (page.json() as { chunk: { room_id: string; name?: string; num_joined_members: number }[] })
      .chunk;
    expect(chunk.find((r) => r.room_id === first.room_id)?.name).toBe('A brand new name');
    expect(chunk.find((r) => r.room_id === second.room_id)?.num_joined_members).toBe(4_321);
    for (const { roomId } of summary.addedRooms) expect(chunk.map((r) => r.room_id)).toContain(roomId);
    const complexity = await signed({
      destination: host.name,
      method: 'GET',
      uri: `/_matrix/federation/unstable/rooms/${encodeURIComponent(second.room_id)}/complexity`,
    });
    expect(complexity.json()).toEqual({ v1: 24.69 });

    await sim.mutate({ setPublishes: [{ server: host.name, publishes: false }] });
    const closed = await signed({
      destination: host.name,
      method: 'GET',
      uri: '/_matrix/federation/v1/publicRooms',
    });
    expect(closed.status).toBe(403);
    expect(sim.manifest.servers.find((s) => s.name === host.name)?.publishes).toBe(false);
    await sim.mutate({ setPublishes: [{ server: host.name, publishes: true }] });
  });

  it('applies changes between crawls: removed, renamed, resized, added rooms and new servers', async () => {
    const summary = await sim.applyChanges('test-round');
    expect(summary.removedRooms.length).toBeGreaterThan(0);
    expect(summary.addedServers.length).toBeGreaterThan(0);
    const crawl = await referenceCrawl({
      client,
      seeds: sim.manifest.seeds,
      identity: { serverName: sim.atlas.serverName, key: atlasKey },
    });
    expect([...crawl.found.keys()].sort()).toEqual(sim.manifest.servers.map((s) => s.name).sort());
    const served = new Set([...crawl.rooms.values()].flat());
    for (const id of summary.removedRooms) expect(served.has(id), id).toBe(false);
    for (const { roomId } of summary.addedRooms) expect(served.has(roomId), roomId).toBe(true);
    for (const s of sim.manifest.servers.filter((x) => x.reachable && x.publishes)) {
      expect([...(crawl.rooms.get(s.name) ?? [])].sort(), s.name).toEqual(
        s.rooms.map((r) => r.room_id).sort(),
      );
    }
    const renamed = summary.renamedRooms[0];
    const host = sim.manifest.servers.find((s) => s.rooms.some((r) => r.room_id === renamed));
    expect(host?.rooms.find((r) => r.room_id === renamed)?.name).toMatch(/^Renamed /);
  });
});
