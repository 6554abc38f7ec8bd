// Search benchmark: 100,000 rooms, the API in its own process, requests at fixed rates (evenly paced,
// see paced-load.ts; or autocannon's per-second bursts with --autocannon).
// Usage: node --import tsx bench/search/run.ts [--runs 3] [--duration 30] [--rooms 100000]
//          [--with-cache] [--cache-only] [--skip-ramp] [--database-url URL] [--api-cpu-prof DIR]
//          [--autocannon | --vegeta PATH] [--api-node-flags="FLAGS"] [--index-churn SECONDS]
//          [--backend postgres|meilisearch|both] [--uncached [--uncached-rate 100]]
// Run it under `flock /tmp/atlas-bench.lock` so that two benchmarks never share the machine.
import { type ChildProcess, fork } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase } from '@atlas/shared/db';
import { createPostgresSearchIndex, loadIndexDecisions, type SearchCacheStats } from '@atlas/shared/search';
import autocannon from 'autocannon';
import { freePort } from '../../test/support/ports.ts';
import { BACKENDS, type BackendName, type BenchBackend, openBackend } from './backends.ts';
import { distinctQueries, queryMix } from './dataset.ts';
import { loadAverages, type Measure, measureLoad, median, round, settle, summariseRuns } from './measure.ts';
import { pacedLoad } from './paced-load.ts';
import { DATASET_SIZE_OPTIONS, datasetSize, openDatasetDatabase } from './prepare.ts';
import { vegetaLoad } from './vegeta-load.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '30' },
    ...DATASET_SIZE_OPTIONS,
    'database-url': { type: 'string' },
    'skip-ramp': { type: 'boolean', default: false },
    /** Also measure with the API's answer cache (what `atlas start` runs), after the database path. */
    'with-cache': { type: 'boolean', default: false },
    /** Only the answer cache's configuration (the database path's runs take minutes of overload). */
    'cache-only': { type: 'boolean', default: false },
    /** Load with autocannon's rate limit (each second's quota in a burst) instead of evenly paced requests. */
    autocannon: { type: 'boolean', default: false },
    /** The paced load sent by this vegeta binary (a Go process) instead of this Node process. */
    vegeta: { type: 'string' },
    /** Writes the API process's V8 CPU profile (node --cpu-prof) into this folder. */
    'api-cpu-prof': { type: 'string' },
    /** node flags for the API process, space-separated (e.g. V8's young generation size). */
    'api-node-flags': { type: 'string', default: '' },
    /**
     * Every this many seconds during the search runs, 500 rooms are written to the index again
     * through a backend of the runner's own, as the index queue does while crawls go on (0: never;
     * the benchmark's definition is an index that does not change during the runs).
     */
    'index-churn': { type: 'string', default: '0' },
    /**
     * Which backend answers: PostgreSQL's full-text index (the default), Meilisearch (a real server
     * started for the run, PostgreSQL standing by as `atlas start` configures it), or both, one after
     * the other over the same dataset and queries. Each is indexed first, and timed.
     */
    backend: { type: 'string', default: 'postgres' },
    /**
     * Searches that are all different (two words, word and prefix, prefixes), each sent once, so
     * that the answer cache never helps: the answer cache on, as served, at --uncached-rate.
     */
    uncached: { type: 'boolean', default: false },
    'uncached-rate': { type: 'string', default: '100' },
    /**
     * How many distinct searches warm the backend up before the uncached runs (at --uncached-rate):
     * enough, and the index's pages are read once before the measurement.
     */
    'uncached-warm-up': { type: 'string', default: '1000' },
  },
});
if (values.backend !== 'both' && !BACKENDS.includes(values.backend as BackendName)) {
  throw new Error(`--backend: postgres, meilisearch or both, not ${values.backend}`);
}
const backendNames: BackendName[] =
  values.backend === 'both' ? [...BACKENDS] : [values.backend as BackendName];
const runs = Number(values.runs);
const duration = Number(values.duration);
const RAMP_SECONDS = 10;

