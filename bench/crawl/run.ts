// Crawl benchmark: a simulated federation in its own process, `atlas crawl --once --json` in
// another, against a fresh embedded PostgreSQL. Measures rooms stored per second end to end and the
// crawler's memory.
// Usage: npm run bench:crawl -- [--runs 3] [--first-seed 0] [--servers 1000] [--rooms 100000] [--big 200000]
//   [--queue postgres|redis] [--only federation|big] [--stored-only] [--workers N] [--out results.json]
//   [--node-options=--cpu-prof] [--sim-node-options=--cpu-prof] [--pg-stats dir]
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import type { Sql } from 'postgres';
import type { Manifest } from '../../test/simfed/model.ts';
import { freePort } from '../../test/support/ports.ts';
import { startRedis } from '../../test/support/redis.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    /** First federation seed (bench-N): runs use bench-N, bench-N+1, ..., so two builds can be interleaved run by run. */
    'first-seed': { type: 'string', default: '0' },
    servers: { type: 'string', default: '1000' },
    rooms: { type: 'string', default: '100000' },
    /** Rooms in the single-directory run; 0 skips it. */
    big: { type: 'string', default: '200000' },
    queue: { type: 'string', default: 'postgres' },
    /** Flags for the crawler's node, e.g. --max-semi-space-size=2 or --cpu-prof (given as `--node-options=...`). */
    'node-options': { type: 'string', default: '' },
    /** Flags for the simulated federation's node, e.g. --cpu-prof. */
    'sim-node-options': { type: 'string', default: '' },
    /** Run only one of the two benchmarks. */
    only: { type: 'string' },
    /** Stop once every room is stored instead of waiting for complexity measuring. */
    'stored-only': { type: 'boolean', default: false },
    /** Load pg_stat_statements and write the costliest statements of each run to this folder. */
    'pg-stats': { type: 'string' },
    /**
     * Scale-out: N `atlas crawler` processes on one Redis (the compose roles) instead of one
     * `atlas crawl --once`, stopped once every room is stored. Implies --queue redis and --stored-only.
     */
    workers: { type: 'string' },
    /**
     * With --workers: go on after every room is stored until every room is measured (complexity,
     * measured or estimated; or none was for a minute), and record when the last was measured. More processes
     * measure more rooms while the others store: stored rooms alone do not compare their work.
     */
    'until-measured': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
  throw new Error(`--workers must be a whole number of processes, 1 or more, got "${values.workers}"`);
}
const runs = Number(values.runs);

interface Sample {
  t: number;
  rss: number;
  rooms: number;
  /** Rooms with a complexity value (measured or estimated). */
  measured: number;
}

const CLOCK_TICKS = 100;

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, ..., utime at 11, stime, cutime, cstime]. */
async function procStat(pid: number): Promise<string[] | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU seconds a process used (user + system), with its reaped children's when asked. */
async function cpuSeconds(pid: number, withChildren = false): Promise<number> {
  const f = await procStat(pid);
  if (!f) return 0;
  const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / CLOCK_TICKS;
}

/**
 * CPU seconds of a PostgreSQL cluster: the postmaster, the backends it has reaped, and the live
 * ones (its children), read before it stops.
 */
async function postgresCpuSeconds(clusterDir: string): Promise<number> {
  const postmaster = Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  if (!Number.isInteger(postmaster) || postmaster <= 0) return 0;
  let total = await cpuSeconds(postmaster, true);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = await procStat(Number(entry));
    if (f && Number(f[1]) === postmaster) total += await cpuSeconds(Number(entry));
  }
  return total;
}

function rssOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (text) => Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024,
    () => 0,
  );
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Node flags as command-line arguments (some, like --cpu-prof, are refused in NODE_OPTIONS). */
function nodeFlags(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter((flag) => flag.length > 0);
}

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

interface Simfed {
  child: ChildProcess;
  manifest: Manifest;
  /** Everything the simulated federation printed on stdout (its totals line comes at the end). */
  stdout: () => string;
}

