import { randomUUID } from 'node:crypto';
import { createRedisHolds, type HttpClient, type SharedHolds } from '@atlas/shared/net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  expectHttpError,
  type NetTestBed,
  sendJson,
  startNetTestBed,
  type TestServer,
} from './net-test-servers.ts';

/**
 * Politeness across crawler processes (ADR 0009): HTTP clients that each stand for one process,
 * with holds of their own on one real Redis, against a real TLS server that counts the requests it
 * has in flight.
 */
let net: NetTestBed;
let server: TestServer;
let redis: Redis;
const holds: SharedHolds[] = [];
const prefix = `test-${randomUUID().slice(0, 8)}:hold:`;
/** Requests to /park wait here until the test lets them go. */
let parked: (() => void)[] = [];

beforeAll(async () => {
  net = await startNetTestBed();
  server = await net.server({
    names: ['polite.test'],
    handler: async (req, res) => {
      if (req.url.startsWith('/slow')) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        sendJson(res, 200, { ok: true });
      } else if (req.url === '/park') {
        parked.push(() => sendJson(res, 200, { parked: true }));
      } else {
        sendJson(res, 200, { ok: true });
      }
    },
  });
  net.dns.setRecords([{ type: 'A', name: 'polite.test', address: server.host }]);
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  await Promise.all(holds.map((h) => h.close()));
  redis?.disconnect();
  await net?.close();
});

/** One crawler process's client: its own connection to Redis, its own in-process rules. */
function processClient(
  options: { politenessWaitMs?: number; ttlMs?: number; firstPollMs?: number } = {},
): HttpClient {
  const shared = createRedisHolds(inject('redisUrl'), {
    prefix,
    ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
    ...(options.firstPollMs ? { firstPollMs: options.firstPollMs } : {}),
  });
  holds.push(shared);
  return net.client({
    sharedHolds: shared,
    ...(options.politenessWaitMs !== undefined ? { politenessWaitMs: options.politenessWaitMs } : {}),
  });
}

const url = (path: string) => `https://polite.test:${server.port}${path}`;

async function untilParked(count: number): Promise<void> {
  for (let i = 0; i < 500 && parked.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  expect(parked.length).toBe(count);
}

function releaseParked(): void {
  for (const release of parked) release();
  parked = [];
}

describe('holds shared over Redis', () => {
  it('sends a server one request at a time from every process', async () => {
    const clients = [processClient(), processClient(), processClient()];
    server.resetMaxInFlight();
    const start = server.requests.length;
    const responses = await Promise.all(
      clients.flatMap((http, c) =>
        Array.from({ length: 4 }, (_, i) => http.request({ url: url(`/slow?${c}-${i}`) })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(server.requests.length - start).toBe(12);
    expect(server.maxInFlight).toBe(1);
  });

  it("does not count the wait for another process's request against a request's own timeout", async () => {
    const first = processClient();
    const second = processClient();
    const held = first.request({ url: url('/park') });
    await untilParked(1);
    // Its own budget is a quarter of a second; the other process keeps the server longer than that.
    const waiting = second.request({ url: url('/slow?waiting'), timeouts: { totalMs: 250 } });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(server.inFlight).toBe(1);
    releaseParked();
    expect((await held).status).toBe(200);
    expect((await waiting).status).toBe(200);
  });

  it('ends a wait that runs out as busy, without sending anything', async () => {
    const first = processClient();
    const second = processClient({ politenessWaitMs: 200 });
    const held = first.request({ url: url('/park') });
    await untilParked(1);
    const before = server.requests.length;
    const error = await expectHttpError(second.request({ url: url('/slow?busy') }));
    expect(error.code).toBe('busy');
    expect(error.transient).toBe(true);
    expect(server.requests.length).toBe(before);
    releaseParked();
    await held;
  });

  it("lets a dead process's hold lapse, so the next request is sent and not failed", async () => {
    // What a process killed while its request ran leaves behind: a hold nobody renews.
    await redis.set(`${prefix}polite.test`, 'a-dead-process', 'PX', 1_500);
    const response = await processClient({ politenessWaitMs: 20_000 }).request({
      url: url('/slow?after-death'),
      timeouts: { totalMs: 1_000 },
    });
    expect(response.status).toBe(200);
  });

  it('keeps a hold past its lifetime while its request runs, renewing it', async () => {
    const first = processClient({ ttlMs: 400 });
    const second = processClient({ ttlMs: 400, politenessWaitMs: 20_000 });
    const held = first.request({ url: url('/park'), timeouts: { totalMs: 20_000 } });
    await untilParked(1);
    const waiting = second.request({ url: url('/slow?renewed') });
    // Several lifetimes of the hold pass; the renewed hold still keeps the second request back.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(server.inFlight).toBe(1);
    expect(await redis.pttl(`${prefix}polite.test`)).toBeGreaterThan(0);
    releaseParked();
    await held;
    expect((await waiting).status).toBe(200);
  });

  it('gives a process that waits its turn between another process’s back-to-back requests', async () => {
    const busy = processClient();
    const waiter = processClient({ politenessWaitMs: 60_000 });
    const start = server.requests.length;
    let sent = 0;
    const loop = (async () => {
      for (; sent < 30; sent++) await busy.request({ url: url(`/slow?busy-${sent}`) });
    })();
    while (sent < 2) await new Promise((r) => setTimeout(r, 5));
    await waiter.request({ url: url('/slow?waiter') });
    await loop;
    const order = server.requests.slice(start).map((r) => r.url);
    // The waiter went in within a few of the busy process's requests, not after all thirty.
    expect(order.indexOf('/slow?waiter')).toBeGreaterThan(0);
    expect(order.indexOf('/slow?waiter')).toBeLessThan(10);
  });

  it('sends a waiting process’s request as soon as the one before it ends, not at its next poll', {
    timeout: 30_000,
  }, async () => {
    // Turns that earlier tests left behind (each lasts two seconds) would be taken for this one.
    for (const key of await redis.keys(`${prefix}*:next`)) await redis.del(key);
    const busy = processClient();
    // Asks once, then would not ask again for ten minutes: only the release's announcement wakes it.
    const waiter = processClient({ firstPollMs: 600_000, politenessWaitMs: 600_000 });
    const held = busy.request({ url: url('/park') });
    await untilParked(1);
    const waiting = waiter.request({ url: url('/slow?announced') });
    // The waiter has asked and found the server held: it is waiting for its turn.
    for (let i = 0; i < 500 && (await redis.keys(`${prefix}*:next`)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await redis.keys(`${prefix}*:next`)).toHaveLength(1);
    releaseParked();
    await held;
    expect((await waiting).status).toBe(200);
    expect(server.maxInFlight).toBe(1);
  });

  it('gives a job hold to one process at a time, and back once released', async () => {
    const [a, b] = [
      createRedisHolds(inject('redisUrl'), { prefix }),
      createRedisHolds(inject('redisUrl'), { prefix }),
    ];
    holds.push(a, b);
    const release = await a.tryAcquire('job:one.test');
    expect(release).toBeDefined();
    expect(await b.tryAcquire('job:one.test')).toBeUndefined();
    release?.();
    for (let i = 0; i < 100 && (await redis.exists(`${prefix}job:one.test`)) === 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = await b.tryAcquire('job:one.test');
    expect(again).toBeDefined();
    again?.();
  });
});
