import type { Sql } from 'postgres';

/**
 * A synthetic federation for the search benchmark: servers, rooms with names, aliases and topics
 * whose words follow a Zipf law (a few very common words, a long tail), listings and 30 days of
 * member snapshots. Seeded, so every run searches the same rooms.
 */

export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = `chat linux matrix gaming music art dev rust python help news community general open source
free software privacy security science books movies anime memes tech cafe lounge hub room space official
support team project design photo travel food coding crypto climate politics history math physics games
retro radio podcast europe berlin paris london japan france germany spain italy brasil india canada
french german spanish english japanese portuguese russian chinese dutch polish swedish writers readers
kde gnome fedora debian arch ubuntu nixos android firefox mozilla element synapse conduit dendrite
selfhosted homelab garden plants cats dogs birds cycling running climbing hiking football chess
esperanto language learning students teachers university jobs remote startups design fonts typography
3d printing electronics arduino raspberry pi hardware keyboards audio video streaming bridges bots`
  .split(/\s+/)
  .filter(Boolean);

const SYLLABLES =
  'ka lo mi ra ne tu shi ve no ba ze li qua rin tor mel vas pri sol dan fen gor hal jin kor lum mar nix oph pel quin rus sten tam ulm vor wyn xen yor zul'.split(
    ' ',
  );