async function startSimfed(args: string[], dir: string): Promise<Simfed> {
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags(values['sim-node-options']),
      '--import',
      'tsx',
      'test/simfed/cli.ts',
      ...args,
      '--out',
      dir,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('simfed ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simfed exited with ${code}`)));
  });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  return { child, manifest, stdout: () => buffer };
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Distinct rooms Atlas can store: non-no-index rooms of servers that answer and publish. */
function storableRooms(manifest: Manifest): number {
  const ids = new Set<string>();
  for (const server of manifest.servers) {
    if (!server.reachable || !(server.publishes || server.client_directory)) continue;
    for (const room of server.rooms) if (!room.noindex) ids.add(room.room_id);
  }
  return ids.size;
}

interface RunResult {
  /** --until-measured: when the last room was measured, how many by then, and the CPU until then. */
  measuredSeconds?: number | null;
  roomsMeasuredByThen?: number;
  cpuAtMeasured?: CpuSeconds | null;
  followUpJobsAtStop?: Record<string, unknown> | null;
  rooms: number;
  expectedRooms: number;
  storedSeconds: number;
  roomsPerSecond: number;
  exitSeconds: number | null;
  peakRssMb: number;
  rssAtStoredMb: number;
  baselineRssMb: number;
  /** Rooms with a complexity value when the crawler stopped, and per second of the whole run. */
  measuredRooms: number;
  complexityRoomsPerSecond: number | null;
  /** CPU seconds of each process until every room was stored, and until the crawler ended. */
  cpuAtStored: CpuSeconds | null;
  cpuAtExit: CpuSeconds;
  /** Load average (1 min) during the run: median and highest. */
  loadAverage: { median: number; max: number };
  /** Requests the simulated federation answered, per endpoint, and its TLS handshakes. */
  simfed: SimfedTotals | null;
  parts: PartsCost | null;
  summary: unknown;
}

interface CpuSeconds {
  crawler: number;
  simfed: number;
  postgres: number;
}

interface SimfedTotals {
  /** The most requests one simulated server ever had in flight at once, over every server. */
  maxInFlight: number;
  requests: number;
  tlsConnections: number;
  keyFetches: number;
  byEndpoint: Record<string, number>;
}

/** The statements PostgreSQL spent most time on during a run (pg_stat_statements), as a text table. */
async function writeStatementStats(sql: Sql, dir: string, label: string): Promise<void> {
  const rows = await sql<{ calls: string; total_ms: number; mean_ms: number; rows: string; query: string }[]>`
    select calls, round(total_exec_time::numeric, 0)::float8 as total_ms,
      round(mean_exec_time::numeric, 3)::float8 as mean_ms, rows,
      left(query, 400) as query
    from pg_stat_statements order by total_exec_time desc limit 40`;
  const lines = rows.map(
    (r) =>
      `${r.calls}\t${r.total_ms}\t${r.mean_ms}\t${r.rows}\t${r.query.replace(/\s+/g, ' ').slice(0, 200)}`,
  );
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `pg-stats-${Date.now()}.tsv`);
  await writeFile(file, `# ${label}\ncalls\ttotal_ms\tmean_ms\trows\tquery\n${lines.join('\n')}\n`);
  process.stderr.write(`  statement statistics in ${file}\n`);
}

/**
 * The leads and complexity queue (BullMQ on Redis, Atlas's default namespace) as the run stops:
 * jobs waiting, delayed, running and failed, and why the first failed ones failed. Rooms left
 * unmeasured are in one of these, or their job was lost.
 */
async function followUpJobs(redisUrl: string): Promise<Record<string, unknown>> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const key = 'atlas:room-facts';
    const [waiting, active, delayed, failed, prioritized] = await Promise.all([
      redis.llen(`${key}:wait`),
      redis.llen(`${key}:active`),
      redis.zcard(`${key}:delayed`),
      redis.zcard(`${key}:failed`),
      redis.zcard(`${key}:prioritized`),
    ]);
    const failedIds = await redis.zrange(`${key}:failed`, 0, 4);
    const reasons = await Promise.all(
      failedIds.map(
        async (id) =>
          `${await redis.hget(`${key}:${id}`, 'name')}: ${await redis.hget(`${key}:${id}`, 'failedReason')}`,
      ),
    );
    return { waiting, prioritized, active, delayed, failed, reasons };
  } finally {
    redis.disconnect();
  }
}

