import { parseMxcUri } from '../matrix/mxc.ts';
import type { RoomDocument } from '../search/types.ts';

/**
 * A room as Atlas's JSON API shows it (snake_case, like Matrix), and as the pages read it. Mapped
 * field by field from the search document (`toApiRoom`), so neither the search backend's storage
 * nor a database column is part of the API.
 */
export interface ApiRoom {
  room_id: string;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  avatar_url: string | null;
  /**
   * Path of the room's avatar as a small image on this Atlas (`/media/avatar/{server}/{mediaId}`,
   * 96×96 WebP; `?size=large` for 400 pixels); null without an avatar, or when media is off.
   */
  avatar_thumbnail: string | null;
  /** Servers whose directories list the room now (blocked ones left out). */
  servers: string[];
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  /** null for a plain room, `m.space` for a space. */
  room_type: string | null;
  /** ISO 639-1, detected from name and topic; null when unsure. */
  language: string | null;
  /** Synapse's v1 complexity (state events / 500); null when unknown. */
  complexity: number | null;
  complexity_estimated: boolean;
  /** Members now minus members 7 (30) days ago; 0 when unknown. */
  growth_7d: number;
  growth_30d: number;
  first_seen_at: string;
  last_seen_at: string;
  /** Listed by no server any more. */
  stale: boolean;
}

/** What the API's room shapes link to, decided by the operator's settings. */
export interface RoomLinks {
  /** Avatars are served (`ATLAS_MEDIA` is on). */
  avatars: boolean;
}

/** The path at which Atlas serves the avatar `mxc://server/mediaId`; null for anything else. */
export function avatarThumbnailPath(avatarUrl: string | null): string | null {
  const ref = parseMxcUri(avatarUrl);
  if (!ref) return null;
  return `/media/avatar/${encodeURIComponent(ref.serverName)}/${ref.mediaId}`;
}

export function toApiRoom(doc: RoomDocument, links: RoomLinks): ApiRoom {
  return {
    room_id: doc.roomId,
    name: doc.name,
    topic: doc.topic,
    canonical_alias: doc.canonicalAlias,
    avatar_url: doc.avatarUrl,
    avatar_thumbnail: links.avatars ? avatarThumbnailPath(doc.avatarUrl) : null,
    servers: doc.servers,
    num_joined_members: doc.numJoinedMembers,
    world_readable: doc.worldReadable,
    guest_can_join: doc.guestCanJoin,
    join_rule: doc.joinRule,
    room_type: doc.roomType,
    language: doc.language,
    complexity: doc.complexity,
    complexity_estimated: doc.complexityEstimated,
    growth_7d: doc.growth7d,
    growth_30d: doc.growth30d,
    first_seen_at: new Date(doc.firstSeenAt).toISOString(),
    last_seen_at: new Date(doc.lastSeenAt).toISOString(),
    stale: doc.stale,
  };
}

/** A page of rooms (`GET /api/v1/rooms`). */
export interface RoomList {
  rooms: ApiRoom[];
  total: number;
  /** false: at least `total` rooms match. */
  total_exact: boolean;
  next_cursor: string | null;
}

/** One room with the servers listing it and its members over 90 days (`GET /api/v1/rooms/{roomId}`). */
export interface RoomDetail extends ApiRoom {
  listings: { server_name: string; first_seen_at: string; last_seen_at: string; active: boolean }[];
  members_history: { day: string; num_joined_members: number }[];
  complexity_server: string | null;
  complexity_at: string | null;
  servers_in_room: number | null;
}
