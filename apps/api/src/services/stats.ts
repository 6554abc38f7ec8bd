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

/** Counts, software share among online servers, and what was discovered per day over 30 days. */
export async function directoryStats(sql: Sql, search: SearchIndex): Promise<DirectoryStats> {
  const [servers, rooms, software, languages, growth, indexed] = await Promise.all([
    sql<Record<string, string>[]>`
      select count(*) filter (where status <> 'blocked') as total,
             count(*) filter (where status = 'online') as online,
             count(*) filter (where status = 'offline') as offline,
             count(*) filter (where status = 'new') as new,
             count(*) filter (where status = 'invalid') as invalid,
             count(*) filter (where status = 'online' and publishes is true) as publishing,
             count(*) filter (where status = 'online' and registration = 'open') as open_registration
      from servers`,
    sql<Record<string, string | null>[]>`
      select count(*) as known,
             count(*) filter (where room_type = 'm.space' and not hidden) as spaces,
             count(*) filter (where stale_since is not null and not hidden) as stale,
             coalesce(sum(num_joined_members) filter (where not hidden and stale_since is null), 0) as members
      from rooms`,
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
        (select count(*) from servers s where s.discovered_at >= d.day and s.discovered_at < d.day + 1) as servers_discovered,
        (select count(*) from rooms r where r.first_seen_at >= d.day and r.first_seen_at < d.day + 1) as rooms_first_seen
      from days d order by d.day`,
    search.stats(),
  ]);
  const s = servers[0] ?? {};
  const r = rooms[0] ?? {};
  const online = Number(s.online ?? 0);
  return {
    servers: {
      total: Number(s.total ?? 0),
      online,
      offline: Number(s.offline ?? 0),
      new: Number(s.new ?? 0),
      invalid: Number(s.invalid ?? 0),
      publishing: Number(s.publishing ?? 0),
      open_registration: Number(s.open_registration ?? 0),
    },
    rooms: {
      known: Number(r.known ?? 0),
      searchable: indexed.documents,
      spaces: Number(r.spaces ?? 0),
      stale: Number(r.stale ?? 0),
      members: Number(r.members ?? 0),
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

/**
 * After the minute the last stats are still served while the next are computed in the background:
 * on a directory of 100,000 rooms that takes ~0.7-2 s (the 30-day growth counts `rooms` once for
 * each day), and every rooms page, which lists the languages, waited for it once a minute. Only
 * the first call waits; a computation that fails is tried again by the next call.
 */
export function cachedDirectoryStats(sql: Sql, search: SearchIndex): () => Promise<DirectoryStats> {
  let latest: { at: number; value: DirectoryStats } | undefined;
  let computing: Promise<DirectoryStats> | undefined;
  const compute = () => {
    computing ??= directoryStats(sql, search)
      .then((value) => {
        latest = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        computing = undefined;
      });
    return computing;
  };
  return () => {
    if (!latest) return compute();
    if (Date.now() - latest.at > STATS_TTL_MS) {
      // The old value answers meanwhile; a failure here leaves it for the next call to renew.
      compute().catch(() => {});
    }
    return Promise.resolve(latest.value);
  };
}
