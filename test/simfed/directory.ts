import { endlessPage } from './endless.ts';
import type { Federation, SimRoom, SimServer } from './model.ts';
import { pythonTruthy } from './python.ts';
import { malformedEntry, roomEntryJson } from './room-entry.ts';
import { type Bound, decodeSinceToken, encodeSinceToken } from './since-token.ts';

/** Synapse's MAX_PUBLIC_ROOMS_IN_RESPONSE: no page is larger, whatever `limit` asks. */
export const MAX_PAGE = 100;

/**
 * Who is asking: a server over federation sees only rooms that federate (Synapse's
 * `ignore_non_federatable`); the client API sees every published room.
 */
export type DirectoryView = 'federation' | 'client';

export interface PageRequest {
  view: DirectoryView;
  limit: number | undefined;
  /** As received: Synapse tests it for truth (Python's), then decodes whatever is true. */
  since: unknown;
  /** MSC2197 / spec `filter.generic_search_term`. */
  searchTerm?: string | undefined;
  /** `filter.room_types`: `null` stands for rooms without a type; empty means no filter. */
  roomTypes?: (string | null)[] | undefined;
}

export type PageResult =
  | { ok: true; body: string }
  | { ok: false; status: number; errcode: string; error: string };

/** Pre-rendered entry JSON, shared by every server that lists a room; dropped when the room changes. */
export class EntryCache {
  private readonly json = new Map<string, string>();

  constructor(private readonly federation: Federation) {}

  get(roomId: string): string | undefined {
    let text = this.json.get(roomId);
    if (text === undefined) {
      const room = this.federation.rooms.get(roomId);
      if (!room) return undefined;
      text = roomEntryJson(room);
      this.json.set(roomId, text);
    }
    return text;
  }

  invalidate(roomId: string): void {
    this.json.delete(roomId);
  }
}

/**
 * Entries in page order with their sort keys. A broken entry gets a made-up key that sorts just
 * before the next real room, so that paging by key passes each one exactly once.
 */
interface Listing {
  entries: string[];
  members: number[];
  ids: string[];
  /** `undefined` where a broken entry sits. */
  rooms: (SimRoom | undefined)[];
}

const INTERNAL_ERROR = {
  ok: false,
  status: 500,
  errcode: 'M_UNKNOWN',
  error: 'Internal server error',
} as const;

/**
 * One server's public room directory, pages served from pre-rendered JSON so that the simulator
 * is never what limits a crawl. Paging is Synapse's (`get_largest_public_rooms`): rooms ordered by
 * joined members, then room id, both descending; a token is the position of the last room sent,
 * so rooms that change while a crawl pages through are skipped or repeated the way Synapse's are.
 */
