import type { DirectoryStats } from '@atlas/shared/api';
import {
  crawlActivity,
  directoryTotals,
  discoveriesPerDay,
  languageCounts,
  softwareShare,
} from '@atlas/shared/db';
import type { SearchIndex } from '@atlas/shared/search';
import type { Sql } from 'postgres';

/**
 * Counts (`directoryTotals`: blocked servers and hidden rooms are not counted), software share among
 * online servers, and what was discovered per day over 30 days.
 */
export async function directoryStats(sql: Sql, search: SearchIndex): Promise<DirectoryStats> {
  const [totals, software, languages, growth, activity, indexed] = await Promise.all([
    directoryTotals(sql),
    softwareShare(sql),
    languageCounts(sql),
    discoveriesPerDay(sql),
    crawlActivity(sql),
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
      servers: row.servers,
      share: online > 0 ? row.servers / online : 0,
    })),
    languages: languages.map((row) => ({ code: row.code, rooms: row.rooms })),
    growth: growth.map((row) => ({
      day: row.day,
      servers_discovered: row.serversDiscovered,
      rooms_first_seen: row.roomsFirstSeen,
    })),
    crawl: {
      rooms_to_index: activity.roomsToIndex,
      servers_checked_last_hour: activity.serversChecked,
      directories_read_last_hour: activity.directoriesRead,
      last_read_at: activity.lastReadAt,
    },
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
