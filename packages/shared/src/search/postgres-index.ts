import postgres, { type Sql } from 'postgres';
import { SELECT_COLUMNS } from './postgres-rows.ts';
import { searchPostgres } from './postgres-search.ts';
import { loadTierSizes, type TierSizes } from './postgres-tiers.ts';
import type { IndexChangeListener, RoomDocument, SearchIndex, SearchStats } from './types.ts';
import { TypoDictionary } from './typo-dictionary.ts';

export interface PostgresSearchOptions {
  /** The database holding `room_search` and `search_terms` (migrations 0001 and 0002). */
  databaseUrl: string;
  /** Connections of the search pool; searches run beside the crawler's writes, not behind them. */
  poolSize?: number;
  /**
   * While changes are watched, the least time between two loads of the typo vocabulary after
   * another process indexed new words (default one minute; each load reads up to 300,000 words).
   */
  vocabularyReloadMs?: number;
}

const UPSERT_BATCH = 500;
/** How long the typo vocabulary and the tier sizes are reused before they are read again. */
const REFRESH_MS = 5 * 60_000;
/** The least time between two loads of the typo vocabulary prompted by other processes' writes. */
const VOCABULARY_RELOAD_MS = 60_000;
/** Words kept in memory for typo tolerance (a few tens of MB at most). */
const MAX_DICTIONARY = 300_000;
/** Announces committed writes to `room_search` to every process watching (answer caches). */
const CHANGES_CHANNEL = 'atlas_search_changed';
/** Wait before listening again after the watch connection was lost. */
const WATCH_RETRY_MS = 2_000;

interface Refreshed<T> {
  get(): Promise<T>;
  forget(): void;
  /** Loads it again now; settles once the new value is in use (or the old one kept, if loading failed). */
  reload(): Promise<void>;
  /** When the value in use was loaded, or undefined if it never was. */
  loadedAt(): number | undefined;
}

/**
 * A value loaded from the database and reused for a while; the previous value is served while a
 * new one loads, and a failed load is retried on the next call.
 */
function refreshed<T>(load: () => Promise<T>): Refreshed<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  /** Starts a load; until it settles, the value in use before it (if any) is what callers get. */
  const start = () => {
    const previous = cached?.value;
    const value = load();
    value.catch(() => {
      if (cached?.value === value) cached = undefined;
    });
    const next = { at: Date.now(), value: previous ? value.catch(() => previous) : value };
    cached = next;
    return { previous, next };
  };
  return {
    get() {
      if (cached && Date.now() - cached.at <= REFRESH_MS) return cached.value;
      const { previous, next } = start();
      return previous ?? next.value;
    },
    forget() {
      cached = undefined;
    },
    async reload() {
      await start().next.value.catch(() => {});
    },
    loadedAt: () => cached?.at,
  };
}

/**
 * The PostgreSQL backend: a weighted tsvector per room (name and alias A, topic C, servers D) with
 * a GIN index, accents folded by unaccent, words that match nothing replaced by their nearest
 * indexed words within one edit (`TypoDictionary`), and an exact name or alias match ranked first.
 */