async function crawlOnce(options: {
  simArgs: string[];
  env: Record<string, string>;
  /** Stop the crawler when this returns true (after everything is stored). */
  stopWhenStored: boolean;
  /** Stop it instead once every room is stored and measured (or none was measured for a minute). */
  stopWhenMeasured?: boolean;
  bigServer?: boolean;
  /** `atlas crawler` processes instead of one `atlas crawl --once` (see --workers). */
  workers?: number;
  redisUrl?: string;
}): Promise<RunResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-bench-crawl-'));
  // As root, the embedded PostgreSQL runs as the postgres user, which must be able to reach its folder.
  await chmod(dir, 0o711);
  const pgPort = await freePort();
  const pgStats = values['pg-stats'];
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: pgPort,
    log: silentLogger,
    ...(pgStats ? { settings: ['shared_preload_libraries=pg_stat_statements', 'track_io_timing=on'] } : {}),
  });
  const sim = await startSimfed(options.simArgs, path.join(dir, 'sim'));
  const database = connectDatabase(pg.url, { max: 2 });
  if (pgStats) await database.sql`create extension if not exists pg_stat_statements`;
  const expectedRooms = storableRooms(sim.manifest);
  const clusterDir = path.join(dir, 'pg', 'postgres');
  const simCpuAtStart = await cpuSeconds(sim.child.pid ?? 0);
  const pgCpuAtStart = await postgresCpuSeconds(clusterDir).catch(() => 0);
  const crawlerEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...sim.manifest.env,
    DATABASE_URL: pg.url,
    ATLAS_DATA_DIR: path.join(dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    ATLAS_CRAWL_MAX_PAGES: '10000',
    ATLAS_CRAWL_MAX_SECONDS: '3600',
    ...options.env,
  };
  const atlas = (args: string[]) =>
    spawn(
      process.execPath,
      [...nodeFlags(values['node-options']), path.join(ROOT, 'apps/cli/bin/atlas.mjs'), ...args],
      {
        cwd: ROOT,
        env: crawlerEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  let api: { child: ChildProcess; base: string } | undefined;
  if (options.workers !== undefined) {
    // The roles expect a migrated database, as `atlas migrate` leaves it in the compose stack.
    const migrate = atlas(['migrate']);
    const code = await new Promise<number | null>((resolve) => migrate.once('exit', resolve));
    if (code !== 0) throw new Error(`atlas migrate exited with ${code}`);
    // As in the compose stack, the API serves Atlas's key on the federation listener (the simulated
    // servers verify every signed request against it); the crawlers only sign. No rate limit: the
    // searches measured afterwards come from one client.
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/atlas.mjs'), 'api'], {
      cwd: ROOT,
      env: { ...crawlerEnv, PORT: String(port), ATLAS_RATE_LIMIT: '0' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    api = { child, base: `http://127.0.0.1:${port}` };
    for (let i = 0; i < 240; i++) {
      const ok = await fetch(`${api.base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const started = performance.now();
  const crawler = atlas(options.workers === undefined ? ['crawl', '--once', '--json'] : ['crawler']);
  // More crawler processes beside the first (scale-out); their CPU and memory count with its.
  const others = Array.from({ length: Math.max(0, (options.workers ?? 1) - 1) }, () => {
    const child = atlas(['crawler']);
    child.stdout?.resume();
    child.stderr?.resume();
    return child;
  });
  const allPids = () =>
    [crawler.pid, ...others.map((o) => o.pid)].filter((p): p is number => p !== undefined);
  let stdout = '';
  crawler.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let lastProgress = '';
  // The last lines of the crawler's stderr, shown when it fails.
  let stderrTail: string[] = [];
  crawler.stderr?.on('data', (chunk: Buffer) => {
    const lines = chunk.toString().trim().split('\n');
    lastProgress = lines[lines.length - 1] ?? lastProgress;
    stderrTail = [...stderrTail, ...lines].slice(-30);
  });
  const exited = new Promise<number | null>((resolve) => crawler.once('exit', (code) => resolve(code)));
  const samples: Sample[] = [];
  const loads: number[] = [];
  let crawlerCpu = 0;
  let ticks = 0;
  let lastCount = { rooms: 0, measured: 0 };
  let cpuAtStored: CpuSeconds | undefined;
  let storedAt: number | undefined;
  /** The follow-up queue's jobs when the run stopped, with the reasons of those that failed. */
  let unmeasuredJobs: Record<string, unknown> | undefined;
  /** When the last room was measured, and the CPU used until then. */
  let measuredAt: { t: number; measured: number; cpu: CpuSeconds } | undefined;
  let baseline = 0;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const pid = crawler.pid;
    if (!pid) break;
    // Counting rooms scans the table, so it runs once a second (the crawler's memory, four times).
    const last = [{ n: String(lastCount.rooms), m: String(lastCount.measured) }];
    const [rss, rows, cpu] = await Promise.all([
      Promise.all(allPids().map(rssOf)).then((list) => list.reduce((a, b) => a + b, 0)),
      ticks++ % 4 === 0
        ? database.sql<{ n: string; m: string }[]>`
            select count(*) as n, count(complexity_at) as m from rooms`.catch(() => last)
        : last,
      Promise.all(allPids().map((p) => cpuSeconds(p))).then((list) => list.reduce((a, b) => a + b, 0)),
    ]);
    if (cpu > 0) crawlerCpu = cpu;
    const rooms = Number(rows[0]?.n ?? 0);
    const measured = Number(rows[0]?.m ?? 0);
    lastCount = { rooms, measured };
    const t = (performance.now() - started) / 1000;
    samples.push({ t, rss, rooms, measured });
    loads.push(loadavg()[0] ?? 0);
    // Memory before the first directory is read: the process, its libraries and connections.
    if (rooms === 0 && rss > 0) baseline = rss;
    if (storedAt === undefined && rooms >= expectedRooms) {
      storedAt = t;
      cpuAtStored = {
        crawler: crawlerCpu,
        simfed: (await cpuSeconds(sim.child.pid ?? 0)) - simCpuAtStart,
        postgres: (await postgresCpuSeconds(clusterDir).catch(() => 0)) - pgCpuAtStart,
      };
      process.stderr.write(`  all ${rooms} rooms stored at ${t.toFixed(1)} s; ${lastProgress}\n`);
      if (options.stopWhenStored) await Promise.all([crawler, ...others].map((child) => stop(child)));
    }
    if (options.stopWhenMeasured && measured > (measuredAt?.measured ?? 0)) {
      measuredAt = {
        t,
        measured,
        cpu: {
          crawler: crawlerCpu,
          simfed: (await cpuSeconds(sim.child.pid ?? 0)) - simCpuAtStart,
          postgres: (await postgresCpuSeconds(clusterDir).catch(() => 0)) - pgCpuAtStart,
        },
      };
    }
    // Every stored room measured (or estimated), or none for a minute (a room no step reaches).
    if (
      options.stopWhenMeasured &&
      storedAt !== undefined &&
      (measured >= rooms || t - (measuredAt?.t ?? 0) > 60)
    ) {
      process.stderr.write(
        `  ${measuredAt?.measured} rooms measured, the last at ${measuredAt?.t.toFixed(1)} s\n`,
      );
      if (options.redisUrl) unmeasuredJobs = await followUpJobs(options.redisUrl);
      await Promise.all([crawler, ...others].map((child) => stop(child)));
    }
    if (options.workers !== undefined && storedAt === undefined && t > 1_800) {
      process.stderr.write('  not every room stored after 30 min; stopping the crawlers\n');
      await Promise.all([crawler, ...others].map((child) => stop(child)));
    }
    if (samples.length % 40 === 0)
      process.stderr.write(`  ${t.toFixed(0)} s: ${rooms} rooms, RSS ${mb(rss)} MB\n`);
  }
  const code = await exited;
  if (code !== 0 && storedAt === undefined) {
    process.stderr.write(`  crawler exited with ${code}:\n    ${stderrTail.join('\n    ')}\n`);
  }
  const exitSeconds = (performance.now() - started) / 1000;
  const final = samples[samples.length - 1];
  const storedSeconds = storedAt ?? final?.t ?? Number.NaN;
  const rooms = final?.rooms ?? 0;
  const atStored = samples.find((s) => s.t >= storedSeconds);
  let summary: unknown = null;
  try {
    summary = JSON.parse(stdout);
  } catch {
    summary = null;
  }
  const cpuAtExit: CpuSeconds = {
    crawler: crawlerCpu,
    simfed: (await cpuSeconds(sim.child.pid ?? 0)) - simCpuAtStart,
    postgres: (await postgresCpuSeconds(clusterDir).catch(() => 0)) - pgCpuAtStart,
  };
  if (pgStats) await writeStatementStats(database.sql, pgStats, options.simArgs.join(' '));
  // What the stored directory costs the other parts (--workers runs: the compose roles).
  const parts = api !== undefined ? await measureParts(database.sql, api, options.redisUrl) : null;
  await database.close();
  await stop(sim.child);
  const totalsLine = /simfed totals (.*)/.exec(sim.stdout())?.[1];
  const simfed = totalsLine ? (JSON.parse(totalsLine) as SimfedTotals) : null;
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
  return {
    rooms,
    expectedRooms,
    storedSeconds,
    roomsPerSecond: rooms / storedSeconds,
    exitSeconds: code === 0 ? exitSeconds : null,
    peakRssMb: mb(Math.max(...samples.map((s) => s.rss))),
    rssAtStoredMb: mb(atStored?.rss ?? 0),
    baselineRssMb: mb(baseline),
    measuredRooms: final?.measured ?? 0,
    complexityRoomsPerSecond: code === 0 && final ? final.measured / exitSeconds : null,
    cpuAtStored: cpuAtStored ?? null,
    cpuAtExit,
    ...(options.stopWhenMeasured
      ? {
          measuredSeconds: measuredAt?.t ?? null,
          roomsMeasuredByThen: measuredAt?.measured ?? 0,
          cpuAtMeasured: measuredAt?.cpu ?? null,
          followUpJobsAtStop: unmeasuredJobs ?? null,
        }
      : {}),
    loadAverage: {
      median: Math.round(median(loads) * 10) / 10,
      max: Math.round(Math.max(0, ...loads) * 10) / 10,
    },
    simfed: simfed && {
      maxInFlight: simfed.maxInFlight,
      requests: simfed.requests,
      tlsConnections: simfed.tlsConnections,
      keyFetches: simfed.keyFetches,
      byEndpoint: simfed.byEndpoint,
    },
    parts,
    summary,
  };
}

interface PartsCost {
  /** PostgreSQL's database on disk, tables and indexes. */
  databaseMb: number;
  /** Redis's peak memory during the run (queues and holds). */
  redisPeakMb: number | null;
  /**
   * The `atlas api` process of the run (it served Atlas's key to the federation during the crawl):
   * its RSS after it also served the stats and 200 searches of the stored directory, and its CPU.
   */
  api: { rssMb: number; cpuSeconds: number; requests: number } | null;
}

/**
 * The cost of the stored directory to the parts beside the crawler: the database's size, Redis's
 * peak memory, and one API process's memory after it served 200 searches and the stats.
 */
async function measureParts(
  sql: Sql,
  api: { child: ChildProcess; base: string },
  redisUrl: string | undefined,
): Promise<PartsCost> {
  const [size] = await sql<{ bytes: string }[]>`select pg_database_size(current_database())::text as bytes`;
  let redisPeakMb: number | null = null;
  if (redisUrl) {
    const { Redis } = await import('ioredis');
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const info = await client.info('memory');
    client.disconnect();
    redisPeakMb = mb(Number(/used_memory_peak:(\d+)/.exec(info)?.[1] ?? 0));
  }
  let measured: PartsCost['api'] = null;
  try {
    const words = await sql<{ word: string }[]>`
      select split_part(name, ' ', 1) as word from rooms where name is not null order by room_id limit 200`;
    let requests = 0;
    for (const path of [
      '/api/v1/stats',
      ...words.map((w) => `/api/v1/rooms?q=${encodeURIComponent(w.word)}`),
    ]) {
      const response = await fetch(`${api.base}${path}`);
      await response.arrayBuffer();
      if (response.ok) requests++;
    }
    const pid = api.child.pid ?? 0;
    measured = { rssMb: mb(await rssOf(pid)), cpuSeconds: await cpuSeconds(pid), requests };
  } finally {
    await stop(api.child);
  }
  return { databaseMb: mb(Number(size?.bytes ?? 0)), redisPeakMb, api: measured };
}

async function main(): Promise<void> {
  const machine = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  process.stderr.write(
    `crawl benchmark on ${machine.cores} × ${machine.cpu}, load ${machine.loadAverageAtStart.join(' ')}\n`,
  );
  const redis = values.queue === 'redis' || workers !== undefined ? await startRedis() : undefined;
  const queueEnv: Record<string, string> = redis ? { REDIS_URL: redis.url } : {};
  const federation: RunResult[] = [];
  for (let run = 0; values.only !== 'big' && run < runs; run++) {
    process.stderr.write(
      `federation run ${run + 1}/${runs}: ${values.servers} servers, ${values.rooms} listings\n`,
    );
    federation.push(
      await crawlOnce({
        simArgs: [
          '--servers',
          String(values.servers),
          '--seed',
          `bench-${run + Number(values['first-seed'])}`,
          '--rooms',
          String(values.rooms),
        ],
        env: queueEnv,
        stopWhenStored:
          values['stored-only'] === true || (workers !== undefined && !values['until-measured']),
        stopWhenMeasured: workers !== undefined && values['until-measured'] === true,
        ...(workers !== undefined ? { workers } : {}),
        ...(redis ? { redisUrl: redis.url } : {}),
      }),
    );
    const r = federation[federation.length - 1];
    process.stderr.write(`  -> ${JSON.stringify({ ...r, summary: undefined, simfed: undefined })}\n`);
  }
  const big: RunResult[] = [];
  const bigRooms = Number(values.big);
  for (let run = 0; values.only !== 'federation' && bigRooms > 0 && run < runs; run++) {
    process.stderr.write(`single-directory run ${run + 1}/${runs}: one server listing ${bigRooms} rooms\n`);
    big.push(
      await crawlOnce({
        simArgs: [
          '--servers',
          '5',
          '--seed',
          `bench-big-${run}`,
          '--rooms',
          '50',
          '--big-server-rooms',
          String(bigRooms),
        ],
        env: { ...queueEnv, ATLAS_CRAWL_MAX_ROOMS: String(bigRooms + 50_000) },
        // Measuring 200,000 rooms one request at a time is not what this run is about.
        stopWhenStored: true,
      }),
    );
    const r = big[big.length - 1];
    process.stderr.write(`  -> ${JSON.stringify({ ...r, summary: undefined, simfed: undefined })}\n`);
  }
  await redis?.stop();
  const report = {
    machine,
    queue: redis ? 'redis' : values.queue,
    workers: workers ?? null,
    nodeOptions: values['node-options'],
    federation: {
      servers: Number(values.servers),
      listings: Number(values.rooms),
      runs: federation.map(({ summary: _summary, ...r }) => r),
      median: {
        roomsPerSecond: Math.round(median(federation.map((r) => r.roomsPerSecond))),
        storedSeconds: median(federation.map((r) => r.storedSeconds)),
        exitSeconds: median(federation.map((r) => r.exitSeconds ?? Number.NaN)),
        peakRssMb: median(federation.map((r) => r.peakRssMb)),
        complexityRoomsPerSecond: median(federation.map((r) => r.complexityRoomsPerSecond ?? Number.NaN)),
        crawlerCpuSecondsAtStored: median(federation.map((r) => r.cpuAtStored?.crawler ?? Number.NaN)),
        crawlerCpuMsPerRoom: median(
          federation.map((r) => ((r.cpuAtStored?.crawler ?? Number.NaN) * 1000) / r.expectedRooms),
        ),
        simfedMaxInFlight: Math.max(0, ...federation.map((r) => r.simfed?.maxInFlight ?? 0)),
        loadAverage: median(federation.map((r) => r.loadAverage.median)),
      },
    },
    bigDirectory:
      big.length === 0
        ? null
        : {
            rooms: bigRooms,
            runs: big.map(({ summary: _summary, ...r }) => r),
            median: {
              roomsPerSecond: Math.round(median(big.map((r) => r.roomsPerSecond))),
              rssGrowthMb: median(big.map((r) => r.peakRssMb - r.baselineRssMb)),
              peakRssMb: median(big.map((r) => r.peakRssMb)),
              storedSeconds: median(big.map((r) => r.storedSeconds)),
              loadAverage: median(big.map((r) => r.loadAverage.median)),
            },
          },
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  const text = JSON.stringify(report, null, 2);
  if (values.out) await writeFile(values.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
}

await main();
