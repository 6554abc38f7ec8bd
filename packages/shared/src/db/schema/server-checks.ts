import { bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { servers } from './servers.ts';

/** One row per probe, so uptime is measured rather than guessed. */
export const serverChecks = pgTable(
  'server_checks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    serverName: text('server_name')
      .notNull()
      .references(() => servers.name, { onDelete: 'cascade' }),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
    reachable: boolean('reachable').notNull(),
    latencyMs: integer('latency_ms'),
    softwareName: text('software_name'),
    softwareVersion: text('software_version'),
    /** Key ids the server published at /_matrix/key/v2/server, and whether its self-signature held. */
    keyIds: jsonb('key_ids').$type<string[]>(),
    keysValid: boolean('keys_valid'),
    keysValidUntil: timestamp('keys_valid_until', { withTimezone: true }),
    clientBaseUrl: text('client_base_url'),
    contacts: jsonb('contacts').$type<{ matrixId?: string; email?: string; role: string }[]>(),
    supportPage: text('support_page'),
    registration: text('registration', { enum: ['open', 'closed', 'unknown'] }),
    registrationStages: jsonb('registration_stages').$type<string[]>(),
    certExpiresAt: timestamp('cert_expires_at', { withTimezone: true }),
    /** Which resolution step was used (ip_literal, explicit_port, well_known, srv_matrix_fed, srv_matrix, default_port) and where it led. */
    resolution: text('resolution'),
    delegatedTo: text('delegated_to'),
    error: text('error'),
  },
  (t) => [index('server_checks_server_time_idx').on(t.serverName, t.checkedAt)],
);

export type ServerCheck = typeof serverChecks.$inferSelect;
export type NewServerCheck = typeof serverChecks.$inferInsert;
