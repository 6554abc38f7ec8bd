import { bigserial, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Public reports about a room or a server, resolved by an operator. */
export const reports = pgTable(
  'reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    roomId: text('room_id'),
    serverName: text('server_name'),
    reason: text('reason').notNull(),
    reporterIp: text('reporter_ip'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolution: text('resolution'),
  },
  (t) => [index('reports_open_idx').on(t.createdAt)],
);
