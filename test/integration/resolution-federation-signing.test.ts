import type { KeyObject } from 'node:crypto';
import {
  createKeyStore,
  createServerResolver,
  FederationClient,
  generateSigningKey,
  type JsonValue,
  parseXMatrixAuthorization,
  type SigningKey,
  serverKeyDocument,
  signingKeyFromSeed,
  verifyXMatrixRequest,
  xMatrixAuthorization,
} from '@atlas/shared/matrix';
import type { HttpClient } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NetTestBed,
  type SeenRequest,
  sendJson,
  startNetTestBed,
  type TestServer,
} from './net-test-servers.ts';

/**
 * X-Matrix request signing end to end: a remote server checks Atlas's signatures with the
 * verification functions over the raw request line it received (as Synapse does), and Atlas
 * checks a remote server's signatures with keys fetched from that server over federation.
 */
const ATLAS = 'atlas.sign.test';
let net: NetTestBed;
let http: HttpClient;
let atlasKey: SigningKey;
let remoteKey: SigningKey;
let remote: TestServer;
let forger: TestServer;
let remoteName: string;
let forgerName: string;
let federation: FederationClient;
/** The keys the remote server trusts for each origin (it would fetch them in real life). */
const knownKeys = new Map<string, Map<string, KeyObject>>();
let keyFetches = 0;

function checkSignature(req: SeenRequest): { ok: true; origin: string } | { ok: false; reason: string } {
  const credentials = parseXMatrixAuthorization(req.headers.authorization);
  if (!credentials) return { ok: false, reason: 'no X-Matrix header' };
  const key = knownKeys.get(credentials.origin)?.get(credentials.keyId);
  if (!key) return { ok: false, reason: 'unknown key' };
  const content = req.body.length > 0 ? (JSON.parse(req.body.toString('utf8')) as JsonValue) : undefined;
  // Its server name is the Host header it was reached under (spec: Host is the name before delegation).
  const ok = verifyXMatrixRequest(
    credentials,
    {
      method: req.method,
      uri: req.url,
      destination: req.host ?? '',
      ...(content !== undefined ? { content } : {}),
    },
    key,
  );
  return ok ? { ok: true, origin: credentials.origin } : { ok: false, reason: 'bad signature' };
}

beforeAll(async () => {
  net = await startNetTestBed();
  atlasKey = generateSigningKey();
  remoteKey = generateSigningKey();
  knownKeys.set(ATLAS, new Map([[atlasKey.keyId, atlasKey.publicKey]]));
  http = net.client({ maxInFlight: 4 });
  remote = await net.server({
    names: ['remote.sign.test', 'delegated.sign.test'],
    handler: (req, res) => {
      if (req.url === '/_matrix/key/v2/server') {
        keyFetches++;
        sendJson(res, 200, serverKeyDocument(remoteName, remoteKey));
        return;
      }
      const verdict = checkSignature(req);
      if (!verdict.ok) sendJson(res, 401, { errcode: 'M_UNAUTHORIZED', error: verdict.reason });
      else sendJson(res, 200, { origin: verdict.origin, uri: req.url });
    },
  });
  remoteName = `remote.sign.test:${remote.port}`;
  forger = await net.server({
    names: ['forger.sign.test'],
    // A key document for another server: it must not be taken as forger's.
    handler: (_req, res) => sendJson(res, 200, serverKeyDocument(remoteName, remoteKey)),
  });
  forgerName = `forger.sign.test:${forger.port}`;
  net.dns.setRecords([
    { type: 'A', name: 'remote.sign.test', address: remote.host },
    { type: 'A', name: 'forger.sign.test', address: forger.host },
    {
      type: 'SRV',
      name: '_matrix-fed._tcp.delegated.sign.test',
      target: 'remote.sign.test',
      port: remote.port,
    },
  ]);
  federation = new FederationClient({
    http,
    resolver: createServerResolver({ http }),
    identity: { serverName: ATLAS, signingKey: atlasKey },
  });
});

afterAll(async () => {
  await net?.close();
});

