import { createQueueBackend, jobIdFor, type QueueBackend } from '@atlas/shared/queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';

// The same job code must run on BullMQ's PostgreSQL backend (the embedded default) and on Redis.
describe.each([
  ['postgres', (): string | undefined => undefined],
  ['redis', (): string | undefined => inject('redisUrl')],
] as const)('queue backend: %s', (kind, redisUrl) => {
  let database: TestDatabase;
  let backend: QueueBackend;

  beforeAll(async () => {
    database = await createTestDatabase(`queue_${kind}`);
    backend = await createQueueBackend({
      redisUrl: redisUrl(),
      databaseUrl: database.url,
      namespace: randomNamespace(),
    });
  });

  afterAll(async () => {
    await backend?.close();
    await database?.drop();
  });

  it(`runs jobs on ${kind}`, async () => {
    expect(backend.kind).toBe(kind);
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      backend.worker<{ serverName: string }>('probe', async (job) => {
        seen.push(job.data.serverName);
        if (seen.length === 3) resolve();
      });
    });
    const queue = backend.queue<{ serverName: string }>('probe');
    for (const serverName of ['a.example', 'b.example:8448', 'c.example']) {
      await queue.add('probe', { serverName }, { jobId: jobIdFor('probe', serverName) });
    }
    await done;
    expect(seen.sort()).toEqual(['a.example', 'b.example:8448', 'c.example']);
  });

  it('keeps one job per id while it waits (deduplication per server)', async () => {
    // No worker consumes this queue in this test, so the jobs stay waiting.
    const queue = backend.queue<{ serverName: string }>('crawl');
    for (let i = 0; i < 3; i++) {
      await queue.add('crawl', { serverName: 'dup.example' }, { jobId: jobIdFor('crawl', 'dup.example') });
    }
    await queue.add('crawl', { serverName: 'other.example' }, { jobId: jobIdFor('crawl', 'other.example') });
    expect(await queue.getWaitingCount()).toBe(2);
  });
});
