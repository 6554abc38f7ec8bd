/**
 * The search contract. Two backends implement it (PostgreSQL full text, the default, and
 * Meilisearch) and one contract suite (test/integration/search-contract.test.ts) runs against both.
 */

/** One searchable room, as the index queue builds it from the database. */
export interface RoomDocument {
  roomId: string;
  name: string | null;
  topic: string | null;
  canonicalAlias: string | null;
  avatarUrl: string | null;
  /** Servers whose directories list the room (not blocked). */
  servers: string[];
  numJoinedMembers: number;
  worldReadable: boolean;
  guestCanJoin: boolean;
  joinRule: string;
  /** null for a plain room, `m.space` for a space. */
  roomType: string | null;
  /** ISO 639-1 code detected from name and topic, or null when unsure. */
  language: string | null;
  /** Synapse's v1 complexity; null when unknown. */
  complexity: number | null;
  complexityEstimated: boolean;
  /** Members now minus members 7 (30) days ago, from the daily snapshots; 0 when unknown. */
  growth7d: number;
  growth30d: number;
  /** Epoch milliseconds. */
  firstSeenAt: number;
  lastSeenAt: number;
  stale: boolean;
}

export const ROOM_SORTS = ['relevance', 'members', 'growth7d', 'growth30d', 'newest', 'complexity'] as const;
/**
 * relevance: exact name or alias match first, then text rank weighted by members (members when
 * there is no query); members, growth7d, growth30d, newest: largest first; complexity: lightest
 * first, unknown last.
 */
export type RoomSort = (typeof ROOM_SORTS)[number];

/** Synapse's default `limit_remote_rooms.complexity`. */
export const DEFAULT_COMPLEXITY_LIMIT = 1.0;

export interface RoomFilters {
  /** Rooms listed by any of these servers. */
  servers?: string[];
  /** Any of these ISO 639-1 codes. */
  languages?: string[];
  /** Any of these room types; null stands for a plain room. */
  roomTypes?: (string | null)[];
  /** Any of these join rules. */
  joinRules?: string[];
  minMembers?: number;
  maxMembers?: number;
  /** Known complexity at most this. Rooms of unknown complexity are left out. */
  maxComplexity?: number;
  /**
   * Rooms a server with this `limit_remote_rooms.complexity` can join: complexity at most the
   * limit, or unknown (Synapse lets a join through when it cannot learn the complexity).
   */
  joinableWithLimit?: number;
  worldReadable?: boolean;
  /** false: only rooms that are still listed somewhere. */
  stale?: boolean;
  /** true: only rooms with a canonical alias (what Matrix directory endpoints may serve). */
  hasAlias?: boolean;
}

export interface SearchQuery {
  /** Free text; blank means browse. */
  q?: string;
  filters?: RoomFilters;
  /** Default: relevance with a query, members without. */
  sort?: RoomSort;
  /** 1..100 */
  limit: number;
  /** From a previous page's `nextCursor`; only valid with the same q, filters and sort. */
  cursor?: string;
}

export interface SearchPage {
  hits: RoomDocument[];
  /** Matching rooms, exact up to `TOTAL_CAP`, a lower bound beyond it. */
  total: number;
  totalExact: boolean;
  nextCursor: string | null;
  /**
   * Which backend found the page, when another could have (Meilisearch with PostgreSQL as its
   * fallback); `fallback` when PostgreSQL answered in Meilisearch's place.
   */
  servedBy?: { backend: 'postgres' | 'meilisearch'; fallback: boolean };
}

export interface SearchStats {
  backend: 'postgres' | 'meilisearch';
  documents: number;
}

/** Counting every match of a common word would cost more than the search; past this, totals are "at least". */
export const TOTAL_CAP = 1000;

export interface SearchIndex {
  readonly backend: 'postgres' | 'meilisearch';
  /** Creates what the backend needs and applies its settings; idempotent, run at boot. */
  init(): Promise<void>;
  /** Adds or replaces documents by room id. */
  upsert(documents: RoomDocument[]): Promise<void>;
  remove(roomIds: string[]): Promise<void>;
  search(query: SearchQuery): Promise<SearchPage>;
  stats(): Promise<SearchStats>;
  /**
   * Replaces every document with the ones the source yields; readers see the old index until the
   * new one is complete. Returns how many documents the new index holds.
   */
  rebuild(source: AsyncIterable<RoomDocument[]>): Promise<number>;
  /**
   * Tells `listener` of every change to the index committed by any process (the index queue writes
   * in another one), so answers can be kept until the index changes. Returns a function that stops
   * watching. Backends that cannot tell leave it out.
   */
  watchChanges?(listener: IndexChangeListener): () => Promise<void>;
  /**
   * Puts back what the index lost: documents written while part of it could not be reached, or
   * everything after its data was lost. Run by the indexer (under its lock) before each run; returns
   * how many documents it pushed again (0 when nothing was lost). Throws when it cannot tell (the
   * backend does not answer). Backends that cannot lose writes leave it out.
   */
  recover?(): Promise<number>;
  /** How searches are being answered, for /metrics; backends with one way of answering leave it out. */
  status?(): SearchStatus;
  close(): Promise<void>;
}

export interface SearchStatus {
  /** The configured backend. */
  backend: 'postgres' | 'meilisearch';
  /** PostgreSQL answers searches now, because Meilisearch cannot be reached or lost its index. */
  fallbackActive: boolean;
  /** Searches run by this process (not answered from the answer cache), by who answered them. */
  searches: { primary: number; fallback: number };
  /** Searches Meilisearch failed, which PostgreSQL then answered. */
  primaryFailures: number;
  /** Writes that reached PostgreSQL but not Meilisearch (recorded, pushed again by the indexer). */
  missedWrites: number;
}

export interface IndexChangeListener {
  /** A change to the index was committed. */
  changed(): void;
  /**
   * Whether changes are being watched from now on. `true` also follows a reconnection, when
   * changes made meanwhile went unseen; while `false`, changes cannot be learned of.
   */
  watching(on: boolean): void;
}

/** A cursor that does not belong to this query, or is not a cursor at all. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}
