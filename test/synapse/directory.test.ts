import { createApp, DEFAULT_SETTINGS, type RunningServer, startServer } from '@atlas/api';
import { silentLogger } from '@atlas/shared/log';
import {
  createKeyStore,
  createServerResolver,
  FederationClient,
  generateSigningKey,
} from '@atlas/shared/matrix';
import { createHttpClient, type HttpClient } from '@atlas/shared/net';
import { createPostgresSearchIndex, indexChangedRooms, type SearchIndex } from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../support/ports.ts';
import { seedRooms } from '../support/seed-rooms.ts';
import {
  federationRequest,
  publicRoomsPage,
  SynapseClient,
  type SynapseInstance,
  useSynapseCluster,
  writeAtlasTls,
} from './harness/index.ts';

// Element's "add a server" flow, for real: a user on Synapse A asks A for the directory of
// Atlas's server name; A asks Atlas over federation (signed), Atlas fetches A's key from A and
// answers from its index.

const HOST = '127.0.0.1';
const synapse = useSynapseCluster('synapse_directory', { instances: ['A'] });
let a: SynapseInstance;
let alice: SynapseClient;
let search: SearchIndex;
let http: HttpClient;
let server: RunningServer;
let atlasName: string;
let atlasFederationUrl: string;

beforeAll(async () => {
  const { cluster, database } = synapse;
  a = cluster.get('A');
  await seedRooms(database, [
    ...Array.from({ length: 12 }, (_, i) => ({
      roomId: `!room${i}:remote.example`,
      name: `Atlas listed room ${i}`,
      topic: i === 3 ? 'Knitting patterns and yarn' : 'somewhere on the federation',
      canonicalAlias: `#room${i}:remote.example`,
      members: 100 - i,
      servers: ['remote.example'],
    })),
    {
      roomId: '!noalias:remote.example',
      name: 'Atlas listed room without alias',
      members: 500,
      servers: ['remote.example'],
    },
  ]);
  search = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 });
  await indexChangedRooms(database.sql, search);

  // Atlas checks A's signatures with A's key, fetched over TLS through the safe client.
  http = createHttpClient({
    ca: cluster.ca.cert,
    allowNetworks: ['127.0.0.0/8'],
    userAgent: 'Atlas-test/1',
    maxInFlight: 4,
  });
  const federation = new FederationClient({ http, resolver: createServerResolver({ http }) });
  const tls = await writeAtlasTls(cluster.ca, cluster.dir, 'atlas-directory');
  const federationPort = await freePort(HOST);
  atlasName = `${HOST}:${federationPort}`;
  atlasFederationUrl = `https://${atlasName}`;
  const app = createApp({
    database,
    log: silentLogger,
    identity: { serverName: atlasName, signingKey: generateSigningKey() },
    search,
    keyStore: createKeyStore({ federation }),
    settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
  });
  server = await startServer(app, {
    http: { host: HOST, port: 0 },
    federation: { host: HOST, port: federationPort, ...tls },
  });
  alice = await SynapseClient.register(a, { username: 'alice', admin: false });
});

afterAll(async () => {
  await server?.close();
  await search?.close();
  await http?.close();
});

describe("Atlas as a server in Element's room directory", () => {
  test("a user on Synapse asks for Atlas's directory and gets Atlas's rooms, page by page", async () => {
    const first = await alice.publicRoomsPage({ server: atlasName, limit: 5 });
    expect(first.chunk.map((room) => room.room_id)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `!room${i}:remote.example`),
    );
    expect(first.chunk[0]?.canonical_alias).toBe('#room0:remote.example');
    expect(first.next_batch).toBeTruthy();
    const all = await alice.allPublicRooms(atlasName);
    expect(all.map((room) => room.room_id)).toHaveLength(12);
    // Only rooms with an alias: Element joins by alias via Atlas's name.
    expect(all.map((room) => room.room_id)).not.toContain('!noalias:remote.example');
  });

  test('search from Element (POST with filter.generic_search_term) reaches Atlas', async () => {
    const answer = publicRoomsPage.parse(
      await alice.request('POST', `/_matrix/client/v3/publicRooms?server=${encodeURIComponent(atlasName)}`, {
        limit: 10,
        filter: { generic_search_term: 'knitting' },
      }),
    );
    expect(answer.chunk.map((room) => room.room_id)).toEqual(['!room3:remote.example']);
  });

  test('a request claiming to be from A with a bad signature is refused', async () => {
    const uri = '/_matrix/federation/v1/publicRooms?limit=3';
    const base = {
      baseUrl: atlasFederationUrl,
      destination: atlasName,
      uri,
      origin: a.serverName,
      signingKey: generateSigningKey(),
      ca: synapse.cluster.ca.cert,
    };
    const forged = await federationRequest(base);
    expect(forged.status).toBe(401);
    expect(forged.text).toContain('M_UNAUTHORIZED');
    const unsigned = await federationRequest({ ...base, unsigned: true });
    expect(unsigned.status).toBe(401);
  });
});
