import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, real, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * A reason to look at a server's directory (never acted on by Atlas itself): `growth`, many rooms
 * newly listed within a day; `similar_names`, many rooms whose names differ only in digits,
 * punctuation or spacing. `rooms` is how many rooms the signal counts; `sample` an example name.
 */
export interface ReviewSignal {
  kind: 'growth' | 'similar_names';
  rooms: number;
  sample?: string;
}

/**
 * Every homeserver Atlas knows of. `status` is the latest verdict:
 * - new: discovered, not probed yet
 * - online: answered the last probe
 * - offline: did not answer (backoff grows until it does)
 * - invalid: the name cannot be resolved to anything, or points into a blocked network
 * - blocked: an operator block matches it; never contacted
 */
export const servers = pgTable(
  'servers',
  {
    name: text('name').primaryKey(),
    status: text('status', { enum: ['new', 'online', 'offline', 'invalid', 'blocked'] })
      .notNull()
      .default('new'),
    /** How Atlas first heard of the server: seed, alias, room_id, query_directory, hierarchy, inbound, submission, admin. */
    foundVia: text('found_via').notNull(),
    /** The room or server that led to it, when there was one. */
    foundFrom: text('found_from'),
    discoveredAt: timestamp('discovered_at', { withTimezone: true }).notNull().defaultNow(),
    softwareName: text('software_name'),
    softwareVersion: text('software_version'),
    /** open | closed | unknown, from POST /_matrix/client/v3/register {} */
    registration: text('registration', { enum: ['open', 'closed', 'unknown'] })
      .notNull()
      .default('unknown'),
    registrationStages: jsonb('registration_stages').$type<string[]>(),
    /** null until crawled; false when the directory answered 403 (not published over federation). */
    publishes: boolean('publishes'),
    /** How the directory was last read: federation, client (unauthenticated client API) or via (a homeserver). */
    crawlMode: text('crawl_mode'),
    roomCount: integer('room_count'),
    clientBaseUrl: text('client_base_url'),
    contacts: jsonb('contacts').$type<{ matrixId?: string; email?: string; role: string }[]>(),
    supportPage: text('support_page'),
    /** host:port that federation traffic goes to, and which resolution step chose it. */
    delegatedTo: text('delegated_to'),
    resolution: text('resolution'),
    latencyMs: integer('latency_ms'),
    certExpiresAt: timestamp('cert_expires_at', { withTimezone: true }),
    lastProbeAt: timestamp('last_probe_at', { withTimezone: true }),
    lastSeenOnlineAt: timestamp('last_seen_online_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastCrawlAt: timestamp('last_crawl_at', { withTimezone: true }),
    lastCrawlOutcome: text('last_crawl_outcome'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** Directory reads that failed in a row (the crawl backoff doubles with it). */
    consecutiveCrawlFailures: integer('consecutive_crawl_failures').notNull().default(0),
    nextProbeAt: timestamp('next_probe_at', { withTimezone: true }).notNull().defaultNow(),
    nextCrawlAt: timestamp('next_crawl_at', { withTimezone: true }),
    /**
     * When a directory read last stopped at the room cap (ATLAS_DIRECTORY_ROOM_CAP, or the server's
     * vouched cap): rooms beyond it were not stored. Cleared by a read that ends below the cap.
     */
    roomCapReachedAt: timestamp('room_cap_reached_at', { withTimezone: true }),
    /** Spam signals of the latest directory read, for an operator to review; null when none. */
    reviewSignals: jsonb('review_signals').$type<ReviewSignal[]>(),
    /** Since when `review_signals` has been raised without a break. */
    reviewFlaggedAt: timestamp('review_flagged_at', { withTimezone: true }),
    /**
     * Follow-up work (leads, complexity) done for the rooms of this server since its last directory
     * read, in ms; each read starts a new budget (ATLAS_FOLLOW_UP_SECONDS).
     */
    followUpMs: integer('follow_up_ms').notNull().default(0),
    /** Share of successful probes over the last 30 days, refreshed after each probe. */
    uptime30d: real('uptime_30d'),
    /** Bumped on every change the search index or API cares about. */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('servers_next_probe_idx').on(t.nextProbeAt),
    index('servers_next_crawl_idx').on(t.nextCrawlAt).where(sql`${t.nextCrawlAt} is not null`),
    index('servers_status_idx').on(t.status),
  ],
);

export type Server = typeof servers.$inferSelect;
export type NewServer = typeof servers.$inferInsert;
