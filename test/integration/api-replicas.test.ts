import { randomBytes } from 'node:crypto';
import { createApp } from '@atlas/api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { freePort } from '../support/ports.ts';

// Two API replicas on one Redis count one limit between them, as the compose stack scales them.
const LIMIT = 10;
let first: TestApi;
let second: ReturnType<typeof createApp>;
let redis: Redis;
let unreachable: Redis;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once('ready', resolve));
  first = await createTestApi('api_replicas', {
    settings: { rateLimitPerMinute: LIMIT },
    deps: { limitStore: redis },
  });
  second = createApp({ ...first.deps });
  // A Redis that is not there: nothing listens on this port.
  unreachable = new Redis(`redis://127.0.0.1:${await freePort()}`, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 1_000,
  });
  unreachable.on('error', () => {});
});

afterAll(async () => {
  redis?.disconnect();
  unreachable?.disconnect();
  await first?.close();
});

/** A client address of its own for each test, so counts left in Redis by another run never meet it. */
function freshAddress(): string {
  const bytes = randomBytes(2);
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

function fromAddress(app: ReturnType<typeof createApp>, path: string, ip: string): Promise<Response> {
  return Promise.resolve(app.request(path, {}, { incoming: { socket: { remoteAddress: ip } } } as never));
}

describe('rate limits shared through Redis', () => {
  it('lets exactly the limit through when three times the limit is spread over two replicas', async () => {
    const ip = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT * 3; i++) {
      const replica = i % 2 === 0 ? first.app : second;
      statuses.push((await fromAddress(replica, '/api/v1/rooms', ip)).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(LIMIT * 2);
    // The pages count against the same limit.
    expect((await fromAddress(second, '/', ip)).status).toBe(429);
    const metrics = await (await fromAddress(first.app, '/metrics', ip)).text();
    expect(metrics).toContain('atlas_rate_limit_store{store="redis"} 1');
  });

  it('counts in each process while Redis cannot be reached, and never fails a request for it', async () => {
    const alone = createApp({ ...first.deps, limitStore: unreachable });
    const ip = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push((await fromAddress(alone, '/api/v1/rooms', ip)).status);
    expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
    expect(statuses.slice(LIMIT)).toEqual([429, 429]);
  });

  it('counts in each process without Redis, and says so', async () => {
    const local = createApp({ ...first.deps, limitStore: undefined });
    const metrics = await (await fromAddress(local, '/metrics', freshAddress())).text();
    expect(metrics).toContain('atlas_rate_limit_store{store="memory"} 1');
  });
});
