// Search benchmark: 100,000 rooms, the API in its own process, autocannon at fixed rates.
// Usage: node --import tsx bench/search/run.ts [--runs 3] [--duration 30] [--rooms 100000]
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase, migrateDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createPostgresSearchIndex, rebuildSearchIndex } from '@atlas/shared/search';
import autocannon from 'autocannon';
import { freePort } from '../../test/support/ports.ts';
import { generateDataset, queryMix } from './dataset.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '30' },
    rooms: { type: 'string', default: '100000' },
    servers: { type: 'string', default: '5000' },
    'database-url': { type: 'string' },
    'skip-ramp': { type: 'boolean', default: false },
    /** Measure the PostgreSQL backend alone, without the API's answer cache. */
    'no-cache': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const duration = Number(values.duration);

interface Measure {
  rate: number;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Fixed request rate; latencies taken exactly (float ms) from every response. */
async function load(url: string, paths: string[], rate: number, seconds: number): Promise<Measure> {
  const latencies: number[] = [];
  let next = 0;
  const instance = autocannon({
    url,
    connections: Math.max(10, Math.ceil(rate / 50)),
    duration: seconds,
    overallRate: rate,
    requests: [
      {
        setupRequest: (request) => {
          request.path = paths[next++ % paths.length] ?? '/';
          return request;
        },
      },
    ],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) latencies.push(responseTime);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    rate,
    requests: result.requests.total,
    errors,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function summarise(label: string, measures: Measure[]): Record<string, string | number> {
  return {
    label,
    rate: measures[0]?.rate ?? 0,
    runs: measures.length,
    requests: median(measures.map((m) => m.requests)),
    errors: measures.reduce((sum, m) => sum + m.errors, 0),
    p50: Number(median(measures.map((m) => m.p50)).toFixed(2)),
    p90: Number(median(measures.map((m) => m.p90)).toFixed(2)),
    p99: Number(median(measures.map((m) => m.p99)).toFixed(2)),
    max: Number(Math.max(...measures.map((m) => m.max)).toFixed(2)),
  };
}

let dataDir: string | undefined;
let stopPg: (() => Promise<void>) | undefined;
let databaseUrl = values['database-url'];
if (!databaseUrl) {
  dataDir = await mkdtemp(path.join(tmpdir(), 'atlas-bench-'));
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    log: silentLogger,
    database: 'bench',
  });
  stopPg = pg.stop;
  databaseUrl = pg.url;
}
const database = connectDatabase(databaseUrl, { max: 4 });
let server: ReturnType<typeof fork> | undefined;
try {
  await migrateDatabase(database);
  const [row] = await database.sql<{ n: string }[]>`select count(*) as n from rooms`;
  const n = row?.n ?? '0';
  if (Number(n) === 0) {
    const started = Date.now();
    await generateDataset(database.sql, { rooms: Number(values.rooms), servers: Number(values.servers) });
    const index = createPostgresSearchIndex({ databaseUrl, poolSize: 2 });
    const result = await rebuildSearchIndex(database.sql, index, { batchSize: 1000 });
    await index.close();
    await database.sql`vacuum analyze`;
    console.error(
      `dataset: ${result.upserted} rooms indexed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  const paths = await queryMix(database.sql, 2000);
  const port = await freePort();
  server = fork(
    path.join(import.meta.dirname, 'server.ts'),
    [databaseUrl, String(port), values['no-cache'] ? 'no-cache' : 'cache'],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    server?.once('message', () => resolve());
    server?.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const feed = [
    '/api/v1/element/config.json',
    '/api/v1/element/config.json?limit=50',
    '/api/v1/element/config.json?registration_open=true',
  ];
  console.error('warming up');
  await load(url, paths, 300, 5);
  await load(url, feed, 300, 2);

  const search: Measure[] = [];
  const element: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    search.push(await load(url, paths, 500, duration));
    console.error(`search run ${i + 1} (load ${loadavg()[0]?.toFixed(1)}):`, search[i]);
    element.push(await load(url, feed, 500, duration));
    console.error(`element run ${i + 1}:`, element[i]);
  }
  const summary: Record<string, unknown>[] = [
    summarise('rooms search @500/s', search),
    summarise('element feed @500/s', element),
  ];

  if (!values['skip-ramp']) {
    let best: Measure | undefined;
    for (const rate of [25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000]) {
      const measure = await load(url, paths, rate, 10);
      console.error(`ramp ${rate}/s:`, measure);
      const achieved = measure.requests / 10;
      if (measure.errors > 0 || measure.p99 > 100 || achieved < rate * 0.95) break;
      best = measure;
    }
    summary.push({ label: 'rooms search: highest rate with p99 <= 100 ms (10 s steps)', ...best });
  }
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        node: process.version,
        summary,
      },
      null,
      2,
    ),
  );
} finally {
  server?.kill('SIGTERM');
  await database.close();
  await stopPg?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
