import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp, DEFAULT_SETTINGS, startServer } from '@atlas/api';
import type { Database } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { generateSigningKey, type SigningKey } from '@atlas/shared/matrix';
import { createPostgresSearchIndex } from '@atlas/shared/search';
import { freePort } from '../../support/ports.ts';
import type { TestCa } from '../../support/test-ca.ts';

const HOST = '127.0.0.1';

export interface AtlasTls {
  /** PEM files of a certificate for 127.0.0.1 from the test CA: ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE. */
  certFile: string;
  keyFile: string;
}

/** Writes a certificate for Atlas's federation listener (127.0.0.1) into `dir`. */
export async function writeAtlasTls(ca: TestCa, dir: string, label = 'atlas'): Promise<AtlasTls> {
  const issued = await ca.issue([HOST]);
  const certFile = path.join(dir, `${label}.crt`);
  const keyFile = path.join(dir, `${label}.key`);
  await writeFile(certFile, issued.cert);
  await writeFile(keyFile, issued.key, { mode: 0o600 });
  return { certFile, keyFile };
}

export interface AtlasIdentity extends AtlasTls {
  /** `127.0.0.1:<port>`: Synapse reaches it without DNS, like its own peers. */
  serverName: string;
  signingKey: SigningKey;
  federationPort: number;
  close(): Promise<void>;
}

/**
 * Atlas's API (the real `createApp`) serving `/_matrix/key/v2/server` over TLS on its own server
 * name, so Synapse fetches Atlas's key and verifies its signed requests exactly as it would on the
 * internet.
 */
export async function startAtlasIdentity(options: {
  ca: TestCa;
  /** Where the certificate files go (the cluster's folder will do). */
  dir: string;
  database: Database;
  signingKey?: SigningKey;
}): Promise<AtlasIdentity> {
  const tls = await writeAtlasTls(options.ca, options.dir, `atlas-${Date.now()}`);
  const federationPort = await freePort(HOST);
  const serverName = `${HOST}:${federationPort}`;
  const signingKey = options.signingKey ?? generateSigningKey();
  const search = createPostgresSearchIndex({ databaseUrl: options.database.url });
  const app = createApp({
    database: options.database,
    log: silentLogger,
    identity: { serverName, signingKey },
    search,
    // Synapse fetches keys in bursts; the API's per-IP limit is not under test here.
    settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
  });
  const server = await startServer(app, {
    http: { host: HOST, port: 0 },
    federation: { host: HOST, port: federationPort, ...tls },
  });
  return {
    ...tls,
    serverName,
    signingKey,
    federationPort,
    async close() {
      await server.close();
      await search.close();
    },
  };
}
