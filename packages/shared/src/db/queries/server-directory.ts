import type { Fragment } from 'postgres';
import type { ServerSort } from '../../api/servers.ts';
import type { Queryable } from '../client.ts';
import type { PgTimestamp } from '../timestamps.ts';
import type { Contact } from './servers.ts';
import { textArray } from './sql-arrays.ts';

/**
 * Reads of the server directory, as people browse it (`/api/v1/servers`, the servers pages).
 * Blocked servers are never listed.
 */

/** A server as the directory lists it. */
export interface ServerRow {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  registration_stages: string[] | null;
  publishes: boolean | null;
  room_count: number | null;
  /** Members of the rooms it lists now, added up (a bigint: text, or null without rooms). */
  members: string | number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  contacts: Contact[] | null;
  discovered_at: PgTimestamp;
  last_seen_online_at: PgTimestamp | null;
  last_probe_at: PgTimestamp | null;
  room_cap_reached: boolean;
}

/** The columns of `ServerRow` on `servers`. */
function serverColumns(sql: Queryable): Fragment {
  return sql`
    name, status, software_name, software_version, registration, registration_stages, publishes,
    room_count, uptime_30d, latency_ms, contacts, discovered_at, last_seen_online_at, last_probe_at,
    room_cap_reached_at is not null as room_cap_reached,
    (select sum(r.num_joined_members) from room_listings l join rooms r on r.room_id = l.room_id
      where l.server_name = servers.name and l.active and not r.hidden and r.stale_since is null) as members`;
}

/** A server publishing at most this many rooms counts as small in the recommended order. */
const SMALL_SERVER_ROOMS = 100;
/** Uptime over 30 days that counts as reliable in the recommended order. */
const RELIABLE_UPTIME = 0.95;

/**
 * The recommended order: online first, then open to newcomers (registration open without an
 * invitation token), then reliable, then small (the standing, 0 to 15), and within one standing a
 * shuffle that changes each day (a hash of the name and the day), so servers of equal standing
 * take turns at the top instead of one getting every newcomer.
 */
function recommendedKey(sql: Queryable, day: string): Fragment {
  return sql`(
    (case when status = 'online' then 8 else 0 end)
    + (case when registration = 'open'
            and not coalesce(registration_stages ? 'm.login.registration_token', false) then 4 else 0 end)
    + (case when coalesce(uptime_30d, 0) >= ${RELIABLE_UPTIME} then 2 else 0 end)
    + (case when coalesce(room_count, 0) <= ${SMALL_SERVER_ROOMS} then 1 else 0 end)
    + ('x' || substr(md5(name || ':' || ${day}::text), 1, 8))::bit(32)::bigint / 4294967296.0
  )::float8`;
}

/** Sort key expressions (never null, so keyset comparisons hold) and direction; ties go by name. */
const SORT_SQL: Record<Exclude<ServerSort, 'recommended'>, { key: string; descending: boolean }> = {
  rooms: { key: 'coalesce(room_count, 0)::float8', descending: true },
  smallest: { key: 'coalesce(room_count, 0)::float8', descending: false },
  uptime: { key: 'coalesce(uptime_30d, -1)::float8', descending: true },
  latency: { key: 'coalesce(latency_ms, 2147483647)::float8', descending: false },
  newest: { key: 'extract(epoch from discovered_at)::float8', descending: true },
  name: { key: 'name', descending: false },
};

function sortSpec(sql: Queryable, sort: ServerSort, day: string): { key: Fragment; descending: boolean } {
  if (sort === 'recommended') return { key: recommendedKey(sql, day), descending: true };
  const spec = SORT_SQL[sort];
  return { key: sql.unsafe(spec.key), descending: spec.descending };
}

export interface ServerFilters {
  status?: string[] | undefined;
  /** Server implementations, case-insensitive. */
  software?: string[] | undefined;
  registration?: 'open' | 'closed' | 'unknown' | undefined;
  publishes?: boolean | undefined;
  minRooms?: number | undefined;
  maxRooms?: number | undefined;
  minUptime?: number | undefined;
  /** Servers that list rooms in any of these languages. */
  languages?: string[] | undefined;
}

export interface ServerPageQuery {
  filters: ServerFilters;
  sort: ServerSort;
  /** The UTC day of the recommended order's shuffle. */
  day: string;
  /** Servers after this one in the order: its sort key and name (keyset paging). */
  after?: { key: number | string; name: string } | undefined;
  limit: number;
}

/**
 * One page of servers in `sort` order (ties by name), with each one's sort key for the next page's
 * `after`. Asks for `limit` rows; ask one more to learn whether a page follows.
 */
