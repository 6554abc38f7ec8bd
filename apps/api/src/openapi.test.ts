import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createRouter, intParam, listParam, openapiGetWithQuery } from './openapi.ts';

const QuerySchema = z.object({
  limit: intParam(1, 50).default(10),
  tags: listParam(z.string().regex(/^[a-z]+$/), 3),
});

const route = createRoute({
  method: 'get',
  path: '/things',
  summary: 'Things',
  request: { query: QuerySchema },
  responses: { 200: { description: 'Things' } },
});

function thingsApp() {
  const seen: unknown[] = [];
  const app = openapiGetWithQuery(createRouter(), route, (c, query) => {
    seen.push(query);
    return c.json(query, 200);
  });
  return { app, seen };
}

describe('openapiGetWithQuery', () => {
  it('hands the handler the validated query, defaults and transforms applied', async () => {
    const { app } = thingsApp();
    const response = await app.request('/things?tags=a,b&limit=5');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ limit: 5, tags: ['a', 'b'] });
    expect(await (await app.request('/things')).json()).toEqual({ limit: 10 });
  });

  it('documents the query parameters like any other route', () => {
    const { app } = thingsApp();
    const doc = app.getOpenAPIDocument({ openapi: '3.0.3', info: { title: 't', version: '1' } });
    const parameters = (doc.paths['/things']?.get?.parameters ?? []) as { name: string; in: string }[];
    expect(parameters.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['query:limit', 'query:tags']);
  });

  it('answers a bad query with 400 naming the parameter, every time it is sent', async () => {
    const { app, seen } = thingsApp();
    for (let i = 0; i < 2; i++) {
      const response = await app.request('/things?limit=500');
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/^invalid query: limit: /);
    }
    expect((await app.request('/things?tags=a,b,c,d')).status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  it('validates a repeated query string once and shares a frozen result', async () => {
    const { app, seen } = thingsApp();
    await app.request('/things?tags=x&limit=2');
    await app.request('/things?tags=x&limit=2');
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    const query = seen[0] as { tags: string[] };
    expect(Object.isFrozen(query)).toBe(true);
    expect(() => query.tags.push('y')).toThrow(TypeError);
    // Another string is validated on its own, even when it means the same.
    await app.request('/things?limit=2&tags=x');
    expect(seen[2]).not.toBe(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
  });

  it('still validates a query string too long to remember', async () => {
    const { app, seen } = thingsApp();
    const long = `/things?limit=3&pad=${'p'.repeat(600)}`;
    await app.request(long);
    await app.request(long);
    expect(seen[0]).toEqual({ limit: 3 });
    expect(seen[1]).not.toBe(seen[0]);
  });
});
