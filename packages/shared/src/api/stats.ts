/**
 * The directory at a glance (`GET /api/v1/stats`, the stats page). Counts follow `directoryTotals`:
 * blocked servers and hidden rooms are not counted.
 */
export interface DirectoryStats {
  servers: {
    total: number;
    online: number;
    offline: number;
    new: number;
    invalid: number;
    /** Online servers that publish their directory over federation. */
    publishing: number;
    /** Online servers whose registration is open. */
    open_registration: number;
  };
  rooms: { known: number; searchable: number; spaces: number; stale: number; members: number };
  /** Software among online servers, most used first. */
  software: { name: string; servers: number; share: number }[];
  /** Rooms shown per detected language, most first. */
  languages: { code: string; rooms: number }[];
  /** Servers discovered and rooms first seen per day over 30 days, oldest first. */
  growth: { day: string; servers_discovered: number; rooms_first_seen: number }[];
  /** The crawl now: rooms waiting for the search index, servers checked and directories read in the last hour. */
  crawl: {
    rooms_to_index: number;
    servers_checked_last_hour: number;
    directories_read_last_hour: number;
    last_read_at: string | null;
  };
  generated_at: string;
}
