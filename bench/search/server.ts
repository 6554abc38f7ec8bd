// The API as `atlas start` serves it, over an existing database: the benchmark's server process.
import { createApp, DEFAULT_SETTINGS, startServer } from '@atlas/api';
import { connectDatabase } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createPostgresSearchIndex, withSearchCache } from '@atlas/shared/search';

const [databaseUrl, port, cache] = process.argv.slice(2);
if (!databaseUrl || !port) throw new Error('usage: server.ts <database url> <port>');
const database = connectDatabase(databaseUrl, { max: 10, applicationName: 'atlas-bench-api' });
const backend = createPostgresSearchIndex({ databaseUrl });
await backend.init();
// As createAppDeps builds it for `atlas start`, unless the run measures the database alone.
const search = cache === 'no-cache' ? backend : withSearchCache(backend);
const app = createApp({
  database,
  log: silentLogger,
  identity: undefined,
  search,
  // One client address sends everything here, so the per-address limit is off.
  settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
});
const server = await startServer(app, { http: { host: '127.0.0.1', port: Number(port) } });
process.send?.({ ready: server.httpPort });
process.on('SIGTERM', async () => {
  await server.close();
  await search.close();
  await database.close();
  process.exit(0);
});
