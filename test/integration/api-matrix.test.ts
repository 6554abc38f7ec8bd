import {
  createKeyStore,
  createServerResolver,
  FederationClient,
  generateSigningKey,
  type JsonObject,
  type SigningKey,
  serverKeyDocument,
  xMatrixAuthorization,
} from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATLAS_NAME, createTestApi, type TestApi } from '../support/api-app.ts';
import { seedRooms } from '../support/seed-rooms.ts';
import { type NetTestBed, sendJson, startNetTestBed, type TestServer } from './net-test-servers.ts';

// A remote homeserver (real TLS, real DNS) signs requests to Atlas's federation directory; Atlas
// fetches its key over federation through the safe HTTP client to check them.
let api: TestApi;
let net: NetTestBed;
let origin: TestServer;
let originName: string;
let originKey: SigningKey;

interface Chunk {
  room_id: string;
  name?: string;
  canonical_alias?: string;
  room_type?: string;
  num_joined_members: number;
  join_rule: string;
}
interface Directory {
  chunk: Chunk[];
  next_batch?: string;
  total_room_count_estimate: number;
}

beforeAll(async () => {
  net = await startNetTestBed();
  originKey = generateSigningKey();
  origin = await net.server({
    names: ['origin.api.test'],
    handler: (req, res) => {
      if (req.url === '/_matrix/key/v2/server') sendJson(res, 200, serverKeyDocument(originName, originKey));
      else sendJson(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'no' });
    },
  });
  originName = `origin.api.test:${origin.port}`;
  net.dns.setRecords([{ type: 'A', name: 'origin.api.test', address: origin.host }]);
  const http = net.client({ maxInFlight: 4 });
  const federation = new FederationClient({ http, resolver: createServerResolver({ http }) });
  api = await createTestApi('api_matrix', {
    settings: {
      directoryMaxComplexity: 10,
      wellKnownServer: 'atlas.test:8448',
      publicUrl: 'https://atlas.test',
    },
    deps: { keyStore: createKeyStore({ federation }) },
  });
  await seedRooms(api.database, [
    {
      roomId: '!hq:example.org',
      name: 'Matrix HQ',
      canonicalAlias: '#matrix:example.org',
      members: 5000,
      complexity: 4,
    },
    {
      roomId: '!linux:example.org',
      name: 'Linux',
      canonicalAlias: '#linux:example.org',
      members: 300,
      complexity: 0.5,
    },
    {
      roomId: '!gaming:example.org',
      name: 'Linux Gaming',
      canonicalAlias: '#gaming:example.org',
      members: 200,
    },
    {
      roomId: '!space:example.org',
      name: 'Linux Space',
      canonicalAlias: '#space:example.org',
      members: 100,
      roomType: 'm.space',
    },
    { roomId: '!noalias:example.org', name: 'Linux without alias', members: 1000 },
    {
      roomId: '!heavy:example.org',
      name: 'Heavy Linux',
      canonicalAlias: '#heavy:example.org',
      members: 50,
      complexity: 25,
    },
    {
      roomId: '!other:other.example',
      name: 'Elsewhere',
      canonicalAlias: '#else:other.example',
      members: 10,
      servers: ['other.example'],
    },
  ]);
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
  await net?.close();
});

const ids = (directory: Directory) => directory.chunk.map((c) => c.room_id);

function signed(method: 'GET' | 'POST', uri: string, content?: JsonObject, key = originKey) {
  return xMatrixAuthorization(
    { method, uri, origin: originName, destination: ATLAS_NAME, ...(content ? { content } : {}) },
    key,
  );
}

