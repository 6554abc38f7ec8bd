import type { Fragment, Sql } from 'postgres';
import type { ReviewSignal } from '../schema/servers.ts';
import { parseSignals } from './review-signals.ts';
import { textArray } from './sql-arrays.ts';

/**
 * Which servers Atlas may point Matrix clients at: the Element feed (`room_directory.servers`) and
 * the rooms its own `publicRooms` answers. Element browses a listed server through the user's own
 * homeserver, which asks that server over federation; so a server is listed only when it is online
 * and Atlas's last read of its directory over federation succeeded and found rooms. A server that
 * turned federation publishing off (`allow_public_rooms_over_federation: false`) has also said it
 * does not want its directory passed on over federation, which is what Atlas's `publicRooms` does.
 *
 * Every other server has one reason, the first that applies, in this order.
 */
export const LEFT_OUT_REASONS = {
  blocked: 'blocked by the operator',
  not_probed: 'not probed yet',
  invalid: 'its name leads nowhere Atlas may connect to',
  offline: 'offline: it did not answer its last probe',
  not_read: 'its directory has not been read yet',
  refuses_federation:
    'it refuses publicRooms over federation (403, allow_public_rooms_over_federation is off): homeservers cannot browse it for their users',
  read_failed: 'the last read of its directory failed',
  not_over_federation:
    'its directory was last read through its client API or a homeserver, not over federation, so nothing shows that homeservers can browse it',
  empty: 'it publishes no rooms',
  room_cap:
    'its directory reached the room cap at the last read; vouch for it (ATLAS_VOUCHED_SERVERS) to list it',
  review:
    'flagged for review (spam signals, see /api/v1/admin/servers/flagged); vouch for it (ATLAS_VOUCHED_SERVERS) or block it',
} as const;

export type LeftOutReason = keyof typeof LEFT_OUT_REASONS;

/**
 * The reason `servers s` is left out, or null when it may be listed: the one rule, as SQL.
 * `vouched`: servers the operator vouches for (a flag for review does not keep them out).
 */
export function leftOutReasonSql(sql: Sql, vouched: readonly string[]): Fragment {
  return sql`(case
    when s.status = 'blocked' then 'blocked'
    when s.status = 'new' then 'not_probed'
    when s.status = 'invalid' then 'invalid'
    when s.status <> 'online' then 'offline'
    when s.last_crawl_outcome is null then 'not_read'
    when s.publishes is false then 'refuses_federation'
    when s.last_crawl_outcome not in ('complete', 'partial') then 'read_failed'
    when s.crawl_mode is distinct from 'federation' then 'not_over_federation'
    when coalesce(s.room_count, 0) = 0 then 'empty'
    when s.name = any(${textArray(vouched)}::text[]) then null
    when s.room_cap_reached_at is not null then 'room_cap'
    when s.review_signals is not null then 'review'
    else null end)`;
}

/** Servers that may be listed, as a condition on `servers s`. */
export function listableCondition(sql: Sql, vouched: readonly string[]): Fragment {
  return sql`${leftOutReasonSql(sql, vouched)} is null`;
}

/** Every server that may be listed, most rooms first. */
export async function listableServers(sql: Sql, vouched: readonly string[]): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select s.name from servers s where ${listableCondition(sql, vouched)}
    order by coalesce(s.room_count, 0) desc, s.name`;
  return rows.map((row) => row.name);
}

/** A server that may be listed, with what the Element feed's options look at. */
export interface ListableServerRow {
  name: string;
  registration: string;
  software_name: string | null;
  room_count: number | null;
}

/** Every server that may be listed, best first for someone browsing: most rooms, then uptime. */
export async function listableServerRows(sql: Sql, vouched: readonly string[]): Promise<ListableServerRow[]> {
  return sql<ListableServerRow[]>`
    select s.name, s.registration, s.software_name, s.room_count from servers s
    where ${listableCondition(sql, vouched)}
    order by coalesce(s.room_count, 0) desc, coalesce(s.uptime_30d, 0) desc, s.name`;
}

export interface LeftOutServer {
  name: string;
  reason: LeftOutReason;
  /** LEFT_OUT_REASONS[reason], with what Atlas last saw where that helps. */
  explanation: string;
  status: string;
  room_count: number | null;
  crawl_mode: string | null;
  last_crawl_outcome: string | null;
  last_crawl_at: string | null;
  review_signals: ReviewSignal[] | null;
}

interface LeftOutRow extends Omit<LeftOutServer, 'explanation' | 'reason'> {
  reason: LeftOutReason;
  last_error: string | null;
}

function explain(row: LeftOutRow): string {
  const base = LEFT_OUT_REASONS[row.reason];
  switch (row.reason) {
    case 'read_failed':
      return `${base} (${row.last_crawl_outcome}${row.last_error ? `: ${row.last_error}` : ''})`;
    case 'not_over_federation':
      return `${base} (last read: ${row.crawl_mode})`;
    case 'room_cap':
      return `${base} (${row.room_count ?? 0} rooms kept)`;
    case 'review':
      return `${base}: ${(row.review_signals ?? []).map((s) => `${s.kind} (${s.rooms} rooms)`).join(', ')}`;
    default:
      return base;
  }
}

/**
 * The servers left out and why, the ones with most rooms first (the most surprising absences);
 * `names` narrows it to those servers.
 */
export async function leftOutServers(
  sql: Sql,
  vouched: readonly string[],
  options: { limit: number; names?: readonly string[] | undefined },
): Promise<LeftOutServer[]> {
  const rows = await sql<LeftOutRow[]>`
    select * from (
      select s.name, ${leftOutReasonSql(sql, vouched)} as reason, s.status, s.room_count, s.crawl_mode,
        s.last_crawl_outcome,
        to_char(s.last_crawl_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_crawl_at,
        s.review_signals, s.last_error
      from servers s
      ${options.names ? sql`where s.name = any(${textArray(options.names)}::text[])` : sql``}
    ) t
    where t.reason is not null
    order by coalesce(t.room_count, 0) desc, t.name
    limit ${options.limit}`;
  return rows.map(({ last_error, ...row }) => {
    const server = { ...row, review_signals: row.review_signals && parseSignals(row.review_signals) };
    return { ...server, explanation: explain({ ...server, last_error }) };
  });
}
