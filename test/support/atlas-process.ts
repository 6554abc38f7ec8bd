import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './ports.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** `npm start` without npm: the Quick start's script. */
export const START_SCRIPT = path.join(REPO_ROOT, 'scripts/start.sh');

export interface RunningAtlas {
  child: ChildProcess;
  /** The last 20,000 characters it wrote (stdout and stderr). */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `atlas start` as the Quick start runs it (scripts/start.sh), with only these variables and PATH
 * and HOME in its environment.
 */
export function startAtlas(env: Record<string, string>): RunningAtlas {
  const child = spawn('sh', [START_SCRIPT], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child);
}

/** The `atlas` command line, run by Node directly (the compose roles' entry point). */
export const CLI = path.join(REPO_ROOT, 'apps/cli/bin/atlas.mjs');

/**
 * `atlas <args>` as a long-running process (`atlas crawler`, `atlas api`), with only these variables
 * and PATH and HOME in its environment.
 */
export function startAtlasCommand(
  args: string[],
  env: Record<string, string>,
  options: { keepOutput?: number } = {},
): RunningAtlas {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child, options.keepOutput);
}

/** Collects what the process writes: its last `keep` characters (20,000 by default). */
function watch(child: ChildProcess, keep = 20_000): RunningAtlas {
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-keep);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Throws with Atlas's output when it exited (for waits that poll it). */
export function assertRunning(atlas: RunningAtlas): void {
  if (atlas.child.exitCode !== null) throw new Error(`atlas start exited:\n${atlas.output()}`);
}

/** Waits for /healthz; if Atlas exited instead, the timeout error carries its output. */
export function untilHealthy(atlas: RunningAtlas, base: string): Promise<void> {
  return waitFor(
    'Atlas to answer /healthz',
    async () => {
      assertRunning(atlas);
      return (await fetch(`${base}/healthz`)).ok;
    },
    120_000,
    500,
  );
}

/** Waits until the directory's stats count at least `rooms` searchable rooms (the crawl has filled it). */
export function untilSearchable(
  atlas: RunningAtlas,
  base: string,
  rooms: number,
  timeoutMs = 240_000,
): Promise<void> {
  return waitFor(
    'the crawl to fill the directory',
    async () => {
      assertRunning(atlas);
      const stats = await getJson<{ rooms: { searchable: number } }>(`${base}/api/v1/stats`);
      return stats.rooms.searchable >= rooms;
    },
    timeoutMs,
    // Slowly: the API's per-client rate limit applies to a test as to anyone.
    2_000,
  );
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

/** Kills Atlas if it still runs, and waits for it to be gone. */
export async function killAtlas(atlas: RunningAtlas | undefined): Promise<void> {
  if (atlas && atlas.child.exitCode === null && atlas.child.signalCode === null) {
    atlas.child.kill('SIGKILL');
    await atlas.exited;
  }
}
