import type { ElementConfigFeed } from '@atlas/shared/api';
import { createRoute, z } from '@hono/zod-openapi';
import { etagOf, jsonWithEtag } from '../json.ts';
import { cacheFor } from '../middleware/cache.ts';
import {
  boolParam,
  createRouter,
  errorResponses,
  intParam,
  listParam,
  openapiGetWithQuery,
} from '../openapi.ts';
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
    "A fragment of Element's config.json: room_directory.servers. Only servers Element can browse are listed: online, with a directory Atlas last read over federation and found rooms in (a server that refuses publicRooms over federation, publishes nothing or is offline is left out; so is one flagged for review, unless the operator vouches for it), most rooms first, then uptime. `atlas element-config --merge config.json` writes the same list into a config file; `atlas element-config --explain` and /api/v1/admin/element/explain say why each other server is left out.",
  middleware: [cacheFor(300)] as const,
  request: { query: ElementQuerySchema },
  responses: {
    200: { description: 'The servers', content: { 'application/json': { schema: ElementConfigSchema } } },
    ...errorResponses(400, 429),
  },
});

/** How long an answer is served before it is recomputed (in the background; the old one meanwhile). */
const REFRESH_MS = 30_000;
const MAX_ENTRIES = 500;

interface FeedAnswer {
  data: ElementConfigFeed;
  body: string;
  etag: string;
}

/**
 * Element deployments poll this, and the list changes only when crawls finish: each parameter set's
 * answer is kept in memory, already serialised with its ETag, and recomputed every half minute
 * while the previous one is still served, so a request never waits for the database but the first.
 */
export function elementRoutes() {
  const answers = new Map<string, { at: number; answer: Promise<FeedAnswer>; refreshing: boolean }>();
  return openapiGetWithQuery(createRouter(), feedRoute, async (c, params) => {
    const deps = c.get('deps');
    const compute = async (): Promise<FeedAnswer> => {
      const servers = await elementServerList(deps.database.sql, {
        limit: params.limit,
        include: params.include,
        exclude: params.exclude,
        registrationOpen: params.registration_open,
        software: params.software,
        self: params.self === false ? undefined : deps.identity?.serverName,
        vouched: deps.settings.vouchedServers,
      });
      const data = { room_directory: { servers } };
      const body = JSON.stringify(data);
      return { data, body, etag: etagOf(body) };
    };
    const key = JSON.stringify(params);
    const now = Date.now();
    let entry = answers.get(key);
    if (!entry) {
      if (answers.size >= MAX_ENTRIES) answers.clear();
      const created = { at: now, answer: compute(), refreshing: false };
      answers.set(key, created);
      created.answer.catch(() => {
        if (answers.get(key) === created) answers.delete(key);
      });
      entry = created;
    } else if (now - entry.at > REFRESH_MS && !entry.refreshing) {
      const current = entry;
      current.refreshing = true;
      const next = compute();
      next.then(
        () => answers.set(key, { at: Date.now(), answer: next, refreshing: false }),
        // The previous answer stays until a refresh succeeds.
        () => {
          current.refreshing = false;
        },
      );
    }
    const answer = await entry.answer;
    return jsonWithEtag(c, answer.data, answer);
  });
}
