import type { Sql } from 'postgres';
import type { ReviewSignal } from '../schema/servers.ts';

/** What a read of a server's directory shows about how it is made (see the crawler's review policy). */
export interface DirectoryMeasures {
  /**
   * Rooms the server began listing within the last day, not counting those of Atlas's first read
   * of it (a server met for the first time has not grown; it is new to Atlas).
   */
  newListings: number;
  /**
   * The biggest group of rooms it lists whose names are the same once digits, punctuation and
   * spacing are taken out ("Crypto Pump 001", "crypto-pump 002"), and one of those names.
   */
  similarNames: { rooms: number; sample: string } | null;
}

/** Names shorter than this once stripped ("#1", "Room 2") are too short to call a pattern. */
const MIN_SKELETON_LENGTH = 4;

export async function measureDirectory(sql: Sql, serverName: string): Promise<DirectoryMeasures> {
  const [row] = await sql<{ new_listings: string | null; similar: string | null; sample: string | null }[]>`
    with first_read as (
      select min(finished_at) as at from crawl_runs
      where server_name = ${serverName} and status in ('complete', 'partial') and finished_at is not null
    ),
    named as (
      select r.name, regexp_replace(lower(r.name), '[[:digit:][:punct:][:space:]]+', '', 'g') as skeleton
      from room_listings l join rooms r on r.room_id = l.room_id
      where l.server_name = ${serverName} and l.active and r.name is not null
    ),
    biggest as (
      select count(*) as n, min(name) as sample from named
      where length(skeleton) >= ${MIN_SKELETON_LENGTH}
      group by skeleton order by count(*) desc limit 1
    )
    select
      (select count(*) from room_listings l, first_read f
        where l.server_name = ${serverName} and l.active and f.at is not null
          and l.first_seen_at > greatest(now() - interval '1 day', f.at)) as new_listings,
      (select n from biggest) as similar,
      (select sample from biggest) as sample`;
  const similar = Number(row?.similar ?? 0);
  return {
    newListings: Number(row?.new_listings ?? 0),
    similarNames: similar > 0 && row?.sample ? { rooms: similar, sample: row.sample } : null,
  };
}

/** A server flagged for an operator to look at: its room cap reached, or spam signals raised. */
export interface FlaggedServer {
  name: string;
  status: string;
  room_count: number | null;
  /** When a read last stopped at the room cap; null when the last complete read ended below it. */
  room_cap_reached_at: string | null;
  review_signals: ReviewSignal[];
  /** Since when the signals have been raised. */
  review_flagged_at: string | null;
  last_crawl_at: string | null;
}

const utc = (column: string) => `to_char(${column} at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** Flagged servers, most recently flagged first. Blocked servers are dealt with, so left out. */
export async function flaggedServers(sql: Sql, options: { limit: number }): Promise<FlaggedServer[]> {
  const rows = await sql<(Omit<FlaggedServer, 'review_signals'> & { review_signals: unknown })[]>`
    select name, status, room_count,
      ${sql.unsafe(utc('room_cap_reached_at'))} as room_cap_reached_at,
      review_signals,
      ${sql.unsafe(utc('review_flagged_at'))} as review_flagged_at,
      ${sql.unsafe(utc('last_crawl_at'))} as last_crawl_at
    from servers
    where (room_cap_reached_at is not null or review_signals is not null) and status <> 'blocked'
    order by greatest(room_cap_reached_at, review_flagged_at) desc nulls last, name
    limit ${options.limit}`;
  return rows.map((row) => ({ ...row, review_signals: parseSignals(row.review_signals) }));
}

/** jsonb comes back as text on connections whose JSON parsing drizzle turned off. */
export function parseSignals(value: unknown): ReviewSignal[] {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(parsed) ? (parsed as ReviewSignal[]) : [];
}
