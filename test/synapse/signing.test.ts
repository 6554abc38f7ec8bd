import { fetchFederationPage } from '@atlas/crawler';
import {
  createServerResolver,
  FederationClient,
  generateSigningKey,
  signingKeyFromSeed,
} from '@atlas/shared/matrix';
import { createHttpClient } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type AtlasIdentity,
  type FederationRequest,
  federationRequest,
  publicRoomsPage,
  SynapseClient,
  type SynapseInstance,
  startAtlasIdentity,
  useSynapseCluster,
  withSynapseLogs,
} from './harness/index.ts';

// Synapse verifies Atlas's X-Matrix signatures by fetching Atlas's key over HTTPS from Atlas's
// own server name, as on the internet. The refusals prove the acceptance is not an accident:
// Synapse checks the key, the destination and every byte of the request line.

const UNICODE_NAME = 'Café ☕ — 日本語 · עברית';

const synapse = useSynapseCluster('synapse_signing', { instances: ['A'] });
let atlas: AtlasIdentity;
let a: SynapseInstance;
let roomId: string;
let caCert: string;

beforeAll(async () => {
  const started = synapse.cluster;
  a = started.get('A');
  caCert = started.ca.cert;
  atlas = await startAtlasIdentity({ ca: started.ca, dir: started.dir, database: synapse.database });
  roomId = await withSynapseLogs(started, 'creating rooms on A', async () => {
    const alice = await SynapseClient.register(a, { username: 'alice', admin: true });
    const id = await alice.createRoom({ name: UNICODE_NAME, topic: 'signed requests', alias: 'signing' });
    await alice.createRoom({ name: 'Second room' });
    return id;
  });
});

afterAll(async () => {
  await atlas?.close();
});

function toA(uri: string, forge?: FederationRequest['forge']) {
  return federationRequest({
    baseUrl: a.federationUrl,
    destination: a.serverName,
    uri,
    origin: atlas.serverName,
    signingKey: atlas.signingKey,
    ca: caCert,
    ...(forge ? { forge } : {}),
  });
}

const URI = '/_matrix/federation/v1/publicRooms?limit=10';

/** Atlas's own federation client, signing as Atlas; close its `http` when done. */
function atlasFederationClient() {
  const http = createHttpClient({
    ca: caCert,
    allowNetworks: ['127.0.0.0/8'],
    userAgent: 'Atlas test',
    maxInFlight: 2,
  });
  const client = new FederationClient({
    http,
    resolver: createServerResolver({ http }),
    identity: { serverName: atlas.serverName, signingKey: atlas.signingKey },
  });
  return { http, client };
}

describe('signed federation requests to real Synapse', () => {
  test("a request signed with Atlas's key is accepted and lists A's rooms", async () => {
    const response = await toA(URI);
    expect(response.status, response.text).toBe(200);
    const page = publicRoomsPage.parse(response.json);
    expect(page.chunk.map((room) => room.room_id)).toContain(roomId);
    expect(page.chunk.find((room) => room.room_id === roomId)?.name).toBe(UNICODE_NAME);
    expect(page.chunk).toHaveLength(2);
  });

  test("Atlas's FederationClient pages A's directory through Synapse's since tokens", async () => {
    const { http, client } = atlasFederationClient();
    try {
      const seen: string[] = [];
      let since: string | undefined;
      for (let page = 0; page < 5; page += 1) {
        // limit=1 makes Synapse hand out a since token, whose characters must be encoded in the
        // request line exactly as they were signed.
        const response = await client.request(a.serverName, {
          method: 'GET',
          path: '/_matrix/federation/v1/publicRooms',
          query: { limit: 1, since },
        });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const body = publicRoomsPage.parse(response.body);
        seen.push(...body.chunk.map((room) => room.room_id));
        since = body.next_batch;
        if (!since) break;
      }
      expect(seen).toHaveLength(2);
      expect(seen).toContain(roomId);
    } finally {
      await http.close();
    }
  });

  test("Atlas's filtered directory search (a signed POST) finds a room by its alias and by its name", async () => {
    const { http, client } = atlasFederationClient();
    const search = (searchTerm: string) =>
      fetchFederationPage(client, a.serverName, {
        limit: 20,
        since: undefined,
        deadline: Date.now() + 30_000,
        searchTerm,
      });
    try {
      const byAlias = await search(`#signing:${a.serverName}`);
      expect(byAlias.rooms.map((room) => room.roomId)).toEqual([roomId]);
      const byName = await search(UNICODE_NAME);
      expect(byName.rooms.map((room) => room.name)).toEqual([UNICODE_NAME]);
      expect((await search('no room is called this')).rooms).toEqual([]);
    } finally {
      await http.close();
    }
  });

  test('a request signed with another key under the same key id is refused', async () => {
    const impostor = signingKeyFromSeed(atlas.signingKey.keyId, generateSigningKey().seed);
    const response = await toA(URI, { signingKey: impostor });
    expect(response.status, response.text).toBe(401);
    expect(response.json).toMatchObject({
      errcode: 'M_UNAUTHORIZED',
      error: expect.stringMatching(/^Invalid signature/),
    });
  });

  test('a request signed with a key id Atlas does not publish is refused', async () => {
    const response = await toA(URI, { signingKey: generateSigningKey() });
    expect(response.status, response.text).toBe(401);
    // Synapse fetched Atlas's key document again and found no such key in it.
    expect(response.json).toMatchObject({ error: expect.stringMatching(/^Failed to find any key/) });
  });

  test('a request addressed to another destination is refused', async () => {
    const elsewhere = '127.0.0.1:1';
    const named = await toA(URI, { destination: elsewhere });
    expect(named.status, named.text).toBe(401);
    expect(named.json).toMatchObject({
      errcode: 'M_UNAUTHORIZED',
      error: expect.stringMatching(/^Destination mismatch/),
    });
    // The header names A, but the signature covers another destination.
    const signed = await toA(URI, { destination: elsewhere, headerDestination: a.serverName });
    expect(signed.status, signed.text).toBe(401);
    expect(signed.json).toMatchObject({ error: expect.stringMatching(/^Invalid signature/) });
  });

  test('a request whose query string changed after signing is refused', async () => {
    const limit = await toA(URI, { uri: '/_matrix/federation/v1/publicRooms?limit=11' });
    expect(limit.status, limit.text).toBe(401);
    expect(limit.json).toMatchObject({ error: expect.stringMatching(/^Invalid signature/) });
    // Percent-encoding counts too: Synapse signs the raw request line.
    const encoded = await toA('/_matrix/federation/v1/publicRooms?limit=10&since=a%3Ab', {
      uri: '/_matrix/federation/v1/publicRooms?limit=10&since=a:b',
    });
    expect(encoded.status, encoded.text).toBe(401);
    expect(encoded.json).toMatchObject({ error: expect.stringMatching(/^Invalid signature/) });
  });

  test('an unsigned request is refused', async () => {
    const response = await federationRequest({
      baseUrl: a.federationUrl,
      destination: a.serverName,
      uri: URI,
      origin: atlas.serverName,
      signingKey: atlas.signingKey,
      ca: caCert,
      unsigned: true,
    });
    expect(response.status, response.text).toBe(401);
    expect(response.json).toMatchObject({
      errcode: 'M_UNAUTHORIZED',
      error: 'Missing Authorization headers',
    });
  });

  test('the signed request still succeeds after the refusals', async () => {
    const response = await toA(URI);
    expect(response.status, response.text).toBe(200);
  });
});
