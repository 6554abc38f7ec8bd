import { describe, expect, it } from 'vitest';
import {
  cachePeriodFromHeaders,
  failureLifetimeMs,
  successLifetimeMs,
  WELL_KNOWN_DEFAULT_TTL_MS,
  WELL_KNOWN_MAX_TTL_MS,
  WELL_KNOWN_MIN_TTL_MS,
  WellKnownCache,
} from './well-known-cache.ts';

const HOUR = 3600_000;
const now = Date.parse('2025-06-01T12:00:00Z');
const noJitter = () => 0;
const fullJitter = () => 1;

describe('well-known cache lifetime', () => {
  it('is 24 hours without cache headers, shortened by at most 10% of jitter', () => {
    expect(successLifetimeMs({}, now, noJitter)).toBe(WELL_KNOWN_DEFAULT_TTL_MS);
    expect(successLifetimeMs({}, now, fullJitter)).toBe(0.9 * 24 * HOUR);
  });

  it('follows Cache-Control max-age', () => {
    expect(successLifetimeMs({ 'cache-control': 'public, max-age=7200' }, now)).toBe(2 * HOUR);
    expect(successLifetimeMs({ 'cache-control': ['no-cache', 'max-age="3600"'] }, now)).toBe(HOUR);
  });

  it('caps the lifetime at 48 hours', () => {
    expect(successLifetimeMs({ 'cache-control': 'max-age=31536000' }, now)).toBe(WELL_KNOWN_MAX_TTL_MS);
  });

  it('keeps answers at least 5 minutes, even with no-store or max-age=0', () => {
    expect(successLifetimeMs({ 'cache-control': 'no-store' }, now)).toBe(WELL_KNOWN_MIN_TTL_MS);
    expect(successLifetimeMs({ 'cache-control': 'max-age=0' }, now)).toBe(WELL_KNOWN_MIN_TTL_MS);
  });

  it('falls back to Expires, an invalid date meaning already expired', () => {
    const in3h = new Date(now + 3 * HOUR).toUTCString();
    expect(cachePeriodFromHeaders({ expires: in3h }, now)).toBe(3 * HOUR);
    expect(successLifetimeMs({ expires: in3h }, now)).toBe(3 * HOUR);
    expect(cachePeriodFromHeaders({ expires: '0' }, now)).toBe(0);
    expect(cachePeriodFromHeaders({ expires: new Date(now - HOUR).toUTCString() }, now)).toBe(0);
    expect(cachePeriodFromHeaders({ 'cache-control': 'max-age=60', expires: in3h }, now)).toBe(60_000);
    expect(cachePeriodFromHeaders({ 'cache-control': 'private' }, now)).toBeUndefined();
  });

  it('remembers failures for up to an hour, 2 minutes right after a valid answer', () => {
    expect(failureLifetimeMs(false, noJitter)).toBe(HOUR);
    expect(failureLifetimeMs(false, fullJitter)).toBe(0.9 * HOUR);
    expect(failureLifetimeMs(true, noJitter)).toBe(2 * 60_000);
  });
});

describe('WellKnownCache', () => {
  it('serves an entry until it expires and asks for a refresh in the last 20% of its life', () => {
    let clock = now;
    const cache = new WellKnownCache(() => clock);
    cache.setSuccess('example.org', 'matrix.example.org:443', 10 * HOUR);
    const entry = cache.get('example.org');
    expect(entry?.delegatedServer).toBe('matrix.example.org:443');
    expect(entry && cache.isFresh(entry)).toBe(true);
    clock = now + 8.5 * HOUR;
    const ageing = cache.get('example.org');
    expect(ageing?.delegatedServer).toBe('matrix.example.org:443');
    expect(ageing && cache.isFresh(ageing)).toBe(false);
    clock = now + 10 * HOUR;
    expect(cache.get('example.org')).toBeUndefined();
  });

  it('remembers a recent valid answer for 2 hours past its expiry', () => {
    let clock = now;
    const cache = new WellKnownCache(() => clock);
    expect(cache.hadValidRecently('example.org')).toBe(false);
    cache.setSuccess('example.org', 'm.example.org', HOUR);
    clock = now + 2.5 * HOUR;
    expect(cache.hadValidRecently('example.org')).toBe(true);
    clock = now + 3 * HOUR + 1;
    expect(cache.hadValidRecently('example.org')).toBe(false);
  });

  it('caches failures as "no delegation" and stays bounded', () => {
    const cache = new WellKnownCache(() => now, 2);
    cache.setFailure('a.example', HOUR);
    expect(cache.get('a.example')?.delegatedServer).toBeNull();
    cache.setFailure('b.example', HOUR);
    cache.setFailure('c.example', HOUR);
    expect(cache.get('a.example')).toBeUndefined();
    expect(cache.get('c.example')).toBeDefined();
  });
});
