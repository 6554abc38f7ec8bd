// The API as `atlas start` serves it, over an existing database: the benchmark's server process.
// Usage: server.ts <database url> <port> <cache|no-cache>
// With MEILI_URL (and MEILI_KEY) in its environment it searches Meilisearch, PostgreSQL standing by
// as `atlas start` configures it; PostgreSQL's full-text index otherwise.
// It also keeps what the runner reports about the process between two `stats` messages: how long
// the event loop was held up, and the garbage collector's pauses.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createApp, DEFAULT_SETTINGS, startServer } from '@atlas/api';
import { connectDatabase } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createSearchIndex, type SearchCacheStats, withSearchCache } from '@atlas/shared/search';
import { applyV8Flags } from '../../apps/cli/bin/v8-flags.mjs';

// V8 set as `atlas api` sets it (apps/cli/bin/v8-flags.mjs).
applyV8Flags('api');
const [databaseUrl, port, cache] = process.argv.slice(2);
if (!databaseUrl || !port) throw new Error('usage: server.ts <database url> <port> <cache|no-cache>');
const database = connectDatabase(databaseUrl, { max: 10, applicationName: 'atlas-bench-api' });
const meiliUrl = process.env.MEILI_URL;
const backend = await createSearchIndex({
  databaseUrl,
  meili: meiliUrl ? { url: meiliUrl, key: process.env.MEILI_KEY } : undefined,
  log: silentLogger,
});
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

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const gc = { count: 0, totalMs: 0, maxMs: 0, over5Ms: 0, major: 0, minorMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minorMs += entry.duration;
    gc.count++;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    if (entry.duration > 5) gc.over5Ms++;
  }
}).observe({ entryTypes: ['gc'] });

process.send?.({ ready: server.httpPort });
// The runner asks for the cache's counters and the process's hold-ups around each measurement
// (`stats`: read and start again).
process.on('message', () => {
  const stats: SearchCacheStats | null = cached ? cached.cacheStats() : null;
  const ms = (ns: number) => Number((ns / 1e6).toFixed(2));
  const process_ = {
    loopDelayP50Ms: ms(loopDelay.percentile(50)),
    loopDelayP99Ms: ms(loopDelay.percentile(99)),
    loopDelayMaxMs: ms(loopDelay.max),
    gcCount: gc.count,
    gcTotalMs: Number(gc.totalMs.toFixed(1)),
    gcMaxMs: Number(gc.maxMs.toFixed(2)),
    gcOver5Ms: gc.over5Ms,
    gcMajor: gc.major,
    gcMinorMs: Number(gc.minorMs.toFixed(1)),
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
  };
  loopDelay.reset();
  Object.assign(gc, { count: 0, totalMs: 0, maxMs: 0, over5Ms: 0, major: 0, minorMs: 0 });
  process.send?.({ cache: stats, process: process_, served: backend.status?.().searches ?? null });
});
process.on('SIGTERM', async () => {
  await server.close();
  await backend.close();
  await database.close();
  process.exit(0);
});
