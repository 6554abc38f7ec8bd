// The API as `atlas start` serves it, over an existing database: the benchmark's server process.
// Usage: server.ts <database url> <port> <cache|no-cache>
import { createApp, DEFAULT_SETTINGS, startServer } from '@atlas/api';
import { connectDatabase } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createPostgresSearchIndex, type SearchCacheStats, withSearchCache } from '@atlas/shared/search';

const [databaseUrl, port, cache] = process.argv.slice(2);
if (!databaseUrl || !port) throw new Error('usage: server.ts <database url> <port> <cache|no-cache>');
const database = connectDatabase(databaseUrl, { max: 10, applicationName: 'atlas-bench-api' });
const backend = createPostgresSearchIndex({ databaseUrl });
await backend.init();
// As createAppDeps builds it for `atlas start`, unless the run measures the database path alone.
const cached = cache === 'cache' ? withSearchCache(backend) : undefined;
const app = createApp({
  database,
  log: silentLogger,
  identity: undefined,
  search: cached ?? backend,
  // One client address sends everything here, so the per-address limit is off.
  settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0 },
});
const server = await startServer(app, { http: { host: '127.0.0.1', port: Number(port) } });
process.send?.({ ready: server.httpPort });
// The runner asks for the cache's counters after each measurement.
process.on('message', () => {
  const stats: SearchCacheStats | null = cached ? cached.cacheStats() : null;
  process.send?.({ cache: stats });
});
process.on('SIGTERM', async () => {
  await server.close();
  await backend.close();
  await database.close();
  process.exit(0);
});
