import { describe, expect, it } from 'vitest';
import { REVIEW_THRESHOLDS, reviewSignals } from './review.ts';

describe('reviewSignals', () => {
  it('raises nothing for a directory that grows slowly and names its rooms', () => {
    expect(reviewSignals({ newListings: 40, similarNames: { rooms: 3, sample: 'General 1' } })).toEqual([]);
    expect(reviewSignals({ newListings: 0, similarNames: null })).toEqual([]);
  });

  it('flags thousands of new rooms in a day', () => {
    expect(reviewSignals({ newListings: REVIEW_THRESHOLDS.growthPerDay, similarNames: null })).toEqual([
      { kind: 'growth', rooms: 2_000 },
    ]);
  });

  it('flags many rooms whose names differ only in numbers, with an example', () => {
    expect(
      reviewSignals({ newListings: 5_000, similarNames: { rooms: 250, sample: 'Free Crypto 0001' } }),
    ).toEqual([
      { kind: 'growth', rooms: 5_000 },
      { kind: 'similar_names', rooms: 250, sample: 'Free Crypto 0001' },
    ]);
    expect(reviewSignals({ newListings: 0, similarNames: { rooms: 99, sample: 'x' } })).toEqual([]);
  });
});
