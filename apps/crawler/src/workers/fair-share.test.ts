import { describe, expect, it } from 'vitest';
import { FairShare, isHeavy } from './fair-share.ts';

describe('the fair share of heavy reads', () => {
  it('counts big and slow servers as heavy', () => {
    expect(isHeavy({ roomCount: 5_000, latencyMs: 50 })).toBe(true);
    expect(isHeavy({ roomCount: 10, latencyMs: 3_000 })).toBe(true);
    expect(isHeavy({ roomCount: 10, latencyMs: 50 })).toBe(false);
    expect(isHeavy({ roomCount: null, latencyMs: null })).toBe(false);
  });

  it('lets at most half the read slots (one at least) read heavy servers, and frees a slot once', () => {
    const share = new FairShare(4);
    const first = share.tryEnter();
    const second = share.tryEnter();
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(share.tryEnter()).toBeUndefined();
    first?.();
    first?.();
    expect(share.inUse).toBe(1);
    expect(share.tryEnter()).toBeDefined();
    expect(new FairShare(1).limit).toBe(1);
  });
});
