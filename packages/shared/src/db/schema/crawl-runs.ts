import { bigserial, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { servers } from './servers.ts';

/**
 * One directory crawl of one server. `stopReason` says why paging ended:
 * end (no next_batch), repeated_token, page_cap, room_cap, time_cap, forbidden (403: does not publish),
 * error (see `error`), superseded (a newer attempt took over after a crash).
 */
export const crawlRuns = pgTable(
  'crawl_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    serverName: text('server_name')
      .notNull()
      .references(() => servers.name, { onDelete: 'cascade' }),
    mode: text('mode', { enum: ['federation', 'client', 'via'] }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    status: text('status', { enum: ['running', 'complete', 'partial', 'forbidden', 'failed'] })
      .notNull()
      .default('running'),
    stopReason: text('stop_reason'),
    pages: integer('pages').notNull().default(0),
    roomsSeen: integer('rooms_seen').notNull().default(0),
    roomsStored: integer('rooms_stored').notNull().default(0),
    roomsMalformed: integer('rooms_malformed').notNull().default(0),
    roomsNoindex: integer('rooms_noindex').notNull().default(0),
    error: text('error'),
  },
  (t) => [index('crawl_runs_server_idx').on(t.serverName, t.startedAt)],
);

export type CrawlRun = typeof crawlRuns.$inferSelect;
