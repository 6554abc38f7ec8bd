import type { Database } from '@atlas/shared/db';
import type { RoomDocument } from '@atlas/shared/search';

const DAY = 24 * 3600 * 1000;

/** A search document with defaults that match nothing in particular. */
export function roomDocument(overrides: Partial<RoomDocument> & { roomId: string }): RoomDocument {
  const now = Date.now();
  return {
    name: null,
    topic: null,
    canonicalAlias: null,
    avatarUrl: null,
    servers: ['example.org'],
    numJoinedMembers: 1,
    worldReadable: false,
    guestCanJoin: false,
    joinRule: 'public',
    roomType: null,
    language: null,
    complexity: null,
    complexityEstimated: false,
    growth7d: 0,
    growth30d: 0,
    firstSeenAt: now - 60 * DAY,
    lastSeenAt: now,
    stale: false,
    ...overrides,
  };
}

export interface SeedServer {
  name: string;
  status?: 'new' | 'online' | 'offline' | 'invalid' | 'blocked';
  softwareName?: string | null;
  softwareVersion?: string | null;
  registration?: 'open' | 'closed' | 'unknown';
  publishes?: boolean | null;
  roomCount?: number | null;
  uptime30d?: number | null;
  discoveredAt?: Date;
  contacts?: { matrixId?: string; email?: string; role: string }[] | null;
  supportPage?: string | null;
  latencyMs?: number | null;
  /**
   * How its directory was last read. Default: over federation, complete when it publishes (a 403,
   * `forbidden`, when it does not; never read when unknown).
   */
  crawlMode?: 'federation' | 'client' | 'via' | null;
  lastCrawlOutcome?: 'complete' | 'partial' | 'forbidden' | 'no_access' | 'failed' | null;
  roomCapReached?: boolean;
}

/** Inserts servers the way the crawler leaves them after a probe and a directory read. */
export async function seedServers(database: Database, servers: SeedServer[]): Promise<void> {
  for (const s of servers) {
    const publishes = s.publishes === undefined ? true : s.publishes;
    const outcome =
      s.lastCrawlOutcome !== undefined
        ? s.lastCrawlOutcome
        : publishes === false
          ? 'forbidden'
          : publishes || s.crawlMode
            ? 'complete'
            : null;
    const mode = s.crawlMode !== undefined ? s.crawlMode : outcome === null ? null : 'federation';
    await database.sql`
      insert into servers (name, status, found_via, software_name, software_version, registration,
        publishes, room_count, uptime_30d, discovered_at, contacts, support_page, latency_ms,
        last_probe_at, last_seen_online_at, crawl_mode, last_crawl_outcome, last_crawl_at,
        room_cap_reached_at)
      values (${s.name}, ${s.status ?? 'online'}, 'seed', ${s.softwareName ?? 'Synapse'},
        ${s.softwareVersion ?? '1.163.2'}, ${s.registration ?? 'closed'}, ${publishes},
        ${s.roomCount ?? 0}, ${s.uptime30d ?? 1}, ${(s.discoveredAt ?? new Date()).toISOString()}::timestamptz,
        (${s.contacts ? JSON.stringify(s.contacts) : null}::text)::jsonb, ${s.supportPage ?? null}, ${s.latencyMs ?? 40},
        now(), ${s.status === 'offline' ? null : new Date().toISOString()}::timestamptz, ${mode}, ${outcome},
        ${outcome === null ? null : new Date().toISOString()}::timestamptz,
        ${s.roomCapReached ? new Date().toISOString() : null}::timestamptz)
      on conflict (name) do nothing`;
  }
}

export interface SeedRoom {
  roomId: string;
  name?: string | null;
  topic?: string | null;
  canonicalAlias?: string | null;
  members?: number;
  worldReadable?: boolean;
  joinRule?: string;
  roomType?: string | null;
  complexity?: number | null;
  complexitySource?: 'federation' | 'estimate' | null;
  firstSeenAt?: Date;
  stale?: boolean;
  hidden?: boolean;
  /** Servers whose directories list the room; created as online servers when missing. */
  servers?: string[];
  /** Members per day ago, e.g. {7: 10, 30: 4}, written as daily snapshots. */
  history?: Record<number, number>;
}

/** Inserts rooms as the crawler stores them (rooms, listings, snapshots), ready for the index queue. */
export async function seedRooms(database: Database, rooms: SeedRoom[]): Promise<void> {
  const serverNames = [...new Set(rooms.flatMap((r) => r.servers ?? ['example.org']))];
  await seedServers(
    database,
    serverNames.map((name) => ({ name })),
  );
  for (const r of rooms) {
    const members = r.members ?? 1;
    await database.sql`
      insert into rooms (room_id, name, topic, canonical_alias, num_joined_members, world_readable,
        join_rule, room_type, complexity, complexity_source, first_seen_at, stale_since, hidden)
      values (${r.roomId}, ${r.name ?? null}, ${r.topic ?? null}, ${r.canonicalAlias ?? null}, ${members},
        ${r.worldReadable ?? false}, ${r.joinRule ?? 'public'}, ${r.roomType ?? null},
        ${r.complexity ?? null}, ${r.complexity === null || r.complexity === undefined ? null : (r.complexitySource ?? 'federation')},
        ${(r.firstSeenAt ?? new Date()).toISOString()}::timestamptz, ${r.stale ? new Date().toISOString() : null}::timestamptz, ${r.hidden ?? false})`;
    for (const server of r.servers ?? ['example.org']) {
      await database.sql`
        insert into room_listings (room_id, server_name, active) values (${r.roomId}, ${server}, ${!r.stale})`;
    }
    await database.sql`
      insert into room_snapshots (room_id, day, num_joined_members) values (${r.roomId}, current_date, ${members})`;
    for (const [daysAgo, count] of Object.entries(r.history ?? {})) {
      await database.sql`
        insert into room_snapshots (room_id, day, num_joined_members)
        values (${r.roomId}, current_date - ${Number(daysAgo)}::int, ${count})`;
    }
  }
  // As a directory read leaves it: a server's room count is what it lists (unless a test set one).
  await database.sql`
    update servers s set room_count = (
      select count(*) from room_listings l where l.server_name = s.name and l.active)
    where s.name = any(${serverNames}::text[]) and coalesce(s.room_count, 0) = 0`;
}
