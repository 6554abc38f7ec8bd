import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonValue } from '@atlas/shared/matrix';
import type { RequestAuthenticator } from './auth.ts';
import type { PageRequest } from './directory.ts';
import type { SimRoom } from './model.ts';
import { complexityOf, roomEntry } from './room-entry.ts';
import type { ServerRuntime, SimState } from './state.ts';

const MAX_REQUEST_BODY = 64 * 1024;
/** A fixed timestamp for generated events, so answers do not change between runs. */
const EVENT_TS = 1_700_000_000_000;

export interface HandlerContext {
  state: SimState;
  auth: RequestAuthenticator;
  /** The hostname the request was routed by (a server name's host, or a delegated host). */
  routedHostname: string;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-cache, no-store, must-revalidate',
    ...headers,
  });
  res.end(body);
}

function error(res: ServerResponse, status: number, errcode: string, message: string): void {
  send(res, status, JSON.stringify({ errcode, error: message }));
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) {
        resolve(null);
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
  });
}

function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function intParam(value: string | null): number | undefined | 'bad' {
  if (value === null || value === '') return undefined;
  return /^-?\d{1,9}$/.test(value) ? Number(value) : 'bad';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rooms Synapse shows to federation: world readable or joinable without invite (`is_room_world_readable_or_publicly_joinable`). */
function isPubliclyVisible(room: SimRoom): boolean {
  return room.worldReadable || room.joinRule === 'public';
}

/**
 * Rooms Synapse describes in a space hierarchy: also knock rooms, which anyone may ask to join
 * (`_is_local_room_accessible` in synapse/handlers/room_summary.py).
 */
function isHierarchyVisible(room: SimRoom): boolean {
  return isPubliclyVisible(room) || room.joinRule === 'knock';
}

/**
 * Answers one request for one simulated server, with the endpoints and error bodies of the
 * Matrix spec and Synapse. Signed endpoints verify X-Matrix first, as Synapse's servlets do.
 */
export async function handleRequest(
  ctx: HandlerContext,
  runtime: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const server = runtime.server;
  const method = req.method ?? 'GET';
  // The request target exactly as it came on the wire: it is what the origin signed.
  const uri = req.url ?? '/';
  const queryAt = uri.indexOf('?');
  const path = queryAt >= 0 ? uri.slice(0, queryAt) : uri;
  const query = new URLSearchParams(queryAt >= 0 ? uri.slice(queryAt + 1) : '');
  const segments = path.split('/');
  const endpoint = `${method} ${normalizeEndpoint(path)}`;
  runtime.stats.byEndpoint[endpoint] = (runtime.stats.byEndpoint[endpoint] ?? 0) + 1;

  const signed = async (content: JsonValue | undefined): Promise<string | null> => {
    const result = await ctx.auth.authenticate({
      method,
      uri,
      authorization: req.headers.authorization,
      destination: server.name,
      content,
    });
    if (result.ok) {
      runtime.stats.verified++;
      return result.origin;
    }
    runtime.stats.rejected++;
    error(res, result.status, result.errcode, result.error);
    return null;
  };

  const jsonBody = async (): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false }> => {
    const body = await readBody(req);
    if (body === null) {
      error(res, 413, 'M_TOO_LARGE', 'Request body too large');
      return { ok: false };
    }
    try {
      const value: unknown = JSON.parse(body.toString('utf8') || '{}');
      if (!isObject(value)) {
        error(res, 400, 'M_BAD_JSON', 'Content must be a JSON object.');
        return { ok: false };
      }
      return { ok: true, value };
    } catch {
      error(res, 400, 'M_NOT_JSON', 'Content not JSON.');
      return { ok: false };
    }
  };

  // ---- well-known (served on the server's own hostname, port 443) ----
  if (path === '/.well-known/matrix/server' && method === 'GET') {
    if (server.delegatedTo && ctx.routedHostname === server.hostname) {
      send(res, 200, JSON.stringify({ 'm.server': server.delegatedTo }), { 'cache-control': 'max-age=3600' });
    } else {
      error(res, 404, 'M_NOT_FOUND', 'No .well-known configured');
    }
    return;
  }
  if (path === '/.well-known/matrix/client' && method === 'GET') {
    if (server.clientWellKnown) {
      send(res, 200, JSON.stringify({ 'm.homeserver': { base_url: `https://${server.hostname}` } }));
    } else {
      error(res, 404, 'M_NOT_FOUND', 'No .well-known configured');
    }
    return;
  }
  if (path === '/.well-known/matrix/support' && method === 'GET') {
    if (server.support) send(res, 200, JSON.stringify(server.support));
    else error(res, 404, 'M_NOT_FOUND', 'No support information configured');
    return;
  }

  // ---- keys and version (no auth) ----
  if ((path === '/_matrix/key/v2/server' || path.startsWith('/_matrix/key/v2/server/')) && method === 'GET') {
    send(res, 200, runtime.keyDocumentJson());
    return;
  }
  if (path === '/_matrix/federation/v1/version' && method === 'GET') {
    send(
      res,
      200,
      JSON.stringify({ server: { name: server.software.name, version: server.software.version } }),
    );
    return;
  }

  // ---- client API ----
  if (path === '/_matrix/client/versions' && method === 'GET') {
    send(
      res,
      200,
      JSON.stringify({ versions: ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.11', 'v1.12'] }),
    );
    return;
  }
  if (
    (path === '/_matrix/client/v3/register' || path === '/_matrix/client/r0/register') &&
    method === 'POST'
  ) {
    const body = await jsonBody();
    if (!body.ok) return;
    if (!server.registration.open) {
      error(res, 403, 'M_FORBIDDEN', 'Registration has been disabled');
      return;
    }
    // User-interactive authentication: the first request learns the flows (client-server API
    // "User-interactive authentication API").
    const params: Record<string, unknown> = {};
    const stages = new Set(server.registration.flows.flat());
    if (stages.has('m.login.recaptcha'))
      params['m.login.recaptcha'] = { public_key: 'simfed-recaptcha-public-key' };
    if (stages.has('m.login.terms')) {
      params['m.login.terms'] = {
        policies: {
          privacy_policy: {
            version: '1.0',
            en: { name: 'Privacy Policy', url: `https://${server.hostname}/privacy` },
          },
        },
      };
    }
    send(
      res,
      401,
      JSON.stringify({
        session: `simfed${server.index}${runtime.stats.requests}`,
        flows: server.registration.flows.map((s) => ({ stages: s })),
        params,
      }),
    );
    return;
  }
  if (path === '/_matrix/client/v3/publicRooms' || path === '/_matrix/client/r0/publicRooms') {
    if (method === 'POST' || req.headers.authorization) {
      // Atlas holds no account here; any token is unknown, and POST always needs one.
      error(
        res,
        401,
        req.headers.authorization ? 'M_UNKNOWN_TOKEN' : 'M_MISSING_TOKEN',
        req.headers.authorization ? 'Invalid access token passed.' : 'Missing access token',
      );
      return;
    }
    if (method !== 'GET') return error(res, 405, 'M_UNRECOGNIZED', 'Unrecognized request');
    if (!server.clientDirectory) {
      error(res, 401, 'M_MISSING_TOKEN', 'Missing access token');
      return;
    }
    const target = query.get('server');
    if (target && target.toLowerCase() !== server.name) {
      // Synapse would proxy over federation; the simulator only answers for itself.
      error(res, 400, 'M_UNKNOWN', 'Simulated servers do not proxy other directories');
      return;
    }
    return servePage(res, runtime, query, undefined);
  }

  // ---- federation API (signed) ----
  if (path === '/_matrix/federation/v1/publicRooms') {
    if (method === 'GET') {
      const origin = await signed(undefined);
      if (origin === null) return;
      if (!server.publishes) return error(res, 403, 'M_FORBIDDEN', `Federation denied with ${origin}.`);
      return servePage(res, runtime, query, undefined);
    }
    if (method === 'POST') {
      const body = await jsonBody();
      if (!body.ok) return;
      const origin = await signed(body.value as JsonValue);
      if (origin === null) return;
      if (!server.publishes) return error(res, 403, 'M_FORBIDDEN', `Federation denied with ${origin}.`);
      return servePage(res, runtime, undefined, body.value);
    }
    return error(res, 405, 'M_UNRECOGNIZED', 'Unrecognized request');
  }

  if (path === '/_matrix/federation/v1/query/directory' && method === 'GET') {
    if ((await signed(undefined)) === null) return;
    const alias = query.get('room_alias');
    if (!alias) return error(res, 400, 'M_MISSING_PARAM', 'Missing string query parameter room_alias');
    const colon = alias.indexOf(':');
    if (!alias.startsWith('#') || colon < 0) return error(res, 400, 'M_INVALID_PARAM', 'Invalid room alias');
    if (alias.slice(colon + 1).toLowerCase() !== server.name) {
      return error(res, 400, 'M_UNKNOWN', 'Room Alias is not hosted on this homeserver');
    }
    const roomId = ctx.state.aliases.get(alias.toLowerCase());
    const room = roomId ? ctx.state.federation.rooms.get(roomId) : undefined;
    if (!room) return error(res, 404, 'M_NOT_FOUND', `Room alias '${alias}' not found`);
    const servers = [server.name, ...room.residents.filter((s) => s !== server.name)];
    send(res, 200, JSON.stringify({ room_id: room.roomId, servers }));
    return;
  }

  if (segments.length === 6 && path.startsWith('/_matrix/federation/v1/hierarchy/') && method === 'GET') {
    if ((await signed(undefined)) === null) return;
    const roomId = decodePathSegment(segments[5] ?? '');
    const room = roomId ? ctx.state.federation.rooms.get(roomId) : undefined;
    if (!roomId || !room?.residents.includes(server.name) || !isHierarchyVisible(room)) {
      return error(res, 404, 'M_NOT_FOUND', `Unknown room: ${roomId ?? ''}`);
    }
    send(res, 200, JSON.stringify(hierarchy(ctx, server.name, room)));
    return;
  }

  if (
    segments.length === 7 &&
    path.startsWith('/_matrix/federation/unstable/rooms/') &&
    segments[6] === 'complexity' &&
    method === 'GET'
  ) {
    if ((await signed(undefined)) === null) return;
    const roomId = decodePathSegment(segments[5] ?? '');
    const room = roomId ? ctx.state.federation.rooms.get(roomId) : undefined;
    if (!room?.residents.includes(server.name) || !isPubliclyVisible(room)) {
      return error(res, 404, 'M_INVALID_PARAM', 'Room not found');
    }
    send(res, 200, JSON.stringify({ v1: complexityOf(room) }));
    return;
  }

  if (path.startsWith('/_matrix/')) {
    error(res, 404, 'M_UNRECOGNIZED', 'Unrecognized request');
    return;
  }
  send(res, 404, '<html><body><h1>404 Not Found</h1></body></html>', { 'content-type': 'text/html' });
}

function servePage(
  res: ServerResponse,
  runtime: ServerRuntime,
  query: URLSearchParams | undefined,
  body: Record<string, unknown> | undefined,
): void {
  let request: PageRequest;
  if (query) {
    const limit = intParam(query.get('limit'));
    if (limit === 'bad' || (typeof limit === 'number' && limit < 0)) {
      error(res, 400, 'M_INVALID_PARAM', 'Query parameter "limit" must be a non-negative integer');
      return;
    }
    request = { limit, since: query.get('since') ?? undefined };
  } else {
    const b = body ?? {};
    const limit = b.limit;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
      error(res, 400, 'M_INVALID_PARAM', '"limit" must be a non-negative integer');
      return;
    }
    if (b.since !== undefined && b.since !== null && typeof b.since !== 'string') {
      error(res, 400, 'M_INVALID_PARAM', '"since" must be a string');
      return;
    }
    const filter = isObject(b.filter) ? b.filter : {};
    const term = typeof filter.generic_search_term === 'string' ? filter.generic_search_term : undefined;
    const roomTypes = Array.isArray(filter.room_types)
      ? filter.room_types.filter((t): t is string | null => t === null || typeof t === 'string')
      : undefined;
    request = {
      limit: typeof limit === 'number' ? limit : undefined,
      since: typeof b.since === 'string' ? b.since : undefined,
      searchTerm: term,
      roomTypes,
    };
  }
  const page = runtime.directory.page(request);
  if (!page.ok) {
    error(res, page.status, page.errcode, page.error);
    return;
  }
  send(res, 200, page.body);
}

/** `GET /_matrix/federation/v1/hierarchy/{roomId}` (server-server API, "Spaces"). */
function hierarchy(ctx: HandlerContext, serverName: string, room: SimRoom): Record<string, unknown> {
  const rooms = ctx.state.federation.rooms;
  const entry = (r: SimRoom) => ({ ...roomEntry(r), room_version: r.roomVersion });
  const children: Record<string, unknown>[] = [];
  const inaccessible: string[] = [];
  for (const child of room.children) {
    const childRoom = rooms.get(child.roomId);
    // Only rooms this server is in can be described; the rest are left for the caller to ask
    // the `via` servers about (spec: children the server cannot see are simply omitted).
    if (!childRoom?.residents.includes(serverName)) continue;
    if (!isHierarchyVisible(childRoom)) {
      inaccessible.push(childRoom.roomId);
      continue;
    }
    children.push(entry(childRoom));
  }
  return {
    room: {
      ...entry(room),
      children_state: room.children.map((child) => ({
        type: 'm.space.child',
        state_key: child.roomId,
        content: { via: child.via },
        sender: `@admin:${serverName}`,
        origin_server_ts: EVENT_TS,
      })),
    },
    children,
    inaccessible_children: inaccessible,
  };
}

/** Groups per-room paths so counters stay readable. */
function normalizeEndpoint(path: string): string {
  if (path.startsWith('/_matrix/federation/v1/hierarchy/'))
    return '/_matrix/federation/v1/hierarchy/{roomId}';
  if (path.startsWith('/_matrix/federation/unstable/rooms/'))
    return '/_matrix/federation/unstable/rooms/{roomId}/complexity';
  if (path.startsWith('/_matrix/key/v2/server/')) return '/_matrix/key/v2/server/{keyId}';
  return path.length > 80 ? `${path.slice(0, 80)}...` : path;
}
