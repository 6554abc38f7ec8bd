import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, DEFAULT_SETTINGS, type RunningServer, startServer } from '@atlas/api';
import { silentLogger } from '@atlas/shared/log';
import { generateSigningKey, type SigningKey } from '@atlas/shared/matrix';
import { createPostgresSearchIndex, type SearchIndex } from '@atlas/shared/search';
import type { ManifestServer } from '../simfed/model.ts';
import { type SimFed, type StartSimFedOptions, startSimFed } from '../simfed/simfed.ts';
import {
  type FederationCall,
  federationRequest,
  locateServer,
  type RawResponse,
  rawRequest,
  type SpecClientOptions,
} from '../simfed/spec-client.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * A simulated federation with Atlas's own HTTP app serving Atlas's key over TLS on its simulated
 * server name, so that the simulated servers verify signed requests exactly as Synapse would.
 */
export interface SignedSimFed {
  sim: SimFed;
  atlasKey: SigningKey;
  client: SpecClientOptions;
  /** A request signed as Atlas. */
  signed(call: Omit<FederationCall, 'signAs'>): Promise<RawResponse>;
  /** An unsigned request to a server's client API, where federation reaches it. */
  clientApi(
    server: string,
    method: 'GET' | 'POST',
    uri: string,
    options?: { token?: string; body?: unknown },
  ): Promise<RawResponse>;
  /** The one manifest server that `predicate` picks first; throws when none does. */
  server(predicate: (s: ManifestServer) => boolean): ManifestServer;
  close(): Promise<void>;
}

export async function startSignedSimFed(
  options: Omit<StartSimFedOptions, 'dir'> & { databaseName: string },
): Promise<SignedSimFed> {
  const { databaseName, ...simOptions } = options;
  const dir = await mkdtemp(path.join(tmpdir(), 'simfed-signed-'));
  let sim: SimFed | undefined;
  let database: TestDatabase | undefined;
  let search: SearchIndex | undefined;
  let atlasServer: RunningServer | undefined;
  const close = async () => {
    await atlasServer?.close();
    await search?.close();
    await sim?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    sim = await startSimFed({ ...simOptions, dir });
    database = await createTestDatabase(databaseName);
    const atlasKey = generateSigningKey();
    search = createPostgresSearchIndex({ databaseUrl: database.url });
    const app = createApp({
      database,
      log: silentLogger,
      identity: { serverName: sim.atlas.serverName, signingKey: atlasKey },
      search,
      settings: DEFAULT_SETTINGS,
    });
    atlasServer = await startServer(app, {
      http: { host: '127.0.0.1', port: 0 },
      federation: {
        host: sim.atlas.host,
        port: sim.atlas.federationPort,
        certFile: sim.atlas.certFile,
        keyFile: sim.atlas.keyFile,
      },
    });
    const resolver = new Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([sim.dns.address]);
    const client: SpecClientOptions = { resolver, ca: sim.caCert, timeoutMs: 5_000 };
    const running = sim;
    return {
      sim: running,
      atlasKey,
      client,
      signed: (call) =>
        federationRequest(client, {
          ...call,
          signAs: { serverName: running.atlas.serverName, key: atlasKey },
        }),
      async clientApi(server, method, uri, request = {}) {
        const headers: Record<string, string> = request.token
          ? { authorization: `Bearer ${request.token}` }
          : {};
        const body = request.body === undefined ? undefined : JSON.stringify(request.body);
        return rawRequest(client, await locateServer(client, server), method, uri, headers, body);
      },
      server(predicate) {
        const found = running.manifest.servers.find(predicate);
        if (!found) throw new Error('no such server in the manifest');
        return found;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
