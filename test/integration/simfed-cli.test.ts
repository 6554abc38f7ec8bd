import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../simfed/model.ts';

const CLI = path.resolve('test/simfed/cli.ts');

function startCli(args: string[]): {
  child: ChildProcess;
  lines: AsyncIterableIterator<string>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  if (!child.stdout) throw new Error('no stdout');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => stderr };
}

async function nextLine(lines: AsyncIterableIterator<string>, stderr: () => string): Promise<string> {
  const next = await lines.next();
  if (next.done) throw new Error(`simfed exited early:\n${stderr()}`);
  return next.value;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm run simfed', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('writes the manifest, says when it is ready, applies changes on SIGUSR2 and stops on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'simfed-cli-'));
    dirs.push(dir);
    const { child, lines, stderr } = startCli([
      '--servers',
      '12',
      '--seed',
      'cli',
      '--out',
      dir,
      '--rooms',
      '200',
    ]);
    children.push(child);
    expect(await nextLine(lines, stderr)).toBe(`simfed ready ${path.join(dir, 'manifest.json')}`);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.servers).toHaveLength(12);
    expect(manifest.env.ATLAS_CA_FILE).toBe(path.join(dir, 'ca.pem'));
    expect((await stat(path.join(dir, 'atlas.key'))).mode & 0o077).toBe(0);
    expect(await readFile(path.join(dir, 'atlas.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');

    child.kill('SIGUSR2');
    const changed = await nextLine(lines, stderr);
    expect(changed).toMatch(/^simfed changed \{/);
    const summary = JSON.parse(changed.slice('simfed changed '.length)) as { addedServers: string[] };
    const after = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(after.servers.map((s) => s.name)).toEqual(expect.arrayContaining(summary.addedServers));
    expect(after.servers.length).toBe(12 + summary.addedServers.length);

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('refuses missing or bad options with usage and exit code 2', async () => {
    const { child, stderr } = startCli(['--servers', 'many', '--seed', '1']);
    children.push(child);
    expect(await exited(child)).toBe(2);
    expect(stderr()).toContain('--out');
  });
});
