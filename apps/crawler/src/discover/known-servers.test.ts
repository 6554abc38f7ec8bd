import { describe, expect, it } from 'vitest';
import { KnownServers } from './known-servers.ts';

describe('KnownServers', () => {
  it('remembers names it was given, and only those', () => {
    const known = new KnownServers();
    known.add('a.example');
    expect(known.has('a.example')).toBe(true);
    expect(known.has('b.example')).toBe(false);
  });

  it('forgets everything after ten minutes', () => {
    let now = 0;
    const known = new KnownServers(() => now);
    known.add('a.example');
    now += 9 * 60 * 1000;
    expect(known.has('a.example')).toBe(true);
    now += 60 * 1000;
    expect(known.has('a.example')).toBe(false);
  });
});
