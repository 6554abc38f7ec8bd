import type { DirectoryStats } from '@atlas/shared/api';
import { createRoute, z } from '@hono/zod-openapi';
import { cacheFor } from '../middleware/cache.ts';
import { createRouter, errorResponses } from '../openapi.ts';

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
    languages: z.array(z.object({ code: z.string(), rooms: count })),
    growth: z.array(z.object({ day: z.string(), servers_discovered: count, rooms_first_seen: count })),
    crawl: z.object({
      rooms_to_index: count.openapi({ description: 'Rooms changed since the search index last saw them' }),
      servers_checked_last_hour: count,
      directories_read_last_hour: count,
      last_read_at: z.string().nullable(),
    }),
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

export function statsRoutes(stats: () => Promise<DirectoryStats>) {
  return createRouter().openapi(statsRoute, async (c) => c.json(await stats(), 200));
}