export function createPostgresSearchIndex(options: PostgresSearchOptions): SearchIndex {
  const vocabularyReloadMs = options.vocabularyReloadMs ?? VOCABULARY_RELOAD_MS;
  const base = {
    max: options.poolSize ?? 8,
    onnotice: () => {},
    idle_timeout: 60,
    connect_timeout: 15,
  };
  // Searches are short statements run hundreds of times a second: compiling one (JIT) or starting
  // parallel workers for it costs more than it can save.
  const session = { jit: 'off', max_parallel_workers_per_gather: '0' };
  const sql = postgres(options.databaseUrl, {
    ...base,
    connection: { application_name: 'atlas-search', ...session },
  });
  // Word searches have their own connections, which always run the generic plan of a prepared
  // statement: planning one afresh costs more than running it (estimating a prefix word alone reads
  // the column statistics), and the plan does not depend on the words, since the tier thresholds
  // are literals and each tier has its own index. Browsing without words keeps custom plans, where
  // a filter's selectivity (a server with three rooms) does decide the plan.
  const wordsSql = postgres(options.databaseUrl, {
    ...base,
    connection: { application_name: 'atlas-search-words', ...session, plan_cache_mode: 'force_generic_plan' },
  });
  // The vocabulary for typo tolerance, in memory; reloaded after local writes, after other
  // processes' writes while they are watched, and every few minutes.
  const dictionary = refreshed(() =>
    sql<{ term: string }[]>`select term from search_terms limit ${MAX_DICTIONARY}`.then((rows) =>
      TypoDictionary.build(rows.map((row) => row.term)),
    ),
  );
  // Rooms per popularity tier, for estimated totals; they move slowly with the index.
  const tierSizes = refreshed<TierSizes>(() => loadTierSizes(sql));

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
      if (documents.length === 0) return;
      try {
        for (let i = 0; i < documents.length; i += UPSERT_BATCH) {
          const batch = dedupe(documents.slice(i, i + UPSERT_BATCH));
          await sql.begin(async (tx) => {
            await upsertBatch(tx, batch);
            await announceChange(tx);
          });
        }
      } finally {
        // Also after a failed batch: the ones before it were committed.
        dictionary.forget();
        tierSizes.forget();
      }
    },
    async remove(roomIds) {
      if (roomIds.length === 0) return;
      await sql.begin(async (tx) => {
        await tx`delete from room_search where room_id = any(${roomIds}::text[])`;
        await announceChange(tx);
      });
    },
    search: (query) =>
      searchPostgres({ browse: sql, words: wordsSql }, query, {
        dictionary: dictionary.get,
        tierSizes: tierSizes.get,
      }),
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
        // Sent when the transaction commits, not before.
        await announceChange(tx);
        return written;
      });
      dictionary.forget();
      tierSizes.forget();
      return count;
    },
    watchChanges(listener) {
      // Words another process indexed join the typo vocabulary soon after, not only at its
      // periodic refresh: reloaded at most once per `vocabularyReloadMs`, and announced as a change
      // once loaded, so that answers found with the old vocabulary are not kept as current.
      let timer: NodeJS.Timeout | undefined;
      let loading = false;
      let again = false;
      let stopped = false;
      const vocabularyChanged = () => {
        const loadedAt = dictionary.loadedAt();
        if (stopped || loadedAt === undefined) return;
        // A change committed while the load runs may have been read or not: load once more after.
        if (loading) again = true;
        if (loading || timer) return;
        timer = setTimeout(
          () => {
            timer = undefined;
            loading = true;
            dictionary.reload().then(() => {
              loading = false;
              if (stopped) return;
              listener.changed();
              if (again) {
                again = false;
                vocabularyChanged();
              }
            });
          },
          Math.max(0, loadedAt + vocabularyReloadMs - Date.now()),
        );
        timer.unref();
      };
      const stop = watchChanges(options.databaseUrl, {
        changed() {
          vocabularyChanged();
          listener.changed();
        },
        watching(on) {
          if (on) vocabularyChanged();
          listener.watching(on);
        },
      });
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await stop();
      };
    },
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), wordsSql.end({ timeout: 5 })]);
    },
  };
}

/**
 * Tells watching processes that the index changed, inside the transaction that changes it:
 * PostgreSQL sends the notification when, and only if, that transaction commits, so a committed
 * write is never left unannounced and a failed one is never announced.
 */
async function announceChange(tx: postgres.TransactionSql): Promise<void> {
  await tx`select pg_notify(${CHANGES_CHANNEL}, '')`;
}

/**
 * LISTENs on a connection of its own (one per watcher). When it is lost the listener hears
 * `watching(false)` and the watch starts again every few seconds until it is back.
 */
