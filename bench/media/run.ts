// Avatar benchmark: what the first request for an avatar costs (fetched over federation media from a
// simulated origin on this machine, decoded, re-encoded, stored), and serving cached avatars at a
// fixed 500 requests/s (evenly paced, bench/search/paced-load.ts), served by `atlas api` itself.
// Usage: npm run bench:media -- [--avatars 200] [--runs 3] [--duration 30] [--rate 500] [--control]
//   [--quiet-cores N] [--busy-cores N] [--max-runs 10] [--fresh-api] [--api-cpu-prof dir]
// Run under `flock /tmp/atlas-bench.lock` on a shared machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase, migrateDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { startSimFed } from '../../test/simfed/simfed.ts';
import { freePort } from '../../test/support/ports.ts';
import {
  loadAverages,
  type Measure,
  measureLoad,
  median,
  percentile,
  postmasterPid,
  processCpuMs,
  quietMachine,
  round,
  settle,
  summariseRuns,
} from '../search/measure.ts';
import { pacedLoad } from '../search/paced-load.ts';
import { type ApiRunStats, apiRunStats } from '../web/api-metrics.ts';

const { values } = parseArgs({
  options: {
    avatars: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '30' },
    rate: { type: 'string', default: '500' },
    /**
     * Also loads `/healthz` the same way after each run: the floor of this machine and this HTTP
     * stack at that moment, to tell the avatar path's latency from the machine's.
     */
    control: { type: 'boolean', default: false },
    /** Waits before each run until the machine uses fewer cores than this (0: does not wait). */
    'quiet-cores': { type: 'string', default: '0' },
    /**
     * A run during which other work took more cores than this is run again (up to --max-runs) and
     * left out of the medians, but reported (0: every run counts).
     */
    'busy-cores': { type: 'string', default: '0' },
    'max-runs': { type: 'string', default: '10' },
    /** Writes the API process's V8 CPU profile (node --cpu-prof) into this folder. */
    'api-cpu-prof': { type: 'string' },
    /** Serve the cached runs from a new API process over the same cache (as after a restart). */
    'fresh-api': { type: 'boolean', default: false },
    /** node flags for the API process, space-separated (e.g. --trace-gc). */
    'api-node-flags': { type: 'string', default: '' },
  },
});
const avatarCount = Number(values.avatars);
const runs = Number(values.runs);
const duration = Number(values.duration);
const rate = Number(values.rate);

const CLI = path.join(import.meta.dirname, '../../apps/cli/bin/atlas.mjs');

async function stopApi(process: ChildProcess): Promise<void> {
  if (process.exitCode !== null || process.signalCode !== null) return;
  const exited = new Promise((resolve) => process.once('exit', resolve));
  process.kill('SIGTERM');
  await exited;
}

function rssMb(pid: number): number {
  const kib = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kib / 1024);
}

