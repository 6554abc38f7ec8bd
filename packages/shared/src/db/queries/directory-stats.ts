import type { Queryable } from '../client.ts';

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
  const rows = await sql<{ day: string; servers_discovered: string; rooms_first_seen: string }[]>`
    with days as (select generate_series(current_date - ${days - 1}::int, current_date, interval '1 day')::date as day)
    select d.day::text as day,
      (select count(*) from servers s where s.discovered_at >= d.day and s.discovered_at < d.day + 1
        and s.status <> 'blocked') as servers_discovered,
      (select count(*) from rooms r where r.first_seen_at >= d.day and r.first_seen_at < d.day + 1
        and not r.hidden) as rooms_first_seen
    from days d order by d.day`;
  return rows.map((row) => ({
    day: row.day,
    serversDiscovered: Number(row.servers_discovered),
    roomsFirstSeen: Number(row.rooms_first_seen),
  }));
}
