import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonValue } from '@atlas/shared/matrix';
import type { RequestAuthenticator } from './auth.ts';
import { type ClientDirectoryContext, clientPublicRooms } from './client-directory.ts';
import { fromBody, fromQuery } from './directory-request.ts';
import { answerFederationMedia, answerLegacyMedia, mediaApiOf } from './media.ts';
import type { SimRoom } from './model.ts';
import { Responder } from './responses.ts';
import { complexityOf, roomEntry } from './room-entry.ts';
import type { ServerRuntime, SimState } from './state.ts';

const MAX_REQUEST_BODY = 64 * 1024;
/** A fixed timestamp for generated events, so answers do not change between runs. */
const EVENT_TS = 1_700_000_000_000;

export interface HandlerContext extends ClientDirectoryContext {
  state: SimState;
  auth: RequestAuthenticator;
  /** The hostname the request was routed by (a server name's host, or a delegated host). */
  routedHostname: string;
  /** Runs `fn` after `ms` unless the simfed closes first (trickling answers). */
  later(ms: number, fn: () => void): void;
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

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rooms Synapse shows to federation: world readable or joinable without invite (`is_room_world_readable_or_publicly_joinable`). */
function isPubliclyVisible(room: SimRoom): boolean {
  return room.worldReadable || room.joinRule === 'public';
}

/**
 * Rooms Synapse describes in a space hierarchy: also knock and knock_restricted rooms, which anyone
 * may ask to join (`_is_local_room_accessible` in synapse/handlers/room_summary.py).
 */
function isHierarchyVisible(room: SimRoom): boolean {
  return isPubliclyVisible(room) || room.joinRule === 'knock' || room.joinRule === 'knock_restricted';
}

/**
 * Answers one request for one simulated server, with the endpoints, error bodies and headers of
 * Synapse 1.163 (including where Synapse answers a malformed request with a 500). Signed
 * endpoints verify X-Matrix first, as Synapse's servlets do.
 */
export async function handleRequest(
  ctx: HandlerContext,
  runtime: ServerRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const server = runtime.server;
  const out = new Responder(res, server);
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
    out.error(result.status, result.errcode, result.error);
    return null;
  };

  /** The body as a JSON object, or null once the error is sent. */
  const readJson = async (): Promise<Record<string, unknown> | null> => {
    const body = await readBody(req);
    if (body === null) {
      out.error(413, 'M_TOO_LARGE', 'Request body too large');
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      out.error(400, 'M_NOT_JSON', 'Content not JSON.');
      return null;
    }
    if (!isObject(value)) {
      out.error(400, 'M_BAD_JSON', 'Content must be a JSON object.');
      return null;
    }
    return value;
  };

  // ---- well-known (served on the server's own hostname, port 443) ----
  if (path === '/.well-known/matrix/server' && method === 'GET') {
    if (server.delegatedTo && ctx.routedHostname === server.hostname) {
      // A delegation file, as a web server in front of the homeserver serves it.
      out.raw(200, JSON.stringify({ 'm.server': server.delegatedTo }), {
        'content-type': 'application/json',
        'cache-control': 'max-age=3600',
      });
    } else {
      out.noServerWellKnown();
    }
    return;
  }
  if (path === '/.well-known/matrix/client' && method === 'GET') {
    // Synapse derives it from `public_baseurl`, which always ends with a slash.
    if (server.clientWellKnown)
      out.json(200, JSON.stringify({ 'm.homeserver': { base_url: `https://${server.hostname}/` } }));
    else out.error(404, 'M_NOT_FOUND', '.well-known not available');
    return;
  }
  if (path === '/.well-known/matrix/support' && method === 'GET') {
    // Synapse serves no support file: a web server does, or nothing (Twisted's HTML 404).
    if (server.support) out.json(200, JSON.stringify(server.support));
    else out.noResource();
    return;
  }

