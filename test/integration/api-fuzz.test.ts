import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { seedRooms } from '../support/seed-rooms.ts';

// Whatever a caller sends to a public endpoint, the answer is never a 500.
let api: TestApi;

beforeAll(async () => {
  api = await createTestApi('api_fuzz', { settings: { reportsPerHour: 0 } });
  await seedRooms(api.database, [
    { roomId: '!a:example.org', name: 'Alpha Room', canonicalAlias: '#alpha:example.org', members: 5 },
    { roomId: '!b:example.org', name: 'Beta Space', roomType: 'm.space', members: 9, complexity: 2 },
  ]);
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
});

const PARAMS = [
  'q',
  'server',
  'language',
  'type',
  'join_rule',
  'min_members',
  'max_members',
  'max_complexity',
  'joinable',
  'world_readable',
  'include_stale',
  'sort',
  'limit',
  'cursor',
  'status',
  'software',
  'registration',
  'publishes',
  'min_rooms',
  'max_rooms',
  'min_uptime',
  'include',
  'exclude',
  'registration_open',
  'self',
  'since',
  'third_party_instance_id',
  'include_all_networks',
];

const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('true', 'false', '', '0', '-1', '1e309', 'NaN', '%', '\u0000', 'members', 'room', 'space'),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string()), value), { maxLength: 6 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify({ filter: v, limit: v, since: v })),
  fc
    .record(
      {
        limit: fc.oneof(fc.integer(), fc.double(), fc.string()),
        since: fc.string(),
        filter: fc.record(
          {
            generic_search_term: fc.string(),
            room_types: fc.array(fc.oneof(fc.string(), fc.constant(null))),
          },
          { requiredKeys: [] },
        ),
        room_id: fc.string(),
        server_name: fc.string(),
        reason: fc.string(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
);
const segment = fc
  .oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('!a:example.org', 'example.org'))
  .map(encodeURIComponent);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.string().map((s) => `X-Matrix ${s}`),
  fc
    .tuple(fc.string(), fc.string(), fc.string())
    .map(([o, k, s]) => `X-Matrix origin="${o}",key="ed25519:${k}",sig="${s}"`),
  fc.string().filter((s) => /^[\x20-\x7e]*$/.test(s)),
);

function headers(auth: string | undefined): Record<string, string> {
  return auth && /^[\x20-\x7e]*$/.test(auth) ? { authorization: auth } : {};
}

const GET_ENDPOINTS = [
  '/api/v1/rooms',
  '/api/v1/servers',
  '/api/v1/stats',
  '/api/v1/element/config.json',
  '/_matrix/client/v3/publicRooms',
  '/_matrix/federation/v1/publicRooms',
  '/_matrix/key/v2/server',
  '/_matrix/federation/v1/version',
  '/.well-known/matrix/server',
  '/.well-known/matrix/client',
  '/api/v1/openapi.json',
  '/healthz',
];
const POST_ENDPOINTS = [
  '/api/v1/reports',
  '/_matrix/client/v3/publicRooms',
  '/_matrix/federation/v1/publicRooms',
];

describe('public endpoints never answer 500', () => {
  it.each(GET_ENDPOINTS)('GET %s with any query string', async (path) => {
    await fc.assert(
      fc.asyncProperty(query, authorization, async (q, auth) => {
        const response = await api.get(`${path}?${q}`, headers(auth));
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it.each(['/api/v1/rooms/', '/api/v1/servers/'])('GET %s{any segment}', async (prefix) => {
    await fc.assert(
      fc.asyncProperty(segment, query, async (s, q) => {
        const response = await api.get(`${prefix}${s}?${q}`);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('GET /media/avatar/{any segment}/{any segment}', async () => {
    await fc.assert(
      fc.asyncProperty(segment, segment, query, async (serverName, mediaId, q) => {
        const response = await api.get(`/media/avatar/${serverName}/${mediaId}?${q}`);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it.each(POST_ENDPOINTS)('POST %s with any body', async (path) => {
    await fc.assert(
      fc.asyncProperty(body, query, authorization, async (b, q, auth) => {
        const response = await api.send('POST', `${path}?${q}`, b, headers(auth));
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 80 },
    );
  });
});
