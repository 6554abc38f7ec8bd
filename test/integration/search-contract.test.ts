import {
  createMeilisearchIndex,
  createPostgresSearchIndex,
  InvalidCursorError,
  type RoomDocument,
  type SearchIndex,
  type SearchQuery,
} from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { roomDocument } from '../support/seed-rooms.ts';

const DAY = 24 * 3600 * 1000;
const now = Date.now();

const ROOMS: RoomDocument[] = [
  roomDocument({
    roomId: '!gaming:example.org',
    name: 'Linux Gaming',
    topic: 'Playing games on Linux with Proton and Wine',
    canonicalAlias: '#linux-gaming:example.org',
    numJoinedMembers: 900,
    language: 'en',
    complexity: 2.5,
    growth7d: 40,
    growth30d: 60,
    firstSeenAt: now - 40 * DAY,
    worldReadable: true,
  }),
  roomDocument({
    roomId: '!linux:example.org',
    name: 'Linux',
    topic: 'General Linux help',
    canonicalAlias: '#linux:example.org',
    numJoinedMembers: 30,
    language: 'en',
    complexity: 0.2,
    growth7d: 2,
    growth30d: 90,
    firstSeenAt: now - 10 * DAY,
  }),
  roomDocument({
    roomId: '!cafe:fr.example',
    name: 'Café Français',
    topic: 'On parle de tout, en français',
    canonicalAlias: '#cafe:fr.example',
    servers: ['fr.example'],
    numJoinedMembers: 120,
    language: 'fr',
    complexity: 0.6,
    growth7d: -5,
    growth30d: 10,
    firstSeenAt: now - 5 * DAY,
  }),
  roomDocument({
    roomId: '!space:example.org',
    name: 'Open Source Space',
    topic: 'A space of free software rooms',
    canonicalAlias: '#oss:example.org',
    roomType: 'm.space',
    numJoinedMembers: 400,
    language: 'en',
    complexity: null,
    growth7d: 15,
    growth30d: 15,
    firstSeenAt: now - 2 * DAY,
  }),
  roomDocument({
    roomId: '!knock:other.example',
    name: 'Rust Programming',
    topic: 'Ask about ownership and lifetimes',
    servers: ['other.example'],
    joinRule: 'knock',
    numJoinedMembers: 75,
    language: 'en',
    complexity: 1.0,
    growth7d: 1,
    growth30d: 3,
    firstSeenAt: now - 100 * DAY,
  }),
  roomDocument({
    roomId: '!stale:example.org',
    name: 'Old Gaming Lounge',
    topic: 'Nobody lists this room any more',
    numJoinedMembers: 5,
    stale: true,
    complexity: 0.1,
    complexityEstimated: true,
    firstSeenAt: now - 300 * DAY,
  }),
  roomDocument({
    roomId: '!matrix:matrix.org',
    name: 'Matrix HQ',
    topic: 'The Matrix protocol, discussed',
    canonicalAlias: '#matrix:matrix.org',
    servers: ['matrix.org', 'example.org'],
    numJoinedMembers: 20_000,
    language: 'en',
    complexity: 45,
    growth7d: 100,
    growth30d: 400,
    firstSeenAt: now - 400 * DAY,
  }),
  roomDocument({
    roomId: '!deutsch:de.example',
    name: 'Deutschsprachige Runde',
    topic: 'Plaudern über Datenschutz und Überwachung',
    canonicalAlias: '#runde:de.example',
    servers: ['de.example'],
    numJoinedMembers: 60,
    language: 'de',
    complexity: 0.3,
    firstSeenAt: now - 20 * DAY,
  }),
];

const ids = (hits: RoomDocument[]) => hits.map((h) => h.roomId);

type Factory = (database: TestDatabase) => SearchIndex;

// Both backends, always: the integration setup runs a real Meilisearch (from ../shared/bin).
const backends: [string, Factory][] = [
  ['postgres', (database) => createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 4 })],
  [
    'meilisearch',
    () =>
      createMeilisearchIndex({
        url: inject('meiliUrl'),
        key: inject('meiliKey'),
        indexUid: randomNamespace('rooms'),
      }),
  ],
];

