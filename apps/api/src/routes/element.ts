import { createRoute, z } from '@hono/zod-openapi';
import { cacheFor } from '../middleware/cache.ts';
import { boolParam, createRouter, errorResponses, intParam, listParam } from '../openapi.ts';
import { elementServerList } from '../services/element-feed.ts';

const serverName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9.:[\]-]+$/);

const ElementQuerySchema = z.object({
  limit: intParam(1, 200).default(20),
  include: listParam(serverName, 50).openapi({ description: 'Servers listed first, in this order' }),
  exclude: listParam(serverName, 200),
  registration_open: boolParam.openapi({ description: 'Only servers with open registration' }),
  software: listParam(z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/)),
  self: boolParam.openapi({
    description: "List Atlas's own server name first (default true when it has one)",
  }),
});

const ElementConfigSchema = z
  .object({ room_directory: z.object({ servers: z.array(z.string()) }) })
  .openapi('ElementConfig');

const feedRoute = createRoute({
  method: 'get',
  path: '/element/config.json',
  tags: ['Element'],
  summary: "Servers for Element's room directory",
  description:
    "A fragment of Element's config.json: room_directory.servers, ranked by what someone browsing needs (online now, publishes its directory, rooms, uptime). `atlas element-config --merge config.json` writes the same list into a config file.",
  middleware: [cacheFor(300)] as const,
  request: { query: ElementQuerySchema },
  responses: {
    200: { description: 'The servers', content: { 'application/json': { schema: ElementConfigSchema } } },
    ...errorResponses(400, 429),
  },
});

/** Element deployments poll this; one answer per parameter set serves everyone for a minute. */
const TTL_MS = 60_000;
const MAX_ENTRIES = 500;

export function elementRoutes() {
  const cache = new Map<string, { at: number; servers: Promise<string[]> }>();
  return createRouter().openapi(feedRoute, async (c) => {
    const params = c.req.valid('query');
    const deps = c.get('deps');
    const key = JSON.stringify(params);
    const now = Date.now();
    let entry = cache.get(key);
    if (!entry || now - entry.at > TTL_MS) {
      if (cache.size >= MAX_ENTRIES) cache.clear();
      const servers = elementServerList(deps.database.sql, {
        limit: params.limit,
        include: params.include,
        exclude: params.exclude,
        registrationOpen: params.registration_open,
        software: params.software,
        self: params.self === false ? undefined : deps.identity?.serverName,
      });
      entry = { at: now, servers };
      cache.set(key, entry);
      servers.catch(() => cache.delete(key));
    }
    return c.json({ room_directory: { servers: await entry.servers } }, 200);
  });
}
