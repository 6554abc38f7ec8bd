import type { RoomList } from '@atlas/shared/api';
import { InvalidCursorError } from '@atlas/shared/search';
import { createRoute, z } from '@hono/zod-openapi';
import { roomLinks } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { serialisedJson } from '../json.ts';
import { cacheFor } from '../middleware/cache.ts';
import { createRouter, errorResponses, openapiGetWithQuery } from '../openapi.ts';
import { RoomDetailSchema, RoomListSchema, RoomQuerySchema } from '../schemas/rooms.ts';
import { getRoomDetail, searchRoomsSerialised } from '../services/rooms.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/rooms',
  tags: ['Rooms'],
  summary: 'Search rooms',
  description:
    'Full-text search over room names, aliases, topics and servers (typos and accents forgiven; an exact name or alias match first), with filters, sorts and cursor pages. Stale rooms are left out unless include_stale=true. Where Meilisearch is configured, the X-Atlas-Search-Backend header says which backend answered: `meilisearch`, or `postgres; fallback` while PostgreSQL answers in its place.',
  middleware: [cacheFor(30)] as const,
  request: { query: RoomQuerySchema },
  responses: {
    200: { description: 'A page of rooms', content: { 'application/json': { schema: RoomListSchema } } },
    ...errorResponses(400, 429),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/rooms/{roomId}',
  tags: ['Rooms'],
  summary: 'One room',
  description: 'A room with the servers listing it and its member count per day over 90 days.',
  middleware: [cacheFor(60)] as const,
  request: {
    params: z.object({
      roomId: z
        .string()
        .min(2)
        .max(255)
        .regex(/^!/, 'a room id starts with "!" (URL-encode it: %21...)')
        .openapi({ example: '!abc:example.org' }),
    }),
  },
  responses: {
    200: { description: 'The room', content: { 'application/json': { schema: RoomDetailSchema } } },
    ...errorResponses(400, 404, 429),
  },
});

/**
 * Which backend answered, when Meilisearch is configured: `meilisearch`, or `postgres; fallback`
 * while PostgreSQL answers in its place (ADR 0203). Absent on the PostgreSQL-only default.
 */
export const SEARCH_BACKEND_HEADER = 'X-Atlas-Search-Backend';

export function roomRoutes() {
  return openapiGetWithQuery(createRouter(), listRoute, async (c, params) => {
    try {
      const answer = await searchRoomsSerialised(c.get('deps').search, params, roomLinks(c.get('deps')));
      const servedBy = answer.servedBy;
      if (servedBy) {
        c.header(
          SEARCH_BACKEND_HEADER,
          servedBy.fallback ? `${servedBy.backend}; fallback` : servedBy.backend,
        );
      }
      return serialisedJson<RoomList>(c, answer);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ApiError('BAD_REQUEST', `cursor: ${error.message}`);
      throw error;
    }
  }).openapi(detailRoute, async (c) => {
    const { roomId } = c.req.valid('param');
    const room = await getRoomDetail(c.get('deps').database.sql, roomId, roomLinks(c.get('deps')));
    if (!room) throw new ApiError('NOT_FOUND', `no room ${roomId} is listed here`);
    return c.json(room, 200);
  });
}
