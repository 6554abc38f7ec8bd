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

export const SERVER_SORTS = ['rooms', 'smallest', 'uptime', 'latency', 'newest', 'name'] as const;
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
  publishes: boolean | null;
  room_count: number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  discovered_at: string;
  last_seen_online_at: string | null;
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
  publishes: boolean | null;
  room_count: number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  discovered_at: PgTimestamp;
  last_seen_online_at: PgTimestamp | null;
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
    publishes: row.publishes,
    room_count: row.room_count,
    uptime_30d: row.uptime_30d,
    latency_ms: row.latency_ms,
    discovered_at: timestampToIso(row.discovered_at),
    last_seen_online_at: timestampToIso(row.last_seen_online_at),
    room_cap_reached: row.room_cap_reached,
  };
}

/** Sort key expressions (never null, so keyset comparisons hold) and direction; ties go by name. */
const SORT_SQL: Record<ServerSort, { key: string; descending: boolean }> = {
  rooms: { key: 'coalesce(room_count, 0)::float8', descending: true },
  smallest: { key: 'coalesce(room_count, 0)::float8', descending: false },
  uptime: { key: 'coalesce(uptime_30d, -1)::float8', descending: true },
  latency: { key: 'coalesce(latency_ms, 2147483647)::float8', descending: false },
  newest: { key: 'extract(epoch from discovered_at)::float8', descending: true },
  name: { key: 'name', descending: false },
};

export interface ServerListResult {
  servers: ApiServer[];
  next_cursor: string | null;
}

/** Servers with filters and keyset paging. Blocked servers are never listed. */
export async function listServers(sql: Sql, params: ServerListParams): Promise<ServerListResult> {
  const sort = params.sort ?? 'rooms';
  const { cursor, limit, sort: _sort, ...filters } = params;
  // Ties a cursor to the sort and filters it was made for.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([sort, filters]))
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
  const spec = SORT_SQL[sort];
  const key = sql.unsafe(spec.key);
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
    select name, status, software_name, software_version, registration, publishes, room_count,
           uptime_30d, latency_ms, discovered_at, last_seen_online_at,
           room_cap_reached_at is not null as room_cap_reached, ${key} as sort_key
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
  contacts: { matrix_id?: string; email_address?: string; role: string }[];
  support_page: string | null;
  client_base_url: string | null;
  registration_stages: string[];
  uptime: { last_day: number | null; last_7_days: number | null; last_30_days: number | null };
  checks: {
    checked_at: string;
    reachable: boolean;
    latency_ms: number | null;
    software_version: string | null;
    registration: string | null;
    error: string | null;
  }[];
  rooms: ApiRoom[];
}

/** One server with its probe history, measured uptime, contacts and biggest rooms; null when unknown or blocked. */
export async function getServerDetail(
  sql: Sql,
  search: SearchIndex,
  name: string,
): Promise<ServerDetail | null> {
  const [row] = await sql<
    (ServerRow & {
      contacts: { matrixId?: string; email?: string; role: string }[] | null;
      support_page: string | null;
      client_base_url: string | null;
      registration_stages: string[] | null;
    })[]
  >`
    select name, status, software_name, software_version, registration, publishes, room_count, uptime_30d,
           latency_ms, discovered_at, last_seen_online_at, contacts, support_page, client_base_url,
           registration_stages, room_cap_reached_at is not null as room_cap_reached, 0 as sort_key
    from servers where name = ${name} and status <> 'blocked'`;
  if (!row) return null;
  const [checks, uptime, rooms] = await Promise.all([
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
    search.search({ filters: { servers: [name], stale: false }, sort: 'members', limit: 50 }),
  ]);
  const measured = uptime[0];
  return {
    ...toApiServer(row),
    contacts: (row.contacts ?? []).map((contact) => ({
      ...(contact.matrixId ? { matrix_id: contact.matrixId } : {}),
      ...(contact.email ? { email_address: contact.email } : {}),
      role: contact.role,
    })),
    support_page: row.support_page,
    client_base_url: row.client_base_url,
    registration_stages: row.registration_stages ?? [],
    uptime: {
      last_day: measured?.d1 ?? null,
      last_7_days: measured?.d7 ?? null,
      last_30_days: measured?.d30 ?? null,
    },
    checks: checks.map((check) => ({ ...check, checked_at: timestampToIso(check.checked_at) })),
    rooms: rooms.hits.map(toApiRoom),
  };
}