function vocabulary(rand: () => number, size: number): string[] {
  const words = new Set(COMMON);
  while (words.size < size) {
    const n = 2 + Math.floor(rand() * 3);
    let word = '';
    for (let i = 0; i < n; i++) word += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/**
 * Index into a list of n items with probability ~ 1/(rank + q) (Zipf-Mandelbrot): the most common
 * word is in about one room name or topic word in 200, as the commonest content words of real
 * directories are ("chat", "linux", "matrix"), with a long tail of rare words.
 */
function zipf(rand: () => number, n: number, q = 30): number {
  const target = rand() * Math.log((n + q) / q);
  return Math.min(n - 1, Math.max(0, Math.floor(q * Math.exp(target) - q)));
}

export interface Dataset {
  rooms: number;
  servers: number;
}

export async function generateDataset(
  sql: Sql,
  options: { rooms: number; servers: number; seed?: number },
): Promise<Dataset> {
  // A half-generated dataset from an interrupted run is started again.
  await sql`truncate servers, rooms, room_listings, room_snapshots, room_search, search_terms cascade`;
  const rand = random(options.seed ?? 42);
  const words = vocabulary(rand, 20_000);
  const word = () => words[zipf(rand, words.length)] ?? 'room';
  const tlds = ['org', 'net', 'im', 'chat', 'de', 'fr', 'io', 'social', 'space', 'xyz'];
  const serverNames: string[] = [];
  for (let i = 0; i < options.servers; i++) {
    serverNames.push(`${word()}${i}.${tlds[i % tlds.length]}`);
  }
  const software = ['Synapse', 'Synapse', 'Synapse', 'conduwuit', 'Conduit', 'Dendrite', 'continuwuity'];
  for (let i = 0; i < serverNames.length; i += 1000) {
    const batch = serverNames.slice(i, i + 1000);
    await sql`
      insert into servers (name, status, found_via, software_name, software_version, registration, publishes,
        room_count, uptime_30d, latency_ms, last_probe_at, last_seen_online_at)
      select s.name, case when s.n % 10 = 0 then 'offline' else 'online' end, 'seed', s.software, '1.0',
        case when s.n % 7 = 0 then 'open' else 'closed' end, s.n % 5 <> 0, 0, 0.8 + (s.n % 20) / 100.0,
        20 + s.n % 300, now(), now()
      from unnest(${batch}::text[], ${batch.map((_, k) => software[(i + k) % software.length] ?? 'Synapse')}::text[])
        with ordinality as s(name, software, n)`;
  }
  const batchSize = 2000;
  for (let start = 0; start < options.rooms; start += batchSize) {
    const ids: string[] = [];
    const names: (string | null)[] = [];
    const topics: (string | null)[] = [];
    const aliases: (string | null)[] = [];
    const members: number[] = [];
    const complexity: (number | null)[] = [];
    const types: (string | null)[] = [];
    const servers: string[] = [];
    const firstSeen: string[] = [];
    for (let i = start; i < Math.min(options.rooms, start + batchSize); i++) {
      const server = serverNames[zipf(rand, serverNames.length)] ?? 'example.org';
      const nameWords = Array.from({ length: 1 + Math.floor(rand() * 3) }, word);
      const name = nameWords.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
      const m = Math.max(1, Math.floor(1 / (rand() + 0.0002)) - 1);
      ids.push(`!r${i.toString(36)}${Math.floor(rand() * 1e9).toString(36)}:${server}`);
      names.push(rand() < 0.97 ? name : null);
      topics.push(rand() < 0.7 ? Array.from({ length: 4 + Math.floor(rand() * 12) }, word).join(' ') : null);
      aliases.push(rand() < 0.8 ? `#${nameWords.join('-')}${i}:${server}` : null);
      members.push(m);
      complexity.push(rand() < 0.9 ? Math.round((m / 60 + rand()) * 100) / 100 : null);
      types.push(rand() < 0.05 ? 'm.space' : null);
      servers.push(server);
      firstSeen.push(new Date(Date.now() - Math.floor(rand() * 400) * 86_400_000).toISOString());
    }
    const payload = JSON.stringify(
      ids.map((id, k) => ({
        id,
        name: names[k],
        topic: topics[k],
        alias: aliases[k],
        members: members[k],
        type: types[k],
        complexity: complexity[k],
        first_seen: firstSeen[k],
      })),
    );
    await sql`
      insert into rooms (room_id, name, topic, canonical_alias, num_joined_members, world_readable, join_rule,
        room_type, complexity, complexity_source, first_seen_at)
      select r.id, r.name, r.topic, r.alias, r.members, r.members % 3 = 0,
        case when r.members % 11 = 0 then 'knock' else 'public' end, r.type, r.complexity,
        case when r.complexity is null then null else 'federation' end, r.first_seen
      from jsonb_to_recordset((${payload}::text)::jsonb)
        as r(id text, name text, topic text, alias text, members int, type text, complexity real, first_seen timestamptz)`;
    await sql`
      insert into room_listings (room_id, server_name)
      select * from unnest(${ids}::text[], ${servers}::text[])`;
    await sql`
      insert into room_snapshots (room_id, day, num_joined_members)
      select r.id, current_date - d, greatest(1, r.members - d * (r.members / 50))
      from unnest(${ids}::text[], ${sql.array(members)}::int[]) as r(id, members), unnest(array[0, 7, 30]) as d`;
  }
  await sql`
    update servers s set room_count = c.n
    from (select server_name, count(*) as n from room_listings group by 1) c where c.server_name = s.name`;
  await sql`analyze`;
  return { rooms: options.rooms, servers: options.servers };
}

/** The search benchmark's fifth kind of query: one word and one of these (language is drawn). */
const SEARCH_FILTERS = ['language', 'min_members=10', 'type=room', 'joinable=true', 'sort=members'];

export interface QueryMixOptions {
  seed?: number;
  /** Where the queries go: the JSON API's `/api/v1/rooms` unless said (the web UI's rooms page is `/`). */
  path?: string;
  /**
   * The filters and sorts the fifth kind draws from, `name=value`; `language` alone stands for one
   * of en, fr, de, es.
   */
  filters?: string[];
}

/**
 * Search queries drawn from the rooms themselves, in the mix the benchmark asks for: in equal
 * parts one word, two words, a prefix, one typo, and one word with a filter.
 */
export async function queryMix(sql: Sql, count: number, options: QueryMixOptions = {}): Promise<string[]> {
  const { seed = 7, path = '/api/v1/rooms', filters = SEARCH_FILTERS } = options;
  const rand = random(seed);
  const rows = await sql<{ name: string }[]>`
    select name from rooms where name is not null order by md5(room_id) limit ${count * 2}`;
  const names = rows.map((r) =>
    r.name
      .toLowerCase()
      .split(/\s+/)
      .filter((w) => w.length >= 3),
  );
  const languages = ['en', 'fr', 'de', 'es'];
  const paths: string[] = [];
  for (let i = 0; paths.length < count && i < names.length * 4; i++) {
    const ws = names[i % names.length] ?? [];
    const w = ws[Math.floor(rand() * ws.length)];
    if (!w) continue;
    const kind = paths.length % 5;
    let q: string;
    let extra = '';
    if (kind === 0) q = w;
    else if (kind === 1) {
      const second = ws.find((x) => x !== w);
      if (!second) continue;
      q = `${w} ${second}`;
    } else if (kind === 2) q = w.slice(0, Math.max(3, Math.ceil(w.length * 0.6)));
    else if (kind === 3) {
      if (w.length < 5) continue;
      const at = 1 + Math.floor(rand() * (w.length - 2));
      q = w.slice(0, at) + w.slice(at + 1);
    } else {
      q = w;
      const language = `language=${languages[Math.floor(rand() * languages.length)]}`;
      const filter = filters[Math.floor(rand() * filters.length)] ?? '';
      extra = `&${filter === 'language' ? language : filter}`;
    }
    paths.push(`${path}?q=${encodeURIComponent(q)}${extra}`);
  }
  return paths;
}

/** The kinds of `distinctQueries`, in the order they take turns. */
export const DISTINCT_KINDS = ['two words', 'word + prefix', 'prefix + word', 'prefix'] as const;

/**
 * `count` searches that are all different, so that no answer cache can help: two words of one
 * room's name (in either order), a word and the prefix of another (the way a person types), and
 * prefixes of every length from three letters, each combination used once. Drawn from the rooms'
 * own names, so most of them match something.
 */
export async function distinctQueries(sql: Sql, count: number, seed = 11): Promise<string[]> {
  const rand = random(seed);
  const rows = await sql<{ name: string }[]>`
    select name from rooms where name is not null order by md5(room_id || ${String(seed)}) limit ${count * 3}`;
  const names = rows
    .map((r) =>
      r.name
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w.length >= 3),
    )
    .filter((ws) => ws.length > 0);
  const prefix = (w: string) => w.slice(0, 3 + Math.floor(rand() * Math.max(1, w.length - 3)));
  const seen = new Set<string>();
  const paths: string[] = [];
  for (let i = 0; paths.length < count && i < names.length * 20; i++) {
    const ws = names[i % names.length] ?? [];
    const w = ws[Math.floor(rand() * ws.length)] ?? '';
    const other = ws.find((x) => x !== w) ?? (names[(i * 7919) % names.length] ?? [])[0] ?? '';
    const kind = DISTINCT_KINDS[paths.length % DISTINCT_KINDS.length];
    const q =
      kind === 'two words'
        ? rand() < 0.5
          ? `${w} ${other}`
          : `${other} ${w}`
        : kind === 'word + prefix'
          ? `${w} ${prefix(other)}`
          : kind === 'prefix + word'
            ? `${prefix(w)} ${other}`
            : prefix(w);
    if (!other && kind !== 'prefix') continue;
    if (seen.has(q)) continue;
    seen.add(q);
    paths.push(`/api/v1/rooms?q=${encodeURIComponent(q)}`);
  }
  if (paths.length < count) throw new Error(`only ${paths.length} distinct searches, ${count} asked`);
  return paths;
}
