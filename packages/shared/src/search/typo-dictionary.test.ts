import { describe, expect, it } from 'vitest';
import { deletions, editDistance, TypoDictionary } from './typo-dictionary.ts';

describe('TypoDictionary', () => {
  const dictionary = new TypoDictionary(['linux', 'matrix', 'lifetimes', 'gaming', 'game', 'games']);

  it('knows words and prefixes of words', () => {
    expect(dictionary.knows('linux', false)).toBe(true);
    expect(dictionary.knows('lin', true)).toBe(true);
    expect(dictionary.knows('lin', false)).toBe(false);
    expect(dictionary.knows('zzz', true)).toBe(false);
  });

  it('finds words one edit away: substitution, deletion, insertion, transposition', () => {
    expect(dictionary.similar('lonux', 3)).toEqual(['linux']);
    expect(dictionary.similar('lnux', 3)).toEqual(['linux']);
    expect(dictionary.similar('linuxx', 3)).toEqual(['linux']);
    expect(dictionary.similar('matirx', 3)).toEqual(['matrix']);
    expect(dictionary.similar('lifetimse', 3)).toEqual(['lifetimes']);
    expect(dictionary.similar('gamez', 3)).toEqual(['games', 'game']);
    expect(dictionary.similar('qqqqq', 3)).toEqual([]);
  });

  it('gives the same answers when built a slice at a time', async () => {
    const words = ['linux', 'matrix', 'lifetimes', 'gaming', 'game', 'games', 'linus', 'matrices'];
    const sliced = await TypoDictionary.build(words, 3);
    const whole = new TypoDictionary(words);
    expect(sliced.size).toBe(whole.size);
    for (const query of ['lonux', 'linu', 'gamez', 'matirx', 'matrice', 'games']) {
      expect(sliced.similar(query, 5)).toEqual(whole.similar(query, 5));
      expect(sliced.knows(query, true)).toBe(whole.knows(query, true));
    }
  });

  it('removes whole characters, also those outside the Basic Multilingual Plane', () => {
    expect(deletions('abc')).toEqual(new Set(['abc', 'bc', 'ac', 'ab']));
    expect(deletions('a𝔘b')).toEqual(new Set(['a𝔘b', '𝔘b', 'ab', 'a𝔘']));
    expect(deletions('ab')).toEqual(new Set(['ab']));
  });

  it('measures edit distance with adjacent transpositions', () => {
    expect(editDistance('matrix', 'matirx')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
