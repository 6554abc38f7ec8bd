import {
  InvalidCursorError,
  type RoomDocument,
  type RoomFilters,
  type SearchIndex,
} from '@atlas/shared/search';
import { MatrixApiError } from '../errors.ts';

/** A `PublishedRoomsChunk` entry (server-server and client-server API, "publicRooms"). */
export interface PublicRoomsChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  room_type?: string;
}

export interface PublicRoomsResponse {
  chunk: PublicRoomsChunk[];
  next_batch?: string;
  total_room_count_estimate: number;
}

export interface PublicRoomsRequest {
  limit?: number | undefined;
  since?: string | undefined;
  searchTerm?: string | undefined;
  /** `filter.room_types`: null stands for a plain room. */
  roomTypes?: (string | null)[] | undefined;
  /** A third-party network: Atlas bridges none, so the answer is empty. */
  thirdPartyInstanceId?: string | undefined;
  /** Only rooms listed by this server (the client API's `server` when it names another server). */
  server?: string | undefined;
}

export interface PublicRoomsOptions {
  maxComplexity?: number | undefined;
  /**
   * Servers Atlas may point clients at (`listableServers`): a room is served only when one of them
   * lists it, and the client API's `server` must be one of them.
   */
  listable: readonly string[];
}

/** Element asks for 20 or 30; Synapse caps its own pages at 100, so does Atlas (and a bit more). */
const DEFAULT_LIMIT = 30;
const MAX_LIMIT = 100;

function toChunk(doc: RoomDocument): PublicRoomsChunk {
  const chunk: PublicRoomsChunk = {
    room_id: doc.roomId,
    num_joined_members: doc.numJoinedMembers,
    world_readable: doc.worldReadable,
    guest_can_join: doc.guestCanJoin,
    join_rule: doc.joinRule,
  };
  if (doc.name) chunk.name = doc.name;
  if (doc.topic) chunk.topic = doc.topic;
  if (doc.canonicalAlias) chunk.canonical_alias = doc.canonicalAlias;
  if (doc.avatarUrl) chunk.avatar_url = doc.avatarUrl;
  if (doc.roomType) chunk.room_type = doc.roomType;
  return chunk;
}

/**
 * Atlas's directory in Matrix's own shape. Only rooms with a canonical alias are served: Element
 * joins a directory result by its alias with the directory's server as `via`, and Atlas is in no
 * room, so a room without an alias could not be joined from here. Rooms above the operator's
 * complexity cap and stale rooms are left out too, and so are rooms no listable server lists: a
 * server offline, or one that refuses to publish its directory over federation, is not passed on
 * over federation by Atlas either.
 */
export async function publicRooms(
  search: SearchIndex,
  request: PublicRoomsRequest,
  options: PublicRoomsOptions,
): Promise<PublicRoomsResponse> {
  if (request.thirdPartyInstanceId) return { chunk: [], total_room_count_estimate: 0 };
  const servers = request.server
    ? options.listable.filter((name) => name === request.server)
    : [...options.listable];
  if (servers.length === 0) return { chunk: [], total_room_count_estimate: 0 };
  const filters: RoomFilters = { hasAlias: true, stale: false, servers };
  if (options.maxComplexity !== undefined) filters.joinableWithLimit = options.maxComplexity;
  if (request.roomTypes && request.roomTypes.length > 0) filters.roomTypes = request.roomTypes;
  const limit = Math.min(MAX_LIMIT, Math.max(1, request.limit ?? DEFAULT_LIMIT));
  const q = request.searchTerm?.trim();
  try {
    const page = await search.search({
      ...(q ? { q } : {}),
      filters,
      sort: q ? 'relevance' : 'members',
      limit,
      ...(request.since ? { cursor: request.since } : {}),
    });
    return {
      chunk: page.hits.map(toChunk),
      ...(page.nextCursor ? { next_batch: page.nextCursor } : {}),
      total_room_count_estimate: page.total,
    };
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new MatrixApiError('BAD_REQUEST', 'M_INVALID_PARAM', `since: ${error.message}`);
    }
    throw error;
  }
}