describe('client publicRooms (unauthenticated)', () => {
  it('serves only rooms with an alias, under the complexity cap, by members', async () => {
    const response = await api.get('/_matrix/client/v3/publicRooms');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Directory;
    expect(ids(body)).toEqual([
      '!hq:example.org',
      '!linux:example.org',
      '!gaming:example.org',
      '!space:example.org',
      '!other:other.example',
    ]);
    expect(body.total_room_count_estimate).toBe(5);
    expect(body.chunk[0]).toMatchObject({
      name: 'Matrix HQ',
      canonical_alias: '#matrix:example.org',
      join_rule: 'public',
    });
    expect(body.chunk[0]).not.toHaveProperty('topic');
  });

  it('pages with since/next_batch until no next_batch', async () => {
    const seen: string[] = [];
    let since: string | undefined;
    for (let i = 0; i < 10; i++) {
      const body = (await (
        await api.get(`/_matrix/client/v3/publicRooms?limit=2${since ? `&since=${since}` : ''}`)
      ).json()) as Directory;
      seen.push(...ids(body));
      since = body.next_batch;
      if (!since) break;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('searches with POST filter.generic_search_term and room_types', async () => {
    const search = (await (
      await api.send('POST', '/_matrix/client/v3/publicRooms', {
        filter: { generic_search_term: 'linux' },
        limit: 10,
      })
    ).json()) as Directory;
    expect(ids(search)).toEqual(['!linux:example.org', '!gaming:example.org', '!space:example.org']);
    const spaces = (await (
      await api.send('POST', '/_matrix/client/v3/publicRooms', { filter: { room_types: ['m.space'] } })
    ).json()) as Directory;
    expect(ids(spaces)).toEqual(['!space:example.org']);
    const rooms = (await (
      await api.send('POST', '/_matrix/client/v3/publicRooms', {
        filter: { room_types: [null], generic_search_term: 'linux' },
      })
    ).json()) as Directory;
    expect(ids(rooms)).toEqual(['!linux:example.org', '!gaming:example.org']);
  });

  it("reads server=<another server> as that server's listings", async () => {
    const body = (await (
      await api.get('/_matrix/client/v3/publicRooms?server=other.example')
    ).json()) as Directory;
    expect(ids(body)).toEqual(['!other:other.example']);
    const own = (await (
      await api.get(`/_matrix/client/v3/publicRooms?server=${ATLAS_NAME}`)
    ).json()) as Directory;
    expect(ids(own)).toHaveLength(5);
  });

  it('answers a third-party network with nothing', async () => {
    const body = (await (
      await api.get('/_matrix/client/v3/publicRooms?third_party_instance_id=irc')
    ).json()) as Directory;
    expect(body.chunk).toEqual([]);
  });

  it('answers bad input Matrix-style', async () => {
    const cases: [Promise<Response>, number, string][] = [
      [api.get('/_matrix/client/v3/publicRooms?limit=ten'), 400, 'M_INVALID_PARAM'],
      [api.get('/_matrix/client/v3/publicRooms?since=garbage'), 400, 'M_INVALID_PARAM'],
      [api.get('/_matrix/client/v3/publicRooms?server=not%20a%20server'), 400, 'M_INVALID_PARAM'],
      [api.send('POST', '/_matrix/client/v3/publicRooms', '{not json'), 400, 'M_NOT_JSON'],
      [api.send('POST', '/_matrix/client/v3/publicRooms', { limit: 'x' }), 400, 'M_INVALID_PARAM'],
      [api.send('POST', '/_matrix/client/v3/publicRooms', 'x'.repeat(70_000)), 413, 'M_TOO_LARGE'],
      [api.get('/_matrix/client/v3/nothing'), 404, 'M_UNRECOGNIZED'],
    ];
    for (const [pending, status, errcode] of cases) {
      const response = await pending;
      expect(response.status).toBe(status);
      expect(((await response.json()) as { errcode: string }).errcode).toBe(errcode);
    }
  });

  it('opens CORS as the client-server API requires', async () => {
    const response = await api.send('OPTIONS', '/_matrix/client/v3/publicRooms', '', {
      origin: 'https://app.element.io',
      'access-control-request-method': 'POST',
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });
});

describe('federation publicRooms (X-Matrix signed)', () => {
  it('serves a request signed by the origin, whose key Atlas fetched over federation', async () => {
    const uri = '/_matrix/federation/v1/publicRooms?limit=2';
    const response = await api.get(uri, { authorization: signed('GET', uri) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Directory;
    expect(ids(body)).toEqual(['!hq:example.org', '!linux:example.org']);
    expect(body.next_batch).toBeTruthy();
    expect(origin.requests.filter((r) => r.url === '/_matrix/key/v2/server').length).toBe(1);
  });

  it('serves a signed POST search', async () => {
    const content = { limit: 5, filter: { generic_search_term: 'gaming' } };
    const uri = '/_matrix/federation/v1/publicRooms';
    const response = await api.send('POST', uri, content, { authorization: signed('POST', uri, content) });
    expect(response.status).toBe(200);
    expect(ids((await response.json()) as Directory)).toEqual(['!gaming:example.org']);
  });

  it('refuses a missing header, a bad signature, another destination or a tampered body', async () => {
    const uri = '/_matrix/federation/v1/publicRooms';
    const content = { limit: 5 };
    const forged = xMatrixAuthorization(
      { method: 'GET', uri, origin: originName, destination: ATLAS_NAME },
      { ...generateSigningKey(), keyId: originKey.keyId },
    );
    const elsewhere = xMatrixAuthorization(
      { method: 'GET', uri, origin: originName, destination: 'other.test' },
      originKey,
    );
    const cases = [
      api.get(uri),
      api.get(uri, { authorization: forged }),
      api.get(uri, { authorization: elsewhere }),
      api.get(`${uri}?limit=1`, { authorization: signed('GET', uri) }),
      api.send('POST', uri, { limit: 6 }, { authorization: signed('POST', uri, content) }),
    ];
    for (const pending of cases) {
      const response = await pending;
      expect(response.status).toBe(401);
      expect(((await response.json()) as { errcode: string }).errcode).toBe('M_UNAUTHORIZED');
    }
  });
});

describe('discovery', () => {
  it('serves /.well-known/matrix/server and /client, and /versions', async () => {
    expect(await (await api.get('/.well-known/matrix/server')).json()).toEqual({
      'm.server': 'atlas.test:8448',
    });
    const client = await api.get('/.well-known/matrix/client');
    expect(await client.json()).toEqual({ 'm.homeserver': { base_url: 'https://atlas.test' } });
    const versions = (await (await api.get('/_matrix/client/versions')).json()) as { versions: string[] };
    expect(versions.versions).toContain('v1.11');
  });

  it('answers 404 M_NOT_FOUND when discovery is not configured', async () => {
    const bare = await createTestApi('api_matrix_bare', { deps: { identity: undefined } });
    try {
      for (const path of ['/.well-known/matrix/server', '/.well-known/matrix/client']) {
        const response = await bare.get(path);
        expect(response.status).toBe(404);
        expect(((await response.json()) as { errcode: string }).errcode).toBe('M_NOT_FOUND');
      }
      const federation = await bare.get('/_matrix/federation/v1/publicRooms');
      expect(federation.status).toBe(404);
      expect((await bare.get('/_matrix/key/v2/server')).status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
