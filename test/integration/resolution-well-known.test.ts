import { createServerResolver, FederationClient, type ServerResolver } from '@atlas/shared/matrix';
import type { HttpClient } from '@atlas/shared/net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type NetTestBed, sendJson, startNetTestBed, type TestServer } from './net-test-servers.ts';

/**
 * `/.well-known/matrix/server` over real HTTPS on port 443: redirects, the 50 KiB cap, and the
 * spec's caching rules (24 h default, Cache-Control up to 48 h, errors up to 1 h), read against a
 * clock the test moves.
 */
const HOUR = 3600_000;
const MINUTE = 60_000;
let net: NetTestBed;
let http: HttpClient;
let wellKnown: TestServer;
let target: TestServer;
let delegation: string;
let clock = Date.now();
let resolver: ServerResolver;
let flakyBroken = false;
const hits = new Map<string, number>();

const NAMES = [
  'redirect.wk.test',
  'redirect-target.wk.test',
  'cached.wk.test',
  'short.wk.test',
  'long.wk.test',
  'failing.wk.test',
  'flaky.wk.test',
  'big.wk.test',
  'nested.wk.test',
  'dedupe.wk.test',
];

beforeAll(async () => {
  net = await startNetTestBed();
  http = net.client({ maxInFlight: 1 });
  target = await net.server({
    names: ['target.wk.test'],
    handler: (req, res) => sendJson(res, 200, { server: { name: 'target', version: '1' }, host: req.host }),
  });
  delegation = `target.wk.test:${target.port}`;
  wellKnown = await net.server({
    port: 443,
    names: NAMES,
    handler: (req, res) => {
      const name = req.host ?? '';
      hits.set(name, (hits.get(name) ?? 0) + 1);
      if (req.url !== '/.well-known/matrix/server' && req.url !== '/elsewhere') {
        sendJson(res, 404, {});
        return;
      }
      switch (name) {
        case 'redirect.wk.test':
          res.writeHead(302, { location: 'https://redirect-target.wk.test/elsewhere' }).end();
          return;
        case 'short.wk.test':
          sendJson(res, 200, { 'm.server': delegation }, { 'cache-control': 'max-age=600' });
          return;
        case 'long.wk.test':
          sendJson(res, 200, { 'm.server': delegation }, { 'cache-control': 'public, max-age=31536000' });
          return;
        case 'failing.wk.test':
          sendJson(res, 404, { errcode: 'M_NOT_FOUND' });
          return;
        case 'flaky.wk.test':
          if (flakyBroken) sendJson(res, 503, {});
          else sendJson(res, 200, { 'm.server': delegation });
          return;
        case 'big.wk.test':
          sendJson(res, 200, { 'm.server': delegation, padding: 'x'.repeat(60 * 1024) });
          return;
        default:
          sendJson(res, 200, { 'm.server': delegation });
      }
    },
  });
  net.dns.setRecords([
    ...NAMES.map((name) => ({ type: 'A' as const, name, address: wellKnown.host })),
    { type: 'A', name: 'target.wk.test', address: target.host },
  ]);
});

beforeEach(() => {
  clock = Date.now();
  // No reuse of whole resolutions, no jitter: every resolve consults the well-known cache.
  resolver = createServerResolver({ http, now: () => clock, cacheMs: 0, random: () => 0 });
});

afterAll(async () => {
  await net?.close();
});

const hitsOf = (name: string) => hits.get(name) ?? 0;

describe('well-known delegation', () => {
  it('follows redirects', async () => {
    const resolved = await resolver.resolve('redirect.wk.test');
    expect(resolved).toMatchObject({ step: 'well_known', delegatedTo: delegation, hostHeader: delegation });
    expect(hitsOf('redirect.wk.test')).toBe(1);
    expect(hitsOf('redirect-target.wk.test')).toBe(1);
  });

  it('ignores a document over 50 KiB', async () => {
    const resolved = await resolver.resolve('big.wk.test');
    expect(resolved.step).toBe('default_port');
    expect(resolved.delegatedTo).toBeUndefined();
  });

  it('fetches once for many concurrent resolutions of one name', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve('dedupe.wk.test')));
    expect(results.every((r) => r.delegatedTo === delegation)).toBe(true);
    expect(hitsOf('dedupe.wk.test')).toBe(1);
  });

  it('does not deadlock a federation request that needs a well-known first, with one slot in flight', async () => {
    const federation = new FederationClient({ http, resolver });
    const response = await federation.request('nested.wk.test', {
      method: 'GET',
      path: '/_matrix/federation/v1/version',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ host: delegation });
  });
});

describe('well-known caching', () => {
  it('keeps an answer without cache headers for 24 hours', async () => {
    await resolver.resolve('cached.wk.test');
    clock += 12 * HOUR;
    expect((await resolver.resolve('cached.wk.test')).delegatedTo).toBe(delegation);
    expect(hitsOf('cached.wk.test')).toBe(1);
    clock += 13 * HOUR;
    expect((await resolver.resolve('cached.wk.test')).delegatedTo).toBe(delegation);
    expect(hitsOf('cached.wk.test')).toBe(2);
  });

  it('follows Cache-Control max-age', async () => {
    await resolver.resolve('short.wk.test');
    clock += 5 * MINUTE;
    await resolver.resolve('short.wk.test');
    expect(hitsOf('short.wk.test')).toBe(1);
    clock += 6 * MINUTE;
    await resolver.resolve('short.wk.test');
    expect(hitsOf('short.wk.test')).toBe(2);
  });

  it('caps a long max-age at 48 hours', async () => {
    await resolver.resolve('long.wk.test');
    clock += 30 * HOUR;
    await resolver.resolve('long.wk.test');
    expect(hitsOf('long.wk.test')).toBe(1);
    clock += 19 * HOUR;
    await resolver.resolve('long.wk.test');
    expect(hitsOf('long.wk.test')).toBe(2);
  });

  it('remembers a failure for up to an hour', async () => {
    expect((await resolver.resolve('failing.wk.test')).step).toBe('default_port');
    clock += 30 * MINUTE;
    await resolver.resolve('failing.wk.test');
    expect(hitsOf('failing.wk.test')).toBe(1);
    clock += 31 * MINUTE;
    await resolver.resolve('failing.wk.test');
    expect(hitsOf('failing.wk.test')).toBe(2);
  });

  it('keeps a valid answer through a temporary failure, then retries sooner than an hour', async () => {
    flakyBroken = false;
    await resolver.resolve('flaky.wk.test');
    flakyBroken = true;
    // In the last 20% of its life the entry is refetched; a 503 keeps the old answer.
    clock += 20 * HOUR;
    expect((await resolver.resolve('flaky.wk.test')).delegatedTo).toBe(delegation);
    expect(hitsOf('flaky.wk.test')).toBe(2);
    // Expired and still failing: no delegation, and the failure is kept only 2 minutes.
    clock += 5 * HOUR;
    expect((await resolver.resolve('flaky.wk.test')).delegatedTo).toBeUndefined();
    expect(hitsOf('flaky.wk.test')).toBe(3);
    clock += 1 * MINUTE;
    await resolver.resolve('flaky.wk.test');
    expect(hitsOf('flaky.wk.test')).toBe(3);
    flakyBroken = false;
    clock += 2 * MINUTE;
    expect((await resolver.resolve('flaky.wk.test')).delegatedTo).toBe(delegation);
    expect(hitsOf('flaky.wk.test')).toBe(4);
  });
});
