import { isDeepStrictEqual } from 'node:util';
import { type Index, MeiliSearchApiError, Meilisearch, type Settings, type Task } from 'meilisearch';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import { cleanQueryText } from './postgres-query.ts';
import {
  InvalidCursorError,
  type RoomDocument,
  type RoomFilters,
  type RoomSort,
  type SearchIndex,
  type SearchPage,
  type SearchQuery,
  type SearchStats,
  TOTAL_CAP,
} from './types.ts';

export interface MeilisearchOptions {
  url: string;
  key: string | undefined;
  /** Index uid; a rebuild fills `<uid>_rebuild` and swaps it in. */
  indexUid?: string;
  /** How long to wait for one Meilisearch task (document batch, settings, swap). */
  taskTimeoutMs?: number;
  /**
   * How long a search may take before it counts as failed (default 2 s): a server that hangs must
   * not hold a person's search for the 30 s a write may wait.
   */
  searchTimeoutMs?: number;
  batchSize?: number;
}

/** The Meilisearch backend, with what the failover around it needs besides the contract. */
export interface MeilisearchIndex extends SearchIndex {
  readonly backend: 'meilisearch';
  readonly uid: string;
  /**
   * When the index was created, as Meilisearch says it (nanoseconds), or null when there is no
   * index. A rebuild swaps a freshly created index in, so this names what the index holds: an index
   * lost and made again (by a write, after its data folder was lost) has another. Throws when
   * Meilisearch cannot be reached.
   */
  createdAt(): Promise<string | null>;
}

/** The stored form: Meilisearch document ids allow only a-z A-Z 0-9 - _, so room ids are encoded. */
interface MeiliRoom {
  id: string;
  roomId: string;
  name: string | null;
  topic: string | null;
  canonicalAlias: string | null;
  /** The alias localpart and full alias, searchable apart from the rest of the alias. */
  aliasWords: string[];
  avatarUrl: string | null;
  servers: string[];
  numJoinedMembers: number;
  worldReadable: boolean;
  guestCanJoin: boolean;
  joinRule: string;
  /** `room` for a plain room: filters cannot match null reliably across versions. */
  roomType: string;
  language: string | null;
  complexity: number | null;
  complexityKnown: boolean;
  /** complexity, or a large number when unknown, so unknown sorts last. */
  complexitySort: number;
  complexityEstimated: boolean;
  growth7d: number;
  growth30d: number;
  firstSeenAt: number;
  lastSeenAt: number;
  stale: boolean;
  hasAlias: boolean;
}

const PLAIN_ROOM = 'room';
const UNKNOWN_COMPLEXITY = 1e9;

export function meiliDocumentId(roomId: string): string {
  return Buffer.from(roomId, 'utf8').toString('base64url');
}

function toMeili(doc: RoomDocument): MeiliRoom {
  const alias = doc.canonicalAlias;
  const localpart = alias ? (alias.slice(1).split(':')[0] ?? '') : '';
  return {
    id: meiliDocumentId(doc.roomId),
    roomId: doc.roomId,
    name: doc.name,
    topic: doc.topic,
    canonicalAlias: alias,
    aliasWords: alias ? [localpart, alias.slice(1)] : [],
    avatarUrl: doc.avatarUrl,
    servers: doc.servers,
    numJoinedMembers: doc.numJoinedMembers,
    worldReadable: doc.worldReadable,
    guestCanJoin: doc.guestCanJoin,
    joinRule: doc.joinRule,
    roomType: doc.roomType ?? PLAIN_ROOM,
    language: doc.language,
    complexity: doc.complexity,
    complexityKnown: doc.complexity !== null,
    complexitySort: doc.complexity ?? UNKNOWN_COMPLEXITY,
    complexityEstimated: doc.complexityEstimated,
    growth7d: doc.growth7d,
    growth30d: doc.growth30d,
    firstSeenAt: doc.firstSeenAt,
    lastSeenAt: doc.lastSeenAt,
    stale: doc.stale,
    hasAlias: alias !== null,
  };
}

function fromMeili(hit: MeiliRoom): RoomDocument {
  return {
    roomId: hit.roomId,
    name: hit.name,
    topic: hit.topic,
    canonicalAlias: hit.canonicalAlias,
    avatarUrl: hit.avatarUrl,
    servers: hit.servers,
    numJoinedMembers: hit.numJoinedMembers,
    worldReadable: hit.worldReadable,
    guestCanJoin: hit.guestCanJoin,
    joinRule: hit.joinRule,
    roomType: hit.roomType === PLAIN_ROOM ? null : hit.roomType,
    language: hit.language,
    complexity: hit.complexity,
    complexityEstimated: hit.complexityEstimated,
    growth7d: hit.growth7d,
    growth30d: hit.growth30d,
    firstSeenAt: hit.firstSeenAt,
    lastSeenAt: hit.lastSeenAt,
    stale: hit.stale,
  };
}

