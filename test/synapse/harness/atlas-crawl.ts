import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './venv.ts';

const CLI = path.join(REPO_ROOT, 'apps/cli/bin/atlas.mjs');

export interface CrawlResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (`--json` prints a summary there), or undefined. */
  summary: unknown;
}

/**
 * Runs `atlas crawl --once --json [--seeds ...]` as a subprocess, the way an operator runs it, with
 * exactly the environment given (plus PATH and HOME). Throws with the tail of stderr when it does
 * not exit 0 within `timeoutMs`.
 */
export async function runAtlasCrawl(options: {
  env: Record<string, string>;
  seeds?: string[];
  timeoutMs?: number;
  /** Where to keep the run's stderr and stdout (for a failing test to show), appended. */
  logFile?: string;
}): Promise<CrawlResult> {
  const args = [CLI, 'crawl', '--once', '--json'];
  if (options.seeds?.length) args.push('--seeds', options.seeds.join(','));
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const timeoutMs = options.timeoutMs ?? 240_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  if (options.logFile) {
    await appendFile(
      options.logFile,
      `$ atlas ${args.slice(1).join(' ')} (exit ${exitCode})\n${stderr}\n--- stdout ---\n${stdout}\n`,
    );
  }
  if (timedOut || exitCode !== 0) {
    const tail = stderr.split('\n').slice(-60).join('\n');
    throw new Error(
      `atlas ${args.slice(1).join(' ')} ${timedOut ? `did not finish within ${timeoutMs / 1000} s` : `exited with ${exitCode}`}\n` +
        `--- stdout ---\n${stdout.slice(-4000)}\n--- stderr (tail) ---\n${tail}`,
    );
  }
  let summary: unknown;
  try {
    summary = JSON.parse(stdout);
  } catch {
    summary = undefined;
  }
  return { exitCode, stdout, stderr, summary };
}
