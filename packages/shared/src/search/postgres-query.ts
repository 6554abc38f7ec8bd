/**
 * Turning a free-text query into PostgreSQL full-text terms. Words are split on anything that is
 * not a letter or a digit (the same words the `atlas_search` parser indexes from names, aliases and
 * topics); the last word is a prefix, so results appear while a name is still being typed.
 */

/** More words than this add nothing to a room search and only cost time. */
const MAX_WORDS = 8;
const MAX_WORD_LENGTH = 40;

export interface QueryWord {
  word: string;
  prefix: boolean;
}

export function queryWords(q: string): QueryWord[] {
  // Marks belong to their word: Devanagari and Thai write vowels as combining marks.
  const words = (q.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu) ?? [])
    .map((word) => word.slice(0, MAX_WORD_LENGTH))
    .slice(0, MAX_WORDS);
  // A one- or two-letter prefix matches a good share of all rooms and says little; it counts as a
  // whole word until a third letter is typed.
  return words.map((word, index) => ({ word, prefix: index === words.length - 1 && word.length >= 3 }));
}

/**
 * The `to_tsquery` text for words and their typo alternatives: every word must match (AND), each
 * through itself or one of its alternatives (OR). Words hold only letters and digits, and are
 * quoted anyway, so nothing in them is tsquery syntax.
 */
export function buildTsQuery(words: { word: string; prefix: boolean; alternatives: string[] }[]): string {
  return words
    .map(({ word, prefix, alternatives }) => {
      const own = `'${word}'${prefix ? ':*' : ''}`;
      const options = [
        own,
        ...alternatives.filter((a) => a !== word).map((a) => `'${a.replace(/'/g, "''")}'`),
      ];
      return options.length === 1 ? own : `(${options.join(' | ')})`;
    })
    .join(' & ');
}

/** What an exact match is compared with: the query as typed, folded like the stored keys. */
export function exactKey(q: string): string {
  return q.trim().replace(/^#/, '').replace(/\s+/g, ' ').toLowerCase();
}

/** Longest query text searched; room names are shorter than this and longer text only costs time. */
export const MAX_QUERY_LENGTH = 256;

/** Query text with control characters and unpaired surrogates dropped (PostgreSQL refuses NUL). */
export function cleanQueryText(q: string | undefined): string {
  if (!q) return '';
  return q
    .slice(0, MAX_QUERY_LENGTH)
    .replace(/[\p{Cc}\p{Cs}]/gu, ' ')
    .trim();
}
