import { type ApiRoom, type RoomDetail, type RoomLinks, type RoomList, toApiRoom } from '@atlas/shared/api';
import { listingsOfRoom, memberHistory, shownRoomFacts, shownRoomId, timestampToIso } from '@atlas/shared/db';
import {
  DEFAULT_COMPLEXITY_LIMIT,
  loadIndexDecisions,
  type PageView,
  type RoomFilters,
  type RoomSort,
  type SearchIndex,
  type SearchPage,
  type SearchQuery,
  searchView,
} from '@atlas/shared/search';
import type { Sql } from 'postgres';
import { etagOf } from '../json.ts';

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

export async function searchRooms(
  search: SearchIndex,
  params: RoomSearchParams,
  links: RoomLinks,
): Promise<RoomList> {
  return toSearchResult(await search.search(searchQuery(params)), links);
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

function toSearchResult(page: SearchPage, links: RoomLinks): RoomList {
  return {
    rooms: page.hits.map((doc) => toApiRoom(doc, links)),
    total: page.total,
    total_exact: page.totalExact,
    next_cursor: page.nextCursor,
  };
}

export interface SerialisedSearchResult {
  /** The page as JSON (a `RoomList`), and the ETag of those bytes. */
  body: string;
  etag: string;
  /** Which backend found the page, when another could have (Meilisearch, or PostgreSQL in its place). */
  servedBy: SearchPage['servedBy'];
}

/**
 * Pages turned into response bodies, kept by the answer cache beside each answer: an answer is
 * mapped, serialised and hashed once rather than on every hit (on a cached answer that was most of
 * the request's work). Only strings are kept, not the mapped rooms: with every search different,
 * thousands of answers are young at once, and objects would be walked and copied by every young
 * collection. One view per kind of links.
 */
const bodyViews = new Map<boolean, PageView<SerialisedSearchResult>>();

function bodyView(links: RoomLinks): PageView<SerialisedSearchResult> {
  let view = bodyViews.get(links.avatars);
  if (!view) {
    const fixed = { ...links };
    view = {
      render(page) {
        const body = JSON.stringify(toSearchResult(page, fixed));
        return { body, etag: etagOf(body), servedBy: page.servedBy };
      },
    };
    bodyViews.set(links.avatars, view);
  }
  return view;
}

/** `searchRooms`, serialised for the response. */
export function searchRoomsSerialised(
  search: SearchIndex,
  params: RoomSearchParams,
  links: RoomLinks,
): Promise<SerialisedSearchResult> {
  return searchView(search, searchQuery(params), bodyView(links));
}

/**
 * One room with its listings and member history, or null when it is unknown or not shown (hidden,
 * opted out, or listed only by blocked servers: whatever keeps it out of the search index).
 */
export async function getRoomDetail(sql: Sql, roomId: string, links: RoomLinks): Promise<RoomDetail | null> {
  const facts = await shownRoomFacts(sql, roomId);
  if (!facts) return null;
  // The same rules the index queue applies decide what may be shown, so a room hidden, opted out
  // or listed only by blocked servers is not found here either.
  const [decision] = await loadIndexDecisions(sql, [roomId]);
  const doc = decision?.document;
  if (!doc) return null;
  const [listings, history] = await Promise.all([listingsOfRoom(sql, roomId), memberHistory(sql, roomId)]);
  return {
    ...toApiRoom(doc, links),
    listings: listings.map((listing) => ({
      server_name: listing.server_name,
      first_seen_at: timestampToIso(listing.first_seen_at),
      last_seen_at: timestampToIso(listing.last_seen_at),
      active: listing.active,
    })),
    members_history: history.map((day) => ({ day: day.day, num_joined_members: day.num_joined_members })),
    complexity_server: facts.complexity_server,
    complexity_at: timestampToIso(facts.complexity_at),
    servers_in_room: facts.servers_in_room,
  };
}

/**
 * A room the directory shows, named by its id or canonical alias (what someone pastes into the
 * search box); null when it is unknown or not shown, by the same rules as the search index.
 */
export async function findShownRoom(
  sql: Sql,
  reference: { roomId: string } | { alias: string },
  links: RoomLinks,
): Promise<ApiRoom | null> {
  const roomId = await shownRoomId(sql, reference);
  if (!roomId) return null;
  const [decision] = await loadIndexDecisions(sql, [roomId]);
  return decision?.document ? toApiRoom(decision.document, links) : null;
}
