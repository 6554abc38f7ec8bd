import type { TestDatabase } from '../support/database.ts';

/** What the Synapse suite reads back from Atlas's tables (packages/shared/src/db/schema/). */

export interface ServerRow {
  name: string;
  status: string;
  found_via: string;
  found_from: string | null;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  registration_stages: string[] | null;
  publishes: boolean | null;
  crawl_mode: string | null;
}

export interface RoomRow {
  room_id: string;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  num_joined_members: number;
  room_type: string | null;
  complexity: number | null;
  complexity_source: string | null;
  servers_in_room: number | null;
  /** A timestamp (postgres.js hands timestamptz over as text here), null while the room is listed. */
  stale_since: string | Date | null;
  hidden: boolean;
}

export async function server(db: TestDatabase, name: string): Promise<ServerRow | undefined> {
  const rows = await db.sql<ServerRow[]>`select * from servers where name = ${name}`;
  return rows[0];
}

export async function room(db: TestDatabase, roomId: string): Promise<RoomRow | undefined> {
  const rows = await db.sql<RoomRow[]>`select * from rooms where room_id = ${roomId}`;
  return rows[0];
}

/** Room ids a server's directory lists, as Atlas last saw it. */
export async function activeListings(db: TestDatabase, serverName: string): Promise<string[]> {
  const rows = await db.sql<{ room_id: string }[]>`
    select room_id from room_listings where server_name = ${serverName} and active order by room_id`;
  return rows.map((row) => row.room_id);
}

export async function crawlRuns(db: TestDatabase, serverName: string) {
  return db.sql<
    { mode: string; status: string; stop_reason: string | null; pages: number; rooms_seen: number }[]
  >`
    select mode, status, stop_reason, pages, rooms_seen from crawl_runs
    where server_name = ${serverName} order by started_at`;
}
