import { InvalidCursorError } from '@atlas/shared/search';
import { createRoute, z } from '@hono/zod-openapi';
import { roomLinks } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { cacheFor } from '../middleware/cache.ts';
import { createRouter, errorResponses, openapiGetWithQuery } from '../openapi.ts';
import { ServerDetailSchema, ServerListSchema, ServerQuerySchema } from '../schemas/servers.ts';
import { getServerDetail, listServers } from '../services/servers.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/servers',
  tags: ['Servers'],
  summary: 'Browse homeservers',
  description: 'Servers Atlas knows, with filters and sorts; sort=smallest lists the small servers first.',
  middleware: [cacheFor(60)] as const,
  request: { query: ServerQuerySchema },
  responses: {
    200: { description: 'A page of servers', content: { 'application/json': { schema: ServerListSchema } } },
    ...errorResponses(400, 429),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/servers/{name}',
  tags: ['Servers'],
  summary: 'One homeserver',
  description: 'A server with its last 50 probes, measured uptime, contacts (MSC1929) and biggest rooms.',
  middleware: [cacheFor(60)] as const,
  request: {
    params: z.object({
      name: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[A-Za-z0-9.:[\]-]+$/, 'is not a server name')
        .openapi({ example: 'example.org' }),
    }),
  },
  responses: {
    200: { description: 'The server', content: { 'application/json': { schema: ServerDetailSchema } } },
    ...errorResponses(400, 404, 429),
  },
});

export function serverRoutes() {
  return openapiGetWithQuery(createRouter(), listRoute, async (c, query) => {
    try {
      return c.json(await listServers(c.get('deps').database.sql, query), 200);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ApiError('BAD_REQUEST', `cursor: ${error.message}`);
      throw error;
    }
  }).openapi(detailRoute, async (c) => {
    const { name } = c.req.valid('param');
    const deps = c.get('deps');
    const server = await getServerDetail(deps.database.sql, deps.search, name.toLowerCase(), roomLinks(deps));
    if (!server) throw new ApiError('NOT_FOUND', `no server ${name} is listed here`);
    return c.json(server, 200);
  });
}
