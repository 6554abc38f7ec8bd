import { date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { rooms } from './rooms.ts';

/** Members per room per day (the latest crawl of the day wins), for growth over 7 and 30 days. */
export const roomSnapshots = pgTable(
  'room_snapshots',
  {
    roomId: text('room_id')
      .notNull()
      .references(() => rooms.roomId, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    numJoinedMembers: integer('num_joined_members').notNull(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.day] })],
);
