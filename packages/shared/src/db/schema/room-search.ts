import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/** PostgreSQL's full-text document type; drizzle has no column for it. */
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * The PostgreSQL search backend's documents: one row per searchable room, written only through
 * the `SearchIndex` contract (upsert, remove, rebuild), so both backends see the same documents.
 * `document` is the weighted tsvector (name and alias A, topic C, servers D) built with the
 * `atlas_search` text search configuration (simple + unaccent, migration 0001).
 */
export const roomSearch = pgTable(
  'room_search',
  {
    roomId: text('room_id').primaryKey(),
    name: text('name'),
    topic: text('topic'),
    canonicalAlias: text('canonical_alias'),
    avatarUrl: text('avatar_url'),
    /** Servers whose directories list the room. */
    servers: text('servers').array().notNull().default(sql`'{}'::text[]`),
    numJoinedMembers: integer('num_joined_members').notNull(),
    worldReadable: boolean('world_readable').notNull(),
    guestCanJoin: boolean('guest_can_join').notNull(),
    joinRule: text('join_rule').notNull(),
    roomType: text('room_type'),
    language: text('language'),
    complexity: real('complexity'),
    complexityEstimated: boolean('complexity_estimated').notNull().default(false),
    growth7d: integer('growth_7d').notNull().default(0),
    growth30d: integer('growth_30d').notNull().default(0),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    stale: boolean('stale').notNull().default(false),
    /** Normalised name, alias and alias localpart: an exact match on one of them ranks first. */
    exactKeys: text('exact_keys').array().notNull().default(sql`'{}'::text[]`),
    document: tsvector('document').notNull(),
    indexedAt: timestamp('indexed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('room_search_document_idx').using('gin', t.document),
    index('room_search_servers_idx').using('gin', t.servers),
    index('room_search_exact_idx').using('gin', t.exactKeys),
    // Keyset pagination for every sort: (sort key, room_id).
    index('room_search_members_idx').on(t.numJoinedMembers, t.roomId),
    index('room_search_growth_7d_idx').on(t.growth7d, t.roomId),
    index('room_search_growth_30d_idx').on(t.growth30d, t.roomId),
    index('room_search_first_seen_idx').on(t.firstSeenAt, t.roomId),
    index('room_search_complexity_idx').on(t.complexity, t.roomId),
  ],
);

export type RoomSearchRow = typeof roomSearch.$inferSelect;
