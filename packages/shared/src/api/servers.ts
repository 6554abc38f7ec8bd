import type { ApiRoom } from './rooms.ts';

/**
 * The orders servers can be listed in: rooms (most first, the default), recommended (small, open,
 * reliable servers first, shuffled daily among equals), smallest (fewest rooms first), uptime,
 * latency, newest, name.
 */
export const SERVER_SORTS = [
  'recommended',
  'rooms',
  'smallest',
  'uptime',
  'latency',
  'newest',
  'name',
] as const;
export type ServerSort = (typeof SERVER_SORTS)[number];
/** The statuses a server listed by the API may have (a blocked server is never listed). */
export const SERVER_STATUSES = ['new', 'online', 'offline', 'invalid'] as const;

/** A server as Atlas's JSON API shows it, and as the pages read it. */
export interface ApiServer {
  name: string;
  status: string;
  software_name: string | null;
  software_version: string | null;
  registration: string;
  /** How one signs up where registration is open: the stages of its flows (email, captcha, token...). */
  registration_stages: string[];
  /** Publishes its room directory over federation; null when not known. */
  publishes: boolean | null;
  room_count: number | null;
  /** Members of the rooms it lists now, all added up. */
  members: number | null;
  uptime_30d: number | null;
  latency_ms: number | null;
  contacts: { matrix_id?: string; email_address?: string; role: string }[];
  discovered_at: string;
  last_seen_online_at: string | null;
  last_probe_at: string | null;
  /**
   * The last read of its directory stopped at the room cap: Atlas keeps its biggest rooms, up to
   * the cap, and not the rest.
   */
  room_cap_reached: boolean;
}

/** A page of servers (`GET /api/v1/servers`). */
export interface ServerList {
  servers: ApiServer[];
  next_cursor: string | null;
}

/** One server in full (`GET /api/v1/servers/{name}`). */
export interface ServerDetail extends ApiServer {
  support_page: string | null;
  client_base_url: string | null;
  /** How Atlas first heard of it (seed, alias, room_id, query_directory, hierarchy...) and from what. */
  found_via: string;
  found_from: string | null;
  /** The resolution step that located it, and the host:port it delegates to. */
  resolution: string | null;
  delegated_to: string | null;
  uptime: { last_day: number | null; last_7_days: number | null; last_30_days: number | null };
  /** The last 30 days, oldest first: the share of probes answered each day (null: no probe). */
  uptime_days: { day: string; share: number | null; checks: number }[];
  /** The last probes, newest first. */
  checks: {
    checked_at: string;
    reachable: boolean;
    latency_ms: number | null;
    software_version: string | null;
    registration: string | null;
    error: string | null;
  }[];
  /** The latest directory read. */
  last_crawl: {
    started_at: string;
    finished_at: string | null;
    outcome: string;
    stop_reason: string | null;
    mode: string;
    rooms: number;
    error: string | null;
  } | null;
  /** Its biggest rooms. */
  rooms: ApiRoom[];
}
