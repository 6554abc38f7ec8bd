import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { rooms } from './rooms.ts';
import { servers } from './servers.ts';

/**
 * Rooms waiting to be measured (complexity, servers in the room, space children), by the server
 * whose directory listed them: that server is in the room, so it is asked first. A crawl adds rows
 * as it stores pages; one job per server works through them, so a server with many rooms occupies
 * one worker, not all of them, and a crash loses nothing (the rows stay until their room is
 * measured).
 *
 * Two steps per row. Leads first (query/directory for the alias, the hierarchy of a space): they
 * name the servers in the room, which is how Atlas finds servers no directory lists, so they run
 * before any complexity request. Then complexity, asked of the listing server and the residents the
 * leads step kept.
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
    /** Higher first: spaces (their children name servers), then rooms by members. */
    priority: integer('priority').notNull().default(0),
    /** When the leads step ran for this row; null while it waits for it. */
    leadsAt: timestamp('leads_at', { withTimezone: true }),
    /** Resident servers (besides the listing server) the leads step found, to ask for complexity. */
    residents: text('residents').array(),
  },
  (t) => [
    primaryKey({ columns: [t.serverName, t.roomId] }),
    index('pending_room_facts_room_idx').on(t.roomId),
    index('pending_room_facts_leads_idx')
      .on(t.serverName, t.priority.desc())
      .where(sql`${t.leadsAt} is null`),
    index('pending_room_facts_measure_idx')
      .on(t.serverName, t.priority.desc())
      .where(sql`${t.leadsAt} is not null`),
  ],
);
