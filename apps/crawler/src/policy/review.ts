import type { DirectoryMeasures, ReviewSignal } from '@atlas/shared/db';

/**
 * When a directory is worth an operator's look (docs/architecture.md, "Hostile input"). Atlas only flags:
 * it never hides or deletes rooms because of these, since a busy bridge or a community moving
 * servers can look the same as a spam wave for a day.
 *
 * - growth: a directory that gains this many rooms in a day. Real servers publish rooms a few at a
 *   time; waves of generated rooms come by the thousand.
 * - similar_names: this many listed rooms whose names are the same but for digits, punctuation and
 *   spacing ("Free Crypto 0001" ... "Free Crypto 0250"). People name their rooms; scripts number them.
 */
export const REVIEW_THRESHOLDS = { growthPerDay: 2_000, similarNames: 100 } as const;

export function reviewSignals(measures: DirectoryMeasures): ReviewSignal[] {
  const signals: ReviewSignal[] = [];
  if (measures.newListings >= REVIEW_THRESHOLDS.growthPerDay) {
    signals.push({ kind: 'growth', rooms: measures.newListings });
  }
  if (measures.similarNames && measures.similarNames.rooms >= REVIEW_THRESHOLDS.similarNames) {
    signals.push({
      kind: 'similar_names',
      rooms: measures.similarNames.rooms,
      sample: measures.similarNames.sample,
    });
  }
  return signals;
}
