import type { Federation, SimRoom, SimServer } from './model.ts';
import { malformedEntry, roomEntryJson } from './room-entry.ts';

/** Synapse's MAX_PUBLIC_ROOMS_IN_RESPONSE: no page is larger, whatever `limit` asks. */
export const MAX_PAGE = 100;

export interface PageRequest {
  limit: number | undefined;
  since: string | undefined;
  /** MSC2197 / spec `filter.generic_search_term`. */
  searchTerm?: string | undefined;
  /** `filter.room_types`: `null` stands for rooms without a type. */
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

interface Listing {
  /** Entry JSON in page order, broken entries included. */
  entries: string[];
  /** Rooms in page order, `undefined` where a broken entry sits (for filtering). */
  rooms: (SimRoom | undefined)[];
  realRooms: number;
}

/**
 * One server's public room directory, pages served from pre-rendered JSON so that the simulator
 * is never what limits a crawl. Order is Synapse's: most joined members first.
 */
export class ServerDirectory {
  private listing: Listing | undefined;
  private readonly searches = new Map<string, Listing>();

  constructor(
    private readonly server: SimServer,
    private readonly federation: Federation,
    private readonly cache: EntryCache,
  ) {}

  invalidate(): void {
    this.listing = undefined;
    this.searches.clear();
  }

  /** Renders the listing now, so the first page of a huge directory is as quick as the rest. */
  warm(): void {
    this.build();
  }

  private build(): Listing {
    if (this.listing) return this.listing;
    const rooms: SimRoom[] = [];
    for (const id of this.server.listed) {
      const room = this.federation.rooms.get(id);
      if (room) rooms.push(room);
    }
    rooms.sort((a, b) => b.members - a.members || (a.roomId < b.roomId ? 1 : a.roomId > b.roomId ? -1 : 0));
    const entries: string[] = [];
    const ordered: (SimRoom | undefined)[] = [];
    // Broken entries go at fixed spots spread over the first pages.
    const brokenAt = new Set(
      Array.from(
        { length: this.server.malformed },
        (_, k) => Math.floor(((k + 1) * (rooms.length + 1)) / (this.server.malformed + 1)) + k,
      ),
    );
    let k = 0;
    for (const room of rooms) {
      while (brokenAt.has(entries.length)) {
        entries.push(malformedEntry(this.server.name, k++));
        ordered.push(undefined);
      }
      entries.push(this.cache.get(room.roomId) ?? '{}');
      ordered.push(room);
    }
    while (k < this.server.malformed) {
      entries.push(malformedEntry(this.server.name, k++));
      ordered.push(undefined);
    }
    this.listing = { entries, rooms: ordered, realRooms: rooms.length };
    return this.listing;
  }

  private filtered(term: string | undefined, roomTypes: (string | null)[] | undefined): Listing {
    const base = this.build();
    if (!term && !roomTypes) return base;
    const key = JSON.stringify([term ?? '', roomTypes ?? null]);
    const cached = this.searches.get(key);
    if (cached) return cached;
    const needle = term?.toLowerCase();
    const entries: string[] = [];
    const rooms: SimRoom[] = [];
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
      entries.push(base.entries[i] ?? '{}');
      rooms.push(room);
    });
    const listing = { entries, rooms, realRooms: rooms.length };
    if (this.searches.size > 64) this.searches.clear();
    this.searches.set(key, listing);
    return listing;
  }

  page(request: PageRequest): PageResult {
    const listing = this.filtered(request.searchTerm || undefined, request.roomTypes);
    let offset = 0;
    if (request.since !== undefined && request.since !== '') {
      const parsed = parseToken(request.since, this.server.index);
      if (parsed === null || parsed > listing.entries.length) {
        return { ok: false, status: 400, errcode: 'M_INVALID_PARAM', error: 'Invalid since token' };
      }
      offset = parsed;
    }
    // Synapse: 0 or absent means "no limit", which the cap turns into 100.
    const limit = !request.limit || request.limit > MAX_PAGE ? MAX_PAGE : request.limit;
    const end = Math.min(listing.entries.length, offset + limit);
    let body = `{"chunk":[${listing.entries.slice(offset, end).join(',')}]`;
    if (end < listing.entries.length) body += `,"next_batch":"${makeToken(this.server.index, end, 'f')}"`;
    if (request.since)
      body += `,"prev_batch":"${makeToken(this.server.index, Math.max(0, offset - limit), 'b')}"`;
    body += `,"total_room_count_estimate":${listing.realRooms}}`;
    return { ok: true, body };
  }
}

/** Opaque to clients, like Synapse's msgpack tokens; only this simulator reads them. */
function makeToken(serverIndex: number, offset: number, direction: 'f' | 'b'): string {
  return Buffer.from(`sf1.${serverIndex}.${offset}.${direction}`).toString('base64url');
}

function parseToken(token: string, serverIndex: number): number | null {
  if (token.length > 128 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const match = /^sf1\.(\d+)\.(\d+)\.[fb]$/.exec(Buffer.from(token, 'base64url').toString('latin1'));
  if (!match || Number(match[1]) !== serverIndex) return null;
  return Number(match[2]);
}
