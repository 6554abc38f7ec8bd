import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../../errors.ts';
import { createRouter, errorResponses, intParam } from '../../openapi.ts';
import {
  addBlock,
  addServer,
  listBlocks,
  removeBlock,
  setRoomHidden,
  triggerCrawl,
} from '../../services/admin.ts';
import { listReports, resolveReport } from '../../services/reports.ts';

const security = [{ adminToken: [] }];
const serverName = z.string().min(1).max(255);
const json = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
  required: true,
});
const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

const BlockSchema = z
  .object({
    id: z.number().int(),
    pattern: z.string(),
    reason: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Block');
const ReportSchema = z
  .object({
    id: z.number().int(),
    room_id: z.string().nullable(),
    server_name: z.string().nullable(),
    reason: z.string(),
    created_at: z.string(),
    resolved_at: z.string().nullable(),
    resolution: z.string().nullable(),
  })
  .openapi('Report');
const roomIdParam = z.object({ roomId: z.string().min(2).max(255).regex(/^!/, 'a room id starts with "!"') });
const idParam = z.object({
  id: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a number')
    .transform(Number),
});

const addServerRoute = createRoute({
  method: 'post',
  path: '/servers',
  tags: ['Admin'],
  summary: 'Add a server to crawl',
  security,
  request: { body: json(z.object({ name: serverName })) },
  responses: {
    201: ok(
      'Added (or already known)',
      z.object({ name: z.string(), status: z.string(), created: z.boolean() }),
    ),
    ...errorResponses(400, 401, 403, 409),
  },
});
const listBlocksRoute = createRoute({
  method: 'get',
  path: '/blocks',
  tags: ['Admin'],
  summary: 'List blocks',
  security,
  responses: { 200: ok('Blocks', z.object({ blocks: z.array(BlockSchema) })), ...errorResponses(401, 403) },
});
const addBlockRoute = createRoute({
  method: 'post',
  path: '/blocks',
  tags: ['Admin'],
  summary: 'Block servers by name or pattern (*.example.org)',
  security,
  request: {
    body: json(z.object({ pattern: z.string().min(1).max(255), reason: z.string().max(1000).optional() })),
  },
  responses: {
    201: ok('Blocked', BlockSchema.extend({ servers_blocked: z.number().int() })),
    ...errorResponses(400, 401, 403, 409),
  },
});
const removeBlockRoute = createRoute({
  method: 'delete',
  path: '/blocks/{id}',
  tags: ['Admin'],
  summary: 'Unblock',
  security,
  request: { params: idParam },
  responses: {
    200: ok('Unblocked', z.object({ servers_unblocked: z.number().int() })),
    ...errorResponses(400, 401, 403, 404),
  },
});
const hideRoute = (hidden: boolean) =>
  createRoute({
    method: 'post',
    path: `/rooms/{roomId}/${hidden ? 'hide' : 'unhide'}`,
    tags: ['Admin'],
    summary: hidden ? 'Hide a room' : 'Show a hidden room again',
    security,
    request: { params: roomIdParam },
    responses: {
      200: ok('Done', z.object({ room_id: z.string(), hidden: z.boolean() })),
      ...errorResponses(400, 401, 403, 404),
    },
  });
const listReportsRoute = createRoute({
  method: 'get',
  path: '/reports',
  tags: ['Admin'],
  summary: 'List reports',
  security,
  request: {
    query: z.object({
      state: z.enum(['open', 'resolved', 'all']).default('open'),
      limit: intParam(1, 200).default(50),
      before: intParam(1, Number.MAX_SAFE_INTEGER),
    }),
  },
  responses: {
    200: ok(
      'Reports, newest first',
      z.object({ reports: z.array(ReportSchema), next_before: z.number().nullable() }),
    ),
    ...errorResponses(400, 401, 403),
  },
});
const resolveReportRoute = createRoute({
  method: 'post',
  path: '/reports/{id}/resolve',
  tags: ['Admin'],
  summary: 'Resolve a report',
  security,
  request: { params: idParam, body: json(z.object({ resolution: z.string().trim().min(1).max(1000) })) },
  responses: { 200: ok('Resolved', ReportSchema), ...errorResponses(400, 401, 403, 404, 409) },
});
const crawlRoute = createRoute({
  method: 'post',
  path: '/crawl',
  tags: ['Admin'],
  summary: "Crawl a server's directory now",
  security,
  request: { body: json(z.object({ server_name: serverName })) },
  responses: {
    202: ok('Queued', z.object({ server_name: z.string(), job_id: z.string() })),
    ...errorResponses(400, 401, 403, 404, 409, 503),
  },
});

/** Operator endpoints; `adminAuth` guards them where they are mounted. */
export function adminRoutes() {
  return createRouter()
    .openapi(addServerRoute, async (c) => {
      const deps = c.get('deps');
      return c.json(await addServer(deps.database.sql, deps.queues, c.req.valid('json').name), 201);
    })
    .openapi(listBlocksRoute, async (c) =>
      c.json({ blocks: await listBlocks(c.get('deps').database.sql) }, 200),
    )
    .openapi(addBlockRoute, async (c) => {
      const body = c.req.valid('json');
      return c.json(await addBlock(c.get('deps').database.sql, body.pattern, body.reason), 201);
    })
    .openapi(removeBlockRoute, async (c) =>
      c.json(await removeBlock(c.get('deps').database.sql, c.req.valid('param').id), 200),
    )
    .openapi(hideRoute(true), async (c) => {
      const { roomId } = c.req.valid('param');
      const deps = c.get('deps');
      await setRoomHidden(deps.database.sql, deps.search, roomId, true);
      return c.json({ room_id: roomId, hidden: true }, 200);
    })
    .openapi(hideRoute(false), async (c) => {
      const { roomId } = c.req.valid('param');
      const deps = c.get('deps');
      await setRoomHidden(deps.database.sql, deps.search, roomId, false);
      return c.json({ room_id: roomId, hidden: false }, 200);
    })
    .openapi(listReportsRoute, async (c) =>
      c.json(await listReports(c.get('deps').database.sql, c.req.valid('query')), 200),
    )
    .openapi(resolveReportRoute, async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await resolveReport(c.get('deps').database.sql, id, c.req.valid('json').resolution), 200);
    })
    .openapi(crawlRoute, async (c) => {
      const deps = c.get('deps');
      const name = c.req.valid('json').server_name;
      if (!name.trim()) throw new ApiError('BAD_REQUEST', 'server_name is empty');
      return c.json(await triggerCrawl(deps.database.sql, deps.queues, name), 202);
    });
}
