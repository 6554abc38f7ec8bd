import { createQueueBackend, type QueueBackend } from '@atlas/shared/queue';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { randomNamespace } from '../support/database.ts';
import { seedRooms } from '../support/seed-rooms.ts';

let api: TestApi;
let queues: QueueBackend;

beforeAll(async () => {
  queues = await createQueueBackend({
    redisUrl: inject('redisUrl'),
    databaseUrl: 'postgres://unused',
    namespace: randomNamespace('ops'),
  });
  api = await createTestApi('api_ops', {
    settings: { rateLimitPerMinute: 5, trustedProxies: ['10.0.0.0/8'] },
    deps: { queues },
  });
  await seedRooms(api.database, [{ roomId: '!a:example.org', name: 'Alpha', members: 3 }]);
  await api.database.sql`
    insert into crawl_runs (server_name, mode, status, stop_reason, pages, finished_at)
    values ('example.org', 'federation', 'complete', 'end', 4, now()),
           ('example.org', 'federation', 'forbidden', 'forbidden', 1, now())`;
  await api.reindex();
});

afterAll(async () => {
  await api?.close();
  await queues?.close();
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await api.get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});

describe('/metrics', () => {
  it('exposes crawl outcomes, pages, rooms, queue depths and request latency', async () => {
    await api.get('/healthz', {}, '192.0.2.10');
    const text = await (await api.get('/metrics', {}, '192.0.2.10')).text();
    expect(text).toContain('atlas_crawl_runs_last_day{status="complete",reason="end"} 1');
    expect(text).toContain('atlas_crawl_runs_last_day{status="forbidden",reason="forbidden"} 1');
    expect(text).toContain('atlas_crawl_pages_last_day 5');
    expect(text).toContain('atlas_rooms{state="listed"} 1');
    expect(text).toContain('atlas_search_documents 1');
    expect(text).toMatch(/atlas_queue_jobs\{queue="crawl",state="waiting"\} 0/);
    expect(text).toMatch(
      /atlas_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
  });
});

describe('OpenAPI and docs', () => {
  it('documents every JSON endpoint', async () => {
    const doc = (await (await api.get('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/rooms',
        '/api/v1/rooms/{roomId}',
        '/api/v1/servers',
        '/api/v1/servers/{name}',
        '/api/v1/stats',
        '/api/v1/element/config.json',
        '/api/v1/reports',
        '/api/v1/admin/servers',
        '/api/v1/admin/servers/flagged',
        '/api/v1/admin/element/explain',
        '/api/v1/admin/blocks',
        '/api/v1/admin/blocks/{id}',
        '/api/v1/admin/rooms/{roomId}/hide',
        '/api/v1/admin/rooms/{roomId}/unhide',
        '/api/v1/admin/reports',
        '/api/v1/admin/reports/{id}/resolve',
        '/api/v1/admin/crawl',
        '/media/avatar/{serverName}/{mediaId}',
      ].sort(),
    );
  });

  it('documents the query parameters of the search, servers and feed endpoints', async () => {
    type Operation = { parameters?: { name: string; in: string }[] };
    const doc = (await (await api.get('/api/v1/openapi.json')).json()) as {
      paths: Record<string, { get?: Operation }>;
    };
    const query = (path: string) =>
      (doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query('/api/v1/rooms')).toEqual(expect.arrayContaining(['q', 'server', 'sort', 'cursor']));
    expect(query('/api/v1/servers')).toEqual(expect.arrayContaining(['status', 'software', 'sort']));
    expect(query('/api/v1/element/config.json')).toEqual(
      expect.arrayContaining(['limit', 'include', 'exclude', 'registration_open', 'software']),
    );
  });

  it('renders a readable docs page', async () => {
    const page = await api.get('/api/v1/docs');
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Search rooms');
    expect(html).toContain('/api/v1/element/config.json');
  });
});

describe('errors and request ids', () => {
  it('answers unknown paths with the envelope, echoing a sane request id', async () => {
    const response = await api.get('/api/v1/nothing', { 'x-request-id': 'abc-123' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', requestId: 'abc-123' });
    const odd = await api.get('/api/v1/nothing', { 'x-request-id': 'bad id with spaces' });
    expect(odd.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });
});

describe('rate limits', () => {
  it('limits each client address, with Retry-After, trusting X-Forwarded-For only from proxies', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api.get('/api/v1/rooms', {}, '198.51.100.1')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await api.get('/api/v1/rooms', {}, '198.51.100.1');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    // Matrix endpoints say it Matrix's way.
    const matrix = await api.get('/_matrix/client/v3/publicRooms', {}, '198.51.100.1');
    expect(matrix.status).toBe(429);
    expect(await matrix.json()).toMatchObject({ errcode: 'M_LIMIT_EXCEEDED' });
    // Another client behind the trusted proxy has its own budget; a forged header from outside does not help.
    expect((await api.get('/api/v1/rooms', { 'x-forwarded-for': '192.0.2.77' }, '10.1.2.3')).status).toBe(
      200,
    );
    expect((await api.get('/api/v1/rooms', { 'x-forwarded-for': '192.0.2.78' }, '198.51.100.1')).status).toBe(
      429,
    );
  });
});
