import type { Sql } from 'postgres';
import { type CursorKeys, decodeCursor, encodeCursor, queryFingerprint } from './cursor.ts';
import {
  cursorNumber,
  cursorString,
  direction,
  filterCondition,
  keysetAfter,
  SORTS,
  type SortSpec,
  sortKey,
} from './postgres-filters.ts';
import { buildTsQuery, cleanQueryText, exactKey, queryWords } from './postgres-query.ts';
import { type Row, selectColumns, toDocument } from './postgres-rows.ts';
import { Statement } from './postgres-statement.ts';
import {
  type TierSizes,
  tierCounts,
  tierOutcome,
  tierScans,
  tierTallies,
  tierUnion,
} from './postgres-tiers.ts';
import { type RoomFilters, type RoomSort, type SearchPage, type SearchQuery, TOTAL_CAP } from './types.ts';
import type { TypoDictionary } from './typo-dictionary.ts';

/** Similar words tried for a word that matches nothing. */
const TYPO_ALTERNATIVES = 3;
/** ts_rank weights for D, C, B, A: servers, topic, (unused), name and alias. */
const RANK_WEIGHTS = '{0.05,0.2,0.4,1.0}';
/** Matches ranked by text relevance: the most popular ones (ranking a common word's every room is too slow). */
export const RELEVANCE_CANDIDATES = 200;

export interface SearchContext {
  dictionary(): Promise<TypoDictionary>;
  tierSizes(): Promise<TierSizes>;
}

/** Connections for browsing (custom plans) and for word searches (generic plans). */
export interface SearchConnections {
  browse: Sql;
  words: Sql;
}

interface MatchRow extends Row {
  /** The sort key (not for relevance). */
  k: number | Date | string | null;
  exact: boolean | null;
  score: number | null;
  tier_counts: number[];
  tier_gates: number[];
  matches: number;
}

interface Plan {
  sort: RoomSort;
  keys: CursorKeys | undefined;
  limit: number;
  fingerprint: string;
}

const EMPTY: SearchPage = { hits: [], total: 0, totalExact: true, nextCursor: null };

export async function searchPostgres(
  connections: SearchConnections,
  query: SearchQuery,
  context: SearchContext,
): Promise<SearchPage> {
  const q = cleanQueryText(query.q);
  const words = q ? queryWords(q) : [];
  // Only punctuation: nothing can match.
  if (q && words.length === 0) return EMPTY;
  const sort: RoomSort = query.sort ?? (words.length > 0 ? 'relevance' : 'members');
  const fingerprint = queryFingerprint({ q, sort, filters: query.filters });
  const keys = query.cursor ? decodeCursor(query.cursor, fingerprint) : undefined;
  const limit = Math.max(1, Math.min(100, Math.floor(query.limit)));
  const plan = { sort, keys, limit, fingerprint };
  if (words.length === 0) return browse(connections.browse, query.filters, plan);
  const st = new Statement();
  const filtered = filterCondition(st, query.filters);
  const [dictionary, sizes] = await Promise.all([context.dictionary(), context.tierSizes()]);
  const tsQuery = buildTsQuery(expandWords(dictionary, words));
  return matchWords(connections.words, st, filtered, { ...plan, tsQuery, exact: exactKey(q), sizes });
}

/** No words: filters and a sort, straight from the sort's index. */
async function browse(sql: Sql, filters: RoomFilters | undefined, plan: Plan): Promise<SearchPage> {
  const st = new Statement();
  const filtered = filterCondition(st, filters);
  const spec = SORTS[plan.sort === 'relevance' ? 'members' : plan.sort];
  const column = `r.${spec.column}`;
  const order = direction(spec);
  const idOrder = spec.descending ? 'desc' : 'asc';
  const after = keysetAfter(st, spec, plan.keys, column, 'r.room_id');
  // The count is capped: counting every room would cost more than the page.
  const rows = await st.run<Row & { total: number }>(
    sql,
    `select ${selectColumns('r')},
       (select count(*)::int from (select 1 from room_search r where ${filtered} limit ${TOTAL_CAP + 1}) c) as total
     from room_search r
     where ${filtered} and ${after}
     order by ${column} ${order}, r.room_id ${idOrder}
     limit ${st.param(plan.limit + 1, 'int')}`,
  );
  let total = rows[0]?.total;
  if (total === undefined) {
    // Past the last page: the count alone.
    const count = new Statement();
    const [row] = await count.run<{ n: number }>(
      sql,
      `select count(*)::int as n from (select 1 from room_search r where ${filterCondition(count, filters)} limit ${TOTAL_CAP + 1}) c`,
    );
    total = row?.n ?? 0;
  }
  const page = rows.slice(0, plan.limit);
  const last = page[page.length - 1];
  return {
    hits: page.map(toDocument),
    total: Math.min(total, TOTAL_CAP),
    totalExact: total <= TOTAL_CAP,
    nextCursor:
      rows.length > plan.limit && last
        ? encodeCursor(plan.fingerprint, [sortKey(last[spec.column]), last.room_id])
        : null,
  };
}