interface SearchMeasure extends Measure {
  /** The API process over the measurement: event-loop hold-ups and GC pauses. */
  api?: ProcessStats | undefined;
}

/** What the API process (server.ts) reports about itself since the previous report. */
interface ProcessStats {
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcOver5Ms: number;
  gcMajor: number;
  gcMinorMs: number;
  heapUsedMb: number;
}

/**
 * A fixed request rate, latencies taken exactly (float ms) from every response. Paced: one request
 * every 1/rate s whatever the answers do. With autocannon: enough connections that a slow answer
 * does not hold the rate back (it waits for an answer on a connection before reusing it, so too few
 * connections would hide queueing by sending less).
 */
async function load(
  url: string,
  paths: string[],
  rate: number,
  seconds: number,
  api: number,
  child?: ChildProcess,
  record?: (path: string, ms: number) => void,
): Promise<SearchMeasure> {
  if (child) await apiStats(child);
  // The backend's CPU as well (PostgreSQL's processes, or Meilisearch's), once it is indexed.
  const measured = await measureLoad(rate, { api, postgres: backendPid }, async () => {
    if (!values.autocannon) {
      return values.vegeta
        ? await vegetaLoad(values.vegeta, url, paths, rate, seconds)
        : await pacedLoad(url, paths, rate, seconds, 10_000, record);
    }
    const latencies: number[] = [];
    let next = 0;
    const instance = autocannon({
      url,
      connections: Math.max(10, Math.ceil(rate / 10)),
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
    return {
      requests: result.requests.total,
      errors: result.errors + result.timeouts + result.non2xx,
      latencies,
    };
  });
  return { ...measured, api: child ? (await apiStats(child)).process : undefined };
}

/** The process whose CPU time per search is the backend's: set while a backend is measured. */
let backendPid: number | undefined;
let backendName: BackendName = 'postgres';

function summarise(label: string, measures: SearchMeasure[]): Record<string, unknown> {
  const { postgresCpuMs, otherCores, ...runs } = summariseRuns(label, measures);
  return {
    ...runs,
    ...(postgresCpuMs !== undefined ? { [`${backendName}CpuMs`]: postgresCpuMs, otherCores } : {}),
    apiLoopDelayP99Ms: round(median(measures.map((m) => m.api?.loopDelayP99Ms ?? Number.NaN))),
    apiLoopDelayMaxMs: round(Math.max(...measures.map((m) => m.api?.loopDelayMaxMs ?? 0))),
    apiGcMaxMs: round(Math.max(...measures.map((m) => m.api?.gcMaxMs ?? 0))),
  };
}

async function startApi(
  databaseUrl: string,
  cache: boolean,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = fork(
    path.join(import.meta.dirname, 'server.ts'),
    [databaseUrl, String(port), cache ? 'cache' : 'no-cache'],
    {
      execArgv: [
        '--import',
        'tsx',
        ...(values['api-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['api-cpu-prof']}`] : []),
        ...(values['api-node-flags'] ?? '').split(' ').filter(Boolean),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

interface ApiReport {
  cache: SearchCacheStats | null;
  process: ProcessStats | undefined;
  /** With Meilisearch: searches it answered, and those PostgreSQL answered in its place. */
  served: { primary: number; fallback: number } | null;
}

function apiStats(child: ChildProcess): Promise<ApiReport> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as ApiReport));
    child.send('stats');
  });
}

const cacheStats = async (child: ChildProcess) => (await apiStats(child)).cache;

/**
 * How the cache answered the runs: the share answered without waiting for the database (fresh or
 * stale-while-renewing), and how many searches a second still reached it (misses and renewals).
 */
function cacheSummary(before: SearchCacheStats, after: SearchCacheStats): Record<string, number> {
  const delta = (key: keyof SearchCacheStats) => after[key] - before[key];
  const answered = Math.max(1, delta('hits') + delta('stale') + delta('misses'));
  return {
    cacheHitRate: round((delta('hits') + delta('stale')) / answered),
    cacheStaleRate: round(delta('stale') / answered),
    databaseSearchesPerSecond: round((delta('misses') + delta('refreshes')) / (runs * duration), 1),
    indexChangesSeen: delta('changes'),
  };
}

async function stopApi(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Rewrites 500 random rooms' documents every `seconds` (as the index queue does after crawls), so
 * the answer cache sees the index change. Returns how many writes were made when stopped.
 */
function startChurn(databaseUrl: string, seconds: number): { stop(): Promise<void> } {
  if (seconds <= 0) return { stop: async () => {} };
  const sql = connectDatabase(databaseUrl, { max: 1 });
  const index = createPostgresSearchIndex({ databaseUrl, poolSize: 1 });
  let writes = 0;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      const ids = await sql.sql<{ room_id: string }[]>`
        select room_id from rooms tablesample system (1) limit 500`;
      const decisions = await loadIndexDecisions(
        sql.sql,
        ids.map((r) => r.room_id),
      );
      await index.upsert(decisions.flatMap((d) => (d.document ? [d.document] : [])));
      writes++;
    });
  }, seconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      console.error(`index churn: ${writes} writes of 500 rooms`);
      await index.close();
      await sql.close();
    },
  };
}

