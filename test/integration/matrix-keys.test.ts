import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type KeyServer, startKeyServer } from '@atlas/api/key-server';
import { generateSigningKey, serverKeyDocument } from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATLAS_NAME, createTestApi, type TestApi } from '../support/api-app.ts';
import { createTestCa } from '../support/test-ca.ts';

// The key routes have one implementation: the whole HTTP app (`atlas start`, `atlas api`) and the
// key server of `atlas crawl --once` give a remote server the same answers.
let api: TestApi;
let keyServer: KeyServer;
let ca: string;
let dir: string;

function getTls(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: urlPath, ca, servername: 'localhost', method: 'GET' },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  api = await createTestApi('matrix_keys');
  const testCa = await createTestCa();
  ca = testCa.cert;
  const issued = await testCa.issue(['localhost', '127.0.0.1']);
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-keys-'));
  await writeFile(path.join(dir, 'cert.pem'), issued.cert);
  await writeFile(path.join(dir, 'key.pem'), issued.key);
  const identity = api.deps.identity;
  if (!identity) throw new Error('the test app has an identity');
  keyServer = await startKeyServer({
    identity,
    host: '127.0.0.1',
    port: 0,
    certFile: path.join(dir, 'cert.pem'),
    keyFile: path.join(dir, 'key.pem'),
  });
});

afterAll(async () => {
  await keyServer?.close();
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("Atlas's key, as remote servers fetch it", () => {
  it('answers the deprecated key-id form with the whole document, as the plain form does (200, no redirect)', async () => {
    const identity = api.deps.identity;
    const expected = identity ? serverKeyDocument(identity.serverName, identity.signingKey) : undefined;
    const plain = await api.get('/_matrix/key/v2/server');
    const byId = await api.get(`/_matrix/key/v2/server/${encodeURIComponent('ed25519:a_key')}`);
    expect(plain.status).toBe(200);
    expect(byId.status).toBe(200);
    const plainBody = (await plain.json()) as { server_name: string; verify_keys: Record<string, unknown> };
    const byIdBody = (await byId.json()) as { server_name: string; verify_keys: Record<string, unknown> };
    expect(plainBody.server_name).toBe(ATLAS_NAME);
    expect(byIdBody.server_name).toBe(ATLAS_NAME);
    expect(byIdBody.verify_keys).toEqual(expected?.verify_keys);
    expect(plainBody.verify_keys).toEqual(expected?.verify_keys);
  });

  it('gets the same answers from the key server of a one-off crawl', async () => {
    for (const urlPath of [
      '/_matrix/key/v2/server',
      '/_matrix/key/v2/server/ed25519%3Aa_key',
      '/_matrix/federation/v1/version',
    ]) {
      const fromApp = await api.get(urlPath);
      const fromKeyServer = await getTls(keyServer.port, urlPath);
      expect(fromKeyServer.status, urlPath).toBe(fromApp.status);
      const appBody = (await fromApp.json()) as { valid_until_ts?: number };
      const keyBody = JSON.parse(fromKeyServer.body) as { valid_until_ts?: number };
      // The documents are signed at request time; only their validity may move on.
      expect({ ...keyBody, valid_until_ts: 0, signatures: undefined }).toEqual({
        ...appBody,
        valid_until_ts: 0,
        signatures: undefined,
      });
    }
    const unknown = await getTls(keyServer.port, '/api/v1/rooms');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });

  it('refuses to serve a key it cannot present a certificate for, naming the settings', async () => {
    await expect(
      startKeyServer({
        identity: { serverName: ATLAS_NAME, signingKey: generateSigningKey() },
        host: '127.0.0.1',
        port: 0,
        certFile: path.join(dir, 'missing.pem'),
        keyFile: path.join(dir, 'key.pem'),
      }),
    ).rejects.toThrow(/ATLAS_TLS_CERT_FILE/);
  });
});
