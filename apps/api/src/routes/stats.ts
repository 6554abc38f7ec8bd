import { createRoute, z } from '@hono/zod-openapi';
import { cacheFor } from '../middleware/cache.ts';
import { createRouter, errorResponses } from '../openapi.ts';
import { type DirectoryStats, directoryStats } from '../services/stats.ts';

const count = z.number().int();
const StatsSchema = z
  .object({
    servers: z.object({
      total: count,
      online: count,
      offline: count,
      new: count,
      invalid: count,
      publishing: count,
      open_registration: count,
    }),
    rooms: z.object({ known: count, searchable: count, spaces: count, stale: count, members: count }),
    software: z.array(z.object({ name: z.string(), servers: count, share: z.number() })),
    growth: z.array(z.object({ day: z.string(), servers_discovered: count, rooms_first_seen: count })),
    generated_at: z.string(),
  })
  .openapi('Stats');

const statsRoute = createRoute({
  method: 'get',
  path: '/stats',
  tags: ['Stats'],
  summary: 'Directory statistics',
  description: 'Counts, software share among online servers, and discoveries per day over 30 days.',
  middleware: [cacheFor(60)] as const,
  responses: {
    200: { description: 'Statistics', content: { 'application/json': { schema: StatsSchema } } },
    ...errorResponses(429),
  },
});

/** Stats scan whole tables; one computation serves every caller for a minute. */
const TTL_MS = 60_000;

export function statsRoutes() {
  let cached: { at: number; value: Promise<DirectoryStats> } | undefined;
  return createRouter().openapi(statsRoute, async (c) => {
    const deps = c.get('deps');
    const now = Date.now();
    if (!cached || now - cached.at > TTL_MS) {
      const value = directoryStats(deps.database.sql, deps.search);
      cached = { at: now, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return c.json(await cached.value, 200);
  });
}