const FEED = [
  '/api/v1/element/config.json',
  '/api/v1/element/config.json?limit=50',
  '/api/v1/element/config.json?registration_open=true',
];

/** Search and feed runs at 500/s, then (unless skipped) the ramp; against one API process. */
async function measure(
  databaseUrl: string,
  paths: string[],
  cache: boolean,
  backend: BenchBackend,
): Promise<Record<string, unknown>[]> {
  const { child, url } = await startApi(databaseUrl, cache, backend.env);
  const api = child.pid ?? 0;
  const suffix = `${cache ? ' (answer cache on)' : ''}${backendNames.length > 1 ? ` [${backend.name}]` : ''}`;
  try {
    // Every query of the mix once (the cache, when on, then holds the whole mix, as it would after a
    // while in service), and the feed's answers.
    console.error(`warming up${suffix}`);
    await load(url, paths, 250, paths.length / 250, api);
    await load(url, FEED, 300, 2, api);
    await settle(api);
    const search: SearchMeasure[] = [];
    const element: SearchMeasure[] = [];
    const before = await cacheStats(child);
    // The search runs back to back: with the cache on, each run after the first starts with the
    // answers the previous one left (the steady state), not with a cache emptied by a pause.
    const churn = startChurn(databaseUrl, Number(values['index-churn']));
    try {
      for (let i = 0; i < runs; i++) {
        search.push(await load(url, paths, 500, duration, api, child));
        console.error(`search run ${i + 1}${suffix}:`, search[i]);
      }
    } finally {
      await churn.stop();
    }
    const report = await apiStats(child);
    const after = report.cache;
    await settle(api);
    for (let i = 0; i < runs; i++) {
      element.push(await load(url, FEED, 500, duration, api, child));
      console.error(`element run ${i + 1}${suffix}:`, element[i]);
    }
    const summary: Record<string, unknown>[] = [
      {
        ...summarise(`rooms search @500/s${suffix}`, search),
        ...(before && after ? cacheSummary(before, after) : {}),
        ...(report.served ? { searchesServedBy: report.served } : {}),
      },
      summarise(`element feed @500/s${suffix}`, element),
    ];
    if (!values['skip-ramp']) {
      let best: SearchMeasure | undefined;
      for (const rate of [25, 50, 100, 150, 200, 300, 400, 500, 600, 750, 1000, 1500, 2000, 3000]) {
        const failed = (m: SearchMeasure) =>
          m.errors > 0 || m.p99 > 100 || m.requests < rate * RAMP_SECONDS * 0.95;
        // A step that fails is run once more before the ramp stops: on a shared machine a single
        // stall of another process would otherwise end it far below what the API sustains.
        let step: SearchMeasure | undefined;
        for (let attempt = 0; attempt < 2 && (!step || failed(step)); attempt++) {
          await settle(api);
          step = await load(url, paths, rate, RAMP_SECONDS, api, child);
          console.error(`ramp ${rate}/s${suffix}${attempt ? ', again' : ''}:`, step);
        }
        if (!step || failed(step)) break;
        best = step;
      }
      summary.push({ label: `rooms search: highest rate with p99 <= 100 ms${suffix}`, ...best });
    }
    return summary;
  } finally {
    await stopApi(child);
  }
}