/**
 * Settings applied at boot when they differ from the stored ones (a change makes Meilisearch
 * reindex). Ranking, for a directory of rooms (ADR 0203):
 * - `words` first, though every word must match (`matchingStrategy: all` below);
 * - `sort` next, so an explicit sort (members, newest…) orders the matches, as PostgreSQL does;
 * - `exactness`: a room whose whole alias or name is the query, then rooms with the query's words
 *   as they are (not as a prefix or with a typo);
 * - `typo`, then `proximity` of the words;
 * - `attributeRank`: a match in the alias before the name, the name before the topic, the topic
 *   before the servers;
 * - members: among equally good matches, the bigger room (before the word's position in the name,
 *   which tells a person little).
 * Typos: one from five letters, two from nine (Meilisearch's defaults; shorter words would find
 * too many other short words).
 */
export const MEILI_SETTINGS: Settings = {
  searchableAttributes: ['aliasWords', 'name', 'topic', 'servers'],
  filterableAttributes: [
    'servers',
    'language',
    'roomType',
    'joinRule',
    'numJoinedMembers',
    'complexity',
    'complexityKnown',
    'worldReadable',
    'stale',
    'hasAlias',
  ],
  sortableAttributes: [
    'numJoinedMembers',
    'growth7d',
    'growth30d',
    'firstSeenAt',
    'complexitySort',
    'roomId',
  ],
  rankingRules: [
    'words',
    'sort',
    'exactness',
    'typo',
    'proximity',
    'attributeRank',
    'numJoinedMembers:desc',
    'wordPosition',
  ],
  displayedAttributes: ['*'],
  pagination: { maxTotalHits: 10_000 },
  typoTolerance: { enabled: true, minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 } },
};

/** Whether `stored` (as Meilisearch returns it, every setting filled in) has every value of `wanted`. */
function settingsHold(stored: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).every(([key, value]) => {
    const current = stored[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return (
        current !== null &&
        typeof current === 'object' &&
        settingsHold(current as Record<string, unknown>, value as Record<string, unknown>)
      );
    }
    return isDeepStrictEqual(current, value);
  });
}

/** Meilisearch filter syntax: strings quoted, quotes and backslashes escaped. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function finite(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError('filter values must be finite numbers');
  return String(value);
}

export function meiliFilter(filters: RoomFilters | undefined): string[] {
  const parts: string[] = [];
  if (!filters) return parts;
  const list = (values: string[]) => `[${values.map(quote).join(', ')}]`;
  if (filters.servers?.length) parts.push(`servers IN ${list(filters.servers)}`);
  if (filters.languages?.length) parts.push(`language IN ${list(filters.languages)}`);
  if (filters.roomTypes?.length) {
    parts.push(`roomType IN ${list(filters.roomTypes.map((t) => t ?? PLAIN_ROOM))}`);
  }
  if (filters.joinRules?.length) parts.push(`joinRule IN ${list(filters.joinRules)}`);
  if (filters.minMembers !== undefined) parts.push(`numJoinedMembers >= ${finite(filters.minMembers)}`);
  if (filters.maxMembers !== undefined) parts.push(`numJoinedMembers <= ${finite(filters.maxMembers)}`);
  if (filters.maxComplexity !== undefined) {
    parts.push(`(complexityKnown = true AND complexity <= ${finite(filters.maxComplexity)})`);
  }
  if (filters.joinableWithLimit !== undefined) {
    parts.push(`(complexityKnown = false OR complexity <= ${finite(filters.joinableWithLimit)})`);
  }
  if (filters.worldReadable !== undefined) parts.push(`worldReadable = ${filters.worldReadable}`);
  if (filters.stale !== undefined) parts.push(`stale = ${filters.stale}`);
  if (filters.hasAlias !== undefined) parts.push(`hasAlias = ${filters.hasAlias}`);
  return parts;
}

const SORT_RULES: Record<Exclude<RoomSort, 'relevance'>, string[]> = {
  members: ['numJoinedMembers:desc', 'roomId:asc'],
  growth7d: ['growth7d:desc', 'roomId:asc'],
  growth30d: ['growth30d:desc', 'roomId:asc'],
  newest: ['firstSeenAt:desc', 'roomId:asc'],
  complexity: ['complexitySort:asc', 'roomId:asc'],
};

/** Meilisearch's answer for an index that does not exist. */
function isIndexNotFound(error: unknown): boolean {
  return error instanceof MeiliSearchApiError && error.cause?.code === 'index_not_found';
}

/**
 * The Meilisearch backend, through the official client. Document batches, settings and swaps are
 * Meilisearch tasks; each is awaited with a timeout, and a task that fails throws with
 * Meilisearch's own message.
 */
