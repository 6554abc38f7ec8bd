import { describe, expect, it } from 'vitest';
import { blockMatcher, globToRegExp } from './blocks.ts';
import { textArray } from './sql-arrays.ts';

describe('operator blocks', () => {
  it('match names exactly or by * globs, case-insensitively', () => {
    const blocked = blockMatcher(['Evil.example', '*.spam.example', 'bad-*.org', 'x.example:8448']);
    expect(blocked('evil.example')).toBe(true);
    expect(blocked('EVIL.EXAMPLE')).toBe(true);
    expect(blocked('a.b.spam.example')).toBe(true);
    expect(blocked('spam.example')).toBe(false);
    expect(blocked('bad-actor.org')).toBe(true);
    expect(blocked('x.example:8448')).toBe(true);
    expect(blocked('x.example')).toBe(false);
    expect(blocked('notevil.example')).toBe(false);
    expect(blockMatcher([])('anything')).toBe(false);
  });

  it('treat every other character literally', () => {
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('a+(b)').test('a+(b)')).toBe(true);
  });
});

describe('textArray', () => {
  it('writes PostgreSQL array literals that survive quotes, backslashes, commas and nulls', () => {
    expect(textArray(['a', null, 'b,c', 'd"e', 'f\\g', ''])).toBe('{"a",NULL,"b,c","d\\"e","f\\\\g",""}');
    expect(textArray([true, false, 3])).toBe('{t,f,3}');
    expect(textArray([])).toBe('{}');
  });
});
