import type { Sql } from 'postgres';
import type { Logger } from '../log/index.ts';
import { type IndexDecision, loadIndexDecisions } from './documents.ts';
import type { RoomDocument, SearchIndex } from './types.ts';

/** One indexer at a time across every process: two interleaved runs could leave an older document last. */
const INDEXER_LOCK = 'atlas-search-indexer';
const DEFAULT_BATCH = 500;

export interface IndexRunResult {
  /** false when another process held the indexer lock; nothing was done. */
  ran: boolean;
  upserted: number;
  removed: number;
}

export interface IndexOptions {
  batchSize?: number;
  log?: Logger;
}

async function withIndexerLock<T>(sql: Sql, work: () => Promise<T>): Promise<T | undefined> {
  const reserved = await sql.reserve();
  try {
    const [row] = await reserved<{ locked: boolean }[]>`
      select pg_try_advisory_lock(hashtext(${INDEXER_LOCK})) as locked`;
    if (!row?.locked) return undefined;
    try {
      return await work();
    } finally {
      await reserved`select pg_advisory_unlock(hashtext(${INDEXER_LOCK}))`.catch(() => {});
    }
  } finally {
    reserved.release();
  }
}

/**
 * Records that these versions are in the index. The version read before indexing is written, not
 * the current one: a room changed meanwhile stays "changed" and the next run picks it up, so a
 * crash at any point loses nothing.
 */
async function markIndexed(sql: Sql, decisions: IndexDecision[]): Promise<void> {
  if (decisions.length === 0) return;
  await sql`
    update rooms r set indexed_version = d.version, language = d.language
    from unnest(
      ${decisions.map((d) => d.roomId)}::text[],
      ${decisions.map((d) => d.version)}::bigint[],
      ${decisions.map((d) => d.document?.language ?? null)}::text[]
    ) as d(room_id, version, language)
    where r.room_id = d.room_id`;
}

async function push(
  index: SearchIndex,
  decisions: IndexDecision[],
): Promise<{ upserted: number; removed: number }> {
  const documents = decisions.flatMap((d) => (d.document ? [d.document] : []));
  const removals = decisions.flatMap((d) => (d.document ? [] : [d.roomId]));
  await index.upsert(documents);
  await index.remove(removals);
  return { upserted: documents.length, removed: removals.length };
}

/**
 * First, what a backend lost is put back (Meilisearch restarted without its data, or writes it
 * missed while down), so that the run's changes land on a whole index. When the backend does not
 * answer, the run goes on: its writes are recorded as missed, and put back by a later run.
 */
async function recoverLostDocuments(index: SearchIndex, log: Logger | undefined): Promise<void> {
  if (!index.recover) return;
  try {
    const pushed = await index.recover();
    if (pushed > 0) log?.info({ pushed }, 'search index recovered what it had lost');
  } catch (error) {
    log?.warn({ err: error }, 'the search index cannot be checked now; it is recovered on a later run');
  }
}

/**
 * Pushes every room whose `version` moved since it was last indexed, in batches, until none is
 * left. Run by the index queue; safe to run anywhere at any time.
 */
export async function indexChangedRooms(
  sql: Sql,
  index: SearchIndex,
  options: IndexOptions = {},
): Promise<IndexRunResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const result = await withIndexerLock(sql, async () => {
    await recoverLostDocuments(index, options.log);
    let upserted = 0;
    let removed = 0;
    // Keyset over room ids, so a room that keeps changing cannot keep one run going forever.
    let after = '';
    for (;;) {
      const changed = await sql<{ room_id: string }[]>`
        select room_id from rooms
        where version <> indexed_version and room_id > ${after}
        order by room_id limit ${batchSize}`;
      const lastRow = changed[changed.length - 1];
      if (!lastRow) break;
      after = lastRow.room_id;
      const decisions = await loadIndexDecisions(
        sql,
        changed.map((r) => r.room_id),
      );
      const counts = await push(index, decisions);
      await markIndexed(sql, decisions);
      upserted += counts.upserted;
      removed += counts.removed;
      options.log?.debug({ batch: decisions.length, ...counts }, 'indexed changed rooms');
    }
    return { ran: true, upserted, removed };
  });
  return result ?? { ran: false, upserted: 0, removed: 0 };
}

/**
 * Rebuilds the whole index from the rooms table (`atlas reindex`). Readers keep the old index
 * until the new one is complete (a transaction on PostgreSQL, an index swap on Meilisearch).
 */
export async function rebuildSearchIndex(
  sql: Sql,
  index: SearchIndex,
  options: IndexOptions = {},
): Promise<IndexRunResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const result = await withIndexerLock(sql, async () => {
    const seen: IndexDecision[] = [];
    let removed = 0;
    async function* documents(): AsyncGenerator<RoomDocument[]> {
      let after = '';
      for (;;) {
        const ids = await sql<{ room_id: string }[]>`
          select room_id from rooms where room_id > ${after} order by room_id limit ${batchSize}`;
        const lastRow = ids[ids.length - 1];
        if (!lastRow) return;
        after = lastRow.room_id;
        const decisions = await loadIndexDecisions(
          sql,
          ids.map((r) => r.room_id),
        );
        seen.push(...decisions);
        removed += decisions.filter((d) => !d.document).length;
        options.log?.debug({ after, batch: decisions.length }, 'rebuilding the search index');
        yield decisions.flatMap((d) => (d.document ? [d.document] : []));
      }
    }
    const upserted = await index.rebuild(documents());
    for (let i = 0; i < seen.length; i += batchSize) await markIndexed(sql, seen.slice(i, i + batchSize));
    return { ran: true, upserted, removed };
  });
  return result ?? { ran: false, upserted: 0, removed: 0 };
}
