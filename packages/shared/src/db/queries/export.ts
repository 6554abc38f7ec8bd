import type { Sql } from 'postgres';

export interface ExportedRoom {
  room_id: string;
  name: string | null;
  alias: string | null;
  topic: string | null;
  members: number;
  complexity: number | null;
  complexity_source: 'federation' | 'estimate' | null;
  complexity_server: string | null;
  servers_in_room: number | null;
  room_type: string | null;
  join_rule: string;
  /** Servers whose directories list the room now. */
  servers: string[];
  stale: boolean;
  hidden: boolean;
}

export interface ExportedServer {
  server_name: string;
  status: string;
  software: string | null;
  version: string | null;
  registration: string;
  registration_stages: string[] | null;
  found_via: string;
  found_from: string | null;
  publishes: boolean | null;
  crawl_mode: string | null;
  room_count: number | null;
  client_base_url: string | null;
  uptime_30d: number | null;
  last_probe_at: string | null;
  last_crawl_outcome: string | null;
  /** The last read of its directory stopped at the room cap (rooms past it were not stored). */
  room_cap_reached: boolean;
}

/** Every stored room, in room id order, read through a cursor so memory stays flat. */
export async function* exportRooms(sql: Sql, batchSize = 1000): AsyncGenerator<ExportedRoom> {
  const cursor = sql<ExportedRoom[]>`
    select r.room_id, r.name, r.canonical_alias as alias, r.topic, r.num_joined_members as members,
      r.complexity, r.complexity_source, r.complexity_server, r.servers_in_room, r.room_type, r.join_rule,
      coalesce(array(select l.server_name from room_listings l where l.room_id = r.room_id and l.active
        order by l.server_name), '{}') as servers,
      r.stale_since is not null as stale, r.hidden
    from rooms r order by r.room_id`.cursor(batchSize);
  for await (const rows of cursor) yield* rows;
}

/** Every known server, in name order. */
export async function* exportServers(sql: Sql, batchSize = 1000): AsyncGenerator<ExportedServer> {
  const cursor = sql<ExportedServer[]>`
    select name as server_name, status, software_name as software, software_version as version,
      registration, registration_stages, found_via, found_from, publishes, crawl_mode, room_count,
      client_base_url, uptime_30d,
      to_char(last_probe_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_probe_at,
      last_crawl_outcome, room_cap_reached_at is not null as room_cap_reached
    from servers order by name`.cursor(batchSize);
  for await (const rows of cursor) yield* rows;
}