describe.each(backends)('search contract: %s', (backend, factory) => {
  let database: TestDatabase;
  let index: SearchIndex;

  async function all(query: Omit<SearchQuery, 'limit' | 'cursor'>, pageSize = 2): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const result = await index.search({ ...query, limit: pageSize, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(result.hits));
      if (!result.nextCursor) return seen;
      cursor = result.nextCursor;
    }
    throw new Error('paging did not end');
  }

  beforeAll(async () => {
    database = await createTestDatabase(`search_${backend}`);
    index = factory(database);
    await index.init();
    await index.upsert(ROOMS);
  });

  afterAll(async () => {
    await index?.close();
    await database?.drop();
  });

  it('counts its documents', async () => {
    expect(await index.stats()).toEqual({ backend, documents: ROOMS.length });
  });

  it('finds rooms by a word of the name, topic, alias or server', async () => {
    // Meilisearch also lets the word being typed match with a typo ("proton" as "protoc…", so the
    // Matrix room about its protocol); such a match ranks below the room with the word itself.
    expect(ids((await index.search({ q: 'proton', limit: 10 })).hits)[0]).toBe('!gaming:example.org');
    expect(ids((await index.search({ q: 'oss', limit: 10 })).hits)).toEqual(['!space:example.org']);
    expect(ids((await index.search({ q: 'rust', limit: 10 })).hits)).toEqual(['!knock:other.example']);
    expect(ids((await index.search({ q: 'de.example', limit: 10 })).hits)).toContain('!deutsch:de.example');
  });

  it('ranks an exact name or alias match first, above bigger rooms', async () => {
    const byName = await index.search({ q: 'Linux', limit: 10 });
    expect(ids(byName.hits)[0]).toBe('!linux:example.org');
    expect(ids(byName.hits)).toContain('!gaming:example.org');
    const byAlias = await index.search({ q: '#linux:example.org', limit: 10 });
    expect(ids(byAlias.hits)[0]).toBe('!linux:example.org');
  });

  it('needs every word of a two-word query', async () => {
    expect(ids((await index.search({ q: 'linux gaming', limit: 10 })).hits)).toEqual(['!gaming:example.org']);
  });

  it('matches the word being typed as a prefix', async () => {
    expect(ids((await index.search({ q: 'deutschspr', limit: 10 })).hits)).toEqual(['!deutsch:de.example']);
  });

  it('forgives one typo', async () => {
    expect(ids((await index.search({ q: 'lifetimse', limit: 10 })).hits)).toEqual(['!knock:other.example']);
    expect(ids((await index.search({ q: 'Matirx', limit: 10 })).hits)).toContain('!matrix:matrix.org');
  });

  it('folds accents both ways', async () => {
    expect(ids((await index.search({ q: 'francais', limit: 10 })).hits)).toEqual(['!cafe:fr.example']);
    expect(ids((await index.search({ q: 'überwachung', limit: 10 })).hits)).toEqual(['!deutsch:de.example']);
    expect(ids((await index.search({ q: 'ueberwachung cafe', limit: 10 })).hits)).toEqual([]);
    expect(ids((await index.search({ q: 'CAFÉ', limit: 10 })).hits)).toEqual(['!cafe:fr.example']);
  });

  it('survives hostile query text', async () => {
    for (const q of ["'", '":*', 'a & b | !c', '(((', '\\', '*', '%_', '\u0000x', 'x'.repeat(5000), '!!!']) {
      const result = await index.search({ q, limit: 5 });
      expect(Array.isArray(result.hits)).toBe(true);
    }
  });

  it('takes filter values as values, whatever they hold', async () => {
    for (const server of ['fr.example" OR stale = true OR "', "fr.example' OR true --", '\\', '']) {
      expect(await all({ filters: { servers: [server] } })).toEqual([]);
    }
    expect(await all({ filters: { languages: ['fr"', 'de'] } })).toEqual(['!deutsch:de.example']);
  });

  it('filters by server, language, type, join rule and members', async () => {
    expect(new Set(await all({ filters: { servers: ['fr.example', 'de.example'] } }))).toEqual(
      new Set(['!cafe:fr.example', '!deutsch:de.example']),
    );
    expect(await all({ filters: { languages: ['de'] } })).toEqual(['!deutsch:de.example']);
    expect(await all({ filters: { roomTypes: ['m.space'] } })).toEqual(['!space:example.org']);
    expect(await all({ filters: { roomTypes: [null] } })).not.toContain('!space:example.org');
    expect(await all({ filters: { joinRules: ['knock'] } })).toEqual(['!knock:other.example']);
    expect(await all({ filters: { minMembers: 100, maxMembers: 1000 } })).toEqual([
      '!gaming:example.org',
      '!space:example.org',
      '!cafe:fr.example',
    ]);
  });

  it('filters by complexity: maximum leaves unknown out, joinable lets it in', async () => {
    expect(new Set(await all({ filters: { maxComplexity: 1 } }))).toEqual(
      new Set([
        '!linux:example.org',
        '!cafe:fr.example',
        '!knock:other.example',
        '!stale:example.org',
        '!deutsch:de.example',
      ]),
    );
    const joinable = await all({ filters: { joinableWithLimit: 1 } });
    expect(joinable).toContain('!space:example.org');
    expect(joinable).not.toContain('!gaming:example.org');
    expect(joinable).not.toContain('!matrix:matrix.org');
  });

  it('filters by world-readable, staleness and alias', async () => {
    expect(await all({ filters: { worldReadable: true } })).toEqual(['!gaming:example.org']);
    expect(await all({ filters: { stale: false } })).not.toContain('!stale:example.org');
    expect(await all({ filters: { stale: true } })).toEqual(['!stale:example.org']);
    const aliased = await all({ filters: { hasAlias: true } });
    expect(aliased).not.toContain('!knock:other.example');
    expect(aliased).toHaveLength(6);
  });

  it('combines a query with filters', async () => {
    const result = await index.search({ q: 'gaming', filters: { stale: false }, limit: 10 });
    expect(ids(result.hits)).toEqual(['!gaming:example.org']);
  });

  it('sorts by members, growth, newest and complexity', async () => {
    const pick = (keys: string[]) => keys.slice(0, 3);
    expect(pick(await all({ sort: 'members' }))).toEqual([
      '!matrix:matrix.org',
      '!gaming:example.org',
      '!space:example.org',
    ]);
    expect(pick(await all({ sort: 'growth7d' }))).toEqual([
      '!matrix:matrix.org',
      '!gaming:example.org',
      '!space:example.org',
    ]);
    expect(pick(await all({ sort: 'growth30d' }))).toEqual([
      '!matrix:matrix.org',
      '!linux:example.org',
      '!gaming:example.org',
    ]);
    expect(pick(await all({ sort: 'newest' }))).toEqual([
      '!space:example.org',
      '!cafe:fr.example',
      '!linux:example.org',
    ]);
    const byComplexity = await all({ sort: 'complexity' });
    expect(pick(byComplexity)).toEqual(['!stale:example.org', '!linux:example.org', '!deutsch:de.example']);
    // Unknown complexity sorts last.
    expect(byComplexity[byComplexity.length - 1]).toBe('!space:example.org');
  });

  it('pages with cursors through every room exactly once, in the order of one big page', async () => {
    for (const query of [
      { sort: 'members' as const },
      { sort: 'complexity' as const },
      { sort: 'newest' as const },
      { q: 'linux' },
      { q: 'example' },
    ]) {
      const big = ids((await index.search({ ...query, limit: 100 })).hits);
      for (const size of [1, 3]) {
        const paged = await all(query, size);
        expect(paged).toEqual(big);
      }
    }
  });

  it('reports totals', async () => {
    const result = await index.search({ q: 'example', limit: 1 });
    expect(result.total).toBeGreaterThanOrEqual(5);
    expect(result.totalExact).toBe(true);
    const browse = await index.search({ limit: 1 });
    expect(browse.total).toBe(ROOMS.length);
  });

  it('refuses a cursor made for another query', async () => {
    const first = await index.search({ q: 'linux', limit: 1 });
    expect(first.nextCursor).toBeTruthy();
    await expect(index.search({ q: 'gaming', limit: 1, cursor: first.nextCursor ?? '' })).rejects.toThrow(
      InvalidCursorError,
    );
    await expect(index.search({ limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(InvalidCursorError);
  });

  it('replaces a document on upsert and forgets it on remove', async () => {
    const renamed = roomDocument({ ...(ROOMS[4] as RoomDocument), name: 'Haskell Corner', topic: 'Monads' });
    await index.upsert([renamed]);
    expect(ids((await index.search({ q: 'rust', limit: 10 })).hits)).toEqual([]);
    expect(ids((await index.search({ q: 'haskell', limit: 10 })).hits)).toEqual(['!knock:other.example']);
    await index.remove(['!knock:other.example']);
    expect(ids((await index.search({ q: 'haskell', limit: 10 })).hits)).toEqual([]);
    expect((await index.stats()).documents).toBe(ROOMS.length - 1);
    await index.upsert([ROOMS[4] as RoomDocument]);
  });

  it('rebuilds from a source, replacing everything', async () => {
    async function* source() {
      yield [roomDocument({ roomId: '!new:example.org', name: 'Brand New Room' })];
      yield [roomDocument({ roomId: '!other:example.org', name: 'Another Room' })];
    }
    expect(await index.rebuild(source())).toBe(2);
    expect((await index.stats()).documents).toBe(2);
    expect(ids((await index.search({ q: 'linux', limit: 10 })).hits)).toEqual([]);
    expect(ids((await index.search({ q: 'brand', limit: 10 })).hits)).toEqual(['!new:example.org']);
    await index.rebuild(
      (async function* () {
        yield ROOMS;
      })(),
    );
    expect((await index.stats()).documents).toBe(ROOMS.length);
  });
});
