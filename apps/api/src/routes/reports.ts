import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../errors.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import { createRouter, errorResponses } from '../openapi.ts';
import { createReport } from '../services/reports.ts';

const ReportBodySchema = z
  .object({
    room_id: z.string().min(2).max(255).regex(/^!/, 'a room id starts with "!"').optional(),
    server_name: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:[\]-]+$/)
      .optional(),
    reason: z.string().trim().min(3).max(2000),
  })
  .openapi('ReportRequest');

export function reportRoutes(reportsPerHour: number) {
  const route = createRoute({
    method: 'post',
    path: '/reports',
    tags: ['Reports'],
    summary: 'Report a room or a server',
    description: `Tells the operator about a room or server that should not be listed. Limited to ${reportsPerHour} reports per hour per address.`,
    middleware: [rateLimit({ limit: reportsPerHour, windowMs: 3600_000, what: 'reports' })] as const,
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
