import type { Sql } from 'postgres';
import { type PgTimestamp, timestampToDate } from '../db/timestamps.ts';
import { hasNoindexTag } from '../matrix/noindex.ts';
import { detectRoomLanguage, loadLanguageDetector } from './language.ts';
import type { RoomDocument } from './types.ts';

interface RoomRow {
  room_id: string;
  version: number;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  avatar_url: string | null;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  room_type: string | null;
  language: string | null;
  complexity: number | null;
  complexity_source: string | null;
  first_seen_at: PgTimestamp;
  last_seen_at: PgTimestamp;
  stale_since: PgTimestamp | null;
  hidden: boolean;
  servers: string[];
  blocked_listing: boolean;
  members_7d_ago: number | null;
  members_30d_ago: number | null;
}

/** A room as the search index should hold it, or why it must not be in the index at all. */
export type IndexDecision =
  | { roomId: string; version: number; document: RoomDocument }
  | { roomId: string; version: number; document: null; reason: 'hidden' | 'noindex' | 'blocked' };

/**
 * Reads rooms with what the index needs besides their own row: the servers listing them (blocked
 * ones left out), and their members 7 and 30 days ago from the daily snapshots. A room listed only
 * by blocked servers, hidden by an operator or tagged no-index is left out of the index.
 */
export async function loadIndexDecisions(sql: Sql, roomIds: string[]): Promise<IndexDecision[]> {
  if (roomIds.length === 0) return [];
  await loadLanguageDetector();
  const rows = await sql<RoomRow[]>`
    select r.room_id, r.version, r.name, r.topic, r.canonical_alias, r.avatar_url,
           r.num_joined_members, r.world_readable, r.guest_can_join, r.join_rule, r.room_type,
           r.language, r.complexity, r.complexity_source, r.first_seen_at, r.last_seen_at,
           r.stale_since, r.hidden,
           coalesce((
             select array_agg(l.server_name order by l.server_name)
             from room_listings l join servers s on s.name = l.server_name
             where l.room_id = r.room_id and l.active and s.status <> 'blocked'
           ), '{}') as servers,
           exists (
             select 1 from room_listings l join servers s on s.name = l.server_name
             where l.room_id = r.room_id and s.status = 'blocked'
           ) as blocked_listing,
           coalesce(
             (select s.num_joined_members from room_snapshots s
               where s.room_id = r.room_id and s.day <= current_date - 7 order by s.day desc limit 1),
             (select s.num_joined_members from room_snapshots s
               where s.room_id = r.room_id order by s.day asc limit 1)
           ) as members_7d_ago,
           coalesce(
             (select s.num_joined_members from room_snapshots s
               where s.room_id = r.room_id and s.day <= current_date - 30 order by s.day desc limit 1),
             (select s.num_joined_members from room_snapshots s
               where s.room_id = r.room_id order by s.day asc limit 1)
           ) as members_30d_ago
    from rooms r
    where r.room_id = any(${roomIds}::text[])`;
  return rows.map(toDecision);
}

function toDecision(row: RoomRow): IndexDecision {
  const base = { roomId: row.room_id, version: Number(row.version) };
  if (row.hidden) return { ...base, document: null, reason: 'hidden' };
  if (hasNoindexTag(row.topic)) return { ...base, document: null, reason: 'noindex' };
  if (row.servers.length === 0 && row.blocked_listing) return { ...base, document: null, reason: 'blocked' };
  const members = row.num_joined_members;
  return {
    ...base,
    document: {
      roomId: row.room_id,
      name: row.name,
      topic: row.topic,
      canonicalAlias: row.canonical_alias,
      avatarUrl: row.avatar_url,
      servers: row.servers,
      numJoinedMembers: members,
      worldReadable: row.world_readable,
      guestCanJoin: row.guest_can_join,
      joinRule: row.join_rule,
      roomType: row.room_type,
      // Detected afresh from what the room says now; the indexer keeps the result in rooms.language
      // for the filters that run in SQL (servers by the language of their rooms, language counts).
      language: detectRoomLanguage(row.name, row.topic),
      complexity: row.complexity,
      complexityEstimated: row.complexity_source === 'estimate',
      growth7d: row.members_7d_ago === null ? 0 : members - row.members_7d_ago,
      growth30d: row.members_30d_ago === null ? 0 : members - row.members_30d_ago,
      firstSeenAt: timestampToDate(row.first_seen_at).getTime(),
      lastSeenAt: timestampToDate(row.last_seen_at).getTime(),
      stale: row.stale_since !== null,
    },
  };
}
