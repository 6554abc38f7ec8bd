import { sql } from 'drizzle-orm';
import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A search index kept beside PostgreSQL's own `room_search` (Meilisearch), and which one Atlas
 * built: `index_created_at` is Meilisearch's creation time of the index Atlas last filled in full
 * (a rebuild swaps a fresh index in). An index with another creation time, or none, was lost (a
 * data folder deleted, an index dropped and made again by a write), and is rebuilt from
 * `room_search`. See docs/adr/0203-meilisearch-with-postgresql-fallback.md.
 */
export const searchIndexState = pgTable('search_index_state', {
  indexUid: text('index_uid').primaryKey(),
  indexCreatedAt: text('index_created_at').notNull(),
  rebuiltAt: timestamp('rebuilt_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Rooms whose last write reached `room_search` but not that index (it was down): the indexer
 * pushes their documents from `room_search` again once it answers, and deletes the rows it pushed
 * (those not missed again meanwhile, by `missed_at`).
 */
export const searchIndexMisses = pgTable(
  'search_index_misses',
  {
    indexUid: text('index_uid').notNull(),
    roomId: text('room_id').notNull(),
    missedAt: timestamp('missed_at', { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.indexUid, t.roomId] })],
);
