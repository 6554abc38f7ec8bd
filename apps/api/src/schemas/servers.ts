import { SERVER_SORTS, SERVER_STATUSES } from '@atlas/shared/api';
import { z } from '@hono/zod-openapi';
import { boolParam, cursorParam, intParam, listParam } from '../openapi.ts';
import { RoomSchema } from './rooms.ts';

export const ServerSchema = z
  .object({
    name: z.string().openapi({ example: 'example.org' }),
    status: z.string().openapi({ description: 'new, online, offline or invalid' }),
    software_name: z.string().nullable(),
    software_version: z.string().nullable(),
    registration: z.string().openapi({ description: 'open, closed or unknown' }),
    registration_stages: z
      .array(z.string())
      .openapi({ description: 'Stages of the registration flows, e.g. m.login.email.identity' }),
    publishes: z
      .boolean()
      .nullable()
      .openapi({ description: 'Publishes its room directory over federation' }),
    room_count: z.number().int().nullable(),
    members: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Members of the rooms it lists now, added up' }),
    uptime_30d: z.number().nullable(),
    latency_ms: z.number().int().nullable(),
    contacts: z.array(
      z.object({ matrix_id: z.string().optional(), email_address: z.string().optional(), role: z.string() }),
    ),
    discovered_at: z.string(),
    last_seen_online_at: z.string().nullable(),
    last_probe_at: z.string().nullable(),
    room_cap_reached: z.boolean().openapi({
      description:
        'The last read of its directory stopped at the room cap (ATLAS_DIRECTORY_ROOM_CAP for servers the operator has not vouched for): Atlas keeps its biggest rooms up to the cap, not the rest',
    }),
  })
  .openapi('Server');

export const ServerListSchema = z
  .object({ servers: z.array(ServerSchema), next_cursor: z.string().nullable() })
  .openapi('ServerList');

export const ServerDetailSchema = ServerSchema.extend({
  support_page: z.string().nullable(),
  client_base_url: z.string().nullable(),
  found_via: z
    .string()
    .openapi({ description: 'seed, alias, room_id, query_directory, hierarchy, inbound...' }),
  found_from: z.string().nullable(),
  resolution: z.string().nullable().openapi({ description: 'The resolution step that located the server' }),
  delegated_to: z.string().nullable(),
  uptime: z.object({
    last_day: z.number().nullable(),
    last_7_days: z.number().nullable(),
    last_30_days: z.number().nullable(),
  }),
  uptime_days: z.array(z.object({ day: z.string(), share: z.number().nullable(), checks: z.number().int() })),
  last_crawl: z
    .object({
      started_at: z.string(),
      finished_at: z.string().nullable(),
      outcome: z.string(),
      stop_reason: z.string().nullable(),
      mode: z.string(),
      rooms: z.number().int(),
      error: z.string().nullable(),
    })
    .nullable(),
  checks: z.array(
    z.object({
      checked_at: z.string(),
      reachable: z.boolean(),
      latency_ms: z.number().int().nullable(),
      software_version: z.string().nullable(),
      registration: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
  rooms: z.array(RoomSchema),
}).openapi('ServerDetail');

export const ServerQuerySchema = z.object({
  status: listParam(z.enum(SERVER_STATUSES), 4),
  software: listParam(z.string().regex(/^[A-Za-z0-9 ._-]{1,64}$/)),
  registration: z.enum(['open', 'closed', 'unknown']).optional(),
  publishes: boolParam,
  min_rooms: intParam(0, 10_000_000),
  max_rooms: intParam(0, 10_000_000),
  min_uptime: z
    .string()
    .regex(/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/, 'must be a share between 0 and 1, e.g. 0.95')
    .transform(Number)
    .optional(),
  language: listParam(z.string().regex(/^[a-z]{2,3}$/)).openapi({
    description: 'Servers listing rooms in any of these languages (ISO 639-1)',
  }),
  sort: z.enum(SERVER_SORTS).optional().openapi({
    description:
      'rooms (most first, the default), recommended (small, open, reliable servers first, shuffled daily among equals), smallest (fewest rooms first), uptime, latency, newest, name',
  }),
  limit: intParam(1, 100).default(50),
  cursor: cursorParam,
});
