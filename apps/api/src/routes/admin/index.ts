import { flaggedServers } from '@atlas/shared/db';
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../../errors.ts';
import { boolParam, createRouter, errorResponses, intParam, listParam } from '../../openapi.ts';
import {
  addBlock,
  addServer,
  listBlocks,
  removeBlock,
  setRoomHidden,
  triggerCrawl,
} from '../../services/admin.ts';
import { explainElementFeed } from '../../services/element-feed.ts';
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

const SignalSchema = z
  .object({
    kind: z.enum(['growth', 'similar_names']).openapi({
      description:
        'growth: thousands of rooms newly listed within a day; similar_names: many rooms named alike but for digits, punctuation and spacing',
    }),
    rooms: z.number().int(),
    sample: z.string().optional().openapi({ description: 'One of the similar names' }),
  })
  .openapi('ReviewSignal');
const FlaggedServerSchema = z
  .object({
    name: z.string(),
    status: z.string(),
    room_count: z.number().int().nullable(),
    room_cap_reached_at: z.string().nullable().openapi({
      description: 'When a read last stopped at the room cap (rooms past it were not stored)',
    }),
    review_signals: z.array(SignalSchema),
    review_flagged_at: z.string().nullable(),
    last_crawl_at: z.string().nullable(),
    vouched: z.boolean().openapi({ description: 'Listed in ATLAS_VOUCHED_SERVERS' }),
  })
  .openapi('FlaggedServer');
const flaggedRoute = createRoute({
  method: 'get',
  path: '/servers/flagged',
  tags: ['Admin'],
  summary: 'Servers to review: room cap reached, or spam signals',
  description:
    'Atlas only flags: nothing is hidden or deleted for these reasons. A flagged server is left out of the Element feed and the Matrix directory unless vouched for (ATLAS_VOUCHED_SERVERS); block it with POST /blocks, or vouch for it.',
  security,
  request: { query: z.object({ limit: intParam(1, 1000).default(100) }) },
  responses: {
    200: ok(
      'Flagged servers, most recently flagged first',
      z.object({ servers: z.array(FlaggedServerSchema) }),
    ),
    ...errorResponses(400, 401, 403),
  },
});
const explainRoute = createRoute({
  method: 'get',
  path: '/element/explain',
  tags: ['Admin'],
  summary: 'Why each server is or is not in the Element feed and the Matrix directory',
  security,
  request: {
    query: z.object({
      limit: intParam(1, 200).default(20),
      include: listParam(z.string().min(1).max(255), 50),
      exclude: listParam(z.string().min(1).max(255), 200),
      registration_open: boolParam,
      software: listParam(z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/)),
      self: boolParam,
      server: listParam(z.string().min(1).max(255), 200).openapi({
        description: 'Explain only these servers',
      }),
      left_out_limit: intParam(1, 10_000).default(500),
    }),
  },
  responses: {
    200: ok(
      'The feed, and every server left out with its reason, most rooms first',
      z.object({
        servers: z.array(z.string()),
        left_out: z.array(
          z.object({
            name: z.string(),
            reason: z.string(),
            explanation: z.string(),
            room_count: z.number().int().nullable(),
          }),
        ),
      }),
    ),
    ...errorResponses(400, 401, 403),
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
    .openapi(flaggedRoute, async (c) => {
      const deps = c.get('deps');
      const vouched = new Set(deps.settings.vouchedServers);
      const servers = await flaggedServers(deps.database.sql, c.req.valid('query'));
      return c.json({ servers: servers.map((s) => ({ ...s, vouched: vouched.has(s.name) })) }, 200);
    })
    .openapi(explainRoute, async (c) => {
      const deps = c.get('deps');
      const query = c.req.valid('query');
      return c.json(
        await explainElementFeed(deps.database.sql, {
          limit: query.limit,
          include: query.include,
          exclude: query.exclude,
          registrationOpen: query.registration_open,
          software: query.software,
          self: query.self === false ? undefined : deps.identity?.serverName,
          vouched: deps.settings.vouchedServers,
          leftOutLimit: query.left_out_limit,
          names: query.server,
        }),
        200,
      );
    })
    .openapi(crawlRoute, async (c) => {
      const deps = c.get('deps');
      const name = c.req.valid('json').server_name;
      if (!name.trim()) throw new ApiError('BAD_REQUEST', 'server_name is empty');
      return c.json(await triggerCrawl(deps.database.sql, deps.queues, name), 202);
    });
}
