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
