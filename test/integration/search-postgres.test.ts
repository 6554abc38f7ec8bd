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
