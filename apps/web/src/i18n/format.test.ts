import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { formatAgo, formatLimit, languageName } from './format.ts';

describe('numbers and words on the pages', () => {
  it('pluralises and groups counts', () => {
    expect(en.card.members(1)).toBe('1 member');
    expect(en.card.members(0)).toBe('0 members');
    expect(en.card.members(12345)).toBe('12,345 members');
    expect(en.rooms.summary(1000, false)).toBe('at least 1,000 rooms');
    expect(en.rooms.summary(1, true)).toBe('1 room');
  });

  it('writes limits as Synapse’s config does and growth with its sign', () => {
    expect(formatLimit(1)).toBe('1.0');
    expect(formatLimit(2.25)).toBe('2.25');
    expect(en.card.growthWeek(12)).toBe('+12 this week');
    expect(en.card.growthWeek(-3)).toBe('-3 this week');
    expect(en.room.growth(0, 0)).toBe('No change over the last week or month.');
  });

  it('says how long ago in words and names languages', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(formatAgo('2026-12-07T09:00:00Z', now)).toBe('3 hours ago');
    expect(formatAgo('2026-12-06T12:00:00Z', now)).toBe('yesterday');
    expect(formatAgo('not a date', now)).toBeNull();
    expect(languageName('de')).toBe('German');
  });
});
