import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectDatabase, type Database, migrateDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { createPostgresSearchIndex, rebuildSearchIndex } from '@atlas/shared/search';
import { freePort } from '../../test/support/ports.ts';
import { generateDataset } from './dataset.ts';

export interface DatasetSize {
  rooms: number;
  servers: number;
}

/** The dataset's size on the command line (`node:util` parseArgs), the same for every benchmark. */
export const DATASET_SIZE_OPTIONS = {
  rooms: { type: 'string', default: '100000' },
  servers: { type: 'string', default: '5000' },
} as const;

export function datasetSize(values: { rooms: string; servers: string }): DatasetSize {
  return { rooms: Number(values.rooms), servers: Number(values.servers) };
}

/**
 * Migrates the database and, when its search index is empty, generates the benchmark's dataset and
 * indexes it with `rebuildSearchIndex`, as the indexer would (minutes for 100,000 rooms; a kept
 * database skips it).
 */
export async function prepareDataset(database: Database, size: DatasetSize): Promise<void> {
  await migrateDatabase(database);
  const [row] = await database.sql<{ n: string }[]>`select count(*) as n from room_search`;
  if (Number(row?.n ?? 0) > 0) return;
  const started = Date.now();
  await generateDataset(database.sql, size);
  const index = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 });
  const result = await rebuildSearchIndex(database.sql, index, { batchSize: 1000 });
  await index.close();
  await database.sql`vacuum analyze`;
  console.error(
    `dataset: ${result.upserted} rooms indexed in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

/**
 * The benchmark's database, prepared: the one at `databaseUrl` (a kept one, see database.ts) or a
 * throwaway embedded PostgreSQL that `close()` removes.
 */
export async function openDatasetDatabase(
  options: DatasetSize & { databaseUrl?: string | undefined },
): Promise<{ url: string; database: Database; close(): Promise<void> }> {
  let dataDir: string | undefined;
  let stopPg: (() => Promise<void>) | undefined;
  let url = options.databaseUrl;
  if (!url) {
    dataDir = await mkdtemp(path.join(tmpdir(), 'atlas-bench-'));
    const pg = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      log: silentLogger,
      database: 'bench',
    });
    stopPg = pg.stop;
    url = pg.url;
  }
  const database = connectDatabase(url, { max: 4 });
  const close = async () => {
    await database.close();
    await stopPg?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await prepareDataset(database, options);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, database, close };
}