function watchChanges(databaseUrl: string, listener: IndexChangeListener): () => Promise<void> {
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let current: Sql | undefined;

  const lost = (connection: Sql) => {
    if (current !== connection) return;
    current = undefined;
    listener.watching(false);
    connection.end({ timeout: 0 }).catch(() => {});
    if (!stopped) retry = setTimeout(start, WATCH_RETRY_MS);
  };

  function start() {
    retry = undefined;
    if (stopped) return;
    // postgres.js delivers notifications to `onnotify`, which its types leave out (its own
    // `listen` uses it, but neither tells when the connection is lost nor retries for good).
    const settings: postgres.Options<Record<string, never>> & {
      onnotify(channel: string, payload: string): void;
    } = {
      max: 1,
      // Kept open for good: a connection that ends stops the watch.
      idle_timeout: 0,
      max_lifetime: null,
      connect_timeout: 15,
      onnotice: () => {},
      connection: { application_name: 'atlas-search-watch' },
      onnotify: (channel) => {
        if (channel === CHANGES_CHANNEL) listener.changed();
      },
      onclose: () => lost(connection),
    };
    const connection: Sql = postgres(databaseUrl, settings);
    current = connection;
    connection`listen ${connection(CHANGES_CHANNEL)}`.then(
      () => {
        if (current === connection) listener.watching(true);
      },
      () => lost(connection),
    );
  }

  start();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const connection = current;
    current = undefined;
    await connection?.end({ timeout: 1 });
  };
}

/** A multi-row upsert may not touch the same row twice; the last version of a room wins. */
function dedupe(documents: RoomDocument[]): RoomDocument[] {
  const byId = new Map<string, RoomDocument>();
  for (const doc of documents) byId.set(doc.roomId, doc);
  return [...byId.values()];
}

async function upsertBatch(sql: postgres.TransactionSql, documents: RoomDocument[]): Promise<void> {
  if (documents.length === 0) return;
  // The documents as they are (the statement names their fields), with their words lower-cased
  // here: PostgreSQL's lower() (and to_tsvector's own) only folds ASCII under the C collation
  // Atlas's databases use, which left "Русский" and "Ελληνικά" unfound by the same words in lower case.
  const payload = JSON.stringify(
    documents.map((d) => ({
      ...d,
      nameWords: d.name?.toLowerCase() ?? null,
      topicWords: d.topic?.toLowerCase() ?? null,
      aliasWords: d.canonicalAlias?.toLowerCase() ?? null,
    })),
  );
  // Aliases index their localpart split into words (#linux-gaming:example.org -> linux, gaming)
  // and servers their labels, so "example" finds rooms of example.org.
  await sql`
    insert into room_search (${sql.unsafe(SELECT_COLUMNS)}, exact_keys, document, indexed_at)
    select d."roomId", d.name, d.topic, d."canonicalAlias", d."avatarUrl",
           coalesce(d.servers, '{}'), d."numJoinedMembers", d."worldReadable", d."guestCanJoin",
           d."joinRule", d."roomType", d.language, d.complexity, d."complexityEstimated",
           d."growth7d", d."growth30d", to_timestamp(d."firstSeenAt" / 1000.0),
           to_timestamp(d."lastSeenAt" / 1000.0), d.stale,
           array_remove(array[
             nullif(regexp_replace(lower(unaccent(trim(d."nameWords"))), '\\s+', ' ', 'g'), ''),
             nullif(lower(unaccent(substr(d."aliasWords", 2))), ''),
             nullif(lower(unaccent(split_part(substr(d."aliasWords", 2), ':', 1))), '')
           ], null),
           setweight(to_tsvector('atlas_search', coalesce(left(d."nameWords", 500), '')), 'A')
             || setweight(to_tsvector('atlas_search',
                  regexp_replace(split_part(substr(coalesce(d."aliasWords", ''), 2), ':', 1), '[^[:alnum:]]+', ' ', 'g')), 'A')
             || setweight(to_tsvector('atlas_search', coalesce(left(d."topicWords", 2000), '')), 'C')
             || setweight(to_tsvector('atlas_search',
                  regexp_replace(array_to_string(coalesce(d.servers, '{}'), ' '), '[.:-]+', ' ', 'g')), 'D'),
           now()
    from jsonb_to_recordset((${payload}::text)::jsonb) as d(
      "roomId" text, name text, topic text, "canonicalAlias" text, "avatarUrl" text, servers text[],
      "numJoinedMembers" integer, "worldReadable" boolean, "guestCanJoin" boolean, "joinRule" text,
      "roomType" text, language text, complexity real, "complexityEstimated" boolean,
      "growth7d" integer, "growth30d" integer, "firstSeenAt" double precision, "lastSeenAt" double precision,
      stale boolean, "nameWords" text, "topicWords" text, "aliasWords" text)
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
