import { createQueueBackend, enqueue, type QueueBackend, UnrecoverableError } from '@atlas/shared/queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { randomNamespace } from '../support/database.ts';
import { waitFor } from '../support/ports.ts';
import { seedRooms, seedServers } from '../support/seed-rooms.ts';

let api: TestApi;
let queues: QueueBackend;
const TOKEN = 'first-admin-token-0123456789';
const OTHER = 'second-admin-token-abcdefghij';
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  queues = await createQueueBackend({
    redisUrl: inject('redisUrl'),
    databaseUrl: 'postgres://unused',
    namespace: randomNamespace('admin'),
  });
  api = await createTestApi('api_admin', {
    settings: { adminTokens: [TOKEN, OTHER], reportsPerHour: 3 },
    deps: { queues },
  });
  await seedServers(api.database, [
    { name: 'bad.example' },
    { name: 'sub.bad.example' },
    { name: 'good.example' },
  ]);
  await seedRooms(api.database, [
    { roomId: '!a:bad.example', name: 'Spam Room', members: 10, servers: ['bad.example'] },
    {
      roomId: '!b:good.example',
      name: 'Spam Shared',
      members: 10,
      servers: ['good.example', 'sub.bad.example'],
    },
    { roomId: '!c:good.example', name: 'Nice Room', members: 10, servers: ['good.example'] },
  ]);
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
  await queues?.close();
});

const roomIds = async (q: string) =>
  ((await (await api.get(`/api/v1/rooms?q=${q}`)).json()) as { rooms: { room_id: string }[] }).rooms.map(
    (r) => r.room_id,
  );

