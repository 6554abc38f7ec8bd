import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../errors.ts';
import { type ClientRateLimiter, rateLimit } from '../middleware/rate-limit.ts';
import { createRouter, errorResponses } from '../openapi.ts';
import { ReportBodySchema } from '../schemas/reports.ts';
import { createReport } from '../services/reports.ts';

export function reportRoutes(limiter: ClientRateLimiter) {
  const route = createRoute({
    method: 'post',
    path: '/reports',
    tags: ['Reports'],
    summary: 'Report a room or a server',
    description: `Tells the operator about a room or server that should not be listed. Limited to ${limiter.options.limit} reports per hour per address (the report forms of the web pages count too).`,
    middleware: [rateLimit(limiter)] as const,
    request: { body: { content: { 'application/json': { schema: ReportBodySchema } }, required: true } },
    responses: {
      201: {
        description: 'Recorded',
        content: { 'application/json': { schema: z.object({ id: z.number().int() }) } },
      },
      ...errorResponses(400, 404, 429),
    },
  });
  return createRouter().openapi(route, async (c) => {
    const body = c.req.valid('json');
    if (!body.room_id && !body.server_name) {
      throw new ApiError('BAD_REQUEST', 'name the room_id or the server_name being reported');
    }
    const report = await createReport(c.get('deps').database.sql, {
      roomId: body.room_id,
      serverName: body.server_name,
      reason: body.reason,
      reporterIp: c.get('clientIp'),
    });
    return c.json(report, 201);
  });
}
