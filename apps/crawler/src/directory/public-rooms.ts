import type { DirectoryRoomRow } from '@atlas/shared/db';
import { hasNoindexTag } from '@atlas/shared/matrix';
import { cleanAlias, cleanMxcUri, cleanName, cleanRoomId, cleanTopic } from '@atlas/shared/text';
import { z } from 'zod';

/** One room of a public room directory, cleaned and ready to store (`upsertDirectoryRooms`). */
export type DirectoryRoom = DirectoryRoomRow;

export interface DirectoryPage {
  rooms: DirectoryRoom[];
  /** Rooms whose topic carries a no-index tag: never stored, and removed when already stored. */
  noindexRoomIds: string[];
  /** Entries skipped because they were not a room (no valid room_id or member count). */
  malformed: number;
  /** Absent at the end of the directory. */
  nextBatch: string | undefined;
  totalRoomCountEstimate: number | undefined;
}

export class DirectoryFormatError extends Error {
  override name = 'DirectoryFormatError';
}

/** Paging tokens are opaque but Atlas sends them back in a URL, so absurd ones end the crawl. */
export const MAX_TOKEN_LENGTH = 2048;
/** The `num_joined_members` column is a 32-bit integer; larger counts are lies or bugs. */
const MAX_MEMBERS = 2_147_483_647;

// The envelope of GET /_matrix/federation/v1/publicRooms and GET /_matrix/client/v3/publicRooms
// (server-server API "Public Room Directory"). Entries are checked one by one below, so one broken
// entry costs only itself.
const pageSchema = z.object({
  chunk: z.array(z.unknown()),
  next_batch: z.string().max(MAX_TOKEN_LENGTH).nullish(),
  total_room_count_estimate: z.number().int().nonnegative().nullish(),
});

export function parseDirectoryPage(body: unknown): DirectoryPage {
  const parsed = pageSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DirectoryFormatError(
      `not a public room directory page (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'})`,
    );
  }
  const page: DirectoryPage = {
    rooms: [],
    noindexRoomIds: [],
    malformed: 0,
    nextBatch: parsed.data.next_batch || undefined,
    totalRoomCountEstimate: parsed.data.total_room_count_estimate ?? undefined,
  };
  for (const entry of parsed.data.chunk) {
    const result = parseDirectoryEntry(entry);
    if (result === null) page.malformed++;
    else if (result.noindex) page.noindexRoomIds.push(result.room.roomId);
    else page.rooms.push(result.room);
  }
  return page;
}

/**
 * One `PublishedRoomsChunk` entry. `room_id` and `num_joined_members` must be right or the entry
 * is malformed; optional fields of the wrong type are treated as absent, as a lenient client would.
 * This runs for every room of every directory, so it checks types by hand instead of through a
 * schema object per entry.
 */
export function parseDirectoryEntry(entry: unknown): { room: DirectoryRoom; noindex: boolean } | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return null;
  const e = entry as Record<string, unknown>;
  const roomId = cleanRoomId(e.room_id);
  const members = e.num_joined_members;
  if (roomId === null || typeof members !== 'number' || !Number.isSafeInteger(members) || members < 0) {
    return null;
  }
  const rawTopic = typeof e.topic === 'string' ? e.topic : null;
  const topic = cleanTopic(rawTopic);
  return {
    noindex: hasNoindexTag(rawTopic) || hasNoindexTag(topic),
    room: {
      roomId,
      name: cleanName(e.name),
      topic,
      canonicalAlias: cleanAlias(e.canonical_alias),
      avatarUrl: cleanMxcUri(e.avatar_url),
      numJoinedMembers: Math.min(members, MAX_MEMBERS),
      worldReadable: e.world_readable === true,
      guestCanJoin: e.guest_can_join === true,
      // Absent means public (spec: "If not present, the room is assumed to be public").
      joinRule: cleanToken(e.join_rule) ?? 'public',
      roomType: cleanToken(e.room_type),
    },
  };
}

/** Namespaced identifiers such as `m.space` or `knock_restricted`. */
function cleanToken(value: unknown): string | null {
  return typeof value === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : null;
}
