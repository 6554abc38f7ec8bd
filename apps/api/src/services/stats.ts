import { directoryTotals } from '@atlas/shared/db';
import type { SearchIndex } from '@atlas/shared/search';
import type { Sql } from 'postgres';

export interface DirectoryStats {
  servers: {
    total: number;
    online: number;
    offline: number;
    new: number;
    invalid: number;
    publishing: number;
    open_registration: number;
  };
  rooms: { known: number; searchable: number; spaces: number; stale: number; members: number };
  software: { name: string; servers: number; share: number }[];
  /** Rooms shown per detected language, most first. */
  languages: { code: string; rooms: number }[];
  growth: { day: string; servers_discovered: number; rooms_first_seen: number }[];
  generated_at: string;
}

/**
 * Counts (`directoryTotals`: blocked servers and hidden rooms are not counted), software share among
 * online servers, and what was discovered per day over 30 days.
 */
export async function directoryStats(sql: Sql, search: SearchIndex): Promise<DirectoryStats> {
  const [totals, software, languages, growth, indexed] = await Promise.all([
    directoryTotals(sql),
    sql<{ name: string; n: string }[]>`
      select coalesce(software_name, 'unknown') as name, count(*) as n from servers
      where status = 'online' group by 1 order by 2 desc, 1 limit 20`,
    sql<{ code: string; n: string }[]>`
      select language as code, count(*) as n from rooms
      where language is not null and not hidden and stale_since is null
      group by 1 order by 2 desc, 1 limit 40`,
    sql<{ day: string; servers_discovered: string; rooms_first_seen: string }[]>`
      with days as (select generate_series(current_date - 29, current_date, interval '1 day')::date as day)
      select d.day::text as day,
        (select count(*) from servers s where s.discovered_at >= d.day and s.discovered_at < d.day + 1
          and s.status <> 'blocked') as servers_discovered,
        (select count(*) from rooms r where r.first_seen_at >= d.day and r.first_seen_at < d.day + 1
          and not r.hidden) as rooms_first_seen
      from days d order by d.day`,
    search.stats(),
  ]);
  const { servers, rooms } = totals;
  const online = servers.byStatus.online;
  return {
    servers: {
      total: servers.total,
      online,
      offline: servers.byStatus.offline,
      new: servers.byStatus.new,
      invalid: servers.byStatus.invalid,
      publishing: servers.publishing,
      open_registration: servers.openRegistration,
    },
    rooms: {
      known: rooms.total,
      searchable: indexed.documents,
      spaces: rooms.spaces,
      stale: rooms.stale,
      members: rooms.members,
    },
    software: software.map((row) => ({
      name: row.name,
      servers: Number(row.n),
      share: online > 0 ? Number(row.n) / online : 0,
    })),
    languages: languages.map((row) => ({ code: row.code, rooms: Number(row.n) })),
    growth: growth.map((row) => ({
      day: row.day,
      servers_discovered: Number(row.servers_discovered),
      rooms_first_seen: Number(row.rooms_first_seen),
    })),
    generated_at: new Date().toISOString(),
  };
}

/** Stats scan whole tables; one computation serves every caller (JSON and pages) for a minute. */
const STATS_TTL_MS = 60_000;

export function cachedDirectoryStats(sql: Sql, search: SearchIndex): () => Promise<DirectoryStats> {
  let cached: { at: number; value: Promise<DirectoryStats> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > STATS_TTL_MS) {
      const value = directoryStats(sql, search);
      cached = { at: now, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}
