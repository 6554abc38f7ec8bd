import { parseServerName } from '@atlas/shared/matrix';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../env.ts';
import { MatrixApiError } from '../errors.ts';
import { requireXMatrix } from '../matrix/verify-origin.ts';
import { listableServersCache } from '../services/listable-servers.ts';
import { type PublicRoomsRequest, publicRooms } from '../services/public-rooms.ts';

const limitText = z.string().regex(/^\d{1,9}$/, 'limit must be a whole number');

const querySchema = z.object({
  limit: limitText.optional(),
  since: z.string().max(2048).optional(),
  include_all_networks: z.enum(['true', 'false']).optional(),
  third_party_instance_id: z.string().max(255).optional(),
  server: z.string().max(255).optional(),
});

const bodySchema = z.object({
  limit: z.number().int().min(0).max(1_000_000_000).optional(),
  since: z.string().max(2048).optional(),
  filter: z
    .object({
      generic_search_term: z.string().max(1000).optional(),
      room_types: z.array(z.string().max(255).nullable()).max(20).optional(),
    })
    .nullable()
    .optional(),
  include_all_networks: z.boolean().optional(),
  third_party_instance_id: z.string().max(255).optional(),
});

function invalid(error: z.ZodError): MatrixApiError {
  const issue = error.issues[0];
  const where = issue?.path.join('.') || 'request';
  return new MatrixApiError('BAD_REQUEST', 'M_INVALID_PARAM', `${where}: ${issue?.message ?? 'invalid'}`);
}

function parseQuery(query: Record<string, string>): z.infer<typeof querySchema> {
  const parsed = querySchema.safeParse(query);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

async function parseBody(text: string): Promise<z.infer<typeof bodySchema>> {
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MatrixApiError('BAD_REQUEST', 'M_NOT_JSON', 'the body is not JSON');
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error);
  return parsed.data;
}

function fromBody(body: z.infer<typeof bodySchema>): PublicRoomsRequest {
  return {
    limit: body.limit,
    since: body.since,
    searchTerm: body.filter?.generic_search_term,
    roomTypes: body.filter?.room_types,
    thirdPartyInstanceId: body.third_party_instance_id,
  };
}

/**
 * Matrix's room directory API over Atlas's index: signed federation requests (what a homeserver
 * sends when its user browses Atlas's server name in Element) and the unauthenticated client API.
 */
export function matrixDirectoryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limit = bodyLimit({
    maxSize: 64 * 1024,
    onError: () => {
      throw new MatrixApiError('PAYLOAD_TOO_LARGE', 'M_TOO_LARGE', 'the body is larger than 64 KiB');
    },
  });
  const listable = listableServersCache();
  const answer = async (c: Context<AppEnv>, request: PublicRoomsRequest) => {
    const deps = c.get('deps');
    return c.json(
      await publicRooms(deps.search, request, {
        maxComplexity: deps.settings.directoryMaxComplexity,
        listable: await listable(deps.database.sql, deps.settings.vouchedServers),
      }),
      200,
    );
  };
  /** The client API's `server`: Atlas's own name means everything, another name means the rooms it lists. */
  const listedBy = (c: Context<AppEnv>, server: string | undefined) => {
    if (!server) return undefined;
    const parsed = parseServerName(server);
    if (!parsed)
      throw new MatrixApiError('BAD_REQUEST', 'M_INVALID_PARAM', `server: "${server}" is not a server name`);
    return parsed.name === c.get('deps').identity?.serverName ? undefined : parsed.name;
  };

  app.get('/_matrix/federation/v1/publicRooms', requireXMatrix(), async (c) => {
    const query = parseQuery(c.req.query());
    return answer(c, {
      limit: query.limit === undefined ? undefined : Number(query.limit),
      since: query.since,
      thirdPartyInstanceId: query.third_party_instance_id,
    });
  });
  app.post('/_matrix/federation/v1/publicRooms', limit, requireXMatrix(), async (c) =>
    answer(c, fromBody(await parseBody(await c.req.text()))),
  );
  app.get('/_matrix/client/v3/publicRooms', async (c) => {
    const query = parseQuery(c.req.query());
    return answer(c, {
      limit: query.limit === undefined ? undefined : Number(query.limit),
      since: query.since,
      thirdPartyInstanceId: query.third_party_instance_id,
      server: listedBy(c, query.server),
    });
  });
  app.post('/_matrix/client/v3/publicRooms', limit, async (c) => {
    const query = parseQuery(c.req.query());
    const body = await parseBody(await c.req.text());
    return answer(c, { ...fromBody(body), server: listedBy(c, query.server) });
  });
  // Clients check a base URL with /versions before anything else (e.g. Element's well-known validation).
  app.get('/_matrix/client/versions', (c) =>
    c.json({
      versions: ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11'],
      unstable_features: {},
    }),
  );
  return app;
}
