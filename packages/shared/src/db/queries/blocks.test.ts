import { describe, expect, it } from 'vitest';
import { BLOCK_PATTERN_CASES } from './block-pattern-cases.ts';
import { BlockPatternError, blockingPattern, blockMatcher, normalizeBlockPattern } from './blocks.ts';
import { textArray } from './sql-arrays.ts';

describe('operator blocks', () => {
  it.each(BLOCK_PATTERN_CASES)('$pattern blocks $name: $blocked', ({ pattern, name, blocked }) => {
    expect(blockMatcher([pattern])(name)).toBe(blocked);
  });

  it('match when any pattern does, and never without one', () => {
    const blocked = blockMatcher(['evil.example', '*.spam.example']);
    expect(blocked('evil.example')).toBe(true);
    expect(blocked('x.spam.example')).toBe(true);
    expect(blocked('good.example')).toBe(false);
    expect(blockMatcher([])('anything')).toBe(false);
    expect(blockingPattern(['evil.example', '*.spam.example'], 'x.spam.example')).toBe('*.spam.example');
    expect(blockingPattern(['evil.example'], 'good.example')).toBeUndefined();
  });

  it('are stored trimmed and lower-cased, and refuse what is no name or would match everything', () => {
    expect(normalizeBlockPattern('  *.Spam.Example ')).toBe('*.spam.example');
    for (const bad of ['*', '*.*', 'a b.example', 'a_b.example', 'a%.example', '', 'x'.repeat(256)]) {
      expect(() => normalizeBlockPattern(bad)).toThrow(BlockPatternError);
    }
  });
});

describe('textArray', () => {
  it('writes PostgreSQL array literals that survive quotes, backslashes, commas and nulls', () => {
    expect(textArray(['a', null, 'b,c', 'd"e', 'f\\g', ''])).toBe('{"a",NULL,"b,c","d\\"e","f\\\\g",""}');
    expect(textArray([true, false, 3])).toBe('{t,f,3}');
    expect(textArray([])).toBe('{}');
  });
});
