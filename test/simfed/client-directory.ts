import type { IncomingMessage } from 'node:http';
import { parseServerName } from '@atlas/shared/matrix';
import { fromBody, fromQuery, type ParsedRequest } from './directory-request.ts';
import type { Responder } from './responses.ts';
import type { SpecClientOptions } from './spec-client.ts';
import type { ServerRuntime } from './state.ts';

export interface ClientDirectoryContext {
  /** How a simulated server reaches others over federation (the simfed's DNS and CA). */
  outbound: SpecClientOptions;
  /** How long a remote directory page is kept (Synapse: 30 s). */
  remoteCacheMs: number;
}

type Credentials =
  | { ok: true }
  | { ok: false; errcode: 'M_MISSING_TOKEN' | 'M_UNKNOWN_TOKEN'; error: string };

/** Synapse's `get_access_token_from_request` and token lookup, for the one account each server has. */
function authenticate(req: IncomingMessage, query: URLSearchParams, runtime: ServerRuntime): Credentials {
  const header = req.headers.authorization;
  const param = query.get('access_token');
  let token: string;
  if (header !== undefined) {
    const parts = header.split(' ');
    if (param !== null) {
      return {
        ok: false,
        errcode: 'M_MISSING_TOKEN',
        error: 'Mixing Authorization headers and access_token query parameters.',
      };
    }
    if (parts[0] !== 'Bearer' || parts.length !== 2)
      return { ok: false, errcode: 'M_MISSING_TOKEN', error: 'Invalid Authorization header.' };
    token = parts[1] ?? '';
  } else if (param) {
    token = param;
  } else {
    return { ok: false, errcode: 'M_MISSING_TOKEN', error: 'Missing access token' };
  }
  return token === runtime.server.accessToken
    ? { ok: true }
    : { ok: false, errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.' };
}

function refuse(out: Responder, credentials: Credentials): void {
  if (credentials.ok) return;
  out.error(
    401,
    credentials.errcode,
    credentials.error,
    credentials.errcode === 'M_UNKNOWN_TOKEN' ? { soft_logout: false } : {},
  );
}

/**
 * `GET`/`POST /_matrix/client/v3/publicRooms` as Synapse's `PublicRoomListRestServlet` answers:
 * GET needs a token unless the server allows its directory without one
 * (`allow_public_rooms_without_auth`), and always for `?server=` (another server's directory,
 * fetched over federation); POST always needs one. The local directory lists every published room,
 * those that do not federate included.
 */
export async function clientPublicRooms(
  ctx: ClientDirectoryContext,
  runtime: ServerRuntime,
  req: IncomingMessage,
  query: URLSearchParams,
  out: Responder,
  readJson: () => Promise<Record<string, unknown> | null>,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST') return out.error(405, 'M_UNRECOGNIZED', 'Unrecognized request');
  const credentials = authenticate(req, query, runtime);
  const target = query.get('server');
  if (!credentials.ok && (method === 'POST' || !runtime.server.clientDirectory || target)) {
    return refuse(out, credentials);
  }
  let parsed: ParsedRequest;
  let filter: unknown;
  if (method === 'GET') {
    parsed = fromQuery(query, 'client');
  } else {
    const body = await readJson();
    if (body === null) return;
    parsed = fromBody(body, 'client');
    filter = body.filter;
  }
  if (!parsed.ok) return out.error(parsed.status, parsed.errcode, parsed.error);

  if (target && target !== runtime.server.name) {
    if (!parseServerName(target)) return out.error(400, 'M_INVALID_PARAM', `Invalid server name: ${target}`);
    const answer = await runtime
      .remoteDirectories(ctx.outbound, ctx.remoteCacheMs)
      .fetch({ target, limit: parsed.request.limit, since: parsed.request.since, filter });
    return out.json(answer.status, answer.body);
  }
  const page = runtime.directory.page(parsed.request);
  if (!page.ok) return out.error(page.status, page.errcode, page.error);
  out.json(200, page.body);
}
