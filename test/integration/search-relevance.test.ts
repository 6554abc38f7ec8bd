import {
  createMeilisearchIndex,
  createPostgresSearchIndex,
  type RoomDocument,
  type SearchIndex,
} from '@atlas/shared/search';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { relevanceCorpus } from '../support/relevance-corpus.ts';
import { RELEVANCE_SET, type RelevanceCase } from './search-relevance-set.ts';

// The relevance set against both backends. Each backend's score is printed and recorded in
// docs/search-relevance.md. What each backend misses is known and said here, with why: a change
// that makes search worse fails, and so does one that makes it better until the record is updated.
const KNOWN_MISSES: Record<string, string[]> = {
  // Japanese is segmented by a dictionary this Meilisearch build leaves out (no lindera): katakana
  // after kanji stays one word with them, found by its beginning ("日本語") but not by its end.
  meilisearch: ['チャット'],
  postgres: [
    // A prefix counts from its third letter.
    'green fi',
    // No word segmentation: Chinese, Thai and Japanese are written without spaces, and a run of
    // them is one word, found only by its beginning.
    '交流',
    '开源',
    '软件',
    'Linux 中文',
    'ภาษาไทย',
    'ไทย',
    'チャット',
    // Hebrew vowel points are not folded.
    'עִבְרִית',
  ],
};

let corpus: RoomDocument[];

beforeAll(async () => {
  corpus = await relevanceCorpus();
});

it('names rooms that exist, with 50 cases or more', () => {
  expect(RELEVANCE_SET.length).toBeGreaterThanOrEqual(50);
  expect(new Set(RELEVANCE_SET.map((c) => c.q)).size).toBe(RELEVANCE_SET.length);
  const ids = new Set(corpus.map((d) => d.roomId));
  expect(RELEVANCE_SET.filter((c) => !ids.has(c.room)).map((c) => c.room)).toEqual([]);
});

type Factory = (database: TestDatabase) => SearchIndex;

const backends: [string, Factory][] = [
  ['postgres', (database) => createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 2 })],
  [
    'meilisearch',
    () =>
      createMeilisearchIndex({
        url: inject('meiliUrl'),
        key: inject('meiliKey'),
        indexUid: randomNamespace('relevance'),
      }),
  ],
];

describe.each(backends)('relevance: %s', (backend, factory) => {
  let database: TestDatabase;
  let index: SearchIndex;

  beforeAll(async () => {
    database = await createTestDatabase(`relevance_${backend}`);
    index = factory(database);
    await index.init();
    await index.upsert(corpus);
  });

  afterAll(async () => {
    await index?.close();
    await database?.drop();
  });

  it('finds the room looked for, but for the known misses', async () => {
    const missed: (RelevanceCase & { got: string[] })[] = [];
    for (const c of RELEVANCE_SET) {
      const page = await index.search({ q: c.q, filters: { stale: false }, limit: 5 });
      const got = page.hits.map((h) => h.roomId);
      if (!got.slice(0, c.within).includes(c.room)) missed.push({ ...c, got });
    }
    const score = (RELEVANCE_SET.length - missed.length) / RELEVANCE_SET.length;
    const byKind = new Map<string, [number, number]>();
    for (const c of RELEVANCE_SET) {
      const [pass, all] = byKind.get(c.kind) ?? [0, 0];
      byKind.set(c.kind, [pass + (missed.some((m) => m.q === c.q) ? 0 : 1), all + 1]);
    }
    console.log(
      `relevance ${backend}: ${RELEVANCE_SET.length - missed.length}/${RELEVANCE_SET.length} (${(score * 100).toFixed(1)}%); ` +
        [...byKind].map(([kind, [pass, all]]) => `${kind} ${pass}/${all}`).join(', '),
    );
    for (const m of missed) {
      const names = m.got.map((id) => corpus.find((d) => d.roomId === id)?.name ?? id);
      console.log(
        `  missed (${m.kind}, within ${m.within}) ${JSON.stringify(m.q)}: got ${JSON.stringify(names)}`,
      );
    }
    expect(missed.map((m) => m.q)).toEqual(KNOWN_MISSES[backend]);
  });
});
