import { createQueueBackend, enqueue, type QueueBackend, UnrecoverableError } from '@atlas/shared/queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, randomNamespace, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/ports.ts';

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
    for (const serverName of ['a.example', 'b.example:8448', 'c.example']) {
      await enqueue(backend, 'probe', [{ serverName }]);
    }
    await done;
    expect(seen.sort()).toEqual(['a.example', 'b.example:8448', 'c.example']);
  });

  it('keeps one job per server while it waits, and takes a new one once it failed', async () => {
    // No worker consumes this queue until the end of this test, so the jobs stay waiting.
    const queue = backend.queue<{ serverName: string }>('crawl');
    for (let i = 0; i < 3; i++) await enqueue(backend, 'crawl', [{ serverName: 'dup.example' }]);
    await enqueue(backend, 'crawl', [{ serverName: 'other.example' }]);
    expect(await queue.getWaitingCount()).toBe(2);
    const worker = backend.worker('crawl', async () => {
      throw new UnrecoverableError('this read fails');
    });
    await waitFor('both reads to fail', async () => (await queue.getFailedCount()) === 2);
    await worker.close();
    // The failed job is kept for the dashboard; it does not stand in for the next read.
    await enqueue(backend, 'crawl', [{ serverName: 'dup.example' }]);
    expect(await queue.getWaitingCount()).toBe(1);
  });
});
