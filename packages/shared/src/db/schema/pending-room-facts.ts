import { index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { rooms } from './rooms.ts';
import { servers } from './servers.ts';

/**
 * Rooms waiting to be measured (complexity, servers in the room, space children), by the server
 * whose directory listed them: that server is in the room, so it is asked first. A crawl adds rows
 * as it stores pages; one complexity job per server works through them, so a server with many
 * rooms occupies one worker, not all of them, and a crash loses nothing (the rows stay until their
 * room is measured).
 */
export const pendingRoomFacts = pgTable(
  'pending_room_facts',
  {
    serverName: text('server_name')
      .notNull()
      .references(() => servers.name, { onDelete: 'cascade' }),
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.roomId, { onDelete: 'cascade' }),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.serverName, t.roomId] }),
    index('pending_room_facts_room_idx').on(t.roomId),
  ],
);
