/**
 * How block patterns match, by example: the one table every place that applies them is tested
 * against (the in-memory matcher in unit tests; the SQL conditions of the sweeper and the admin
 * API on PostgreSQL in the integration suite). Not part of the package's exports.
 */
export const BLOCK_PATTERN_CASES: readonly { pattern: string; name: string; blocked: boolean }[] = [
  { pattern: 'evil.example', name: 'evil.example', blocked: true },
  { pattern: 'Evil.example', name: 'EVIL.EXAMPLE', blocked: true },
  { pattern: 'evil.example', name: 'notevil.example', blocked: false },
  { pattern: 'evil.example', name: 'evil.example.org', blocked: false },
  { pattern: '*.spam.example', name: 'a.b.spam.example', blocked: true },
  { pattern: '*.spam.example', name: 'spam.example', blocked: false },
  { pattern: 'bad-*.org', name: 'bad-actor.org', blocked: true },
  { pattern: 'bad-*.org', name: 'bad.org', blocked: false },
  { pattern: 'x.example:8448', name: 'x.example:8448', blocked: true },
  { pattern: 'x.example:8448', name: 'x.example', blocked: false },
  { pattern: 'x.example*', name: 'x.example:8448', blocked: true },
  // Every character but `*` is itself: a dot is no wildcard, nor are LIKE's `_` and `%`.
  { pattern: 'a.b', name: 'axb', blocked: false },
  { pattern: 'a_b.example', name: 'axb.example', blocked: false },
  { pattern: 'a%.example', name: 'abc.example', blocked: false },
  { pattern: '[::1]:8448', name: '[::1]:8448', blocked: true },
  { pattern: '[::1]:8448', name: ':1:8448', blocked: false },
  { pattern: '*', name: 'anything.example', blocked: true },
];
