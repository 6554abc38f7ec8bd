import { ROOM_SORTS } from '@atlas/shared/search';
import { z } from '@hono/zod-openapi';
import { boolParam, cursorParam, intParam, listParam, numberParam } from '../openapi.ts';

export const RoomSchema = z
  .object({
    room_id: z.string().openapi({ example: '!abc:example.org' }),
    name: z.string().nullable(),
    topic: z.string().nullable(),
    canonical_alias: z.string().nullable(),
    avatar_url: z.string().nullable(),
    avatar_thumbnail: z.string().nullable().openapi({
      description:
        'Path of the avatar on this Atlas as a 96×96 WebP (add ?size=large for 400 pixels); null without an avatar or when the operator turned media off',
      example: '/media/avatar/example.org/AbCdEf0123',
    }),
    servers: z.array(z.string()).openapi({ description: 'Servers whose directories list the room' }),
    num_joined_members: z.number().int(),
    world_readable: z.boolean(),
    guest_can_join: z.boolean(),
    join_rule: z.string(),
    room_type: z.string().nullable(),
    language: z.string().nullable().openapi({ description: 'ISO 639-1, detected from name and topic' }),
    complexity: z
      .number()
      .nullable()
      .openapi({ description: "Synapse's v1 complexity (state events / 500)" }),
    complexity_estimated: z.boolean(),
    growth_7d: z.number().int(),
    growth_30d: z.number().int(),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
    stale: z.boolean(),
  })
  .openapi('Room');

export const RoomListSchema = z
  .object({
    rooms: z.array(RoomSchema),
    total: z.number().int(),
    total_exact: z.boolean().openapi({ description: 'false: at least `total` rooms match' }),
    next_cursor: z.string().nullable(),
  })
  .openapi('RoomList');

export const RoomDetailSchema = RoomSchema.extend({
  listings: z.array(
    z.object({
      server_name: z.string(),
      first_seen_at: z.string(),
      last_seen_at: z.string(),
      active: z.boolean(),
    }),
  ),
  members_history: z.array(z.object({ day: z.string(), num_joined_members: z.number().int() })),
  complexity_server: z.string().nullable(),
  complexity_at: z.string().nullable(),
  servers_in_room: z.number().int().nullable(),
}).openapi('RoomDetail');

const serverName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9.:[\]-]+$/);

export const RoomQuerySchema = z.object({
  q: z.string().max(256).optional().openapi({ description: 'Words of the name, alias, topic or server' }),
  server: listParam(serverName),
  language: listParam(z.string().regex(/^[a-z]{2,3}$/)),
  type: z.enum(['room', 'space']).optional(),
  join_rule: listParam(z.string().regex(/^[a-z_.]{1,32}$/)),
  min_members: intParam(0, 100_000_000),
  max_members: intParam(0, 100_000_000),
  max_complexity: numberParam(0, 100_000),
  joinable: z
    .union([z.literal('true'), z.string().regex(/^\d{1,6}(\.\d{1,6})?$/)])
    .optional()
    .transform((value) =>
      value === undefined ? undefined : value === 'true' ? (true as const) : Number(value),
    )
    .openapi({
      type: 'string',
      description:
        'Rooms a server with this limit_remote_rooms complexity can join ("true" = Synapse\'s default 1.0); unknown complexity counts as joinable',
    }),
  world_readable: boolParam,
  include_stale: boolParam.openapi({ description: 'Also rooms no server lists any more' }),
  sort: z.enum(ROOM_SORTS).optional(),
  limit: intParam(1, 100).default(20),
  cursor: cursorParam,
});
