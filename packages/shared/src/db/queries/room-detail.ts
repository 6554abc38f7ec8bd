import type { Queryable } from '../client.ts';
import type { PgTimestamp } from '../timestamps.ts';
import { textArray } from './sql-arrays.ts';

/** What a room's page adds to its search document: who measured its complexity, and when. */
export interface RoomFactsRow {
  complexity_server: string | null;
  complexity_at: PgTimestamp | null;
  servers_in_room: number | null;
}

/** The measured facts of a room that is not hidden; undefined when it is unknown or hidden. */
export async function shownRoomFacts(sql: Queryable, roomId: string): Promise<RoomFactsRow | undefined> {
  const [row] = await sql<RoomFactsRow[]>`
    select complexity_server, complexity_at, servers_in_room from rooms
    where room_id = ${roomId} and not hidden`;
  return row;
}

export interface RoomListingRow {
  server_name: string;
  first_seen_at: PgTimestamp;
  last_seen_at: PgTimestamp;
  active: boolean;
}

/** The servers that list or listed a room, current listings first; blocked servers left out. */
export async function listingsOfRoom(sql: Queryable, roomId: string, limit = 100): Promise<RoomListingRow[]> {
  return sql<RoomListingRow[]>`
    select l.server_name, l.first_seen_at, l.last_seen_at, l.active
    from room_listings l join servers s on s.name = l.server_name
    where l.room_id = ${roomId} and s.status <> 'blocked'
    order by l.active desc, l.server_name limit ${limit}`;
}

/** A room's members per day (UTC) over the last `days`, oldest first. */
export async function memberHistory(
  sql: Queryable,
  roomId: string,
  days = 90,
): Promise<{ day: string; num_joined_members: number }[]> {
  return sql<{ day: string; num_joined_members: number }[]>`
    select day::text as day, num_joined_members from room_snapshots
    where room_id = ${roomId} and day > current_date - ${days}::int order by day`;
}

/**
 * The id of a room that is not hidden, named by its id or canonical alias (what someone pastes into
 * a search box). An alias several rooms claimed goes to the one still listed with most members.
 */
export async function shownRoomId(
  sql: Queryable,
  reference: { roomId: string } | { alias: string },
): Promise<string | undefined> {
  const rows =
    'roomId' in reference
      ? await sql<{ room_id: string }[]>`
          select room_id from rooms where room_id = ${reference.roomId} and not hidden`
      : await sql<{ room_id: string }[]>`
          select room_id from rooms where canonical_alias = ${reference.alias} and not hidden
          order by stale_since is null desc, num_joined_members desc limit 1`;
  return rows[0]?.room_id;
}

/**
 * Hides or shows a room (an operator's decision); its version moves, so the index queue confirms
 * the change. Returns false when no such room is known.
 */
export async function setRoomHidden(sql: Queryable, roomId: string, hidden: boolean): Promise<boolean> {
  const updated = await sql`
    update rooms set hidden = ${hidden}, version = version + 1, updated_at = now()
    where room_id = ${roomId} returning room_id`;
  return updated.length > 0;
}

/** Marks the rooms the servers list as changed, so the index queue looks at them again. */
export async function touchRoomsListedBy(sql: Queryable, servers: readonly string[]): Promise<void> {
  if (servers.length === 0) return;
  await sql`
    update rooms set version = version + 1, updated_at = now()
    where room_id in (select room_id from room_listings where server_name = any(${textArray(servers)}::text[]))`;
}
