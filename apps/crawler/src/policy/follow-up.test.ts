import { describe, expect, it } from 'vitest';
import {
  complexityTries,
  MAX_COMPLEXITY_TRIES,
  nextTurn,
  ROOMS_PER_TURN,
  residentsToKeep,
  TURN_MS,
} from './follow-up.ts';

const state = { aborted: false, budgetSpent: false, handled: 0, elapsedMs: 0 };

describe('a follow-up job', () => {
  it('goes on with the next batch while its turn lasts', () => {
    expect(nextTurn(state)).toBe('continue');
    expect(nextTurn({ ...state, handled: ROOMS_PER_TURN - 1, elapsedMs: TURN_MS - 1 })).toBe('continue');
  });

  it('hands its worker back after so many rooms or so much time', () => {
    expect(nextTurn({ ...state, handled: ROOMS_PER_TURN })).toBe('hand-back');
    expect(nextTurn({ ...state, elapsedMs: TURN_MS })).toBe('hand-back');
  });

  it("stops at shutdown or once the server's budget is spent, even when its turn is over", () => {
    expect(nextTurn({ ...state, aborted: true })).toBe('stop');
    expect(nextTurn({ ...state, budgetSpent: true, handled: ROOMS_PER_TURN })).toBe('stop');
  });
});

describe('complexity', () => {
  it('is asked of the listing server first, then of a few residents', () => {
    expect(complexityTries('a.example', ['b.example', 'a.example', 'c.example', 'd.example'])).toEqual([
      'a.example',
      'b.example',
      'c.example',
    ]);
    expect(complexityTries('a.example', [])).toEqual(['a.example']);
  });

  it('keeps only the residents it will ask', () => {
    const kept = residentsToKeep('a.example', ['a.example', 'b.example', 'c.example', 'd.example']);
    expect(kept).toEqual(['b.example', 'c.example']);
    expect(kept.length).toBe(MAX_COMPLEXITY_TRIES - 1);
  });
});
