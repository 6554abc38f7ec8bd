import {
  DEFAULT_COMPLEXITY_LIMIT,
  loadIndexDecisions,
  type PgTimestamp,
  type RoomFilters,
  type RoomJson,
  type RoomSort,
  type SearchIndex,
  type SearchPage,
  type SearchQuery,
  timestampToIso,
  toJsonRow,
} from '@atlas/shared/search';
import type { Sql } from 'postgres';
import { etagOf } from '../json.ts';

/** A room as the JSON API shows it (snake_case, like Matrix). */
export type ApiRoom = RoomJson;
export const toApiRoom = toJsonRow;

export interface RoomSearchParams {
  q?: string | undefined;
  server?: string[] | undefined;
  language?: string[] | undefined;
  type?: 'room' | 'space' | undefined;
  join_rule?: string[] | undefined;
  min_members?: number | undefined;
  max_members?: number | undefined;
  max_complexity?: number | undefined;
  /** true: Synapse's default limit; a number: that limit. */
  joinable?: number | true | undefined;
  world_readable?: boolean | undefined;
  include_stale?: boolean | undefined;
  sort?: RoomSort | undefined;
  limit: number;
  cursor?: string | undefined;
}

export function roomFilters(params: Omit<RoomSearchParams, 'q' | 'sort' | 'limit' | 'cursor'>): RoomFilters {
  const filters: RoomFilters = {};
  if (params.server?.length) filters.servers = params.server;
  if (params.language?.length) filters.languages = params.language;
  if (params.type) filters.roomTypes = params.type === 'space' ? ['m.space'] : [null];
  if (params.join_rule?.length) filters.joinRules = params.join_rule;
  if (params.min_members !== undefined) filters.minMembers = params.min_members;
  if (params.max_members !== undefined) filters.maxMembers = params.max_members;
  if (params.max_complexity !== undefined) filters.maxComplexity = params.max_complexity;
  if (params.joinable !== undefined) {
    filters.joinableWithLimit = params.joinable === true ? DEFAULT_COMPLEXITY_LIMIT : params.joinable;
  }
  if (params.world_readable !== undefined) filters.worldReadable = params.world_readable;
  if (!params.include_stale) filters.stale = false;
  return filters;
}

export interface RoomSearchResult {
  rooms: ApiRoom[];
  total: number;
  total_exact: boolean;
  next_cursor: string | null;
}

export async function searchRooms(search: SearchIndex, params: RoomSearchParams): Promise<RoomSearchResult> {
  return toSearchResult(await search.search(searchQuery(params)));
}

function searchQuery(params: RoomSearchParams): SearchQuery {
  return {
    ...(params.q ? { q: params.q } : {}),
    filters: roomFilters(params),
    ...(params.sort ? { sort: params.sort } : {}),
    limit: params.limit,
    ...(params.cursor ? { cursor: params.cursor } : {}),
  };
}

function toSearchResult(page: SearchPage): RoomSearchResult {
  return {
    rooms: page.hits.map(toApiRoom),
    total: page.total,
    total_exact: page.totalExact,
    next_cursor: page.nextCursor,
  };
}

export interface SerialisedSearchResult {
  data: RoomSearchResult;
  /** `data` as JSON, and the ETag of those bytes. */
  body: string;
  etag: string;
  /** Which backend found the page, when another could have (Meilisearch, or PostgreSQL in its place). */
  servedBy: SearchPage['servedBy'];
}

/**
 * Pages already turned into JSON. The answer cache hands the same page object to every identical
 * search, so each page is mapped, serialised and hashed once rather than on every hit (on a cached
 * answer that was most of the request's work). Keyed weakly: a page the cache drops is forgotten.
 */
const serialised = new WeakMap<SearchPage, SerialisedSearchResult>();

/** `searchRooms`, serialised for the response. */
export async function searchRoomsSerialised(
  search: SearchIndex,
  params: RoomSearchParams,
): Promise<SerialisedSearchResult> {
  const page = await search.search(searchQuery(params));
  let answer = serialised.get(page);
  if (!answer) {
    const data = toSearchResult(page);
    const body = JSON.stringify(data);
    answer = { data, body, etag: etagOf(body), servedBy: page.servedBy };
    serialised.set(page, answer);
  }
  return answer;
}

export interface RoomDetail extends ApiRoom {
  listings: { server_name: string; first_seen_at: string; last_seen_at: string; active: boolean }[];
  members_history: { day: string; num_joined_members: number }[];
  complexity_server: string | null;
  complexity_at: string | null;
  servers_in_room: number | null;
}

/**
 * One room with its listings and member history, or null when it is unknown or not shown (hidden,
 * opted out, or listed only by blocked servers: whatever keeps it out of the search index).
 */
export async function getRoomDetail(sql: Sql, roomId: string): Promise<RoomDetail | null> {
  const [room] = await sql<
    { complexity_server: string | null; complexity_at: PgTimestamp | null; servers_in_room: number | null }[]
  >`select complexity_server, complexity_at, servers_in_room from rooms where room_id = ${roomId} and not hidden`;
  if (!room) return null;
  // The same rules the index queue applies decide what may be shown, so a room hidden, opted out
  // or listed only by blocked servers is not found here either.
  const [decision] = await loadIndexDecisions(sql, [roomId]);
  const doc = decision?.document;
  if (!doc) return null;
  const [listings, history] = await Promise.all([
    sql<{ server_name: string; first_seen_at: PgTimestamp; last_seen_at: PgTimestamp; active: boolean }[]>`
      select l.server_name, l.first_seen_at, l.last_seen_at, l.active
      from room_listings l join servers s on s.name = l.server_name
      where l.room_id = ${roomId} and s.status <> 'blocked'
      order by l.active desc, l.server_name limit 100`,
    sql<{ day: string; num_joined_members: number }[]>`
      select day::text as day, num_joined_members from room_snapshots
      where room_id = ${roomId} and day > current_date - 90 order by day`,
  ]);
  return {
    ...toApiRoom(doc),
    listings: listings.map((l) => ({
      server_name: l.server_name,
      first_seen_at: timestampToIso(l.first_seen_at),
      last_seen_at: timestampToIso(l.last_seen_at),
      active: l.active,
    })),
    members_history: history,
    complexity_server: room.complexity_server,
    complexity_at: timestampToIso(room.complexity_at),
    servers_in_room: room.servers_in_room,
  };
}

/**
 * A room the directory shows, named by its id or canonical alias (what someone pastes into the
 * search box); null when it is unknown or not shown, by the same rules as the search index.
 */
export async function findShownRoom(
  sql: Sql,
  reference: { roomId: string } | { alias: string },
): Promise<ApiRoom | null> {
  const rows =
    'roomId' in reference
      ? await sql<
          { room_id: string }[]
        >`select room_id from rooms where room_id = ${reference.roomId} and not hidden`
      : await sql<{ room_id: string }[]>`
          select room_id from rooms where canonical_alias = ${reference.alias} and not hidden
          order by stale_since is null desc, num_joined_members desc limit 1`;
  const roomId = rows[0]?.room_id;
  if (!roomId) return null;
  const [decision] = await loadIndexDecisions(sql, [roomId]);
  return decision?.document ? toApiRoom(decision.document) : null;
}
