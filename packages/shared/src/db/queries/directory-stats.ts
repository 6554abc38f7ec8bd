import type { Queryable } from '../client.ts';
import { type PgTimestamp, timestampToIso } from '../timestamps.ts';

/**
 * The breakdowns of the stats page and `/api/v1/stats`, beside its counts (`directoryTotals`), by
 * the same rule: blocked servers and hidden rooms are left out.
 */

/** Software among online servers, most used first. */
export async function softwareShare(
  sql: Queryable,
  limit = 20,
): Promise<{ name: string; servers: number }[]> {
  const rows = await sql<{ name: string; n: string }[]>`
    select coalesce(software_name, 'unknown') as name, count(*) as n from servers
    where status = 'online' group by 1 order by 2 desc, 1 limit ${limit}`;
  return rows.map((row) => ({ name: row.name, servers: Number(row.n) }));
}

/** Listed rooms per detected language, most first. */
export async function languageCounts(sql: Queryable, limit = 40): Promise<{ code: string; rooms: number }[]> {
  const rows = await sql<{ code: string; n: string }[]>`
    select language as code, count(*) as n from rooms
    where language is not null and not hidden and stale_since is null
    group by 1 order by 2 desc, 1 limit ${limit}`;
  return rows.map((row) => ({ code: row.code, rooms: Number(row.n) }));
}

/** Servers discovered and rooms first seen per day over the last `days`, oldest first. */
export async function discoveriesPerDay(
  sql: Queryable,
  days = 30,
): Promise<{ day: string; serversDiscovered: number; roomsFirstSeen: number }[]> {
  // One scan of each table, grouped by day (a query per day read `rooms` thirty times).
  const rows = await sql<{ day: string; servers_discovered: string; rooms_first_seen: string }[]>`
    with days as (select generate_series(current_date - ${days - 1}::int, current_date, interval '1 day')::date as day),
    found as (
      select discovered_at::date as day, count(*) as n from servers
      where discovered_at >= current_date - ${days - 1}::int and status <> 'blocked' group by 1),
    seen as (
      select first_seen_at::date as day, count(*) as n from rooms
      where first_seen_at >= current_date - ${days - 1}::int and not hidden group by 1)
    select d.day::text as day, coalesce(found.n, 0) as servers_discovered, coalesce(seen.n, 0) as rooms_first_seen
    from days d left join found on found.day = d.day left join seen on seen.day = d.day
    order by d.day`;
  return rows.map((row) => ({
    day: row.day,
    serversDiscovered: Number(row.servers_discovered),
    roomsFirstSeen: Number(row.rooms_first_seen),
  }));
}

/** What the crawl is doing now: the work waiting and done in the last hour. */
export async function crawlActivity(sql: Queryable): Promise<{
  roomsToIndex: number;
  serversChecked: number;
  directoriesRead: number;
  /** ISO 8601. */
  lastReadAt: string | null;
}> {
  const [row] = await sql<
    {
      rooms_to_index: string;
      servers_checked: string;
      directories_read: string;
      last_read_at: PgTimestamp | null;
    }[]
  >`
    select
      (select count(*) from rooms where version <> indexed_version) as rooms_to_index,
      (select count(*) from servers where last_probe_at > now() - interval '1 hour') as servers_checked,
      (select count(*) from crawl_runs where finished_at > now() - interval '1 hour') as directories_read,
      (select max(last_crawl_at) from servers) as last_read_at`;
  return {
    roomsToIndex: Number(row?.rooms_to_index ?? 0),
    serversChecked: Number(row?.servers_checked ?? 0),
    directoriesRead: Number(row?.directories_read ?? 0),
    lastReadAt: timestampToIso(row?.last_read_at ?? null),
  };
}
