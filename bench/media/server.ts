// The API with avatars on, as `atlas api` runs it, in its own process: the media benchmark's server.
// Usage: server.ts <database url> <port> <simfed manifest> <data dir>
// It serves Atlas's key over TLS on the simulated federation's Atlas port, so the simulated servers
// verify its signed media requests.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp, createAppDeps, startServer } from '@atlas/api';
import { loadConfig } from '@atlas/shared/config';
import { connectDatabase } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createServerResolver, FederationClient, loadOrCreateSigningKey } from '@atlas/shared/matrix';
import { createHttpClient, httpClientOptionsFromConfig } from '@atlas/shared/net';
import { applyV8Flags } from '../../apps/cli/bin/v8-flags.mjs';

applyV8Flags('api');
const [databaseUrl, port, manifestPath, dataDir] = process.argv.slice(2);
if (!databaseUrl || !port || !manifestPath || !dataDir) {
  throw new Error('usage: server.ts <database url> <port> <simfed manifest> <data dir>');
}
const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { env: Record<string, string> };
const config = loadConfig({
  ...manifest.env,
  DATABASE_URL: databaseUrl,
  ATLAS_DATA_DIR: dataDir,
  PORT: port,
});
if (!config.serverName || !config.federation) throw new Error('the manifest gives Atlas an identity');
const database = connectDatabase(databaseUrl, { max: 10, applicationName: 'atlas-bench-media' });
const http = createHttpClient(await httpClientOptionsFromConfig(config, { maxInFlight: 16 }));
const identity = {
  serverName: config.serverName,
  signingKey: await loadOrCreateSigningKey(path.join(dataDir, 'signing.key')),
};
const federation = new FederationClient({ http, resolver: createServerResolver({ http }), identity });
const deps = await createAppDeps(config, {
  database,
  log: silentLogger,
  identity,
  federation,
  media: { federation, http },
});
// One client address sends everything here, so the per-address limit is off.
const app = createApp({ ...deps, settings: { ...deps.settings, rateLimitPerMinute: 0 } });
const server = await startServer(app, {
  http: { host: '127.0.0.1', port: Number(port) },
  federation: { host: '127.0.0.1', ...config.federation },
});
process.send?.({ ready: server.httpPort });
process.on('SIGTERM', async () => {
  await server.close();
  await deps.close();
  await http.close();
  await database.close();
  process.exit(0);
});
