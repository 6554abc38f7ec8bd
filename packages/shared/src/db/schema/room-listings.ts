import { boolean, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { rooms } from './rooms.ts';
import { servers } from './servers.ts';

/** Which servers publish a room in their directory. `active` turns false when a complete crawl of the server no longer lists it. */
export const roomListings = pgTable(
  'room_listings',
  {
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.roomId, { onDelete: 'cascade' }),
    serverName: text('server_name')
      .notNull()
      .references(() => servers.name, { onDelete: 'cascade' }),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    active: boolean('active').notNull().default(true),
  },
  (t) => [
    primaryKey({ columns: [t.roomId, t.serverName] }),
    index('room_listings_server_idx').on(t.serverName, t.lastSeenAt),
  ],
);

export type RoomListing = typeof roomListings.$inferSelect;
