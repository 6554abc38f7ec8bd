import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';

async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const code = await main(argv, { env, stdout, stderr });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('atlas command line', () => {
  // Listing loads every command's module (the HTTP app, the search backend): slow on a busy machine.
  it('lists its commands', { timeout: 60_000 }, async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'crawl', 'export', 'migrate', 'api', 'crawler']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect((await run([])).code).toBe(2);
  });

  it('names an unknown command', async () => {
    const result = await run(['crawll']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "crawll"');
  });

  it('explains usage errors with the fix', async () => {
    const noOnce = await run(['crawl']);
    expect(noOnce.code).toBe(2);
    expect(noOnce.stderr).toContain('needs --once');
    const badSeeds = await run(['crawl', '--once', '--seeds', 'good.example,not a name']);
    expect(badSeeds.code).toBe(2);
    expect(badSeeds.stderr).toContain('not valid: not a name');
    const badFlag = await run(['crawl', '--once', '--fast']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("'--fast'");
    const exportWhat = await run(['export']);
    expect(exportWhat.code).toBe(2);
    expect(exportWhat.stderr).toContain('atlas export rooms');
  });

  it('stops on a bad setting with the variable named (exit 78)', async () => {
    const result = await run(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('DATABASE_URL');
  });

  it('prints each command’s help without touching the environment', async () => {
    const result = await run(['crawl', '--help'], { DATABASE_URL: 'mysql://nope' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: atlas crawl --once');
  });
});