  // ---- keys and version (no auth) ----
  if ((path === '/_matrix/key/v2/server' || path.startsWith('/_matrix/key/v2/server/')) && method === 'GET') {
    out.json(200, runtime.keyDocumentJson());
    return;
  }
  if (path === '/_matrix/federation/v1/version' && method === 'GET') {
    out.json(
      200,
      JSON.stringify({ server: { name: server.software.name, version: server.software.version } }),
    );
    return;
  }

  // ---- client API ----
  if (path === '/_matrix/client/versions' && method === 'GET') {
    out.json(
      200,
      JSON.stringify({ versions: ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.11', 'v1.12'] }),
      {
        'cache-control': 'public, max-age=600, s-maxage=3600, stale-while-revalidate=600',
        vary: 'Authorization',
      },
    );
    return;
  }
  if (
    (path === '/_matrix/client/v3/register' || path === '/_matrix/client/r0/register') &&
    method === 'POST'
  ) {
    if ((await readJson()) === null) return;
    if (!server.registration.open) return out.error(403, 'M_FORBIDDEN', 'Registration has been disabled');
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
    out.json(
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
    return clientPublicRooms(ctx, runtime, req, query, out, readJson);
  }

  // ---- federation API (signed) ----
  if (path === '/_matrix/federation/v1/publicRooms') {
    if (method !== 'GET' && method !== 'POST')
      return out.error(405, 'M_UNRECOGNIZED', 'Unrecognized request');
    let content: Record<string, unknown> | undefined;
    if (method === 'POST') {
      const body = await readJson();
      if (body === null) return;
      content = body;
    }
    const origin = await signed(content as JsonValue | undefined);
    if (origin === null) return;
    if (!server.publishes) return out.error(403, 'M_FORBIDDEN', `Federation denied with ${origin}.`);
    const parsed = content ? fromBody(content, 'federation') : fromQuery(query, 'federation');
    if (!parsed.ok) return out.error(parsed.status, parsed.errcode, parsed.error);
    if (!content) await runtime.hold?.pass();
    const page = runtime.directory.page(parsed.request);
    if (!page.ok) return out.error(page.status, page.errcode, page.error);
    return out.json(200, page.body);
  }

  if (path === '/_matrix/federation/v1/query/directory' && method === 'GET') {
    if ((await signed(undefined)) === null) return;
    const alias = query.get('room_alias');
    // Synapse reads `args["room_alias"]` unchecked: without it, a KeyError and a 500.
    if (alias === null) return out.internalError();
    // RoomAlias.from_string (synapse/types/__init__.py).
    if (!alias.startsWith('#'))
      return out.error(400, 'M_INVALID_PARAM', "Expected RoomAlias string to start with '#'");
    const colon = alias.indexOf(':');
    if (colon < 0)
      return out.error(400, 'M_INVALID_PARAM', "Expected RoomAlias of the form '#localname:domain'");
    if (alias.slice(colon + 1) !== server.name) {
      return out.error(400, 'M_UNKNOWN', 'Room Alias is not hosted on this homeserver');
    }
    const room = ctx.state.roomByAlias(alias);
    if (!room) return out.error(404, 'M_NOT_FOUND', `Room alias '${alias}' not found`);
    const servers = [server.name, ...room.residents.filter((s) => s !== server.name)];
    out.json(200, JSON.stringify({ room_id: room.roomId, servers }));
    return;
  }

  if (segments.length === 6 && path.startsWith('/_matrix/federation/v1/hierarchy/') && method === 'GET') {
    if ((await signed(undefined)) === null) return;
    const roomId = decodePathSegment(segments[5] ?? '');
    const room = ctx.state.federation.rooms.get(roomId);
    if (!room?.residents.includes(server.name) || !isHierarchyVisible(room)) {
      // SynapseError(404, ...) without an errcode: M_UNKNOWN, not M_NOT_FOUND.
      return out.error(404, 'M_UNKNOWN', `Unknown room: ${roomId}`);
    }
    out.json(200, JSON.stringify(hierarchy(ctx, server.name, room)));
    return;
  }

  if (
    segments.length === 7 &&
    path.startsWith('/_matrix/federation/unstable/rooms/') &&
    segments[6] === 'complexity' &&
    method === 'GET'
  ) {
    if ((await signed(undefined)) === null) return;
    const room = ctx.state.room(decodePathSegment(segments[5] ?? ''));
    // Knock and knock_restricted rooms are listed, but only public or world-readable ones answer.
    if (!room?.residents.includes(server.name) || !isPubliclyVisible(room)) {
      return out.error(404, 'M_INVALID_PARAM', 'Room not found');
    }
    out.json(200, JSON.stringify({ v1: complexityOf(room) }));
    return;
  }

  // ---- media (server-server API "Content Repository"; the legacy client-server media API) ----
  const federationMedia = /^\/_matrix\/federation\/v1\/media\/(thumbnail|download)\/([^/]*)$/.exec(path);
  if (federationMedia && method === 'GET' && mediaApiOf(server.software) !== 'legacy') {
    if ((await signed(undefined)) === null) return;
    if (federationMedia[1] === 'thumbnail') {
      // parse_integer(request, ..., required=True) in Synapse's servlet.
      for (const name of ['width', 'height']) {
        const value = query.get(name);
        if (value === null)
          return out.error(400, 'M_MISSING_PARAM', `Missing integer query parameter '${name}'`);
        if (!/^-?\d+$/.test(value)) {
          return out.error(400, 'M_INVALID_PARAM', `Query parameter '${name}' must be an integer`);
        }
      }
    }
    const mediaId = decodePathSegment(federationMedia[2] ?? '');
    const kind = ctx.state.mediaKind(server.name, mediaId);
    if (!kind) return out.error(404, 'M_NOT_FOUND', `Not found '${path}'`);
    return answerFederationMedia(
      ctx.state.mediaLibrary,
      out.res,
      out.serverHeader(),
      server.name,
      mediaId,
      kind,
      ctx.later,
    );
  }
  const legacyMedia = /^\/_matrix\/media\/(?:v3|r0)\/(thumbnail|download)\/([^/]*)\/([^/]*)$/.exec(path);
  if (legacyMedia && method === 'GET') {
    const serverName = decodePathSegment(legacyMedia[2] ?? '');
    const mediaId = decodePathSegment(legacyMedia[3] ?? '');
    const kind = serverName === server.name ? ctx.state.mediaKind(server.name, mediaId) : undefined;
    // Synapse with authenticated media (1.120 on) freezes these endpoints: media uploaded since
    // is "Not found" here, whatever it is.
    if (!kind || mediaApiOf(server.software) === 'authenticated')
      return out.error(404, 'M_NOT_FOUND', 'Not found');
    return answerLegacyMedia(ctx.state.mediaLibrary, out.res, out.serverHeader(), mediaId, kind, ctx.later);
  }

  if (path.startsWith('/_matrix/')) return out.error(404, 'M_UNRECOGNIZED', 'Unrecognized request');
  out.noResource();
}

/** `GET /_matrix/federation/v1/hierarchy/{roomId}` (server-server API, "Spaces"). */
function hierarchy(ctx: HandlerContext, serverName: string, room: SimRoom): Record<string, unknown> {
  const rooms = ctx.state.federation.rooms;
  const entry = (r: SimRoom) => ({
    ...roomEntry(r),
    room_version: r.roomVersion,
    // Rooms with a restricted kind of join rule name the rooms whose members may join.
    ...(r.joinRule === 'knock_restricted' ? { allowed_room_ids: r.allowedRoomIds } : {}),
  });
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
  if (path.startsWith('/_matrix/federation/v1/media/thumbnail/'))
    return '/_matrix/federation/v1/media/thumbnail/{mediaId}';
  if (path.startsWith('/_matrix/federation/v1/media/download/'))
    return '/_matrix/federation/v1/media/download/{mediaId}';
  if (path.startsWith('/_matrix/media/'))
    return `${path.split('/').slice(0, 5).join('/')}/{serverName}/{mediaId}`;
  return path.length > 80 ? `${path.slice(0, 80)}...` : path;
}