/**
 * Searches that are all different, with the answer cache on (as served): a warm-up on searches of
 * their own, then the runs, each on searches none before it sent. Also names the slowest searches.
 */
async function measureUncached(
  databaseUrl: string,
  distinct: string[],
  rate: number,
  backend: BenchBackend,
): Promise<Record<string, unknown>[]> {
  const { child, url } = await startApi(databaseUrl, true, backend.env);
  const api = child.pid ?? 0;
  const warmUp = Number(values['uncached-warm-up']);
  try {
    console.error(`warming up (${backend.name}, uncached)`);
    await load(url, distinct.slice(0, warmUp), rate, warmUp / rate, api);
    await settle(api);
    const before = await cacheStats(child);
    const measures: SearchMeasure[] = [];
    const slowest: { path: string; ms: number }[] = [];
    const per = rate * duration;
    for (let i = 0; i < runs; i++) {
      const paths = distinct.slice(warmUp + i * per, warmUp + (i + 1) * per);
      measures.push(
        await load(url, paths, rate, duration, api, child, (path, ms) => {
          if (ms > 25) slowest.push({ path, ms: round(ms) });
        }),
      );
      console.error(`uncached run ${i + 1} (${backend.name}):`, measures[i]);
    }
    const report = await apiStats(child);
    const after = report.cache;
    slowest.sort((a, b) => b.ms - a.ms);
    return [
      {
        ...summarise(`rooms search, every search different, @${rate}/s [${backend.name}]`, measures),
        ...(before && after ? cacheSummary(before, after) : {}),
        ...(report.served ? { searchesServedBy: report.served } : {}),
        over25Ms: slowest.length,
        slowest: slowest.slice(0, 15).map((s) => `${s.ms} ms ${decodeURIComponent(s.path)}`),
      },
    ];
  } finally {
    await stopApi(child);
  }
}

const prepared = await openDatasetDatabase({
  databaseUrl: values['database-url'],
  ...datasetSize(values),
});
const databaseUrl = prepared.url;
try {
  const uncachedRate = Number(values['uncached-rate']);
  const paths = values.uncached
    ? await distinctQueries(
        prepared.database.sql,
        Math.ceil(uncachedRate * duration * runs * 1.12) + Number(values['uncached-warm-up']),
      )
    : await queryMix(prepared.database.sql, 2000);
  const loadBefore = loadAverages();
  const summary: Record<string, unknown>[] = [];
  const backends: Record<string, unknown>[] = [];
  for (const name of backendNames) {
    const backend = await openBackend(name, prepared.database);
    backendPid = backend.pid;
    backendName = name;
    try {
      const memoryIndexed = backend.memoryMb();
      if (values.uncached) {
        summary.push(...(await measureUncached(databaseUrl, paths, uncachedRate, backend)));
      } else {
        if (!values['cache-only']) summary.push(...(await measure(databaseUrl, paths, false, backend)));
        if (values['with-cache'] || values['cache-only'])
          summary.push(...(await measure(databaseUrl, paths, true, backend)));
      }
      backends.push({
        backend: name,
        rooms: backend.rooms,
        indexSeconds: backend.indexSeconds,
        memoryMbAfterIndexing: memoryIndexed,
        memoryMbAfterRuns: backend.memoryMb(),
      });
    } finally {
      await backend.close();
    }
  }
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        node: process.version,
        loadavgBefore: loadBefore,
        loadavgAfter: loadAverages(),
        backends,
        summary,
      },
      null,
      2,
    ),
  );
} finally {
  await prepared.close();
}
