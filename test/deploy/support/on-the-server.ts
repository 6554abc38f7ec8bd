import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ScriptResult } from './render.ts';
import type { Network } from './sandbox.ts';

/** A deploy script running on the "server": its output so far, and its end. */
export interface ServerScript {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<ScriptResult>;
  /** Kills the script and every program it started in the foreground (a closed terminal). */
  kill(): Promise<void>;
}

/**
 * The command that runs `sh script args` with `resolvConf` as its /etc/resolv.conf (a mount of its
 * own, so nothing else on the machine sees it). Run it inside the stack's network.
 */
export function withResolver(resolvConf: string, script: string, args: string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    'mount --bind "$0" /etc/resolv.conf && exec "$@"',
    resolvConf,
    'sh',
    script,
    ...args,
  ];
}

/**
 * Runs a deploy script as the operator would on the server: in the stack's network (the
 * machine's own), with the stack's DNS (the test's stand-in, answering the public names) as its
 * resolver. Services it starts through `docker compose` are detached and outlive it, as
 * containers outlive the `docker compose` that started them.
 */
export async function startOnTheServer(
  network: Network,
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<ServerScript> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'atlas-server-'));
  const resolvConf = path.join(scratch, 'resolv.conf');
  await writeFile(resolvConf, 'nameserver 127.0.0.11\n');
  const child = spawn(
    'nsenter',
    [`--net=${network.nsPath}`, '--', ...withResolver(resolvConf, script, args)],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that kill() reaches what it runs in the foreground.
      detached: true,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const done = new Promise<ScriptResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      void rm(scratch, { recursive: true, force: true });
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    async kill() {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      await done;
    },
  };
}
