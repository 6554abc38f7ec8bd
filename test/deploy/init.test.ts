import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import { renderStack } from './support/render.ts';
import { createNetwork, type Network } from './support/sandbox.ts';
import { createStack, type TestStack } from './support/stack.ts';

describe('the init service', () => {
  let stackDir: string;
  let network: Network;
  let stack: TestStack;

  const psql = (database: string, sql: string) =>
    stack.run('postgres', {
      command: ['psql', '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atc', sql],
    });

  beforeAll(async () => {
    ({ dir: stackDir } = await renderStack(['--domain', 'example.test']));
    network = await createNetwork();
    stack = await createStack(stackDir, network);
    await stack.start('postgres');
    await waitFor(
      'PostgreSQL',
      async () => (await stack.run('postgres', { command: ['pg_isready', '-U', 'postgres'] })).code === 0,
    );
  });

  afterAll(async () => {
    await stack?.close();
    await network?.close();
    if (stackDir) await rm(stackDir, { recursive: true, force: true });
  });

  it('creates both databases with UTF8 and C collation, and can run again', async () => {
    for (let run = 0; run < 2; run++) {
      const init = await stack.run('init');
      expect(init.code, init.stdout).toBe(0);
      expect(init.stdout).toContain('databases synapse and atlas are ready');
    }
    const databases = await psql(
      'postgres',
      "select datname, pg_encoding_to_char(encoding), datcollate, datctype, pg_get_userbyid(datdba) from pg_database where datname in ('synapse', 'atlas') order by datname",
    );
    expect(databases.stdout).toContain('atlas|UTF8|C|C|atlas');
    expect(databases.stdout).toContain('synapse|UTF8|C|C|synapse');
  });

  it('refuses a database with another collation, and says what to do', async () => {
    await psql('postgres', 'drop database atlas');
    await psql(
      'postgres',
      "create database atlas template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'",
    );
    const init = await stack.run('init');
    expect(init.code).not.toBe(0);
    expect(init.stdout).toContain(
      'wrong encoding or collation (need UTF8 and C): atlas: encoding UTF8, collation C.UTF-8',
    );
    expect(init.stdout).toContain('Dump it, drop it');
  });
});
