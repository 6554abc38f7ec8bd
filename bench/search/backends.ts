// The search backends the benchmark compares over one dataset: PostgreSQL's full-text index (in the
// dataset's database) and a real Meilisearch server started for the run. PostgreSQL's index is rebuilt
// from the rooms (`rebuildSearchIndex`), Meilisearch filled from it as the indexer does after a lost
// index; each is timed, and its memory read from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from '@atlas/shared/db';
import {
  createFailoverSearchIndex,
  createMeilisearchIndex,
  createPostgresSearchIndex,
  rebuildSearchIndex,
  type SearchIndex,
} from '@atlas/shared/search';
import { startMeilisearch, type TestMeilisearch } from '../../test/support/meilisearch.ts';
import { postmasterPid, round } from './measure.ts';

export const BACKENDS = ['postgres', 'meilisearch'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BenchBackend {
  name: BackendName;
  /** Environment for the API process (server.ts): Meilisearch's address and key, or nothing. */
  env: Record<string, string>;
  /** Seconds it took to make every room of the dataset searchable. */
  indexSeconds: number;
  /** The process whose CPU is the backend's (PostgreSQL's postmaster: its children count too). */
  pid: number;
  /** Rooms it indexed. */
  rooms: number;
  /** The backend's memory now (proportional set size, MiB: shared pages counted once). */
  memoryMb(): number;
  close(): Promise<void>;
}

/** Proportional set size of a process in MiB (0 when it is gone). */
function pssMb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The postmaster and every process it started (backends, checkpointer, WAL writer...). */
function postgresPss(postmaster: number): number {
  let total = pssMb(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[1]) === postmaster) total += pssMb(Number(entry));
    } catch {
      // Ended between the listing and the read.
    }
  }
  return total;
}

async function timedRebuild(
  database: Database,
  index: SearchIndex,
): Promise<{ indexSeconds: number; rooms: number }> {
  const started = performance.now();
  const result = await rebuildSearchIndex(database.sql, index, { batchSize: 1000 });
  const seconds = (performance.now() - started) / 1000;
  console.error(`${index.backend}: ${result.upserted} rooms indexed in ${seconds.toFixed(1)} s`);
  return { indexSeconds: round(seconds, 1), rooms: result.upserted };
}

/**
 * The backend, indexed from the dataset's rooms (PostgreSQL's index is rebuilt in place, the way
 * `atlas reindex` does it; Meilisearch starts empty).
 */
export async function openBackend(name: BackendName, database: Database): Promise<BenchBackend> {
  if (name === 'postgres') {
    const postmaster = await postmasterPid(database.sql);
    const index = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 });
    let indexed: { indexSeconds: number; rooms: number };
    try {
      await index.init();
      indexed = await timedRebuild(database, index);
    } finally {
      await index.close();
    }
    await database.sql`vacuum analyze room_search`;
    return {
      name,
      env: {},
      pid: postmaster,
      ...indexed,
      memoryMb: () => round(postgresPss(postmaster), 0),
      close: async () => {},
    };
  }
  const meili: TestMeilisearch = await startMeilisearch();
  try {
    // As `atlas start` keeps it: PostgreSQL's index written first, Meilisearch filled from it and
    // recorded as the index Atlas built (an API process searches Meilisearch only then).
    const index = createFailoverSearchIndex({
      primary: createMeilisearchIndex({ url: meili.url, key: meili.key, taskTimeoutMs: 600_000 }),
      fallback: createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 }),
      databaseUrl: database.url,
    });
    let indexed: { indexSeconds: number; rooms: number };
    try {
      await index.init();
      const started = performance.now();
      const rooms = (await index.recover?.()) ?? 0;
      const seconds = (performance.now() - started) / 1000;
      console.error(`meilisearch: ${rooms} rooms indexed in ${seconds.toFixed(1)} s`);
      indexed = { indexSeconds: round(seconds, 1), rooms };
    } finally {
      await index.close();
    }
    return {
      name,
      env: { MEILI_URL: meili.url, MEILI_KEY: meili.key },
      pid: meili.pid() ?? 0,
      ...indexed,
      memoryMb: () => round(pssMb(meili.pid() ?? 0), 0),
      close: () => meili.close(),
    };
  } catch (error) {
    await meili.close();
    throw error;
  }
}
