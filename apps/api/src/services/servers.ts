import { createHash } from 'node:crypto';
import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  type PgTimestamp,
  type SearchIndex,
  timestampToIso,
} from '@atlas/shared/search';
import type { Fragment, Sql } from 'postgres';
import { type ApiRoom, toApiRoom } from './rooms.ts';

export const SERVER_SORTS = [
  'recommended',
  'rooms',
  'smallest',
  'uptime',
  'latency',
  'newest',
  'name',
] as const;
export type ServerSort = (typeof SERVER_SORTS)[number];
export const SERVER_STATUSES = ['new', 'online', 'offline', 'invalid'] as const;

export interface ServerListParams {
  status?: string[] | undefined;
  software?: string[] | undefined;
  registration?: 'open' | 'closed' | 'unknown' | undefined;
  publishes?: boolean | undefined;
  min_rooms?: number | undefined;
  max_rooms?: number | undefined;
  min_uptime?: number | undefined;
  /** Servers that list rooms in any of these languages. */
  language?: string[] | undefined;
  sort?: ServerSort | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface ApiServer {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  /** How one signs up where registration is open: the stages of its flows (email, captcha, token...). */
  registration_stages: string[];
  publishes: boolean | null;
  room_count: number | null;
  /** Members of the rooms it lists now, all added up. */
  members: number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  contacts: { matrix_id?: string; email_address?: string; role: string }[];
  discovered_at: string;
  last_seen_online_at: string | null;
  last_probe_at: string | null;
  /**
   * The last read of its directory stopped at the room cap: Atlas keeps its biggest rooms, up to
   * the cap, and not the rest.
   */
  room_cap_reached: boolean;
}

interface ServerRow {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  registration_stages: string[] | null;
  publishes: boolean | null;
  room_count: number | null;
  members: string | number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  contacts: { matrixId?: string; email?: string; role: string }[] | null;
  discovered_at: PgTimestamp;
  last_seen_online_at: PgTimestamp | null;
  last_probe_at: PgTimestamp | null;
  room_cap_reached: boolean;
  sort_key: number | string;
}

function toApiServer(row: Omit<ServerRow, 'sort_key'>): ApiServer {
  return {
    name: row.name,
    status: row.status,
    software_name: row.software_name,
    software_version: row.software_version,
    registration: row.registration,
    registration_stages: row.registration_stages ?? [],
    publishes: row.publishes,
    room_count: row.room_count,
    members: row.members === null ? null : Number(row.members),
    uptime_30d: row.uptime_30d,
    latency_ms: row.latency_ms,
    contacts: (row.contacts ?? []).map((contact) => ({
      ...(contact.matrixId ? { matrix_id: contact.matrixId } : {}),
      ...(contact.email ? { email_address: contact.email } : {}),
      role: contact.role,
    })),
    discovered_at: timestampToIso(row.discovered_at),
    last_seen_online_at: timestampToIso(row.last_seen_online_at),
    last_probe_at: timestampToIso(row.last_probe_at),
    room_cap_reached: row.room_cap_reached,
  };
}

/** The columns of a server as the API shows it; `members` adds up the rooms it lists now. */
function serverColumns(sql: Sql): Fragment {
  return sql`
    name, status, software_name, software_version, registration, registration_stages, publishes,
    room_count, uptime_30d, latency_ms, contacts, discovered_at, last_seen_online_at, last_probe_at,
    room_cap_reached_at is not null as room_cap_reached,
    (select sum(r.num_joined_members) from room_listings l join rooms r on r.room_id = l.room_id
      where l.server_name = servers.name and l.active and not r.hidden and r.stale_since is null) as members`;
}

/** A server publishing at most this many rooms counts as small in the recommended order. */
export const SMALL_SERVER_ROOMS = 100;
/** Uptime over 30 days that counts as reliable in the recommended order. */
export const RELIABLE_UPTIME = 0.95;

/**
 * The recommended order: online first, then open to newcomers (registration open without an
 * invitation token), then reliable, then small (the
 * standing, 0 to 15), and within one standing a shuffle that changes each day (a hash of the name
 * and the day), so servers of equal standing take turns at the top instead of one getting every
 * newcomer.
 */
function recommendedKey(sql: Sql, day: string): Fragment {
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

function sortSpec(sql: Sql, sort: ServerSort, day: string): { key: Fragment; descending: boolean } {
  if (sort === 'recommended') return { key: recommendedKey(sql, day), descending: true };
  const spec = SORT_SQL[sort];
  return { key: sql.unsafe(spec.key), descending: spec.descending };
}

export interface ServerListResult {
  servers: ApiServer[];
  next_cursor: string | null;
}

/** Servers with filters and keyset paging. Blocked servers are never listed. */
export async function listServers(sql: Sql, params: ServerListParams): Promise<ServerListResult> {
  const sort = params.sort ?? 'rooms';
  const { cursor, limit, sort: _sort, ...filters } = params;
  // The recommended order is shuffled per UTC day; a cursor is good for the day it was made.
  const day = new Date().toISOString().slice(0, 10);
  // Ties a cursor to the sort and filters it was made for.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([sort, filters, sort === 'recommended' ? day : '']))
    .digest('base64url')
    .slice(0, 12);
  const parts: Fragment[] = [sql`status <> 'blocked'`];
  if (params.status?.length) parts.push(sql`status = any(${params.status}::text[])`);
  if (params.software?.length) {
    parts.push(sql`lower(software_name) = any(${params.software.map((s) => s.toLowerCase())}::text[])`);
  }
  if (params.registration) parts.push(sql`registration = ${params.registration}`);
  if (params.publishes !== undefined) {
    parts.push(params.publishes ? sql`publishes is true` : sql`publishes is not true`);
  }
  if (params.min_rooms !== undefined) parts.push(sql`coalesce(room_count, 0) >= ${params.min_rooms}`);
  if (params.max_rooms !== undefined) parts.push(sql`coalesce(room_count, 0) <= ${params.max_rooms}`);
  if (params.min_uptime !== undefined) parts.push(sql`uptime_30d >= ${params.min_uptime}`);
  if (params.language?.length) {
    parts.push(sql`exists (
      select 1 from room_listings l join rooms r on r.room_id = l.room_id
      where l.server_name = servers.name and l.active and not r.hidden and r.stale_since is null
        and r.language = any(${params.language}::text[]))`);
  }
  const spec = sortSpec(sql, sort, day);
  const key = spec.key;
  const direction = sql.unsafe(spec.descending ? 'desc' : 'asc');
  if (cursor) {
    const [value, name] = decodeCursor(cursor, fingerprint);
    if ((typeof value !== 'number' && typeof value !== 'string') || typeof name !== 'string') {
      throw new InvalidCursorError('the cursor is not one this directory issued');
    }
    const typed = sort === 'name' ? sql`${String(value)}::text` : sql`${Number(value)}::float8`;
    parts.push(
      spec.descending ? sql`(${key}, name) < (${typed}, ${name})` : sql`(${key}, name) > (${typed}, ${name})`,
    );
  }
  const where = parts.reduce((acc, part) => sql`${acc} and ${part}`);
  const rows = await sql<ServerRow[]>`
    select ${serverColumns(sql)}, ${key} as sort_key
    from servers where ${where}
    order by ${key} ${direction}, name ${direction}
    limit ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    servers: page.map(toApiServer),
    next_cursor:
      rows.length > limit && last
        ? encodeCursor(fingerprint, [
            typeof last.sort_key === 'string' ? last.sort_key : Number(last.sort_key),
            last.name,
          ])
        : null,
  };
}

export interface ServerDetail extends ApiServer {
  support_page: string | null;
  client_base_url: string | null;
  /** How Atlas first heard of it (seed, alias, room_id, query_directory, hierarchy...) and from what. */
  found_via: string;
  found_from: string | null;
  /** The resolution step that located it, and the host:port it delegates to. */
  resolution: string | null;
  delegated_to: string | null;
  uptime: { last_day: number | null; last_7_days: number | null; last_30_days: number | null };
  /** The last 30 days, oldest first: the share of probes answered each day (null: no probe). */
  uptime_days: { day: string; share: number | null; checks: number }[];
  checks: {
    checked_at: string;
    reachable: boolean;
    latency_ms: number | null;
    software_version: string | null;
    registration: string | null;
    error: string | null;
  }[];
  /** The latest directory read. */
  last_crawl: {
    started_at: string;
    finished_at: string | null;
    outcome: string;
    stop_reason: string | null;
    mode: string;
    rooms: number;
    error: string | null;
  } | null;
  rooms: ApiRoom[];
}

/**
 * One server with its probe history, measured uptime (and per day), contacts, how it was found and
 * resolved, its last directory read and biggest rooms; null when unknown or blocked.
 */
export async function getServerDetail(
  sql: Sql,
  search: SearchIndex,
  name: string,
): Promise<ServerDetail | null> {
  const [row] = await sql<
    (ServerRow & {
      support_page: string | null;
      client_base_url: string | null;
      found_via: string;
      found_from: string | null;
      resolution: string | null;
      delegated_to: string | null;
    })[]
  >`
    select ${serverColumns(sql)}, support_page, client_base_url, found_via, found_from, resolution,
           delegated_to, 0 as sort_key
    from servers where name = ${name} and status <> 'blocked'`;
  if (!row) return null;
  const [checks, uptime, days, crawls, rooms] = await Promise.all([
    sql<
      {
        checked_at: PgTimestamp;
        reachable: boolean;
        latency_ms: number | null;
        software_version: string | null;
        registration: string | null;
        error: string | null;
      }[]
    >`
      select checked_at, reachable, latency_ms, software_version, registration, error from server_checks
      where server_name = ${name} order by checked_at desc limit 50`,
    sql<{ d1: number | null; d7: number | null; d30: number | null }[]>`
      select avg(reachable::int) filter (where checked_at > now() - interval '1 day')::float8 as d1,
             avg(reachable::int) filter (where checked_at > now() - interval '7 days')::float8 as d7,
             avg(reachable::int)::float8 as d30
      from server_checks where server_name = ${name} and checked_at > now() - interval '30 days'`,
    sql<{ day: string; share: number | null; checks: string }[]>`
      with days as (
        select generate_series((now() at time zone 'utc')::date - 29, (now() at time zone 'utc')::date,
                               interval '1 day')::date as day)
      select d.day::text as day, avg(c.reachable::int)::float8 as share, count(c.id) as checks
      from days d left join server_checks c
        on c.server_name = ${name}
       and c.checked_at >= d.day::timestamp at time zone 'utc'
       and c.checked_at < (d.day + 1)::timestamp at time zone 'utc'
      group by d.day order by d.day`,
    sql<
      {
        started_at: PgTimestamp;
        finished_at: PgTimestamp | null;
        status: string;
        stop_reason: string | null;
        mode: string;
        rooms_stored: number;
        error: string | null;
      }[]
    >`
      select started_at, finished_at, status, stop_reason, mode, rooms_stored, error from crawl_runs
      where server_name = ${name} order by started_at desc limit 1`,
    search.search({ filters: { servers: [name], stale: false }, sort: 'members', limit: 50 }),
  ]);
  const measured = uptime[0];
  const crawl = crawls[0];
  return {
    ...toApiServer(row),
    support_page: row.support_page,
    client_base_url: row.client_base_url,
    found_via: row.found_via,
    found_from: row.found_from,
    resolution: row.resolution,
    delegated_to: row.delegated_to,
    uptime: {
      last_day: measured?.d1 ?? null,
      last_7_days: measured?.d7 ?? null,
      last_30_days: measured?.d30 ?? null,
    },
    uptime_days: days.map((day) => ({ day: day.day, share: day.share, checks: Number(day.checks) })),
    checks: checks.map((check) => ({ ...check, checked_at: timestampToIso(check.checked_at) })),
    last_crawl: crawl
      ? {
          started_at: timestampToIso(crawl.started_at),
          finished_at: timestampToIso(crawl.finished_at),
          outcome: crawl.status,
          stop_reason: crawl.stop_reason,
          mode: crawl.mode,
          rooms: crawl.rooms_stored,
          error: crawl.error,
        }
      : null,
    rooms: rooms.hits.map(toApiRoom),
  };
}
