import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './ports.ts';

/** The launcher beside the repository (see ../shared/bin/README-meilisearch.md). */
export const MEILISEARCH_LAUNCHER = path.resolve(
  fileURLToPath(new URL('../../', import.meta.url)),
  '../shared/bin/meilisearch',
);

export interface TestMeilisearch {
  url: string;
  /** The master key: clients send it as `Authorization: Bearer <key>`. */
  key: string;
  /** Stops the server (SIGTERM, or SIGKILL to cut it off as a crash would); its data stays. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port, with its data, or with a fresh data folder (`lost`). */
  start(options?: { lost?: boolean }): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
  /** The server's process id while it runs (benchmarks read its memory). */
  pid(): number | undefined;
}

let binary: string | undefined;

/**
 * The binary the launcher unpacks, so that the process started is the server itself (a signal
 * reaches it, not a shell). Fails with the fix when the launcher is missing.
 */
export function meilisearchBinary(): string {
  binary ??= unpackedBinary();
  return binary;
}

function unpackedBinary(): string {
  if (!existsSync(MEILISEARCH_LAUNCHER)) {
    throw new Error(
      `no Meilisearch at ${MEILISEARCH_LAUNCHER}: the search tests run against a real Meilisearch 1.50.0; ` +
        'put its launcher and meilisearch-1.50.0.xz in ../shared/bin/ beside this repository (see README-meilisearch.md there)',
    );
  }
  const probe = spawnSync('sh', [MEILISEARCH_LAUNCHER, '--path'], { encoding: 'utf8' });
  const unpacked = probe.stdout.trim();
  if (probe.status !== 0 || !unpacked) {
    throw new Error(
      `${MEILISEARCH_LAUNCHER} --path failed: ${probe.stderr.trim() || `exit ${probe.status}`}`,
    );
  }
  return unpacked;
}

/**
 * A real Meilisearch on a free loopback port, with a fresh data folder and a master key of its own.
 * `stop` and `start` let a test take it away and bring it back (with or without its data).
 */
export async function startMeilisearch(): Promise<TestMeilisearch> {
  const program = meilisearchBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-meili-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const key = randomBytes(24).toString('hex');
  let child: ChildProcess | undefined;
  let generation = 0;

  const healthy = async () => {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      return response.ok;
    } catch {
      return false;
    }
  };

  async function start(options: { lost?: boolean } = {}): Promise<void> {
    if (child) throw new Error('Meilisearch is already running');
    if (options.lost) generation++;
    const data = path.join(dir, `data-${generation}`);
    const server = spawn(
      program,
      [
        '--db-path',
        path.join(data, 'db'),
        '--dump-dir',
        path.join(data, 'dumps'),
        '--snapshot-dir',
        path.join(data, 'snapshots'),
        '--http-addr',
        `127.0.0.1:${port}`,
        `--master-key=${key}`,
        '--env=development',
        '--no-analytics',
        '--log-level',
        'WARN',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child = server;
    server.once('exit', () => {
      if (child === server) child = undefined;
    });
    let exited = false;
    const exit = new Promise<never>((_, reject) =>
      server.once('exit', (code, signal) => {
        exited = true;
        reject(new Error(`Meilisearch exited (${signal ?? code}): ${stderr.trim()}`));
      }),
    );
    exit.catch(() => {});
    try {
      await Promise.race([waitFor('Meilisearch', async () => exited || (await healthy())), exit]);
    } catch (error) {
      server.kill('SIGKILL');
      throw error;
    }
  }

  async function stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const server = child;
    if (!server) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill(signal);
    await exited;
  }

  await start();
  return {
    url,
    key,
    stop,
    start,
    pid: () => child?.pid,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
