import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Popularity tiers, as lower bounds on members, biggest rooms first. Each tier has its own partial
 * GIN index on `document`, so a search that wants the most popular matches reads the top tiers'
 * small posting lists and goes down only while it has too few (ADR 0202). Tiers grow about
 * threefold, so the last tier read holds at most a few times what was needed. The query must
 * repeat these conditions literally for PostgreSQL to use the partial indexes.
 */
export const MEMBER_TIERS = [1000, 300, 100, 30, 10, 3, 0] as const;

/** The members condition of tier `i` (see MEMBER_TIERS), on the table or an alias of it. */
export function memberTierCondition(i: number, alias?: string): string {
  const column = alias ? `${alias}.num_joined_members` : 'num_joined_members';
  const low = MEMBER_TIERS[i];
  if (low === undefined) throw new Error(`no popularity tier ${i}`);
  const high = MEMBER_TIERS[i - 1];
  if (high === undefined) return `${column} >= ${low}`;
  return low === 0 ? `${column} < ${high}` : `${column} >= ${low} and ${column} < ${high}`;
}

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
    // The document's GIN index, split by popularity tier (one partial index per tier).
    ...MEMBER_TIERS.map((_, i) =>
      index(`room_search_document_t${i}_idx`)
        .using('gin', t.document)
        .where(sql.raw(memberTierCondition(i))),
    ),
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