export async function listServerPage(
  sql: Queryable,
  query: ServerPageQuery,
): Promise<(ServerRow & { sort_key: number | string })[]> {
  const { filters } = query;
  const parts: Fragment[] = [sql`status <> 'blocked'`];
  if (filters.status?.length) parts.push(sql`status = any(${textArray(filters.status)}::text[])`);
  if (filters.software?.length) {
    parts.push(
      sql`lower(software_name) = any(${textArray(filters.software.map((s) => s.toLowerCase()))}::text[])`,
    );
  }
  if (filters.registration) parts.push(sql`registration = ${filters.registration}`);
  if (filters.publishes !== undefined) {
    parts.push(filters.publishes ? sql`publishes is true` : sql`publishes is not true`);
  }
  if (filters.minRooms !== undefined) parts.push(sql`coalesce(room_count, 0) >= ${filters.minRooms}`);
  if (filters.maxRooms !== undefined) parts.push(sql`coalesce(room_count, 0) <= ${filters.maxRooms}`);
  if (filters.minUptime !== undefined) parts.push(sql`uptime_30d >= ${filters.minUptime}`);
  if (filters.languages?.length) {
    parts.push(sql`exists (
      select 1 from room_listings l join rooms r on r.room_id = l.room_id
      where l.server_name = servers.name and l.active and not r.hidden and r.stale_since is null
        and r.language = any(${textArray(filters.languages)}::text[]))`);
  }
  const spec = sortSpec(sql, query.sort, query.day);
  const key = spec.key;
  const direction = sql.unsafe(spec.descending ? 'desc' : 'asc');
  if (query.after) {
    const { name } = query.after;
    const typed =
      query.sort === 'name' ? sql`${String(query.after.key)}::text` : sql`${Number(query.after.key)}::float8`;
    parts.push(
      spec.descending ? sql`(${key}, name) < (${typed}, ${name})` : sql`(${key}, name) > (${typed}, ${name})`,
    );
  }
  const where = parts.reduce((acc, part) => sql`${acc} and ${part}`);
  return sql<(ServerRow & { sort_key: number | string })[]>`
    select ${serverColumns(sql)}, ${key} as sort_key
    from servers where ${where}
    order by ${key} ${direction}, name ${direction}
    limit ${query.limit}`;
}

/** A server in full: how it was found and resolved, and where its client API is. */
export interface ServerDetailRow extends ServerRow {
  support_page: string | null;
  client_base_url: string | null;
  found_via: string;
  found_from: string | null;
  resolution: string | null;
  delegated_to: string | null;
}

/** One server that is not blocked; undefined when unknown or blocked. */
export async function listedServer(sql: Queryable, name: string): Promise<ServerDetailRow | undefined> {
  const [row] = await sql<ServerDetailRow[]>`
    select ${serverColumns(sql)}, support_page, client_base_url, found_via, found_from, resolution,
           delegated_to
    from servers where name = ${name} and status <> 'blocked'`;
  return row;
}

export interface ServerCheckRow {
  checked_at: PgTimestamp;
  reachable: boolean;
  latency_ms: number | null;
  software_version: string | null;
  registration: string | null;
  error: string | null;
}

/** A server's latest probes, newest first. */
export async function recentChecks(sql: Queryable, name: string, limit = 50): Promise<ServerCheckRow[]> {
  return sql<ServerCheckRow[]>`
    select checked_at, reachable, latency_ms, software_version, registration, error from server_checks
    where server_name = ${name} order by checked_at desc limit ${limit}`;
}

/** The share of a server's probes answered over the last day, 7 and 30 days (null: no probe). */
export async function uptimeShares(
  sql: Queryable,
  name: string,
): Promise<{ lastDay: number | null; last7Days: number | null; last30Days: number | null }> {
  const [row] = await sql<{ d1: number | null; d7: number | null; d30: number | null }[]>`
    select avg(reachable::int) filter (where checked_at > now() - interval '1 day')::float8 as d1,
           avg(reachable::int) filter (where checked_at > now() - interval '7 days')::float8 as d7,
           avg(reachable::int)::float8 as d30
    from server_checks where server_name = ${name} and checked_at > now() - interval '30 days'`;
  return { lastDay: row?.d1 ?? null, last7Days: row?.d7 ?? null, last30Days: row?.d30 ?? null };
}

/** The last 30 UTC days, oldest first: the share of probes answered each day (null: none) and how many. */
export async function uptimeByDay(
  sql: Queryable,
  name: string,
): Promise<{ day: string; share: number | null; checks: number }[]> {
  const rows = await sql<{ day: string; share: number | null; checks: string }[]>`
    with days as (
      select generate_series((now() at time zone 'utc')::date - 29, (now() at time zone 'utc')::date,
                             interval '1 day')::date as day)
    select d.day::text as day, avg(c.reachable::int)::float8 as share, count(c.id) as checks
    from days d left join server_checks c
      on c.server_name = ${name}
     and c.checked_at >= d.day::timestamp at time zone 'utc'
     and c.checked_at < (d.day + 1)::timestamp at time zone 'utc'
    group by d.day order by d.day`;
  return rows.map((row) => ({ day: row.day, share: row.share, checks: Number(row.checks) }));
}

export interface CrawlRunRow {
  started_at: PgTimestamp;
  finished_at: PgTimestamp | null;
  status: string;
  stop_reason: string | null;
  mode: string;
  rooms_stored: number;
  error: string | null;
}

/** A server's latest directory read. */
export async function lastCrawlRun(sql: Queryable, name: string): Promise<CrawlRunRow | undefined> {
  const [row] = await sql<CrawlRunRow[]>`
    select started_at, finished_at, status, stop_reason, mode, rooms_stored, error from crawl_runs
    where server_name = ${name} order by started_at desc limit 1`;
  return row;
}
