import { type PgTimestamp, timestampToDate } from '../db/timestamps.ts';
import type { RoomDocument } from './types.ts';

/** A `room_search` row as the search statements return it. */
export interface Row {
  room_id: string;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  avatar_url: string | null;
  servers: string[];
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  room_type: string | null;
  language: string | null;
  complexity: number | null;
  complexity_estimated: boolean;
  growth_7d: number;
  growth_30d: number;
  first_seen_at: PgTimestamp;
  last_seen_at: PgTimestamp;
  stale: boolean;
}

export const SELECT_COLUMNS = `room_id, name, topic, canonical_alias, avatar_url, servers, num_joined_members,
  world_readable, guest_can_join, join_rule, room_type, language, complexity, complexity_estimated,
  growth_7d, growth_30d, first_seen_at, last_seen_at, stale`;

/** SELECT_COLUMNS qualified with a table alias. */
export function selectColumns(alias: string): string {
  return SELECT_COLUMNS.replace(/(\w+)/g, `${alias}.$1`);
}

export function toDocument(row: Row): RoomDocument {
  return {
    roomId: row.room_id,
    name: row.name,
    topic: row.topic,
    canonicalAlias: row.canonical_alias,
    avatarUrl: row.avatar_url,
    servers: row.servers,
    numJoinedMembers: row.num_joined_members,
    worldReadable: row.world_readable,
    guestCanJoin: row.guest_can_join,
    joinRule: row.join_rule,
    roomType: row.room_type,
    language: row.language,
    complexity: row.complexity,
    complexityEstimated: row.complexity_estimated,
    growth7d: row.growth_7d,
    growth30d: row.growth_30d,
    firstSeenAt: timestampToDate(row.first_seen_at).getTime(),
    lastSeenAt: timestampToDate(row.last_seen_at).getTime(),
    stale: row.stale,
  };
}
