import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Every public room seen in a directory. Rooms are never deleted by a crawl: a room that no
 * listing server publishes any more becomes stale (`staleSince`), and history stays.
 */
export const rooms = pgTable(
  'rooms',
  {
    roomId: text('room_id').primaryKey(),
    name: text('name'),
    topic: text('topic'),
    canonicalAlias: text('canonical_alias'),
    avatarUrl: text('avatar_url'),
    numJoinedMembers: integer('num_joined_members').notNull().default(0),
    worldReadable: boolean('world_readable').notNull().default(false),
    guestCanJoin: boolean('guest_can_join').notNull().default(false),
    /** public when the directory entry omits it, as the spec says. */
    joinRule: text('join_rule').notNull().default('public'),
    /** null for a plain room, 'm.space' for spaces, or another type as published. */
    roomType: text('room_type'),
    /** ISO 639-1 code detected from name and topic when the room was last indexed; null when unsure. */
    language: text('language'),
    /** Synapse's v1 complexity: current state events / 500. */
    complexity: real('complexity'),
    /** federation: the complexity endpoint of a resident server answered; estimate: derived from members. */
    complexitySource: text('complexity_source', { enum: ['federation', 'estimate'] }),
    complexityServer: text('complexity_server'),
    complexityAt: timestamp('complexity_at', { withTimezone: true }),
    serversInRoom: integer('servers_in_room'),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    staleSince: timestamp('stale_since', { withTimezone: true }),
    /** Hidden by an operator; kept, but never served. */
    hidden: boolean('hidden').notNull().default(false),
    /**
     * Why the room is hidden: null or 'operator' (an operator hid it), or 'noindex' (its topic gained
     * a no-index tag; the crawler lifts this one when the tag goes away).
     */
    hiddenReason: text('hidden_reason', { enum: ['operator', 'noindex'] }),
    /** Bumped whenever a searchable field changes; the index queue pushes rows whose version moved. */
    version: bigint('version', { mode: 'number' }).notNull().default(1),
    indexedVersion: bigint('indexed_version', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('rooms_members_idx').on(t.numJoinedMembers),
    index('rooms_unindexed_idx').on(t.roomId).where(sql`${t.version} <> ${t.indexedVersion}`),
    index('rooms_alias_idx').on(t.canonicalAlias),
    // Whether an avatar belongs to a shown room is asked before Atlas fetches it (media.ts).
    index('rooms_avatar_url_idx').on(t.avatarUrl).where(sql`${t.avatarUrl} is not null`),
  ],
);

export type Room = typeof rooms.$inferSelect;
export type NewRoom = typeof rooms.$inferInsert;
