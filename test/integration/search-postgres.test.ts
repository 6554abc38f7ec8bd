import { createPostgresSearchIndex, type RoomDocument, type SearchIndex } from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { roomDocument } from '../support/seed-rooms.ts';

// The PostgreSQL backend searches a common word tier by tier (biggest rooms first); the answers
// must be the ones a search over every match would give.
let database: TestDatabase;
let index: SearchIndex;
const ROOMS: RoomDocument[] = [];

beforeAll(async () => {
  database = await createTestDatabase('search_pg');
  index = createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 4 });
  await index.init();
  for (let i = 0; i < 3000; i++) {
    const members = (i * 7919) % 5000;
    ROOMS.push(
      roomDocument({
        roomId: `!r${i}:example.org`,
        name: i % 3 === 0 ? `Common room ${i}` : `Rare${i} place`,
        topic: i % 2 === 0 ? 'a common topic' : 'something else',
        numJoinedMembers: members,
      }),
    );
  }
  ROOMS.push(roomDocument({ roomId: '!exact:example.org', name: 'Common', numJoinedMembers: 0 }));
  await index.upsert(ROOMS);
  await database.sql`analyze room_search`;
});

afterAll(async () => {
  await index?.close();
  await database?.drop();
});

const matching = () =>
  ROOMS.filter((r) => /common/i.test(`${r.name} ${r.topic}`)).sort(
    (a, b) => b.numJoinedMembers - a.numJoinedMembers || (a.roomId < b.roomId ? 1 : -1),
  );

describe('postgres search of a common word', () => {
  it('pages by members exactly as a full sort would', async () => {
    const expected = matching()
      .slice(0, 100)
      .map((r) => r.roomId);
    const seen: string[] = [];
    let cursor: string | undefined;
    while (seen.length < 100) {
      const page = await index.search({
        q: 'common',
        sort: 'members',
        limit: 25,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.hits.map((h) => h.roomId));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen.slice(0, 100)).toEqual(expected);
  });

  it('ranks the exact match first, then the biggest matching rooms', async () => {
    const page = await index.search({ q: 'common', limit: 20 });
    expect(page.hits[0]?.roomId).toBe('!exact:example.org');
    const top = new Set(
      matching()
        .slice(0, 200)
        .map((r) => r.roomId),
    );
    for (const hit of page.hits.slice(1)) expect(top.has(hit.roomId)).toBe(true);
    // Exact when every match was read, else at least the candidates found.
    if (page.totalExact) expect(page.total).toBe(matching().length);
    else expect(page.total).toBeGreaterThanOrEqual(200);
  });

  it('pages relevance results without repeats', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 30; i++) {
      const page = await index.search({ q: 'common', limit: 50, ...(cursor ? { cursor } : {}) });
      seen.push(...page.hits.map((h) => h.roomId));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(200);
  });
});

// Members spread like a real directory's (most rooms tiny, a few huge), so that a search has to go
// down several popularity tiers; every answer must still be the one a search over all matches gives.
describe('postgres search across popularity tiers', () => {
  let tiered: TestDatabase;
  let tieredIndex: SearchIndex;
  const rooms: RoomDocument[] = [];

  beforeAll(async () => {
    tiered = await createTestDatabase('search_pg_tiers');
    tieredIndex = createPostgresSearchIndex({ databaseUrl: tiered.url, poolSize: 2 });
    await tieredIndex.init();
    for (let i = 0; i < 4000; i++) {
      // 1 member for half the rooms, about 4000/k rooms with k or more.
      const members = Math.max(1, Math.floor(4000 / (i + 1)) - 1);
      const words = [i % 4 === 0 ? 'often' : null, i % 37 === 0 ? 'sometimes' : null, `w${i}`];
      rooms.push(
        roomDocument({
          roomId: `!t${String(i).padStart(4, '0')}:example.org`,
          name: words.filter(Boolean).join(' '),
          numJoinedMembers: members,
          firstSeenAt: Date.now() - i * 60_000,
        }),
      );
    }
    rooms.push(roomDocument({ roomId: '!often-exact:example.org', name: 'Often', numJoinedMembers: 1 }));
    await tieredIndex.upsert(rooms);
  });

  afterAll(async () => {
    await tieredIndex?.close();
    await tiered?.drop();
  });

  const matchesOf = (word: string) =>
    rooms
      .filter((r) => (r.name ?? '').toLowerCase().split(' ').includes(word))
      .sort((a, b) => b.numJoinedMembers - a.numJoinedMembers || (a.roomId < b.roomId ? 1 : -1));

  async function pages(query: { q: string; sort?: 'members' | 'newest' }, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await tieredIndex.search({ ...query, limit, ...(cursor ? { cursor } : {}) });
      seen.push(...page.hits.map((h) => h.roomId));
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break;
    }
    return seen;
  }

  it('pages a common word by members through every tier, as a full sort would', async () => {
    const expected = matchesOf('often').map((r) => r.roomId);
    expect(expected.length).toBeGreaterThan(1000);
    expect(await pages({ q: 'often', sort: 'members' }, 100)).toEqual(expected);
  });

  it('ranks the exact match, then only the most popular matches, and says the total is estimated', async () => {
    const page = await tieredIndex.search({ q: 'often', limit: 20 });
    expect(page.hits[0]?.roomId).toBe('!often-exact:example.org');
    const top = new Set(
      matchesOf('often')
        .slice(0, 200)
        .map((r) => r.roomId),
    );
    for (const hit of page.hits.slice(1)) expect(top.has(hit.roomId)).toBe(true);
    expect(page.totalExact).toBe(false);
    expect(page.total).toBeGreaterThanOrEqual(200);
  });

  it('reads every tier for a word with fewer matches than it ranks, and counts them exactly', async () => {
    const expected = matchesOf('sometimes');
    expect(expected.length).toBeLessThan(200);
    const page = await tieredIndex.search({ q: 'sometimes', limit: 100 });
    expect(page.totalExact).toBe(true);
    expect(page.total).toBe(expected.length);
    expect(new Set(await pages({ q: 'sometimes' }, 30))).toEqual(new Set(expected.map((r) => r.roomId)));
  });

  it('finds a word only the smallest rooms hold', async () => {
    const page = await tieredIndex.search({ q: 'w3999', limit: 10 });
    expect(page.hits.map((h) => h.roomId)).toEqual(['!t3999:example.org']);
  });

  it('sorts every match of a common word by another key', async () => {
    const expected = matchesOf('often')
      .sort((a, b) => b.firstSeenAt - a.firstSeenAt || (a.roomId < b.roomId ? 1 : -1))
      .map((r) => r.roomId);
    expect(await pages({ q: 'often', sort: 'newest' }, 100)).toEqual(expected);
  });
});
