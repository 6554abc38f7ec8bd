import { describe, expect, it } from 'vitest';
import { estimateComplexity } from './complexity.ts';

describe('estimateComplexity', () => {
  it('grows with members like Synapse v1, rounded to two places', () => {
    expect(estimateComplexity(0)).toBe(0.02);
    expect(estimateComplexity(10)).toBe(0.04);
    expect(estimateComplexity(1000)).toBe(2.42);
    // Synapse's default limit_remote_rooms threshold (1.0) is crossed around 400 members.
    expect(estimateComplexity(400)).toBeLessThan(1);
    expect(estimateComplexity(420)).toBeGreaterThan(1);
  });

  it('never returns garbage for odd input', () => {
    expect(estimateComplexity(-5)).toBe(0.02);
    expect(estimateComplexity(3.7)).toBe(estimateComplexity(3));
  });
});
