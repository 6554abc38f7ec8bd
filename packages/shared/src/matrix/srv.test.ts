import { describe, expect, it } from 'vitest';
import { orderSrvTargets } from './srv.ts';

describe('orderSrvTargets (RFC 2782)', () => {
  it('tries the lowest priority first', () => {
    const targets = orderSrvTargets([
      { name: 'backup.example.', port: 8449, priority: 20, weight: 0 },
      { name: 'Main.Example.', port: 8448, priority: 10, weight: 0 },
    ]);
    expect(targets).toEqual([
      { host: 'main.example', port: 8448 },
      { host: 'backup.example', port: 8449 },
    ]);
  });

  it('orders a priority by weight', () => {
    const records = [
      { name: 'light.example', port: 1, priority: 10, weight: 1 },
      { name: 'heavy.example', port: 2, priority: 10, weight: 99 },
    ];
    expect(orderSrvTargets(records, () => 0.5)?.[0]?.host).toBe('heavy.example');
    expect(orderSrvTargets(records, () => 0)?.[0]?.host).toBe('light.example');
  });

  it('reads a lone "." target as "service not offered"', () => {
    expect(orderSrvTargets([{ name: '.', port: 0, priority: 0, weight: 0 }])).toBeNull();
    expect(orderSrvTargets([])).toEqual([]);
  });
});
