import postgres, { type Fragment, type Sql } from 'postgres';
import { type CursorKeys, decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import { buildTsQuery, cleanQueryText, exactKey, queryWords } from './postgres-query.ts';
import { type PgTimestamp, timestampToDate } from './timestamps.ts';
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
import { TypoDictionary } from './typo-dictionary.ts';

export interface PostgresSearchOptions {
  /** The database holding `room_search` and `search_terms` (migrations 0001 and 0002). */
  databaseUrl: string;
  /** Connections of the search pool; searches run beside the crawler's writes, not behind them. */
  poolSize?: number;
}

/** Similar words tried for a word that matches nothing. */
const TYPO_ALTERNATIVES = 3;
/** ts_rank weights for D, C, B, A: servers, topic, (unused), name and alias. */
const RANK_WEIGHTS = '{0.05,0.2,0.4,1.0}';
const UPSERT_BATCH = 500;
/** Matches ranked by text relevance: the most popular ones (ranking a common word's every room is too slow). */
const RELEVANCE_CANDIDATES = 200;
const TIERS_TTL_MS = 5 * 60_000;
/** Below this many estimated matches, every match is read at once rather than tier by tier. */
const DIRECT_MATCHES = 1500;
/** Words kept in memory for typo tolerance (a few tens of MB at most). */
const MAX_DICTIONARY = 300_000;

interface Row {
  room_id: string;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  avatar_url: string | null;
  servers: string[];
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  room_type: string | null;
  language: string | null;
  complexity: number | null;
  complexity_estimated: boolean;
  growth_7d: number;
  growth_30d: number;
  first_seen_at: PgTimestamp;
  last_seen_at: PgTimestamp;
  stale: boolean;
  exact?: boolean;
  score?: number;
  full_count?: string;
}

function toDocument(row: Row): RoomDocument {
  return {
    roomId: row.room_id,
    name: row.name,
    topic: row.topic,
    canonicalAlias: row.canonical_alias,
    avatarUrl: row.avatar_url,
    servers: row.servers,
    numJoinedMembers: row.num_joined_members,
    worldReadable: row.world_readable,
    guestCanJoin: row.guest_can_join,
    joinRule: row.join_rule,
    roomType: row.room_type,
    language: row.language,
    complexity: row.complexity,
    complexityEstimated: row.complexity_estimated,
    growth7d: row.growth_7d,
    growth30d: row.growth_30d,
    firstSeenAt: timestampToDate(row.first_seen_at).getTime(),
    lastSeenAt: timestampToDate(row.last_seen_at).getTime(),
    stale: row.stale,
  };
}

function toJsonRow(doc: RoomDocument): Record<string, unknown> {
  return {
    room_id: doc.roomId,
    name: doc.name,
    topic: doc.topic,
    canonical_alias: doc.canonicalAlias,
    avatar_url: doc.avatarUrl,
    servers: doc.servers,
    num_joined_members: doc.numJoinedMembers,
    world_readable: doc.worldReadable,
    guest_can_join: doc.guestCanJoin,
    join_rule: doc.joinRule,
    room_type: doc.roomType,
    language: doc.language,
    complexity: doc.complexity,
    complexity_estimated: doc.complexityEstimated,
    growth_7d: doc.growth7d,
    growth_30d: doc.growth30d,
    first_seen_at: new Date(doc.firstSeenAt).toISOString(),
    last_seen_at: new Date(doc.lastSeenAt).toISOString(),
    stale: doc.stale,
  };
}

const SELECT_COLUMNS = `room_id, name, topic, canonical_alias, avatar_url, servers, num_joined_members,
  world_readable, guest_can_join, join_rule, room_type, language, complexity, complexity_estimated,
  growth_7d, growth_30d, first_seen_at, last_seen_at, stale`;

/**
 * The PostgreSQL backend: a weighted tsvector per room (name and alias A, topic C, servers D) with
 * a GIN index, accents folded by unaccent, words that match nothing replaced by their nearest
 * indexed words (pg_trgm), and an exact name or alias match ranked first.
 */
export function createPostgresSearchIndex(options: PostgresSearchOptions): SearchIndex {
  const sql = postgres(options.databaseUrl, {
    max: options.poolSize ?? 8,
    onnotice: () => {},
    idle_timeout: 60,
    connect_timeout: 15,
    connection: { application_name: 'atlas-search' },
  });

  // Tiers move slowly with the index; recomputed in the background every few minutes.
  let cachedTiers: { at: number; value: Promise<number[]> } | undefined;
  const tiers = (): Promise<number[]> => {
    const now = Date.now();
    if (!cachedTiers || now - cachedTiers.at > TIERS_TTL_MS) {
      const previous = cachedTiers?.value;
      const value = memberTiers(sql);
      value.catch(() => {
        if (cachedTiers?.value === value) cachedTiers = undefined;
      });
      cachedTiers = { at: now, value: previous ? value.catch(() => previous) : value };
      // Serve the previous tiers while the new ones are computed.
      if (previous) return previous;
    }
    return cachedTiers.value;
  };

  // The vocabulary for typo tolerance, in memory; reloaded after local writes and every few minutes.
  let cachedDictionary: { at: number; value: Promise<TypoDictionary> } | undefined;
  const dictionary = (): Promise<TypoDictionary> => {
    const now = Date.now();
    if (!cachedDictionary || now - cachedDictionary.at > TIERS_TTL_MS) {
      const value = sql<{ term: string }[]>`select term from search_terms limit ${MAX_DICTIONARY}`.then(
        (rows) => new TypoDictionary(rows.map((row) => row.term)),
      );
      value.catch(() => {
        if (cachedDictionary?.value === value) cachedDictionary = undefined;
      });
      cachedDictionary = { at: now, value };
    }
    return cachedDictionary.value;
  };
  const forgetDictionary = () => {
    cachedDictionary = undefined;
  };

  return {
    backend: 'postgres',
    async init() {
      // The tables and extensions come with the migrations; check they are there, so a missing
      // migration fails at boot with the fix rather than on the first search.
      const [row] = await sql<{ ok: boolean }[]>`
        select to_regclass('room_search') is not null
           and to_regclass('search_terms') is not null
           and exists (select 1 from pg_ts_config where cfgname = 'atlas_search') as ok`;
      if (!row?.ok) {
        throw new Error('the search tables are missing; run the database migrations (atlas migrate)');
      }
    },
    async upsert(documents) {
      for (let i = 0; i < documents.length; i += UPSERT_BATCH) {
        await upsertBatch(sql, dedupe(documents.slice(i, i + UPSERT_BATCH)));
      }
      if (documents.length > 0) forgetDictionary();
    },
    async remove(roomIds) {
      if (roomIds.length === 0) return;
      await sql`delete from room_search where room_id = any(${roomIds}::text[])`;
    },
    search: (query) => search(sql, query, tiers, dictionary),
    async stats(): Promise<SearchStats> {
      const [row] = await sql<{ n: string }[]>`select count(*) as n from room_search`;
      return { backend: 'postgres', documents: Number(row?.n ?? 0) };
    },
    async rebuild(source) {
      // One transaction: readers keep seeing the old documents until it commits.
      const count = await sql.begin(async (tx) => {
        await tx`delete from room_search`;
        await tx`delete from search_terms`;
        let written = 0;
        for await (const batch of source) {
          for (let i = 0; i < batch.length; i += UPSERT_BATCH) {
            const part = dedupe(batch.slice(i, i + UPSERT_BATCH));
            await upsertBatch(tx, part);
            written += part.length;
          }
        }
        return written;
      });
      forgetDictionary();
      return count;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/** A multi-row upsert may not touch the same row twice; the last version of a room wins. */
function dedupe(documents: RoomDocument[]): RoomDocument[] {
  const byId = new Map<string, RoomDocument>();
  for (const doc of documents) byId.set(doc.roomId, doc);
  return [...byId.values()];
}

async function upsertBatch(sql: Sql | postgres.TransactionSql, documents: RoomDocument[]): Promise<void> {
  if (documents.length === 0) return;
  const payload = JSON.stringify(documents.map(toJsonRow));
  // Aliases index their localpart split into words (#linux-gaming:example.org -> linux, gaming)
  // and servers their labels, so "example" finds rooms of example.org.
  await sql`
    insert into room_search (${sql.unsafe(SELECT_COLUMNS)}, exact_keys, document, indexed_at)
    select d.room_id, d.name, d.topic, d.canonical_alias, d.avatar_url,
           coalesce(d.servers, '{}'), d.num_joined_members, d.world_readable, d.guest_can_join,
           d.join_rule, d.room_type, d.language, d.complexity, d.complexity_estimated,
           d.growth_7d, d.growth_30d, d.first_seen_at, d.last_seen_at, d.stale,
           array_remove(array[
             nullif(regexp_replace(lower(unaccent(trim(d.name))), '\\s+', ' ', 'g'), ''),
             nullif(lower(unaccent(substr(d.canonical_alias, 2))), ''),
             nullif(lower(unaccent(split_part(substr(d.canonical_alias, 2), ':', 1))), '')
           ], null),
           setweight(to_tsvector('atlas_search', coalesce(left(d.name, 500), '')), 'A')
             || setweight(to_tsvector('atlas_search',
                  regexp_replace(split_part(substr(coalesce(d.canonical_alias, ''), 2), ':', 1), '[^[:alnum:]]+', ' ', 'g')), 'A')
             || setweight(to_tsvector('atlas_search', coalesce(left(d.topic, 2000), '')), 'C')
             || setweight(to_tsvector('atlas_search',
                  regexp_replace(array_to_string(coalesce(d.servers, '{}'), ' '), '[.:-]+', ' ', 'g')), 'D'),
           now()
    from jsonb_to_recordset((${payload}::text)::jsonb) as d(
      room_id text, name text, topic text, canonical_alias text, avatar_url text, servers text[],
      num_joined_members integer, world_readable boolean, guest_can_join boolean, join_rule text,
      room_type text, language text, complexity real, complexity_estimated boolean,
      growth_7d integer, growth_30d integer, first_seen_at timestamptz, last_seen_at timestamptz,
      stale boolean)
    on conflict (room_id) do update set
      name = excluded.name, topic = excluded.topic, canonical_alias = excluded.canonical_alias,
      avatar_url = excluded.avatar_url, servers = excluded.servers,
      num_joined_members = excluded.num_joined_members, world_readable = excluded.world_readable,
      guest_can_join = excluded.guest_can_join, join_rule = excluded.join_rule,
      room_type = excluded.room_type, language = excluded.language,
      complexity = excluded.complexity, complexity_estimated = excluded.complexity_estimated,
      growth_7d = excluded.growth_7d, growth_30d = excluded.growth_30d,
      first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
      stale = excluded.stale, exact_keys = excluded.exact_keys, document = excluded.document,
      indexed_at = excluded.indexed_at`;
  const ids = documents.map((d) => d.roomId);
  await sql`
    insert into search_terms (term)
    select distinct w from room_search r, unnest(tsvector_to_array(r.document)) as w
    where r.room_id = any(${ids}::text[]) and length(w) between 3 and 40 and w ~ '^[[:alpha:]]+$'
    on conflict do nothing`;
}

function filterFragments(sql: Sql, filters: RoomFilters | undefined): Fragment[] {
  const parts: Fragment[] = [];
  if (!filters) return parts;
  if (filters.servers && filters.servers.length > 0) {
    parts.push(sql`r.servers && ${filters.servers}::text[]`);
  }
  if (filters.languages && filters.languages.length > 0) {
    parts.push(sql`r.language = any(${filters.languages}::text[])`);
  }
  if (filters.roomTypes && filters.roomTypes.length > 0) {
    const named = filters.roomTypes.filter((t): t is string => t !== null);
    const plain = filters.roomTypes.includes(null);
    parts.push(
      plain
        ? sql`(r.room_type is null or r.room_type = any(${named}::text[]))`
        : sql`r.room_type = any(${named}::text[])`,
    );
  }
  if (filters.joinRules && filters.joinRules.length > 0) {
    parts.push(sql`r.join_rule = any(${filters.joinRules}::text[])`);
  }
  if (filters.minMembers !== undefined) parts.push(sql`r.num_joined_members >= ${filters.minMembers}`);
  if (filters.maxMembers !== undefined) parts.push(sql`r.num_joined_members <= ${filters.maxMembers}`);
  if (filters.maxComplexity !== undefined) parts.push(sql`r.complexity <= ${filters.maxComplexity}`);
  if (filters.joinableWithLimit !== undefined) {
    parts.push(sql`(r.complexity is null or r.complexity <= ${filters.joinableWithLimit})`);
  }
  if (filters.worldReadable !== undefined) parts.push(sql`r.world_readable = ${filters.worldReadable}`);
  if (filters.stale !== undefined) parts.push(sql`r.stale = ${filters.stale}`);
  if (filters.hasAlias !== undefined) {
    parts.push(filters.hasAlias ? sql`r.canonical_alias is not null` : sql`r.canonical_alias is null`);
  }
  return parts;
}

function and(sql: Sql, parts: Fragment[]): Fragment {
  return parts.reduce((acc, part) => sql`${acc} and ${part}`, sql`true`);
}

interface SortSpec {
  /** Column (or expression) and whether larger values come first. */
  column: string;
  type: 'integer' | 'real' | 'timestamptz';
  descending: boolean;
  nullable: boolean;
  key(row: Row): number | null;
}

const SORTS: Record<Exclude<RoomSort, 'relevance'>, SortSpec> = {
  members: {
    column: 'r.num_joined_members',
    type: 'integer',
    descending: true,
    nullable: false,
    key: (r) => r.num_joined_members,
  },
  growth7d: {
    column: 'r.growth_7d',
    type: 'integer',
    descending: true,
    nullable: false,
    key: (r) => r.growth_7d,
  },
  growth30d: {
    column: 'r.growth_30d',
    type: 'integer',
    descending: true,
    nullable: false,
    key: (r) => r.growth_30d,
  },
  newest: {
    column: 'r.first_seen_at',
    type: 'timestamptz',
    descending: true,
    nullable: false,
    key: (r) => timestampToDate(r.first_seen_at).getTime(),
  },
  complexity: {
    column: 'r.complexity',
    type: 'real',
    descending: false,
    nullable: true,
    key: (r) => r.complexity,
  },
};

function cursorNumber(keys: CursorKeys, index: number, nullable = false): number | null {
  const value = keys[index];
  if (value === null && nullable) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidCursorError('the cursor is not one this directory issued');
  }
  return value;
}

function cursorString(keys: CursorKeys, index: number): string {
  const value = keys[index];
  if (typeof value !== 'string') throw new InvalidCursorError('the cursor is not one this directory issued');
  return value;
}

function keysetAfter(
  sql: Sql,
  spec: SortSpec,
  sort: RoomSort,
  keys: CursorKeys | undefined,
  column: Fragment,
  idColumn: Fragment,
): Fragment {
  if (!keys) return sql`true`;
  const value = cursorNumber(keys, 0, spec.nullable);
  const id = cursorString(keys, 1);
  if (value === null) return sql`(${column} is null and ${idColumn} > ${id})`;
  // Cast to the column's own type: a real compared with a float8 parameter is never equal.
  const param =
    sort === 'newest' ? sql`${new Date(value)}::timestamptz` : sql`${value}::${sql.unsafe(spec.type)}`;
  return spec.descending
    ? sql`(${column}, ${idColumn}) < (${param}, ${id})`
    : sql`((${column}, ${idColumn}) > (${param}, ${id}) or ${column} is null)`;
}

async function search(
  sql: Sql,
  query: SearchQuery,
  tiers: () => Promise<number[]>,
  dictionary: () => Promise<TypoDictionary>,
): Promise<SearchPage> {
  const q = cleanQueryText(query.q);
  const words = q ? queryWords(q) : [];
  // Only punctuation: nothing can match.
  if (q && words.length === 0) return { hits: [], total: 0, totalExact: true, nextCursor: null };
  const sort: RoomSort = query.sort ?? (words.length > 0 ? 'relevance' : 'members');
  const fingerprint = queryFingerprint({ q, sort, filters: query.filters });
  const keys = query.cursor ? decodeCursor(query.cursor, fingerprint) : undefined;
  const limit = Math.max(1, Math.min(100, Math.floor(query.limit)));
  const filtered = and(sql, filterFragments(sql, query.filters));
  const spec = SORTS[sort === 'relevance' ? 'members' : sort];
  const direction = sql.unsafe(spec.descending ? 'desc' : 'asc');
  const nulls = sql.unsafe(spec.nullable ? 'nulls last' : '');

  if (words.length === 0) {
    const column = sql.unsafe(spec.column);
    const after = keysetAfter(sql, spec, sort, keys, column, sql`r.room_id`);
    const [rows, total] = await Promise.all([
      sql<Row[]>`
        select ${sql.unsafe(SELECT_COLUMNS)} from room_search r
        where ${filtered} and ${after}
        order by ${column} ${direction} ${nulls}, r.room_id ${direction}
        limit ${limit + 1}`,
      countMatches(sql, filtered),
    ]);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      hits: page.map(toDocument),
      total: Math.min(total, TOTAL_CAP),
      totalExact: total <= TOTAL_CAP,
      nextCursor:
        rows.length > limit && last ? encodeCursor(fingerprint, [spec.key(last), last.room_id]) : null,
    };
  }

  const tsQuery = buildTsQuery(expandWords(await dictionary(), words));
  const exact = exactKey(q);
  const isExact = sql`r.exact_keys && array[lower(unaccent(${exact}))]`;
  const textMatch = sql`r.document @@ to_tsquery('atlas_search', ${tsQuery})`;
  // The popularity tiers (see memberTiers) only serve orders that put big rooms first.
  // Big-rooms-first orders look in the top popularity tier first and go down only while they have
  // too few candidates (planner estimates of word frequency are too rough to pick the tier).
  let thresholds = [0];
  if (sort === 'relevance' || sort === 'members') {
    const [allTiers, estimate] = await Promise.all([
      tiers(),
      estimateMatches(sql, sql`${textMatch} and ${filtered}`),
    ]);
    // A word the statistics call rare goes straight to all its matches (one query instead of four);
    // if the estimate was low, that costs time, never a different answer.
    thresholds = estimate < DIRECT_MATCHES ? [0] : allTiers;
  }
  for (const threshold of thresholds) {
    const tier = threshold > 0 ? sql`and r.num_joined_members >= ${threshold}` : sql``;
    // The matches, through the GIN index (a bitmap scan, ANDed with the members index in a tier).
    // For relevance, exact name or alias matches come in whatever their size.
    const matches =
      sort === 'relevance'
        ? sql`
          select r.room_id, r.num_joined_members, ${isExact} as exact, ${sql.unsafe(spec.column)} as k
          from room_search r where ${textMatch} and ${filtered} ${tier}
          union
          select r.room_id, r.num_joined_members, true as exact, ${sql.unsafe(spec.column)} as k
          from room_search r where ${isExact} and ${filtered}`
        : sql`
          select r.room_id, r.num_joined_members, false as exact, ${sql.unsafe(spec.column)} as k
          from room_search r where (${textMatch} or ${isExact}) and ${filtered} ${tier}`;
    const last = threshold === thresholds[thresholds.length - 1];
    let result: { page: SearchPage; complete: boolean };
    if (sort === 'relevance') {
      let after: Fragment = sql`true`;
      if (keys) {
        const cExact = keys[0] === true;
        const cScore = cursorNumber(keys, 1);
        const cId = cursorString(keys, 2);
        after = sql`((not h.exact and ${cExact}) or (h.exact = ${cExact} and
          (h.score < ${cScore} or (h.score = ${cScore} and h.room_id > ${cId}))))`;
      }
      // Only the most popular matches (and every exact one) are ranked by text: ranking each room
      // that holds a common word would cost more than a search may take.
      const rows = await sql<Row[]>`
        with m as materialized (${matches}),
        top as (
          select room_id, exact from m
          order by exact desc, num_joined_members desc, room_id limit ${RELEVANCE_CANDIDATES}
        ),
        h as (
          select ${sql.unsafe(SELECT_COLUMNS.replace(/(\w+)/g, 'r.$1'))}, top.exact,
                 (ts_rank(${RANK_WEIGHTS}::float4[], r.document, to_tsquery('atlas_search', ${tsQuery}))
                   * ln(r.num_joined_members + 3))::float8 as score
          from top join room_search r on r.room_id = top.room_id
        )
        select h.*, (select count(*) from m) as full_count from h
        where ${after}
        order by h.exact desc, h.score desc, h.room_id asc
        limit ${limit + 1}`;
      const page = rows.slice(0, limit);
      const lastRow = page[page.length - 1];
      const candidates = Number(rows[0]?.full_count ?? 0);
      result = {
        complete: candidates >= RELEVANCE_CANDIDATES,
        page: {
          hits: page.map(toDocument),
          total: candidates,
          totalExact: true,
          nextCursor:
            rows.length > limit && lastRow
              ? encodeCursor(fingerprint, [lastRow.exact ?? false, lastRow.score ?? 0, lastRow.room_id])
              : null,
        },
      };
    } else {
      const after = keysetAfter(sql, spec, sort, keys, sql`m.k`, sql`m.room_id`);
      const rows = await sql<(Row & { k: number | PgTimestamp | null })[]>`
        with m as materialized (${matches}),
        page as (
          select m.room_id, m.k from m where ${after}
          order by m.k ${direction} ${nulls}, m.room_id ${direction}
          limit ${limit + 1}
        )
        select ${sql.unsafe(SELECT_COLUMNS.replace(/(\w+)/g, 'r.$1'))}, (select count(*) from m) as full_count
        from page join room_search r on r.room_id = page.room_id
        order by page.k ${direction} ${nulls}, page.room_id ${direction}`;
      const page = rows.slice(0, limit);
      const lastRow = page[page.length - 1];
      result = {
        complete: rows.length > limit,
        page: {
          hits: page.map(toDocument),
          total: Number(rows[0]?.full_count ?? 0),
          totalExact: true,
          nextCursor:
            rows.length > limit && lastRow
              ? encodeCursor(fingerprint, [spec.key(lastRow), lastRow.room_id])
              : null,
        },
      };
    }
    if (last) return result.page;
    if (result.complete) {
      // Stopped in a tier: the rooms below it were not counted, so the planner's estimate stands in.
      const estimated = await estimateMatches(sql, sql`${textMatch} and ${filtered}`);
      return {
        ...result.page,
        total: Math.min(TOTAL_CAP, Math.max(estimated, result.page.total)),
        totalExact: false,
      };
    }
  }
  return { hits: [], total: 0, totalExact: true, nextCursor: null };
}

/** The planner's estimate of matching rooms (from the column statistics), without touching a row. */
async function estimateMatches(sql: Sql, where: Fragment): Promise<number> {
  const [row] = await sql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }[]>`
    explain (format json) select 1 from room_search r where ${where}`;
  return Math.round(row?.['QUERY PLAN'][0].Plan['Plan Rows'] ?? 0);
}

/**
 * Members thresholds splitting rooms into popularity tiers (top 1 %, 10 %, 50 %, all). A search
 * that puts big rooms first looks in the top tier first, through a BitmapAnd of the text and
 * members indexes, and only goes down while it has fewer candidates than it ranks: a common word
 * then touches a few hundred rows instead of tens of thousands, with the same answer.
 */
async function memberTiers(sql: Sql): Promise<number[]> {
  const [row] = await sql<{ p: number[] | null }[]>`
    select percentile_disc(array[0.99, 0.9, 0.5]) within group (order by num_joined_members) as p
    from room_search`;
  const bounds = (row?.p ?? []).filter((value) => value > 1);
  return [...new Set([...bounds, 0])].sort((a, b) => b - a);
}

/** Matching rooms, counted up to one past the cap (a common word would otherwise cost a full count). */
async function countMatches(sql: Sql, where: Fragment): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    select count(*) as n from (select 1 from room_search r where ${where} limit ${TOTAL_CAP + 1}) t`;
  return Number(row?.n ?? 0);
}

/** A query word folded like indexed words (unaccent, lower case), for dictionary lookups. */
function fold(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * Words found in no indexed room get their nearest indexed words as alternatives (one edit away,
 * two for long words). A prefix word counts as found when some indexed word starts with it.
 */
function expandWords(
  dictionary: TypoDictionary,
  words: { word: string; prefix: boolean }[],
): { word: string; prefix: boolean; alternatives: string[] }[] {
  return words.map((w) => {
    const folded = fold(w.word);
    return {
      ...w,
      alternatives: dictionary.knows(folded, w.prefix) ? [] : dictionary.similar(folded, TYPO_ALTERNATIVES),
    };
  });
}
