import type { PageRequest, PageResult } from './directory.ts';
import type { SimRoom, SimServer } from './model.ts';
import { Rng } from './prng.ts';
import { pythonTruthy } from './python.ts';
import { roomEntryJson } from './room-entry.ts';
import { decodeSinceToken, encodeSinceToken } from './since-token.ts';
import { aliasLocalpart, plainRoomName, roomTopic } from './words.ts';

/**
 * A directory that never ends, the way a generated spam wave or a broken server looks to a
 * crawler: every page holds 100 rooms no page held before, each a valid entry with a name, a topic
 * and an alias on the server, and every page has a `next_batch`. Rooms are made from their position,
 * so the same position is the same room on every read; query/directory and the complexity endpoint
 * answer for them as for any other room of the server.
 */

/** Synapse's page size. */
const PAGE = 100;
/** Positions are written with this many digits into room ids (room ids descend as positions grow). */
const DIGITS = 12;
const SPAN = 10 ** DIGITS;
const ID_PREFIX = '!endless';

/** Members fall by one a page, from 5,000 to 2, and stay there: Synapse's order (members, then id, descending). */
function membersAt(position: number): number {
  return Math.max(2, 5_000 - Math.floor(position / PAGE));
}

function roomIdAt(server: SimServer, position: number): string {
  return `${ID_PREFIX}${String(SPAN - 1 - position).padStart(DIGITS, '0')}:${server.name}`;
}

/** The position of one of the server's endless room ids, or null for any other id. */
function positionOf(server: SimServer, roomId: string): number | null {
  const suffix = `:${server.name}`;
  if (!roomId.startsWith(ID_PREFIX) || !roomId.endsWith(suffix)) return null;
  const digits = roomId.slice(ID_PREFIX.length, roomId.length - suffix.length);
  if (!/^\d+$/.test(digits) || digits.length !== DIGITS) return null;
  return SPAN - 1 - Number(digits);
}

/** The room at `position` of `server`'s endless directory. */
export function endlessRoomAt(server: SimServer, seed: string, position: number): SimRoom {
  const rng = new Rng(`${seed}/endless/${server.index}/${position}`);
  const name = plainRoomName(rng);
  const members = membersAt(position);
  return {
    roomId: roomIdAt(server, position),
    roomVersion: '10',
    name,
    topic: rng.chance(0.7) ? roomTopic(rng) : undefined,
    canonicalAlias: `#${aliasLocalpart(rng, name)}-${position}:${server.name}`,
    avatarUrl: undefined,
    avatarMedia: undefined,
    members,
    stateEvents: members * 2 + 10,
    worldReadable: false,
    guestCanJoin: false,
    joinRule: 'public',
    allowedRoomIds: [],
    federate: true,
    roomType: undefined,
    residents: [server.name],
    children: [],
    hostile: false,
  };
}

/** One of the server's endless rooms by id, or undefined. */
export function endlessRoom(server: SimServer, seed: string, roomId: string): SimRoom | undefined {
  const position = positionOf(server, roomId);
  return position === null ? undefined : endlessRoomAt(server, seed, position);
}

/** One of the server's endless rooms by alias (`#<name>-<position>:<server>`), or undefined. */
export function endlessRoomByAlias(server: SimServer, seed: string, alias: string): SimRoom | undefined {
  const match = /-(\d{1,12}):(.+)$/.exec(alias);
  if (!match || match[2] !== server.name) return undefined;
  const room = endlessRoomAt(server, seed, Number(match[1]));
  return room.canonicalAlias?.toLowerCase() === alias.toLowerCase() ? room : undefined;
}

/** A page of the endless directory, Synapse's way (a bad `since` is Synapse's 500). */
export function endlessPage(server: SimServer, seed: string, request: PageRequest): PageResult {
  const total = `"total_room_count_estimate":${SPAN}`;
  // A search finds nothing new: the wave is not made to be searched.
  if (request.searchTerm || (request.roomTypes && request.roomTypes.length > 0)) {
    return { ok: true, body: `{"chunk":[],${total}}` };
  }
  const limit = !request.limit || request.limit > PAGE ? PAGE : request.limit;
  // Forwards from the start, or from the room after the bound; backwards, the rooms just before it.
  let start = 0;
  let end = limit;
  if (pythonTruthy(request.since)) {
    const bound = typeof request.since === 'string' ? decodeSinceToken(request.since) : null;
    if (!bound) return { ok: false, status: 500, errcode: 'M_UNKNOWN', error: 'Internal server error' };
    const at = positionOf(server, bound.roomId) ?? -1;
    start = bound.forwards ? at + 1 : Math.max(0, at - limit);
    end = bound.forwards ? start + limit : Math.max(0, at);
  }
  const rooms: SimRoom[] = [];
  for (let position = start; position < end; position++) rooms.push(endlessRoomAt(server, seed, position));
  const token = (room: SimRoom, direction: boolean) =>
    JSON.stringify(encodeSinceToken({ members: room.members, roomId: room.roomId, forwards: direction }));
  const first = rooms[0];
  const last = rooms[rooms.length - 1];
  let body = `{"chunk":[${rooms.map(roomEntryJson).join(',')}]`;
  if (first && start > 0) body += `,"prev_batch":${token(first, false)}`;
  if (last) body += `,"next_batch":${token(last, true)}`;
  return { ok: true, body: `${body},${total}}` };
}
