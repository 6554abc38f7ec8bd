import { describe, expect, it } from 'vitest';
import { exactKey, meiliDocumentId, meiliFilter } from './meilisearch-index.ts';

describe('Meilisearch documents and filters', () => {
  it('folds names and aliases alike for exact matches', () => {
    expect(exactKey('  Café   Zürich ')).toBe('cafe zurich');
    expect(exactKey('#Linux-Gaming:example.org')).toBe('linux-gaming:example.org');
    expect(exactKey('עִבְרִית')).toBe('עברית');
  });

  it('encodes room ids into the characters Meilisearch allows in document ids', () => {
    const id = meiliDocumentId('!abc/def+ghi:example.org');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(id, 'base64url').toString('utf8')).toBe('!abc/def+ghi:example.org');
  });

  it('quotes filter values, so a server name cannot change the filter', () => {
    expect(meiliFilter({ servers: ['a" OR stale = true OR "b', 'back\\slash'] })).toEqual([
      'servers IN ["a\\" OR stale = true OR \\"b", "back\\\\slash"]',
    ]);
    expect(() => meiliFilter({ minMembers: Number.NaN })).toThrow(RangeError);
    expect(meiliFilter({ roomTypes: [null, 'm.space'], joinableWithLimit: 1 })).toEqual([
      'roomType IN ["room", "m.space"]',
      '(complexityKnown = false OR complexity <= 1)',
    ]);
  });
});
