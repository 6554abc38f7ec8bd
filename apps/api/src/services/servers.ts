import { createHash } from 'node:crypto';
import {
  type ApiServer,
  type RoomLinks,
  type ServerDetail,
  type ServerList,
  type ServerSort,
  toApiRoom,
} from '@atlas/shared/api';
import {
  type CrawlRunRow,
  lastCrawlRun,
  listedServer,
  listServerPage,
  recentChecks,
  type ServerCheckRow,
  type ServerRow,
  timestampToIso,
  uptimeByDay,
  uptimeShares,
} from '@atlas/shared/db';
import { decodeCursor, encodeCursor, InvalidCursorError, type SearchIndex } from '@atlas/shared/search';
import type { Sql } from 'postgres';

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

function toApiServer(row: ServerRow): ApiServer {
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

/** Servers with filters and keyset paging. Blocked servers are never listed. */
export async function listServers(sql: Sql, params: ServerListParams): Promise<ServerList> {
  const sort = params.sort ?? 'rooms';
  const { cursor, limit, sort: _sort, ...filters } = params;
  // The recommended order is shuffled per UTC day; a cursor is good for the day it was made.
  const day = new Date().toISOString().slice(0, 10);
  // Ties a cursor to the sort and filters it was made for.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([sort, filters, sort === 'recommended' ? day : '']))
    .digest('base64url')
    .slice(0, 12);
  let after: { key: number | string; name: string } | undefined;
  if (cursor) {
    const [key, name] = decodeCursor(cursor, fingerprint);
    if ((typeof key !== 'number' && typeof key !== 'string') || typeof name !== 'string') {
      throw new InvalidCursorError('the cursor is not one this directory issued');
    }
    after = { key, name };
  }
  const rows = await listServerPage(sql, {
    filters: {
      status: params.status,
      software: params.software,
      registration: params.registration,
      publishes: params.publishes,
      minRooms: params.min_rooms,
      maxRooms: params.max_rooms,
      minUptime: params.min_uptime,
      languages: params.language,
    },
    sort,
    day,
    after,
    limit: limit + 1,
  });
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

function toApiCheck(check: ServerCheckRow): ServerDetail['checks'][number] {
  return {
    checked_at: timestampToIso(check.checked_at),
    reachable: check.reachable,
    latency_ms: check.latency_ms,
    software_version: check.software_version,
    registration: check.registration,
    error: check.error,
  };
}

function toApiCrawl(run: CrawlRunRow): NonNullable<ServerDetail['last_crawl']> {
  return {
    started_at: timestampToIso(run.started_at),
    finished_at: timestampToIso(run.finished_at),
    outcome: run.status,
    stop_reason: run.stop_reason,
    mode: run.mode,
    rooms: run.rooms_stored,
    error: run.error,
  };
}

/**
 * One server with its probe history, measured uptime (and per day), contacts, how it was found and
 * resolved, its last directory read and biggest rooms; null when unknown or blocked.
 */
export async function getServerDetail(
  sql: Sql,
  search: SearchIndex,
  name: string,
  links: RoomLinks,
): Promise<ServerDetail | null> {
  const row = await listedServer(sql, name);
  if (!row) return null;
  const [checks, uptime, days, crawl, rooms] = await Promise.all([
    recentChecks(sql, name),
    uptimeShares(sql, name),
    uptimeByDay(sql, name),
    lastCrawlRun(sql, name),
    search.search({ filters: { servers: [name], stale: false }, sort: 'members', limit: 50 }),
  ]);
  return {
    ...toApiServer(row),
    support_page: row.support_page,
    client_base_url: row.client_base_url,
    found_via: row.found_via,
    found_from: row.found_from,
    resolution: row.resolution,
    delegated_to: row.delegated_to,
    uptime: { last_day: uptime.lastDay, last_7_days: uptime.last7Days, last_30_days: uptime.last30Days },
    uptime_days: days.map((day) => ({ day: day.day, share: day.share, checks: day.checks })),
    checks: checks.map(toApiCheck),
    last_crawl: crawl ? toApiCrawl(crawl) : null,
    rooms: rooms.hits.map((doc) => toApiRoom(doc, links)),
  };
}
