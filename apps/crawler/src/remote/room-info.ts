import type { FederationClient } from '@atlas/shared/matrix';
import { parseServerName } from '@atlas/shared/matrix';
import type { HttpClient } from '@atlas/shared/net';
import { cleanAlias, cleanRoomId } from '@atlas/shared/text';
import { z } from 'zod';
import { type ClientEndpoint, clientApiRequest } from './client-api.ts';
import { HIERARCHY_MAX_BYTES, ROOM_TIMEOUTS, SMALL_MAX_BYTES } from './timeouts.ts';

/** Facts about one room, asked of servers that are in it, without joining. */

const MAX_SERVERS = 10_000;

const directorySchema = z.object({
  room_id: z.string().max(255),
  servers: z.array(z.string().max(255)).max(MAX_SERVERS),
});

export interface AliasAnswer {
  roomId: string;
  /** Valid server names, deduplicated: for Synapse, every host in the room. */
  servers: string[];
}

function parseAliasAnswer(body: unknown): AliasAnswer | null {
  const parsed = directorySchema.safeParse(body);
  if (!parsed.success) return null;
  const roomId = cleanRoomId(parsed.data.room_id);
  if (!roomId) return null;
  const servers = new Set<string>();
  for (const server of parsed.data.servers) {
    const name = parseServerName(server)?.name;
    if (name) servers.add(name);
  }
  return { roomId, servers: [...servers] };
}

/**
 * `GET /_matrix/federation/v1/query/directory?room_alias=` on the alias's server (signed): the
 * room id and the servers in the room. Null when the alias is unknown or the answer is invalid.
 */
export async function queryAliasOverFederation(
  federation: FederationClient,
  alias: string,
  aliasServer: string,
  signal?: AbortSignal,
): Promise<AliasAnswer | null> {
  const response = await federation.request(aliasServer, {
    method: 'GET',
    path: '/_matrix/federation/v1/query/directory',
    query: { room_alias: alias },
    signed: true,
    maxBytes: SMALL_MAX_BYTES,
    timeouts: ROOM_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  return response.status === 200 ? parseAliasAnswer(response.body) : null;
}

/** The same through the client API (`GET /_matrix/client/v3/directory/room/{alias}`, no token needed). */
export async function queryAliasOverClientApi(
  http: HttpClient,
  endpoints: readonly ClientEndpoint[],
  alias: string,
  signal?: AbortSignal,
): Promise<AliasAnswer | null> {
  const response = await clientApiRequest(
    http,
    endpoints,
    `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`,
    {
      method: 'GET',
      headers: { accept: 'application/json' },
      maxBytes: SMALL_MAX_BYTES,
      timeouts: ROOM_TIMEOUTS,
      ...(signal ? { signal } : {}),
    },
  );
  if (response.status !== 200) return null;
  try {
    return parseAliasAnswer(response.json());
  } catch {
    return null;
  }
}

const complexitySchema = z.object({ v1: z.number().finite().nonnegative().max(1_000_000) });

/**
 * `GET /_matrix/federation/unstable/rooms/{roomId}/complexity` (signed; Synapse answers for public
 * or world-readable rooms it is in, else 404): Synapse's v1, current state events / 500. Null when
 * the server does not answer with one.
 */
export async function fetchComplexity(
  federation: FederationClient,
  serverName: string,
  roomId: string,
  signal?: AbortSignal,
): Promise<number | null> {
  const response = await federation.request(serverName, {
    method: 'GET',
    path: `/_matrix/federation/unstable/rooms/${encodeURIComponent(roomId)}/complexity`,
    signed: true,
    maxBytes: SMALL_MAX_BYTES,
    timeouts: ROOM_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200) return null;
  const parsed = complexitySchema.safeParse(response.body);
  return parsed.success ? Math.round(parsed.data.v1 * 100) / 100 : null;
}

const hierarchySchema = z.object({
  room: z.object({ children_state: z.array(z.unknown()).max(MAX_SERVERS).optional() }),
  children: z.array(z.unknown()).max(MAX_SERVERS).optional(),
});
const childStateSchema = z.object({
  state_key: z.string().max(255),
  content: z.object({ via: z.array(z.string().max(255)).max(100).optional() }),
});
const childRoomSchema = z.object({
  room_id: z.string().max(255),
  canonical_alias: z.string().max(255).optional(),
});

export interface HierarchyAnswer {
  /** Child room ids with the servers their `m.space.child` events name as `via`. */
  children: { roomId: string; via: string[] }[];
  /** Canonical aliases of the children the server could describe. */
  childAliases: string[];
}

/**
 * `GET /_matrix/federation/v1/hierarchy/{roomId}` (signed) on a server in the space: its children
 * and the `via` servers that lead to them. Null when the server does not answer with a hierarchy.
 */
export async function fetchHierarchy(
  federation: FederationClient,
  serverName: string,
  roomId: string,
  signal?: AbortSignal,
): Promise<HierarchyAnswer | null> {
  const response = await federation.request(serverName, {
    method: 'GET',
    path: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}`,
    query: { suggested_only: 'false' },
    signed: true,
    maxBytes: HIERARCHY_MAX_BYTES,
    timeouts: ROOM_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200) return null;
  const parsed = hierarchySchema.safeParse(response.body);
  if (!parsed.success) return null;
  const children: HierarchyAnswer['children'] = [];
  for (const raw of parsed.data.room.children_state ?? []) {
    const child = childStateSchema.safeParse(raw);
    if (!child.success) continue;
    const childId = cleanRoomId(child.data.state_key);
    if (!childId) continue;
    const via = (child.data.content.via ?? [])
      .map((server) => parseServerName(server)?.name)
      .filter((name): name is string => name !== undefined);
    children.push({ roomId: childId, via });
  }
  const childAliases: string[] = [];
  for (const raw of parsed.data.children ?? []) {
    const child = childRoomSchema.safeParse(raw);
    const alias = child.success ? cleanAlias(child.data.canonical_alias) : null;
    if (alias) childAliases.push(alias);
  }
  return { children, childAliases };
}
