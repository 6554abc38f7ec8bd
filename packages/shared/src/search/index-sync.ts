import type { Sql } from 'postgres';
import type { PgTimestamp } from '../db/timestamps.ts';
import { type Row, SELECT_COLUMNS, toDocument } from './postgres-rows.ts';
import type { RoomDocument } from './types.ts';

/**
 * What PostgreSQL records about a search index kept beside `room_search` (tables
 * `search_index_state` and `search_index_misses`, migration 0010), and `room_search` read back as
 * documents to refill it. See docs/adr/0203-meilisearch-with-postgresql-fallback.md.
 */

/** The creation time of the index Atlas last built in full, or null when it never did. */
export async function builtIndex(sql: Sql, indexUid: string): Promise<string | null> {
  const [row] = await sql<{ index_created_at: string }[]>`
    select index_created_at from search_index_state where index_uid = ${indexUid}`;
  return row?.index_created_at ?? null;
}

export async function recordBuiltIndex(sql: Sql, indexUid: string, createdAt: string): Promise<void> {
  await sql`
    insert into search_index_state (index_uid, index_created_at, rebuilt_at)
    values (${indexUid}, ${createdAt}, now())
    on conflict (index_uid) do update set index_created_at = excluded.index_created_at, rebuilt_at = now()`;
}

/** The index can no longer be trusted to hold what Atlas built (a rebuild failed half way). */
export async function forgetBuiltIndex(sql: Sql, indexUid: string): Promise<void> {
  await sql`delete from search_index_state where index_uid = ${indexUid}`;
}

/** These rooms' last write did not reach the index; each is pushed again once it answers. */
export async function recordMisses(sql: Sql, indexUid: string, roomIds: string[]): Promise<void> {
  if (roomIds.length === 0) return;
  await sql`
    insert into search_index_misses (index_uid, room_id, missed_at)
    select ${indexUid}, id, clock_timestamp() from unnest(${[...new Set(roomIds)]}::text[]) as id
    on conflict (index_uid, room_id) do update set missed_at = excluded.missed_at`;
}

export interface Misses {
  roomIds: string[];
  /** When they were read: a room missed again after this stays recorded when these are cleared. */
  readAt: PgTimestamp;
}

/** Up to `limit` missed rooms, after `after` in room id order. */
export async function readMisses(sql: Sql, indexUid: string, after: string, limit: number): Promise<Misses> {
  const rows = await sql<{ room_id: string; read_at: PgTimestamp }[]>`
    select room_id, clock_timestamp() as read_at from search_index_misses
    where index_uid = ${indexUid} and room_id > ${after}
    order by room_id limit ${limit}`;
  return { roomIds: rows.map((r) => r.room_id), readAt: rows[0]?.read_at ?? new Date() };
}

export async function countMisses(sql: Sql, indexUid: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from search_index_misses where index_uid = ${indexUid}`;
  return row?.n ?? 0;
}

/** Forgets misses that were pushed again: those of `roomIds` (every room when omitted) not missed since `readAt`. */
export async function clearMisses(
  sql: Sql,
  indexUid: string,
  readAt: PgTimestamp,
  roomIds?: string[],
): Promise<void> {
  if (roomIds) {
    await sql`
      delete from search_index_misses
      where index_uid = ${indexUid} and room_id = any(${roomIds}::text[]) and missed_at <= ${readAt}`;
  } else {
    await sql`delete from search_index_misses where index_uid = ${indexUid} and missed_at <= ${readAt}`;
  }
}

export async function databaseNow(sql: Sql): Promise<PgTimestamp> {
  const [row] = await sql<{ now: PgTimestamp }[]>`select clock_timestamp() as now`;
  return row?.now ?? new Date();
}

/** The documents `room_search` holds for these rooms (a room it does not hold is not searchable). */
export async function storedDocuments(sql: Sql, roomIds: string[]): Promise<RoomDocument[]> {
  if (roomIds.length === 0) return [];
  const rows = await sql<Row[]>`
    select ${sql.unsafe(SELECT_COLUMNS)} from room_search where room_id = any(${roomIds}::text[])`;
  return rows.map(toDocument);
}

/** Every document of `room_search`, in batches by room id. */
export async function* allStoredDocuments(sql: Sql, batchSize: number): AsyncGenerator<RoomDocument[]> {
  let after = '';
  for (;;) {
    const rows = await sql<Row[]>`
      select ${sql.unsafe(SELECT_COLUMNS)} from room_search
      where room_id > ${after} order by room_id limit ${batchSize}`;
    const last = rows[rows.length - 1];
    if (!last) return;
    after = last.room_id;
    yield rows.map(toDocument);
  }
}
