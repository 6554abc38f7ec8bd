import type {
  ApiRoom,
  ApiServer,
  DirectoryStats,
  RoomDetail,
  RoomList,
  ServerDetail,
  ServerList,
} from '@atlas/shared/api';

export type { ApiRoom, ApiServer, DirectoryStats, RoomDetail, RoomList, ServerDetail, ServerList };

/**
 * What the pages need from the rest of Atlas. The API builds one implementation over the same
 * services its JSON routes use (one search cache, one set of filters, one report limit) and mounts
 * the pages with it; the pages never call the API over HTTP. The shapes are the JSON API's, declared
 * once in @atlas/shared/api.
 */
export interface WebServices<RoomQuery = unknown, ServerQuery = unknown> {
  /** The rooms page's query string, checked by the JSON API's own rules. */
  parseRoomQuery(query: QueryRecord): Checked<RoomQuery>;
  searchRooms(query: RoomQuery): Promise<Checked<RoomList>>;
  /** A room shown in the directory, by id or canonical alias; null when it is not. */
  findRoom(reference: { roomId: string } | { alias: string }): Promise<ApiRoom | null>;
  roomDetail(roomId: string): Promise<RoomDetail | null>;
  /** The biggest or fastest-growing rooms. */
  topRooms(sort: 'members' | 'growth7d', limit: number): Promise<ApiRoom[]>;
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