/**
 * Words: one statement. The matches come from the popularity tiers (see postgres-tiers.ts), biggest
 * rooms first, as far down as the sort needs; exact name or alias matches come whatever their size.
 * Relevance ranks the most popular matches by text rank × ln(members); the other sorts order them.
 */
async function matchWords(
  sql: Sql,
  st: Statement,
  filtered: string,
  plan: Plan & { tsQuery: string; exact: string; sizes: TierSizes },
): Promise<SearchPage> {
  const { sort, keys, limit } = plan;
  const spec: SortSpec = SORTS[sort === 'relevance' ? 'members' : sort];
  const order = direction(spec);
  const idOrder = spec.descending ? 'desc' : 'asc';
  // Big-rooms-first orders need only the top of the tiers: the candidates relevance ranks, or the
  // rest of this page by members. Other orders need every match.
  const need = sort === 'relevance' ? RELEVANCE_CANDIDATES : sort === 'members' ? limit + 1 : null;
  const counted = sort === 'members' ? keysetAfter(st, spec, keys, 'k', 'room_id') : 'true';
  const tsQuery = st.param(plan.tsQuery, 'text');
  const exact = st.param(plan.exact, 'text');
  const common = `
    p as (select to_tsquery('atlas_search', ${tsQuery}) as q, array[lower(unaccent(${exact}))] as exact),
    ${tierScans({
      match: 'r.document @@ (select q from p)',
      filtered,
      sortKey: `r.${spec.column}`,
      need: need === null ? null : st.param(need, 'int'),
      counted,
    })},
    ex as materialized (
      select r.ctid as id, r.room_id, r.num_joined_members as m, r.${spec.column} as k from room_search r
      where r.exact_keys && (select exact from p) and ${filtered}),
    c as (
      select id, room_id, m, k, bool_or(e) as e
      from (${tierUnion()} union all select id, room_id, m, k, true from ex) u
      group by id, room_id, m, k),
    n as (select ${tierCounts()}, (select count(*)::int from c) as matches from ${tierTallies()})`;

  let text: string;
  if (sort === 'relevance') {
    let after = 'true';
    if (keys) {
      const cExact = st.param(keys[0] === true, 'bool');
      const cScore = st.param(cursorNumber(keys, 1), 'float8');
      const cId = st.param(cursorString(keys, 2), 'text');
      after = `((not h.exact and ${cExact}) or (h.exact = ${cExact} and
        (h.score < ${cScore} or (h.score = ${cScore} and h.room_id > ${cId}))))`;
    }
    // Only the most popular matches (and every exact one) are ranked by text: ranking each room
    // that holds a common word would cost more than a search may take.
    text = `
      with ${common},
      top as (select id, room_id, e from c order by e desc, m desc, room_id limit ${RELEVANCE_CANDIDATES}),
      h as (
        select top.id, top.room_id, top.e as exact,
               (ts_rank('${RANK_WEIGHTS}'::float4[], r.document, (select q from p))
                 * ln(r.num_joined_members + 3))::float8 as score
        from top join room_search r on r.ctid = top.id),
      page as (
        select * from h where ${after}
        order by exact desc, score desc, room_id limit ${st.param(limit + 1, 'int')})
      select ${selectColumns('r')}, page.exact, page.score, n.*
      from n left join (page join room_search r on r.ctid = page.id) on true
      order by page.exact desc, page.score desc, page.room_id`;
  } else {
    const after = keysetAfter(st, spec, keys, 'c.k', 'c.room_id');
    text = `
      with ${common},
      page as (
        select id, k, room_id from c where ${after}
        order by k ${order}, room_id ${idOrder} limit ${st.param(limit + 1, 'int')})
      select ${selectColumns('r')}, page.k, n.*
      from n left join (page join room_search r on r.ctid = page.id) on true
      order by page.k ${order}, page.room_id ${idOrder}`;
  }
  const rows = await st.run<MatchRow>(sql, text);

  const first = rows[0];
  // With no row on this page, the one row left holds only the counts.
  const found = rows.filter((row) => row.room_id !== null);
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (found.length > limit && last) {
    nextCursor =
      sort === 'relevance'
        ? encodeCursor(plan.fingerprint, [last.exact ?? false, last.score ?? 0, last.room_id])
        : encodeCursor(plan.fingerprint, [sortKey(last.k), last.room_id]);
  }
  const matches = first?.matches ?? 0;
  const outcome = tierOutcome(first?.tier_counts ?? [], first?.tier_gates ?? [], need, plan.sizes);
  if (outcome.complete) return { hits: page.map(toDocument), total: matches, totalExact: true, nextCursor };
  // Stopped in a tier: the rooms below it were not read. Their matches are estimated as if words
  // were spread evenly over popularity (a rough figure, flagged as such).
  const roomsTotal = plan.sizes.reduce((sum, size) => sum + size, 0);
  const estimate = outcome.roomsRead > 0 ? Math.round((outcome.read * roomsTotal) / outcome.roomsRead) : 0;
  return {
    hits: page.map(toDocument),
    total: Math.min(TOTAL_CAP, Math.max(estimate, matches)),
    totalExact: false,
    nextCursor,
  };
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