describe('signed requests from Atlas', () => {
  it('are accepted over exactly the path and query sent', async () => {
    const response = await federation.request(remoteName, {
      method: 'GET',
      path: '/_matrix/federation/v1/publicRooms',
      query: { limit: 10, since: 'tok en/+=&?ü', include_all_networks: undefined },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      origin: ATLAS,
      uri: '/_matrix/federation/v1/publicRooms?limit=10&since=tok%20en%2F%2B%3D%26%3F%C3%BC',
    });
    expect(response.resolved.step).toBe('explicit_port');
  });

  it('sign the JSON body of a POST', async () => {
    const response = await federation.request(remoteName, {
      method: 'POST',
      path: '/_matrix/federation/v1/publicRooms',
      body: { limit: 5, filter: { generic_search_term: 'ünïcödé 🚀' }, include_all_networks: false },
    });
    expect(response.status).toBe(200);
  });

  it('sign encoded room ids in the path', async () => {
    const response = await federation.request(remoteName, {
      method: 'GET',
      path: `/_matrix/federation/v1/hierarchy/${encodeURIComponent('!room:example.org')}`,
      query: { suggested_only: 'false' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      uri: '/_matrix/federation/v1/hierarchy/!room%3Aexample.org?suggested_only=false',
    });
  });

  it('name the server before delegation as the destination', async () => {
    const response = await federation.request('delegated.sign.test', {
      method: 'GET',
      path: '/_matrix/federation/v1/version',
    });
    expect(response.resolved.step).toBe('srv_matrix_fed');
    expect(response.status).toBe(200);
  });

  it('are refused when signed with another key, and the refusal is returned, not thrown', async () => {
    const impostor = new FederationClient({
      http,
      resolver: createServerResolver({ http }),
      identity: { serverName: ATLAS, signingKey: signingKeyFromSeed(atlasKey.keyId, Buffer.alloc(32, 7)) },
    });
    const response = await impostor.request(remoteName, {
      method: 'GET',
      path: '/_matrix/federation/v1/version',
    });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: 'bad signature' });
    const unsigned = await federation.request(remoteName, {
      method: 'GET',
      path: '/_matrix/federation/v1/version',
      signed: false,
    });
    expect(unsigned.status).toBe(401);
  });
});

describe('the remote key store', () => {
  function signedByRemote(uri: string, content?: JsonValue, destination = ATLAS) {
    return xMatrixAuthorization(
      { method: 'POST', uri, origin: remoteName, destination, ...(content !== undefined ? { content } : {}) },
      remoteKey,
    );
  }

  it('fetches and verifies a server key document', async () => {
    const keys = await federation.getServerKeys(remoteName);
    expect(keys?.serverName).toBe(remoteName);
    expect(keys?.keys.has(remoteKey.keyId)).toBe(true);
    expect(await federation.getServerKeys(forgerName)).toBeNull();
  });

  it('accepts a request signed by the origin, fetching its key once', async () => {
    const store = createKeyStore({ federation });
    const before = keyFetches;
    const uri = '/_matrix/federation/v1/publicRooms';
    const content = { limit: 5 };
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.verifyRequest({
          authorization: signedByRemote(uri, content),
          method: 'POST',
          uri,
          destination: ATLAS,
          content,
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ ok: true, origin: remoteName })));
    expect(keyFetches - before).toBe(1);
    expect(await store.getVerifyKey(remoteName, remoteKey.keyId)).not.toBeNull();
    expect(keyFetches - before).toBe(1);
  });

  it('refuses tampered, misaddressed and unknown-key requests with a reason', async () => {
    const store = createKeyStore({ federation });
    const uri = '/_matrix/federation/v1/publicRooms';
    const tampered = await store.verifyRequest({
      authorization: signedByRemote(uri, { limit: 5 }),
      method: 'POST',
      uri,
      destination: ATLAS,
      content: { limit: 500 },
    });
    expect(tampered).toEqual({ ok: false, reason: expect.stringContaining('does not match') });
    const misaddressed = await store.verifyRequest({
      authorization: signedByRemote(uri, undefined, 'elsewhere.example'),
      method: 'POST',
      uri,
      destination: ATLAS,
    });
    expect(misaddressed).toEqual({ ok: false, reason: expect.stringContaining('elsewhere.example') });
    const otherKey = xMatrixAuthorization(
      { method: 'GET', uri, origin: remoteName, destination: ATLAS },
      signingKeyFromSeed('ed25519:other', Buffer.alloc(32, 3)),
    );
    const unknown = await store.verifyRequest({
      authorization: otherKey,
      method: 'GET',
      uri,
      destination: ATLAS,
    });
    expect(unknown).toEqual({ ok: false, reason: expect.stringContaining('no key ed25519:other') });
    const missing = await store.verifyRequest({
      authorization: undefined,
      method: 'GET',
      uri,
      destination: ATLAS,
    });
    expect(missing.ok).toBe(false);
  });

  it('explains origins whose keys cannot be had', async () => {
    const store = createKeyStore({ federation });
    const uri = '/_matrix/federation/v1/publicRooms';
    const fromGhost = xMatrixAuthorization(
      { method: 'GET', uri, origin: 'ghost.sign.test', destination: ATLAS },
      remoteKey,
    );
    const ghost = await store.verifyRequest({
      authorization: fromGhost,
      method: 'GET',
      uri,
      destination: ATLAS,
    });
    expect(ghost).toEqual({ ok: false, reason: expect.stringContaining('ghost.sign.test') });
    const fromForger = xMatrixAuthorization(
      { method: 'GET', uri, origin: forgerName, destination: ATLAS },
      remoteKey,
    );
    const forged = await store.verifyRequest({
      authorization: fromForger,
      method: 'GET',
      uri,
      destination: ATLAS,
    });
    expect(forged).toEqual({ ok: false, reason: expect.stringContaining('valid self-signed key document') });
  });
});
