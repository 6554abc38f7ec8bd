import { bigserial, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Operator blocks. `pattern` is a server name, or a glob with `*` standing for any run of
 * characters (`*.example.org`). Blocked servers are never contacted and never listed.
 */
export const blocks = pgTable('blocks', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  pattern: text('pattern').notNull().unique(),
  reason: text('reason'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export type Block = typeof blocks.$inferSelect;
