import { politenessKeyOf, type ResolvedServer } from '@atlas/shared/matrix';
import { type HttpClient, HttpError, type HttpRequest, type HttpResponse } from '@atlas/shared/net';

/**
 * Where a server's client-server API answers. The spec's answer is `/.well-known/matrix/client`;
 * without one, clients try `https://<server name>`. Many homeservers also serve the client API on
 * their federation listener (Synapse's `client` and `federation` resources on one port), so that
 * endpoint, reached the way federation requests are (resolved target, Host header, TLS name), is
 * the last resort.
 */
export interface ClientEndpoint {
  baseUrl: string;
  /** The server's politeness key, whatever host the base URL names (ADR 0009). */
  politenessKey?: string;
  route?: { connectTo: { host: string; port: number }; tlsServername: string; hostHeader: string };
}

export function clientEndpoints(
  serverName: string,
  wellKnownBaseUrl: string | null,
  resolved: ResolvedServer | undefined,
): ClientEndpoint[] {
  const politenessKey = politenessKeyOf(serverName);
  if (wellKnownBaseUrl) return [{ baseUrl: wellKnownBaseUrl, politenessKey }];
  const endpoints: ClientEndpoint[] = [{ baseUrl: `https://${serverName}`, politenessKey }];
  if (resolved) {
    const hostPort = serverName.includes(':') && !serverName.endsWith(']') ? serverName : `${serverName}:443`;
    const target = `${resolved.connectHost}:${resolved.connectPort}`;
    if (target !== hostPort) {
      endpoints.push({
        baseUrl: `https://${resolved.hostHeader}`,
        politenessKey,
        route: {
          connectTo: { host: resolved.connectHost, port: resolved.connectPort },
          tlsServername: resolved.tlsServername,
          hostHeader: resolved.hostHeader,
        },
      });
    }
  }
  return endpoints;
}

/** Failures that mean "nothing answers there": the next endpoint is tried. */
const NOT_THERE = new Set<HttpError['code']>([
  'dns_failed',
  'connect_failed',
  'connect_timeout',
  'tls_failed',
  'blocked_address',
]);

/** An answer from a Matrix client API (a JSON body, or a status Matrix endpoints use), not a web page. */
function isMatrixAnswer(response: HttpResponse): boolean {
  if (response.status === 200 || response.status === 401 || response.status === 403) return true;
  const type = response.headers['content-type'];
  return typeof type === 'string' && type.includes('json');
}

/**
 * Sends `path` (with query) to the first endpoint that answers like a Matrix server; transport
 * failures and non-Matrix answers (a web page's 404) move on to the next. Throws the first
 * transport failure when no endpoint answers at all.
 */
export async function clientApiRequest(
  http: HttpClient,
  endpoints: readonly ClientEndpoint[],
  path: string,
  request: Omit<HttpRequest, 'url' | 'connectTo' | 'tlsServername' | 'hostHeader'>,
): Promise<HttpResponse> {
  let firstError: unknown;
  let lastResponse: HttpResponse | undefined;
  for (const endpoint of endpoints) {
    try {
      const response = await http.request({
        ...request,
        url: `${endpoint.baseUrl}${path}`,
        ...(endpoint.politenessKey ? { politenessKey: endpoint.politenessKey } : {}),
        ...(endpoint.route ?? {}),
      });
      if (isMatrixAnswer(response)) return response;
      lastResponse = response;
    } catch (error) {
      if (!(error instanceof HttpError && NOT_THERE.has(error.code))) throw error;
      firstError ??= error;
    }
  }
  if (lastResponse) return lastResponse;
  throw firstError ?? new HttpError('connect_failed', 'no client API endpoint to try');
}