const work = await mkdtemp(path.join(tmpdir(), 'atlas-media-bench-'));
const sim = await startSimFed({
  servers: 6,
  seed: 'media-bench',
  dir: path.join(work, 'sim'),
  rooms: avatarCount * 2,
});
const pg = await startEmbeddedPostgres({
  dataDir: path.join(work, 'pg'),
  port: await freePort(),
  log: silentLogger,
  database: 'bench',
});
let child: ChildProcess | undefined;
try {
  // Avatars on the servers with federation media, one per room.
  const servers = new Set(
    sim.manifest.servers.filter((s) => s.reachable && s.media_api !== 'legacy').map((s) => s.name),
  );
  const rooms = [
    ...new Map(
      sim.manifest.servers
        .filter((s) => servers.has(s.name))
        .flatMap((s) => s.rooms.map((r) => [r.room_id, s.name] as const)),
    ),
  ].slice(0, avatarCount);
  if (rooms.length < avatarCount) throw new Error(`only ${rooms.length} rooms for ${avatarCount} avatars`);
  const { avatarsSet } = await sim.mutate({
    setAvatars: rooms.map(([roomId, server]) => ({ roomId, media: 'png' as const, server })),
  });
  const database = connectDatabase(pg.url, { max: 2 });
  await migrateDatabase(database);
  for (const { roomId, avatarUrl } of avatarsSet) {
    await database.sql`insert into rooms (room_id, name, avatar_url, num_joined_members)
      values (${roomId}, 'Bench room', ${avatarUrl}, 10)`;
  }
  // PostgreSQL's postmaster, so each run's CPU can be told from other work on the machine.
  const pgPid = await postmasterPid(database.sql);
  await database.close();
  const paths = avatarsSet.map(({ avatarUrl }) => {
    const [, server = '', id = ''] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(avatarUrl) ?? [];
    return `/media/avatar/${encodeURIComponent(server)}/${id}`;
  });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // `atlas api` itself (the compiled CLI, its V8 settings), over the benchmark's database, serving
  // Atlas's key over TLS on the simulated federation's Atlas port.
  const startApi = async (): Promise<ChildProcess> => {
    const started = spawn(
      process.execPath,
      [
        ...(values['api-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['api-cpu-prof']}`] : []),
        ...(values['api-node-flags'] ?? '').split(' ').filter(Boolean),
        CLI,
        'api',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          ...sim.env,
          DATABASE_URL: pg.url,
          ATLAS_DATA_DIR: path.join(work, 'data'),
          HOST: '127.0.0.1',
          PORT: String(port),
          // One client address sends everything here.
          ATLAS_RATE_LIMIT: '0',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (started.exitCode !== null) throw new Error(`atlas api exited with ${started.exitCode}`);
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return started;
      if (Date.now() > deadline) throw new Error('atlas api did not answer /healthz within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  child = await startApi();
  let api = child;
  let pid = api.pid ?? 0;
  const loadBefore = loadAverages();

  // First requests, one at a time: each is a signed federation request to its origin, the
  // multipart answer, a decode and re-encode with sharp, and a write to the cache.
  const first: number[] = [];
  const rssBefore = rssMb(pid);
  const cpuBefore = processCpuMs(pid);
  for (const avatar of paths) {
    const started = performance.now();
    const response = await fetch(`${base}${avatar}`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${avatar} answered ${response.status}`);
    first.push(performance.now() - started);
  }
  const firstCpu = (processCpuMs(pid) - cpuBefore) / paths.length;
  first.sort((a, b) => a - b);
  const firstFetch = {
    avatars: paths.length,
    p50: round(percentile(first, 50)),
    p90: round(percentile(first, 90)),
    p99: round(percentile(first, 99)),
    max: round(first.at(-1) ?? Number.NaN),
    apiCpuMsPerAvatar: round(firstCpu),
    apiRssMb: [rssBefore, rssMb(pid)],
  };
  console.error('first fetch:', firstFetch);

  if (values['fresh-api']) {
    // The cached runs from an API process that has fetched nothing: as after a restart.
    await stopApi(api);
    child = await startApi();
    api = child;
    pid = api.pid ?? 0;
  }
  // Cached: a warm-up, then the paced runs, each followed by the same load on /healthz (with
  // --control): the floor of this machine, this HTTP stack and the load generator at that moment.
  await pacedLoad(base, paths, 200, 5);
  await settle(pid);
  const pids = { api: pid, postgres: pgPid };
  const quietCores = Number(values['quiet-cores']);
  const busyCores = Number(values['busy-cores']);
  type Run = Measure & { startedAt: string; busy: boolean; api: ApiRunStats; control?: Measure };
  const measured: Run[] = [];
  const counted = () => measured.filter((m) => !m.busy).length;
  while (counted() < runs && measured.length < (busyCores > 0 ? Number(values['max-runs']) : runs)) {
    const quiet = quietCores > 0 ? await quietMachine(quietCores) : undefined;
    const inside = await apiRunStats(base);
    const startedAt = new Date().toISOString();
    const measure = await measureLoad(rate, pids, () => pacedLoad(base, paths, rate, duration));
    const stats = await inside.finish();
    const control = values.control
      ? await measureLoad(rate, pids, () => pacedLoad(base, ['/healthz'], rate, duration))
      : undefined;
    // The criterion is the avatar run's; each control run says what other work took during it.
    const busy = busyCores > 0 && (measure.otherCores ?? 0) > busyCores;
    measured.push({
      startedAt,
      ...measure,
      busy,
      api: stats,
      ...(control ? { control } : {}),
      ...(quiet ? { quietBefore: quiet } : {}),
    });
    console.error(`run ${measured.length}${busy ? ' (machine busy: not counted)' : ''}:`, {
      startedAt,
      ...measure,
      gc: [stats.gcCount, stats.gcMs, stats.gcOver10Ms],
    });
    if (control) console.error(`  control (/healthz):`, control);
  }
  const counting = measured.filter((m) => !m.busy);
  // The floor from the control runs that other work left as quiet as the counted runs.
  const controls = measured.flatMap((m) =>
    m.control && (busyCores === 0 || (m.control.otherCores ?? 0) <= busyCores) ? [m.control] : [],
  );
  console.log(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpu: cpus()[0]?.model,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          node: process.version,
        },
        loadavgBefore: loadBefore,
        loadavgAfter: loadAverages(),
        firstFetch,
        cached: {
          ...summariseRuns(`cached avatars @${rate}/s`, counting),
          seconds: duration,
          apiLoopDelayP99Ms: round(median(counting.map((m) => m.api.loopDelayP99Ms))),
          apiLoopDelayMaxMs: Math.max(...counting.map((m) => m.api.loopDelayMaxMs)),
          apiGcOver10Ms: counting.reduce((total, m) => total + m.api.gcOver10Ms, 0),
          apiRssMb: rssMb(pid),
        },
        ...(controls.length > 0
          ? { control: summariseRuns(`/healthz @${rate}/s, quiet runs only`, controls) }
          : {}),
        runs: measured,
      },
      null,
      2,
    ),
  );
} finally {
  if (child) await stopApi(child);
  await sim.close();
  await pg.stop();
  await rm(work, { recursive: true, force: true });
}