export class ServerDirectory {
  private readonly listings = new Map<DirectoryView, Listing>();
  private readonly searches = new Map<string, Listing>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly server: SimServer,
    private readonly federation: Federation,
    private readonly cache: EntryCache,
  ) {}

  invalidate(): void {
    this.listings.clear();
    this.searches.clear();
    this.counts.clear();
  }

  /** Renders the federation listing now, so the first page of a huge directory is as quick as the rest. */
  warm(): void {
    this.build('federation');
  }

  /** Published rooms Synapse would list at all: joined members > 0 (visibility is the generator's job). */
  private published(): SimRoom[] {
    const rooms: SimRoom[] = [];
    for (const id of this.server.listed) {
      const room = this.federation.rooms.get(id);
      if (room && room.members > 0) rooms.push(room);
    }
    return rooms;
  }

  private build(view: DirectoryView): Listing {
    const built = this.listings.get(view);
    if (built) return built;
    const rooms = this.published().filter((room) => view === 'client' || room.federate);
    rooms.sort((a, b) => b.members - a.members || (a.roomId < b.roomId ? 1 : a.roomId > b.roomId ? -1 : 0));
    // Broken entries go at fixed spots spread over the first pages.
    const malformed = this.server.malformed;
    const brokenAt = new Set(
      Array.from(
        { length: malformed },
        (_, k) => Math.floor(((k + 1) * (rooms.length + 1)) / (malformed + 1)) + k,
      ),
    );
    const order: (SimRoom | undefined)[] = [];
    for (const room of rooms) {
      while (brokenAt.has(order.length)) order.push(undefined);
      order.push(room);
    }
    while (order.length < rooms.length + malformed) order.push(undefined);
    const listing: Listing = {
      entries: new Array<string>(order.length),
      members: new Array<number>(order.length),
      ids: new Array<string>(order.length),
      rooms: order,
    };
    // Keys from the end: a run of broken entries before a room gets that room's key with one more
    // character, larger the further from the room, so it sorts between its neighbours.
    let next: SimRoom | undefined;
    let run = 0;
    let k = malformed;
    for (let i = order.length - 1; i >= 0; i--) {
      const room = order[i];
      if (room) {
        next = room;
        run = 0;
        listing.entries[i] = this.cache.get(room.roomId) ?? '{}';
        listing.members[i] = room.members;
        listing.ids[i] = room.roomId;
      } else {
        run++;
        listing.entries[i] = malformedEntry(this.server.name, --k);
        listing.members[i] = next?.members ?? 0;
        listing.ids[i] = `${next?.roomId ?? ''}${String.fromCharCode(run)}`;
      }
    }
    this.listings.set(view, listing);
    return listing;
  }

  private filtered(
    view: DirectoryView,
    term: string | undefined,
    roomTypes: (string | null)[] | undefined,
  ): Listing {
    const base = this.build(view);
    if (!term && !roomTypes) return base;
    const key = JSON.stringify([view, term ?? '', roomTypes ?? null]);
    const cached = this.searches.get(key);
    if (cached) return cached;
    const needle = term?.toLowerCase();
    const listing: Listing = { entries: [], members: [], ids: [], rooms: [] };
    base.rooms.forEach((room, i) => {
      if (!room) return;
      if (roomTypes && !roomTypes.includes(room.roomType ?? null)) return;
      if (
        needle &&
        !`${room.name ?? ''}\n${room.topic ?? ''}\n${room.canonicalAlias ?? ''}`
          .toLowerCase()
          .includes(needle)
      ) {
        return;
      }
      listing.entries.push(base.entries[i] ?? '{}');
      listing.members.push(room.members);
      listing.ids.push(room.roomId);
      listing.rooms.push(room);
    });
    if (this.searches.size > 64) this.searches.clear();
    this.searches.set(key, listing);
    return listing;
  }

  /**
   * Synapse's `count_public_rooms`: every published room, the room type filter applied but not
   * the search term, and rooms that do not federate counted even over federation.
   */
  private total(roomTypes: (string | null)[] | undefined): number {
    const key = JSON.stringify(roomTypes ?? null);
    let count = this.counts.get(key);
    if (count === undefined) {
      count = this.published().filter(
        (room) => !roomTypes || roomTypes.includes(room.roomType ?? null),
      ).length;
      this.counts.set(key, count);
    }
    return count;
  }

  page(request: PageRequest): PageResult {
    if (this.server.endless) return endlessPage(this.server, this.federation.seed, request);
    let bound: Bound | undefined;
    if (pythonTruthy(request.since)) {
      // Synapse decodes the token unchecked: anything it cannot read raises, and the servlet turns
      // that into a 500 (a Synapse bug, mimicked because it is what crawlers meet).
      if (typeof request.since !== 'string') return INTERNAL_ERROR;
      bound = decodeSinceToken(request.since) ?? undefined;
      if (!bound) return INTERNAL_ERROR;
    }
    const roomTypes = request.roomTypes && request.roomTypes.length > 0 ? request.roomTypes : undefined;
    const listing = this.filtered(request.view, request.searchTerm || undefined, roomTypes);
    // Synapse: 0 or absent means "no limit", which the cap turns into 100.
    const limit = !request.limit || request.limit > MAX_PAGE ? MAX_PAGE : request.limit;
    const n = listing.entries.length;
    const token = (i: number, forwards: boolean) =>
      JSON.stringify(
        encodeSinceToken({ members: listing.members[i] ?? 0, roomId: listing.ids[i] ?? '', forwards }),
      );
    let start: number;
    let end: number;
    let prev: string | undefined;
    let next: string | undefined;
    if (!bound || bound.forwards) {
      start = bound ? firstAtOrAfter(listing, bound, false) : 0;
      end = Math.min(n, start + limit);
      if (bound) {
        // Synapse always sends prev_batch after a token; past the end it points back from (0, "").
        prev =
          start < end
            ? token(start, false)
            : JSON.stringify(encodeSinceToken({ members: 0, roomId: '', forwards: false }));
      }
      if (start < end && end < n) next = token(end - 1, true);
    } else {
      // Backwards: the `limit` rooms just before the bound, still biggest first.
      end = firstAtOrAfter(listing, bound, true);
      start = Math.max(0, end - limit);
      if (start < end) {
        next = token(end - 1, true);
        if (start > 0) prev = token(start, false);
      }
    }
    let body = `{"chunk":[${listing.entries.slice(start, end).join(',')}]`;
    if (prev) body += `,"prev_batch":${prev}`;
    if (next) body += `,"next_batch":${next}`;
    body += `,"total_room_count_estimate":${this.total(roomTypes)}}`;
    return { ok: true, body };
  }
}

/**
 * The first index whose key is below the bound (`inclusive`: at or below), in the descending
 * (members, room id) order: where a forward page after the bound starts, or where a backward
 * page before it ends.
 */
function firstAtOrAfter(listing: Listing, bound: Bound, inclusive: boolean): number {
  let lo = 0;
  let hi = listing.entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const members = listing.members[mid] ?? 0;
    const id = listing.ids[mid] ?? '';
    const cmp =
      members !== bound.members
        ? members - bound.members
        : id < bound.roomId
          ? -1
          : id > bound.roomId
            ? 1
            : 0;
    if (cmp < 0 || (inclusive && cmp === 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
