import type { RoomJson } from '@atlas/shared/search';

/**
 * What the pages need from the rest of Atlas. The API builds one implementation over the same
 * services its JSON routes use (one search cache, one set of filters, one report limit) and mounts
 * the pages with it; the pages never call the API over HTTP. The shapes are the JSON API's, read
 * only for the fields the pages show.
 */
export interface WebServices<RoomQuery = unknown, ServerQuery = unknown> {
  /** The rooms page's query string, checked by the JSON API's own rules. */
  parseRoomQuery(query: QueryRecord): Checked<RoomQuery>;
  searchRooms(query: RoomQuery): Promise<Checked<RoomList>>;
  /** A room shown in the directory, by id or canonical alias; null when it is not. */
  findRoom(reference: { roomId: string } | { alias: string }): Promise<RoomJson | null>;
  roomDetail(roomId: string): Promise<RoomDetail | null>;
  /** The biggest or fastest-growing rooms. */
  topRooms(sort: 'members' | 'growth7d', limit: number): Promise<RoomJson[]>;
  parseServerQuery(query: QueryRecord): Checked<ServerQuery>;
  listServers(query: ServerQuery): Promise<Checked<ServerList>>;
  serverDetail(name: string): Promise<ServerDetail | null>;
  /** The rooms a server publishes, biggest first, a page at a time. */
  serverRooms(name: string, cursor: string | undefined): Promise<Checked<RoomList>>;
  stats(): Promise<DirectoryStats>;
  /** Records a report from the address, within the same hourly limit as `POST /api/v1/reports`. */
  report(input: ReportInput): Promise<ReportOutcome>;
  /** The servers of the Element feed (`/api/v1/element/config.json`), best first. */
  elementServers(): Promise<string[]>;
}

export type QueryRecord = Record<string, string | undefined>;

/** A value, or what was wrong with the input, one line per problem, naming the parameter. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export interface RoomList {
  rooms: RoomJson[];
  total: number;
  total_exact: boolean;
  next_cursor: string | null;
}

export interface RoomDetail extends RoomJson {
  listings: { server_name: string; first_seen_at: string; last_seen_at: string; active: boolean }[];
  members_history: { day: string; num_joined_members: number }[];
  complexity_server: string | null;
  complexity_at: string | null;
  servers_in_room: number | null;
}

export interface ServerSummary {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  registration_stages: string[];
  publishes: boolean | null;
  room_count: number | null;
  /** Its directory listed more rooms than Atlas keeps from a server not vouched for. */
  room_cap_reached: boolean;
  members: number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  contacts: { matrix_id?: string; email_address?: string; role: string }[];
  discovered_at: string;
  last_seen_online_at: string | null;
  last_probe_at: string | null;
}

export interface ServerList {
  servers: ServerSummary[];
  next_cursor: string | null;
}

export interface ServerDetail extends ServerSummary {
  support_page: string | null;
  client_base_url: string | null;
  found_via: string;
  found_from: string | null;
  resolution: string | null;
  delegated_to: string | null;
  uptime: { last_day: number | null; last_7_days: number | null; last_30_days: number | null };
  uptime_days: { day: string; share: number | null; checks: number }[];
  checks: {
    checked_at: string;
    reachable: boolean;
    latency_ms: number | null;
    software_version: string | null;
    registration: string | null;
    error: string | null;
  }[];
  last_crawl: {
    started_at: string;
    finished_at: string | null;
    outcome: string | null;
    stop_reason: string | null;
    mode: string | null;
    rooms: number;
    error: string | null;
  } | null;
}

export interface DirectoryStats {
  servers: {
    total: number;
    online: number;
    offline: number;
    new: number;
    invalid: number;
    publishing: number;
    open_registration: number;
  };
  rooms: { known: number; searchable: number; spaces: number; stale: number; members: number };
  software: { name: string; servers: number; share: number }[];
  languages: { code: string; rooms: number }[];
  growth: { day: string; servers_discovered: number; rooms_first_seen: number }[];
  generated_at: string;
}

export interface ReportInput {
  roomId?: string | undefined;
  serverName?: string | undefined;
  reason: string;
  clientIp: string;
}

export type ReportOutcome =
  | { ok: true }
  | { ok: false; status: 400 | 404 | 429; message: string; retryAfterSeconds?: number };

/** Operator settings the pages show. */
export interface WebSettings {
  /** Element Web, for "Open in Element" links (ATLAS_ELEMENT_URL). */
  elementUrl: string;
  /** Atlas's own Matrix server name, when it has one: Element can browse Atlas as a server. */
  serverName: string | undefined;
  /** Where the feed is served from, for the snippet on /about; relative when unknown. */
  publicUrl: string | undefined;
}