export function createMeilisearchIndex(options: MeilisearchOptions): MeilisearchIndex {
  const uid = options.indexUid ?? 'rooms';
  const timeout = options.taskTimeoutMs ?? 60_000;
  const batchSize = options.batchSize ?? 1000;
  const auth = options.key ? { apiKey: options.key } : {};
  const client = new Meilisearch({
    host: options.url,
    ...auth,
    timeout: 30_000,
    defaultWaitOptions: { timeout, interval: 50 },
  });
  const searchClient = new Meilisearch({
    host: options.url,
    ...auth,
    timeout: options.searchTimeoutMs ?? 2_000,
  });
  const index: Index<MeiliRoom> = client.index<MeiliRoom>(uid);
  const searchIndex: Index<MeiliRoom> = searchClient.index<MeiliRoom>(uid);

  async function done(pending: { waitTask: (o?: { timeout?: number }) => Promise<Task> }, what: string) {
    const task = await pending.waitTask({ timeout });
    if (task.status !== 'succeeded') {
      throw new Error(`Meilisearch ${what} ${task.status}: ${task.error?.message ?? 'no reason given'}`);
    }
    return task;
  }

  async function ensureIndex(name: string): Promise<void> {
    try {
      await client.getRawIndex(name);
    } catch (error) {
      if (!isIndexNotFound(error)) throw error;
      await done(client.createIndex(name, { primaryKey: 'id' }), `creating index ${name}`);
    }
    // Only when they differ: an update is a task, and a changed setting reindexes everything.
    const stored = (await client.index(name).getSettings()) as Record<string, unknown>;
    if (!settingsHold(stored, MEILI_SETTINGS as Record<string, unknown>)) {
      await done(client.index(name).updateSettings(MEILI_SETTINGS), `settings of ${name}`);
    }
  }

  async function addAll(target: Index<MeiliRoom>, documents: RoomDocument[]): Promise<void> {
    for (let i = 0; i < documents.length; i += batchSize) {
      const batch = documents.slice(i, i + batchSize).map(toMeili);
      await done(target.addDocuments(batch, { primaryKey: 'id' }), 'document batch');
    }
  }

  return {
    backend: 'meilisearch',
    uid,
    async init() {
      await ensureIndex(uid);
    },
    async upsert(documents) {
      await addAll(index, documents);
    },
    async remove(roomIds) {
      for (let i = 0; i < roomIds.length; i += batchSize) {
        const ids = roomIds.slice(i, i + batchSize).map(meiliDocumentId);
        if (ids.length > 0) await done(index.deleteDocuments(ids), 'document deletion');
      }
    },
    async search(query: SearchQuery): Promise<SearchPage> {
      const q = cleanQueryText(query.q);
      const sort: RoomSort = query.sort ?? (q ? 'relevance' : 'members');
      const fingerprint = queryFingerprint({ q, sort, filters: query.filters });
      const limit = Math.max(1, Math.min(100, Math.floor(query.limit)));
      let offset = 0;
      if (query.cursor) {
        const [value] = decodeCursor(query.cursor, fingerprint);
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          throw new InvalidCursorError('the cursor is not one this directory issued');
        }
        offset = value;
      }
      const effective = sort === 'relevance' && !q ? 'members' : sort;
      const response = await searchIndex.search(q, {
        offset,
        limit: limit + 1,
        filter: meiliFilter(query.filters),
        // Every word must match, as on PostgreSQL: "linux gaming" is not every room about Linux.
        matchingStrategy: 'all',
        ...(effective === 'relevance' ? {} : { sort: SORT_RULES[effective] }),
      });
      const hits = response.hits.slice(0, limit);
      const total = response.estimatedTotalHits ?? hits.length;
      return {
        hits: hits.map((hit) => fromMeili(hit)),
        total: Math.min(total, TOTAL_CAP),
        totalExact: total <= TOTAL_CAP,
        nextCursor: response.hits.length > limit ? encodeCursor(fingerprint, [offset + limit]) : null,
      };
    },
    async stats(): Promise<SearchStats> {
      const stats = await index.getStats();
      return { backend: 'meilisearch', documents: stats.numberOfDocuments };
    },
    async rebuild(source) {
      // Fill a fresh index, then swap it in atomically: searches never see a half-built index.
      const staging = `${uid}_rebuild`;
      // A staging index left by a rebuild that was cut off; waited for, so it is gone before the next step.
      const leftover = await client.deleteIndex(staging).waitTask({ timeout });
      if (leftover.status !== 'succeeded' && leftover.error?.code !== 'index_not_found') {
        throw new Error(`Meilisearch deleting ${staging} ${leftover.status}: ${leftover.error?.message}`);
      }
      await ensureIndex(staging);
      await ensureIndex(uid);
      const target = client.index<MeiliRoom>(staging);
      let count = 0;
      for await (const batch of source) {
        await addAll(target, batch);
        count += batch.length;
      }
      await done(client.swapIndexes([{ indexes: [uid, staging], rename: false }]), 'index swap');
      await done(client.deleteIndex(staging), `deleting ${staging}`);
      return count;
    },
    async createdAt() {
      try {
        return (await client.getRawIndex(uid)).createdAt;
      } catch (error) {
        if (isIndexNotFound(error)) return null;
        throw error;
      }
    },
    async close() {
      // The clients hold no connections of their own (fetch keeps none open between requests).
    },
  };
}