describe('admin authentication', () => {
  it('refuses a missing or wrong token with 401, and accepts every configured token', async () => {
    const missing = await api.get('/api/v1/admin/blocks');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    expect((await api.get('/api/v1/admin/blocks', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await api.get('/api/v1/admin/blocks', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await api.get('/api/v1/admin/blocks', auth)).status).toBe(200);
    expect((await api.get('/api/v1/admin/blocks', { authorization: `Bearer ${OTHER}` })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`admin:${OTHER}`).toString('base64')}`;
    expect((await api.get('/api/v1/admin/blocks', { authorization: basic })).status).toBe(200);
  });

  it('is off (403) when no token is configured', async () => {
    const bare = await createTestApi('api_admin_off');
    try {
      const response = await bare.get('/api/v1/admin/blocks', auth);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        'ATLAS_ADMIN_TOKENS',
      );
    } finally {
      await bare.close();
    }
  });
});

describe('servers and blocks', () => {
  it('adds a server and queues its probe', async () => {
    const response = await api.send('POST', '/api/v1/admin/servers', { name: 'New.Example' }, auth);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'new.example', status: 'new', created: true });
    const again = await api.send('POST', '/api/v1/admin/servers', { name: 'new.example' }, auth);
    expect(((await again.json()) as { created: boolean }).created).toBe(false);
    // One probe waits, however often it was asked for.
    const probes = await queues.queue<{ serverName: string }>('probe').getWaiting();
    expect(probes.map((job) => job.data.serverName)).toEqual(['new.example']);
    expect((await api.send('POST', '/api/v1/admin/servers', { name: 'not a name' }, auth)).status).toBe(400);
    expect((await api.send('POST', '/api/v1/admin/servers', {}, auth)).status).toBe(400);
  });

  it('blocks by pattern: servers turn blocked and rooms only they list leave search', async () => {
    const response = await api.send(
      'POST',
      '/api/v1/admin/blocks',
      { pattern: '*bad.example', reason: 'spam' },
      auth,
    );
    expect(response.status).toBe(201);
    const block = (await response.json()) as { id: number; servers_blocked: number };
    expect(block.servers_blocked).toBe(2);
    await api.reindex();
    expect(await roomIds('spam')).toEqual(['!b:good.example']);
    expect((await api.get('/api/v1/servers/bad.example')).status).toBe(404);
    // A blocked name cannot be added back.
    expect((await api.send('POST', '/api/v1/admin/servers', { name: 'x.bad.example' }, auth)).status).toBe(
      409,
    );
    expect((await api.send('POST', '/api/v1/admin/blocks', { pattern: '*bad.example' }, auth)).status).toBe(
      409,
    );
    expect((await api.send('POST', '/api/v1/admin/blocks', { pattern: '*' }, auth)).status).toBe(400);
    const list = (await (await api.get('/api/v1/admin/blocks', auth)).json()) as {
      blocks: { pattern: string }[];
    };
    expect(list.blocks.map((b) => b.pattern)).toEqual(['*bad.example']);

    const lifted = await api.send('DELETE', `/api/v1/admin/blocks/${block.id}`, '', auth);
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toEqual({ servers_unblocked: 2 });
    await api.reindex();
    expect((await roomIds('spam')).sort()).toEqual(['!a:bad.example', '!b:good.example']);
    expect((await api.send('DELETE', `/api/v1/admin/blocks/${block.id}`, '', auth)).status).toBe(404);
    expect((await api.send('DELETE', '/api/v1/admin/blocks/abc', '', auth)).status).toBe(400);
  });
});

describe('rooms', () => {
  it('hides and unhides a room at once', async () => {
    const hide = await api.send(
      'POST',
      `/api/v1/admin/rooms/${encodeURIComponent('!c:good.example')}/hide`,
      '',
      auth,
    );
    expect(hide.status).toBe(200);
    expect(await roomIds('nice')).toEqual([]);
    expect((await api.get(`/api/v1/rooms/${encodeURIComponent('!c:good.example')}`)).status).toBe(404);
    await api.send('POST', `/api/v1/admin/rooms/${encodeURIComponent('!c:good.example')}/unhide`, '', auth);
    expect(await roomIds('nice')).toEqual(['!c:good.example']);
    const unknown = await api.send(
      'POST',
      `/api/v1/admin/rooms/${encodeURIComponent('!x:none')}/hide`,
      '',
      auth,
    );
    expect(unknown.status).toBe(404);
  });
});

describe('crawl trigger and dashboard', () => {
  it('queues a crawl job for a known server', async () => {
    const response = await api.send('POST', '/api/v1/admin/crawl', { server_name: 'good.example' }, auth);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { job_id: string };
    expect(await queues.queue('crawl').getJob(body.job_id)).toBeTruthy();
    // A read the crawler queued and one asked for here are the same job.
    expect(await enqueue(queues, 'crawl', [{ serverName: 'good.example' }])).toEqual([body.job_id]);
    expect(
      (await api.send('POST', '/api/v1/admin/crawl', { server_name: 'nobody.example' }, auth)).status,
    ).toBe(404);
  });

  it('crawls a server again when asked after its last crawl failed', async () => {
    await seedServers(api.database, [{ name: 'flaky.example' }]);
    // The first read of its directory fails for good; the next one goes through.
    const runs: string[] = [];
    const worker = queues.worker<{ serverName: string }>('crawl', async (job) => {
      if (job.data.serverName !== 'flaky.example') return;
      runs.push(runs.length === 0 ? 'failed' : 'read');
      if (runs.length === 1) throw new UnrecoverableError('the directory read broke');
    });
    try {
      const ask = () => api.send('POST', '/api/v1/admin/crawl', { server_name: 'flaky.example' }, auth);
      expect((await ask()).status).toBe(202);
      await waitFor(
        'the first crawl to fail',
        async () => (await queues.queue('crawl').getFailedCount()) > 0,
      );
      expect((await ask()).status).toBe(202);
      await waitFor('the crawl asked for after the failure', () => runs.length === 2, 10_000);
      expect(runs).toEqual(['failed', 'read']);
    } finally {
      await worker.close();
    }
  });

  it('answers 503 where there are no queues', async () => {
    const bare = await createTestApi('api_admin_noqueue', { settings: { adminTokens: [TOKEN] } });
    try {
      await seedServers(bare.database, [{ name: 'good.example' }]);
      const response = await bare.send('POST', '/api/v1/admin/crawl', { server_name: 'good.example' }, auth);
      expect(response.status).toBe(503);
    } finally {
      await bare.close();
    }
  });

  it('serves the BullMQ dashboard behind the token', async () => {
    expect((await api.get('/api/v1/admin/queues')).status).toBe(401);
    const page = await api.get('/api/v1/admin/queues', auth);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Atlas queues');
    const queuesJson = await api.get('/api/v1/admin/queues/api/queues', auth);
    expect(queuesJson.status).toBe(200);
    const names = ((await queuesJson.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toContain('crawl');
  });
});

describe('reports', () => {
  it('takes public reports, rate-limited per address with Retry-After', async () => {
    const first = await api.send(
      'POST',
      '/api/v1/reports',
      { room_id: '!a:bad.example', reason: 'spam links' },
      {},
      '203.0.113.5',
    );
    expect(first.status).toBe(201);
    expect(
      (await api.send('POST', '/api/v1/reports', { reason: 'no target' }, {}, '203.0.113.5')).status,
    ).toBe(400);
    expect(
      (
        await api.send(
          'POST',
          '/api/v1/reports',
          { server_name: 'nowhere.example', reason: 'who' },
          {},
          '203.0.113.5',
        )
      ).status,
    ).toBe(404);
    const limited = await api.send(
      'POST',
      '/api/v1/reports',
      { server_name: 'bad.example', reason: 'more spam' },
      {},
      '203.0.113.5',
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not limited by the first one's reports.
    const other = await api.send(
      'POST',
      '/api/v1/reports',
      { server_name: 'bad.example', reason: 'more spam' },
      {},
      '198.51.100.7',
    );
    expect(other.status).toBe(201);
  });

  it('lists and resolves reports', async () => {
    const open = (await (await api.get('/api/v1/admin/reports', auth)).json()) as {
      reports: { id: number }[];
    };
    expect(open.reports).toHaveLength(2);
    const id = open.reports[0]?.id ?? 0;
    const resolved = await api.send(
      'POST',
      `/api/v1/admin/reports/${id}/resolve`,
      { resolution: 'blocked' },
      auth,
    );
    expect(resolved.status).toBe(200);
    expect(((await resolved.json()) as { resolution: string }).resolution).toBe('blocked');
    expect(
      (await api.send('POST', `/api/v1/admin/reports/${id}/resolve`, { resolution: 'again' }, auth)).status,
    ).toBe(409);
    expect(
      (await api.send('POST', '/api/v1/admin/reports/999999/resolve', { resolution: 'x' }, auth)).status,
    ).toBe(404);
    const left = (await (await api.get('/api/v1/admin/reports?state=open', auth)).json()) as {
      reports: unknown[];
    };
    expect(left.reports).toHaveLength(1);
    const all = (await (await api.get('/api/v1/admin/reports?state=all&limit=1', auth)).json()) as {
      reports: unknown[];
      next_before: number | null;
    };
    expect(all.reports).toHaveLength(1);
    expect(all.next_before).not.toBeNull();
    expect((await api.get('/api/v1/admin/reports?state=weird', auth)).status).toBe(400);
  });
});
