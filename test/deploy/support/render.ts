import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the deploy scripts with sh, as an operator would. */
export function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...options.env },
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A program that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Renders the stack with deploy/setup.sh (--no-start) into a new temporary folder. */
export async function renderStack(args: string[]): Promise<{ dir: string; result: ScriptResult }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-stack-'));
  const result = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), [...args, '--no-start', '--dir', dir]);
  if (result.code !== 0) {
    throw new Error(`setup.sh failed (${result.code}):\n${result.stderr}${result.stdout}`);
  }
  return { dir, result };
}
