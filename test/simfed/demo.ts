import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../support/ports.ts';
import { startSimFed } from './simfed.ts';

const USAGE = `Usage: npm run demo [-- --servers N --seed S --port P --keep]

Starts a simulated Matrix federation and Atlas together, offline, so you can watch Atlas fill its
directory. Atlas's data goes to .cache/demo (wiped at start unless --keep). Ctrl-C stops both.

  --servers N   simulated homeservers (default 50)
  --seed S      which federation (default "demo")
  --port P      Atlas's HTTP port (default $PORT or 8080)
  --keep        keep .cache/demo from the last run`;

const ROOT = path.resolve(import.meta.dirname, '../..');
const DATA_DIR = path.join(ROOT, '.cache/demo');

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Unref'd, so a pending poll never keeps the demo alive after it stopped. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

async function main(): Promise<number> {
  let values: { servers?: string; seed?: string; port?: string; keep?: boolean; help?: boolean };
  try {
    values = parseArgs({
      options: {
        servers: { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const servers = Number(values.servers ?? 50);
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(servers) || servers < 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`demo: --servers and --port take positive integers\n\n${USAGE}\n`);
    return 2;
  }
  if (!values.keep) await rm(DATA_DIR, { recursive: true, force: true });
  await mkdir(DATA_DIR, { recursive: true });

  process.stdout.write(`Starting a simulated federation of ${servers} servers...\n`);
  const sim = await startSimFed({ servers, seed: values.seed ?? 'demo', dir: path.join(DATA_DIR, 'simfed') });
  const totals = sim.manifest.totals;
  const logFile = path.join(DATA_DIR, 'atlas.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const env = {
    ...process.env,
    ...sim.env,
    ATLAS_DATA_DIR: DATA_DIR,
    PORT: String(port),
    ATLAS_EMBEDDED_PG_PORT: String(await freePort()),
  };
  const atlas = spawn(process.execPath, [path.join(ROOT, 'apps/cli/bin/atlas.mjs'), 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  atlas.stdout?.pipe(log);
  atlas.stderr?.pipe(log);

  const base = `http://localhost:${port}`;
  process.stdout.write(
    [
      `  federation: ${totals.servers} servers (${totals.reachable} reachable, ${totals.publishing} publishing), ` +
        `${totals.indexable_rooms} rooms to find, in ${sim.network}`,
      `  manifest:   ${sim.manifestPath}`,
      `  Atlas:      ${base} as ${sim.atlas.serverName}, data in ${DATA_DIR}, log in ${logFile}`,
      'Waiting for Atlas...',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    process.stdout.write('\nStopping Atlas and the simulated federation...\n');
    if (atlas.exitCode === null && atlas.signalCode === null) atlas.kill('SIGTERM');
    if (!(await waitForExit(atlas, 30_000))) atlas.kill('SIGKILL');
    await sim.close();
    log.end();
    return code;
  };

  const exited = new Promise<number>((resolve) => {
    atlas.once('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`demo: Atlas exited (${signal ?? `code ${code}`}); see ${logFile}\n`);
        resolve(1);
      }
    });
  });
  const interrupted = new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve(0));
    process.once('SIGTERM', () => resolve(0));
  });

  const watch = (async () => {
    for (;;) {
      try {
        await fetchJson(`${base}/healthz`);
        break;
      } catch {
        await sleep(500);
      }
      if (stopping) return;
    }
    process.stdout.write(
      [
        'Atlas is up. Look around:',
        `  ${base}/                      the directory in a browser`,
        `  curl ${base}/api/v1/rooms`,
        `  curl ${base}/api/v1/servers`,
        `  curl ${base}/api/v1/stats`,
        `  ATLAS_DATA_DIR=${DATA_DIR} npm run atlas -- export rooms   (once the demo is stopped)`,
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    let last = '';
    while (!stopping) {
      try {
        const stats = (await fetchJson(`${base}/api/v1/stats`)) as {
          servers?: { total?: number; online?: number };
          rooms?: { known?: number };
        };
        const line = `  found ${stats.servers?.total ?? '?'} servers (${stats.servers?.online ?? '?'} online), ${stats.rooms?.known ?? '?'} rooms`;
        if (line !== last) process.stdout.write(`${line}\n`);
        last = line;
      } catch {
        // Stats are a nicety; the directory works without them.
      }
      await sleep(10_000);
    }
  })();

  const code = await Promise.race([exited, interrupted]);
  void watch.catch(() => {});
  return stop(code);
}

process.exitCode = await main();
