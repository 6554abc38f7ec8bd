// Crawl benchmark: a simulated federation in its own process, `atlas crawl --once --json` in
// another, against a fresh embedded PostgreSQL. Measures rooms stored per second end to end and the
// crawler's memory.
// Usage: npm run bench:crawl -- [--runs 3] [--servers 1000] [--rooms 100000] [--big 200000]
//   [--queue postgres|redis] [--only federation|big] [--stored-only] [--out results.json]
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import type { Manifest } from '../../test/simfed/model.ts';
import { freePort } from '../../test/support/ports.ts';
import { startRedis } from '../../test/support/redis.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    servers: { type: 'string', default: '1000' },
    rooms: { type: 'string', default: '100000' },
    /** Rooms in the single-directory run; 0 skips it. */
    big: { type: 'string', default: '200000' },
    queue: { type: 'string', default: 'postgres' },
    /** Flags for the crawler's node (NODE_OPTIONS), e.g. --max-semi-space-size=2. */
    'node-options': { type: 'string', default: '' },
    /** Run only one of the two benchmarks. */
    only: { type: 'string' },
    /** Stop once every room is stored instead of waiting for complexity measuring. */
    'stored-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const runs = Number(values.runs);

interface Sample {
  t: number;
  rss: number;
  rooms: number;
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

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

async function startSimfed(
  args: string[],
  dir: string,
): Promise<{ child: ChildProcess; manifest: Manifest }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/simfed/cli.ts', ...args, '--out', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('simfed ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simfed exited with ${code}`)));
  });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  return { child, manifest };
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
  rooms: number;
  expectedRooms: number;
  storedSeconds: number;
  roomsPerSecond: number;
  exitSeconds: number | null;
  peakRssMb: number;
  rssAtStoredMb: number;
  baselineRssMb: number;
  summary: unknown;
}

async function crawlOnce(options: {
  simArgs: string[];
  env: Record<string, string>;
  /** Stop the crawler when this returns true (after everything is stored). */
  stopWhenStored: boolean;
  bigServer?: boolean;
}): Promise<RunResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-bench-crawl-'));
  // As root, the embedded PostgreSQL runs as the postgres user, which must be able to reach its folder.
  await chmod(dir, 0o711);
  const pgPort = await freePort();
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, log: silentLogger });
  const sim = await startSimfed(options.simArgs, path.join(dir, 'sim'));
  const database = connectDatabase(pg.url, { max: 2 });
  const expectedRooms = storableRooms(sim.manifest);
  const started = performance.now();
  const crawler = spawn(
    process.execPath,
    [path.join(ROOT, 'apps/crawler/bin/atlas.mjs'), 'crawl', '--once', '--json'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        ...sim.manifest.env,
        DATABASE_URL: pg.url,
        ATLAS_DATA_DIR: path.join(dir, 'data'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'error',
        NODE_OPTIONS: values['node-options'] ?? '',
        ATLAS_CRAWL_MAX_PAGES: '10000',
        ATLAS_CRAWL_MAX_SECONDS: '3600',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  crawler.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let lastProgress = '';
  crawler.stderr?.on('data', (chunk: Buffer) => {
    const lines = chunk.toString().trim().split('\n');
    lastProgress = lines[lines.length - 1] ?? lastProgress;
  });
  const exited = new Promise<number | null>((resolve) => crawler.once('exit', (code) => resolve(code)));
  const samples: Sample[] = [];
  let storedAt: number | undefined;
  let baseline = 0;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const pid = crawler.pid;
    if (!pid) break;
    const [rss, rows] = await Promise.all([
      rssOf(pid),
      database.sql<{ n: string }[]>`select count(*) as n from rooms`.catch(() => [{ n: '0' }]),
    ]);
    const rooms = Number(rows[0]?.n ?? 0);
    const t = (performance.now() - started) / 1000;
    samples.push({ t, rss, rooms });
    // Memory before the first directory is read: the process, its libraries and connections.
    if (rooms === 0 && rss > 0) baseline = rss;
    if (storedAt === undefined && rooms >= expectedRooms) {
      storedAt = t;
      process.stderr.write(`  all ${rooms} rooms stored at ${t.toFixed(1)} s; ${lastProgress}\n`);
      if (options.stopWhenStored) await stop(crawler);
    }
    if (samples.length % 40 === 0)
      process.stderr.write(`  ${t.toFixed(0)} s: ${rooms} rooms, RSS ${mb(rss)} MB\n`);
  }
  const code = await exited;
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
  await database.close();
  await stop(sim.child);
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
    summary,
  };
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
  const redis = values.queue === 'redis' ? await startRedis() : undefined;
  const queueEnv: Record<string, string> = redis ? { REDIS_URL: redis.url } : {};
  const federation: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    process.stderr.write(
      `federation run ${run + 1}/${runs}: ${values.servers} servers, ${values.rooms} listings\n`,
    );
    federation.push(
      await crawlOnce({
        simArgs: [
          '--servers',
          String(values.servers),
          '--seed',
          `bench-${run}`,
          '--rooms',
          String(values.rooms),
        ],
        env: queueEnv,
        stopWhenStored: values['stored-only'] === true,
      }),
    );
    const r = federation[federation.length - 1];
    process.stderr.write(`  -> ${JSON.stringify({ ...r, summary: undefined })}\n`);
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
    process.stderr.write(`  -> ${JSON.stringify({ ...r, summary: undefined })}\n`);
  }
  await redis?.stop();
  const report = {
    machine,
    queue: values.queue,
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
            },
          },
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  const text = JSON.stringify(report, null, 2);
  if (values.out) await writeFile(values.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
}

await main();
