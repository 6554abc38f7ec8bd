import { isDeepStrictEqual } from 'node:util';
import {
  type EnqueuedTask,
  type Index,
  MeiliSearchApiError,
  MeiliSearchRequestError,
  Meilisearch,
  type MultiSearchParams,
  type Settings,
  type Task,
} from 'meilisearch';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import { meilisearchHttp } from './meilisearch-http.ts';
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
  /** The full alias (without `#`) and its localpart, folded (exactKey): an exact alias match. */
  aliasKeys: string[];
  /** The name, folded (exactKey): an exact name match. */
  nameKey: string | null;
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
/** Document batches a rebuild sends ahead of the ones Meilisearch has indexed. */
const REBUILD_QUEUED = 20;
const UNKNOWN_COMPLEXITY = 1e9;

/**
 * What an exact match compares: text trimmed, without a leading `#`, spaces collapsed, lower case,
 * accents and other marks folded (so "Café" is "cafe", as Meilisearch itself folds words).
 */
export function exactKey(text: string): string {
  return text
    .trim()
    .replace(/^#/, '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

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
    aliasKeys: alias ? [exactKey(alias), exactKey(localpart)] : [],
    nameKey: doc.name ? exactKey(doc.name) || null : null,
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

/** What a search asks back: what `fromMeili` reads, not the keys kept only to filter and sort by. */
const RETRIEVED = [
  'roomId',
  'name',
  'topic',
  'canonicalAlias',
  'avatarUrl',
  'servers',
  'numJoinedMembers',
  'worldReadable',
  'guestCanJoin',
  'joinRule',
  'roomType',
  'language',
  'complexity',
  'complexityEstimated',
  'growth7d',
  'growth30d',
  'firstSeenAt',
  'lastSeenAt',
  'stale',
] as const satisfies readonly (keyof MeiliRoom)[];

function fromMeili(hit: Pick<MeiliRoom, (typeof RETRIEVED)[number]>): RoomDocument {
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
 * reindex). Ranking, for a directory of rooms (ADR 0203); exact alias and name matches come first
 * by their own query (see `search`), the rest by:
 * - `words` first, though every word must match (`matchingStrategy: all` below);
 * - `sort` next, so an explicit sort (members, newest…) orders the matches, as PostgreSQL does;
 * - `typo`, then `proximity` of the words;
 * - `attributeRank`: a match in the name before the alias, the alias before the topic, the topic
 *   before the servers;
 * - `exactness`: a name or alias that starts with the query, then words as they are (not as a
 *   prefix or with a typo). After `attributeRank`, not before: an alias that merely starts with the
 *   word ("#astronomy-bots") must not put a small room above bigger ones named for it;
 * - members: among equally good matches, the bigger room (before the word's position in the name,
 *   which tells a person little).
 * Typos: one from five letters, two from nine (Meilisearch's defaults; shorter words would find
 * too many other short words).
 */
export const MEILI_SETTINGS: Settings = {
  searchableAttributes: ['name', 'aliasWords', 'topic', 'servers'],
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
    'aliasKeys',
    'nameKey',
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
    'typo',
    'proximity',
    'attributeRank',
    'exactness',
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

/**
 * Relevance searches run as three queries, one after another in the answer: rooms whose alias is
 * the query, then rooms whose name is, then every other match. No ranking rule can put an exact
 * alias first without also lifting every alias that merely starts with the query.
 */
function exactTiers(key: string): string[] {
  const alias = `aliasKeys = ${quote(key)}`;
  const name = `nameKey = ${quote(key)}`;
  return [alias, `${name} AND NOT ${alias}`, `NOT ${alias} AND NOT ${name}`];
}

const SORT_RULES: Record<Exclude<RoomSort, 'relevance'>, string[]> = {
  members: ['numJoinedMembers:desc', 'roomId:asc'],
  growth7d: ['growth7d:desc', 'roomId:asc'],
  growth30d: ['growth30d:desc', 'roomId:asc'],
  newest: ['firstSeenAt:desc', 'roomId:asc'],
  complexity: ['complexitySort:asc', 'roomId:asc'],
};

/**
 * Meilisearch's answer for an index that does not exist: from the writes' client as it is, from the
 * searches' (see meilisearch-http.ts) wrapped by meilisearch-js as the cause of a request error.
 */
function isIndexNotFound(error: unknown): boolean {
  const answer = error instanceof MeiliSearchRequestError ? error.cause : error;
  return answer instanceof MeiliSearchApiError && answer.cause?.code === 'index_not_found';
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
  // Answers uncompressed: Meilisearch gzips for a client that accepts it (fetch always does) and
  // then sends the body in chunks after the headers, which TCP's delayed acknowledgements turn into
  // ~40 ms per search; a search answer is a few kilobytes on a local network.
  const requestInit = { headers: { 'Accept-Encoding': 'identity' } };
  const client = new Meilisearch({
    host: options.url,
    ...auth,
    requestInit,
    timeout: 30_000,
    defaultWaitOptions: { timeout, interval: 50 },
  });
  const searchHttp = meilisearchHttp();
  const searchClient = new Meilisearch({
    host: options.url,
    ...auth,
    requestInit,
    timeout: options.searchTimeoutMs ?? 2_000,
    httpClient: (url, init) =>
      searchHttp.request(url instanceof URL ? url : new URL(String(url)), init ?? {}),
  });
  const index: Index<MeiliRoom> = client.index<MeiliRoom>(uid);

  function succeeded(task: Task, what: string): Task {
    if (task.status !== 'succeeded') {
      throw new Error(`Meilisearch ${what} ${task.status}: ${task.error?.message ?? 'no reason given'}`);
    }
    return task;
  }

  async function done(pending: { waitTask: (o?: { timeout?: number }) => Promise<Task> }, what: string) {
    return succeeded(await pending.waitTask({ timeout }), what);
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
      const effective = sort === 'relevance' && !q ? 'members' : sort;
      const key = effective === 'relevance' ? exactKey(q) : '';
      const tiers = key ? exactTiers(key) : [undefined];
      // [offset into the tiers one after another, then how many rooms each tier but the last held]
      const keys = query.cursor ? decodeCursor(query.cursor, fingerprint) : [0];
      const numbers = keys.filter((k): k is number => typeof k === 'number' && Number.isInteger(k) && k >= 0);
      if (numbers.length !== keys.length || (query.cursor && keys.length !== tiers.length)) {
        throw new InvalidCursorError('the cursor is not one this directory issued');
      }
      const [offset = 0, ...known] = numbers;
      // The tier the offset falls in, and where in it.
      let first = 0;
      let local = offset;
      while (first < known.length && local >= (known[first] ?? 0)) {
        local -= known[first] ?? 0;
        first++;
      }
      const filter = meiliFilter(query.filters);
      const { results } = await searchClient.multiSearch<MultiSearchParams, MeiliRoom>({
        queries: tiers.slice(first).map((tier, i) => {
          const page = {
            indexUid: uid,
            offset: i === 0 ? local : 0,
            limit: limit + 1,
            attributesToRetrieve: [...RETRIEVED],
          };
          const filterWith = tier ? [...filter, tier] : filter;
          // An exact tier is found by its filter alone: a room whose alias or name is the query
          // holds every word of it, and a search without words costs Meilisearch a lookup instead
          // of matching the words against the whole index again. Bigger rooms first, as in the rest.
          if (first + i < tiers.length - 1)
            return { ...page, q: '', filter: filterWith, sort: SORT_RULES.members };
          return {
            ...page,
            q,
            filter: filterWith,
            // Every word must match, as on PostgreSQL: "linux gaming" is not every room about Linux.
            matchingStrategy: 'all' as const,
            ...(effective === 'relevance' ? {} : { sort: SORT_RULES[effective] }),
          };
        }),
      });
      const hits = results.flatMap((r) => r.hits).slice(0, limit + 1);
      const totals = [...known.slice(0, first), ...results.map((r) => r.estimatedTotalHits ?? r.hits.length)];
      const total = totals.reduce((a, b) => a + b, 0);
      return {
        hits: hits.slice(0, limit).map((hit) => fromMeili(hit)),
        total: Math.min(total, TOTAL_CAP),
        totalExact: total <= TOTAL_CAP,
        nextCursor:
          hits.length > limit
            ? encodeCursor(fingerprint, [offset + limit, ...totals.slice(0, tiers.length - 1)])
            : null,
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
      // The batches are sent without waiting for each to be indexed (at most REBUILD_QUEUED ahead),
      // so that Meilisearch indexes consecutive additions together instead of one after the other;
      // all are waited for, and checked, before the swap.
      const queued: EnqueuedTask[] = [];
      const settle = async (keep: number) => {
        for (let task = queued[0]; task && queued.length > keep; task = queued[0]) {
          queued.shift();
          succeeded(await client.tasks.waitForTask(task, { timeout }), 'document batch');
        }
      };
      let count = 0;
      for await (const batch of source) {
        for (let i = 0; i < batch.length; i += batchSize) {
          queued.push(
            await target.addDocuments(batch.slice(i, i + batchSize).map(toMeili), { primaryKey: 'id' }),
          );
          if (queued.length > REBUILD_QUEUED) await settle(REBUILD_QUEUED / 2);
        }
        count += batch.length;
      }
      await settle(0);
      await done(client.swapIndexes([{ indexes: [uid, staging], rename: false }]), 'index swap');
      await done(client.deleteIndex(staging), `deleting ${staging}`);
      return count;
    },
    async createdAt() {
      try {
        // With the searches' timeout: the failover asks this every few seconds, and a server that
        // hangs must not hold the answer for the writes' 30 s.
        return (await searchClient.getRawIndex(uid)).createdAt;
      } catch (error) {
        if (isIndexNotFound(error)) return null;
        throw error;
      }
    },
    async close() {
      // The searches' kept-alive connections (the other client's fetch keeps none open).
      searchHttp.close();
    },
  };
}
