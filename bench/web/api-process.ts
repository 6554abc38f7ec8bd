import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '../../test/support/ports.ts';

const ATLAS = path.join(import.meta.dirname, '../../apps/cli/bin/atlas.mjs');

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * `atlas api` over an existing, migrated database, started as an operator starts it: the command
 * line (the compiled CLI, its V8 flags), configured by the environment alone, so the search backend
 * is PostgreSQL with its answer cache and every other setting is its default, except the rate limit:
 * one client address sends the whole load, so `ATLAS_RATE_LIMIT=0` turns the per-address limit off.
 * The environment is built from nothing, so no setting of the shell (REDIS_URL, MEILI_URL...)
 * changes what is measured. `nodeFlags` go before the script (e.g. `--cpu-prof`).
 */
export async function startAtlasApi(databaseUrl: string, nodeFlags: string[] = []): Promise<ApiProcess> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'atlas-web-bench-api-'));
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, ATLAS, 'api'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      ATLAS_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      ATLAS_RATE_LIMIT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitFor('atlas api to answer /readyz', async () => (await fetch(`${url}/readyz`)).ok, 60_000, 200),
      exited.then(() => {
        throw new Error(`atlas api exited with ${child.exitCode ?? child.signalCode}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid ?? 0, stop };
}
