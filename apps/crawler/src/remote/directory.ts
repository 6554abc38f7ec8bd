import type { FederationClient } from '@atlas/shared/matrix';
import type { HttpClient } from '@atlas/shared/net';
import { DirectoryFormatError, type DirectoryPage, parseDirectoryPage } from '../directory/public-rooms.ts';
import { type ClientEndpoint, clientApiRequest } from './client-api.ts';
import { DirectoryRefusedError, describeMatrixError, RemoteAnswerError } from './errors.ts';
import { PAGE_MAX_BYTES, PAGE_TIMEOUTS } from './timeouts.ts';

export interface PageRequest {
  limit: number;
  since: string | undefined;
  /** Epoch ms; reading stops with `read_deadline` past it (the crawl's wall-time cap). */
  deadline: number;
  signal?: AbortSignal | undefined;
  /**
   * Only rooms whose name, topic or canonical alias contain this (`filter.generic_search_term`):
   * the request becomes a `POST`, the only form that carries a filter. Federation and
   * via-homeserver reads only: Synapse answers the client API's `POST` only with a token.
   */
  searchTerm?: string | undefined;
}

/** The `POST` body of a filtered directory request. */
function searchBody(request: PageRequest & { searchTerm: string }) {
  return {
    limit: request.limit,
    ...(request.since !== undefined ? { since: request.since } : {}),
    filter: { generic_search_term: request.searchTerm },
  };
}

/** A directory answer: a page, or a refusal (401/403), or an error for anything else. */
function pageFrom(status: number, body: unknown, what: string): DirectoryPage {
  if (status === 200) {
    if (body === undefined)
      throw new DirectoryFormatError(`${what} answered 200 with a body that is not JSON`);
    return parseDirectoryPage(body);
  }
  const { errcode, text } = describeMatrixError(status, body);
  if (status === 401 || status === 403)
    throw new DirectoryRefusedError(status, errcode, `${what} refused: ${text}`);
  throw new RemoteAnswerError(status, `${what} answered ${text}`);
}

/**
 * One page of `GET /_matrix/federation/v1/publicRooms` (server-server API "Public Room
 * Directory"), signed, or of its filtered `POST` form. Synapse caps pages at 100 rooms whatever
 * `limit` says.
 */
export async function fetchFederationPage(
  federation: FederationClient,
  serverName: string,
  request: PageRequest,
): Promise<DirectoryPage> {
  const { searchTerm } = request;
  const response = await federation.request(serverName, {
    path: '/_matrix/federation/v1/publicRooms',
    ...(searchTerm === undefined
      ? { method: 'GET', query: { limit: request.limit, since: request.since } }
      : { method: 'POST', body: searchBody({ ...request, searchTerm }) }),
    signed: true,
    maxBytes: PAGE_MAX_BYTES,
    timeouts: PAGE_TIMEOUTS,
    deadline: request.deadline,
    ...(request.signal ? { signal: request.signal } : {}),
  });
  return pageFrom(response.status, response.body, 'the federation directory');
}

/**
 * One page of the unauthenticated client API directory, `GET /_matrix/client/v3/publicRooms`,
 * which servers with `allow_public_rooms_without_auth` answer without a token.
 */
export async function fetchClientPage(
  http: HttpClient,
  endpoints: readonly ClientEndpoint[],
  request: PageRequest,
): Promise<DirectoryPage> {
  const query = new URLSearchParams({ limit: String(request.limit) });
  if (request.since !== undefined) query.set('since', request.since);
  const response = await clientApiRequest(
    http,
    endpoints,
    `/_matrix/client/v3/publicRooms?${query.toString()}`,
    {
      method: 'GET',
      headers: { accept: 'application/json' },
      maxBytes: PAGE_MAX_BYTES,
      timeouts: PAGE_TIMEOUTS,
      deadline: request.deadline,
      ...(request.signal ? { signal: request.signal } : {}),
    },
  );
  let body: unknown;
  try {
    body = response.body.length > 0 ? response.json() : undefined;
  } catch {
    body = undefined;
  }
  return pageFrom(response.status, body, 'the client API directory');
}
