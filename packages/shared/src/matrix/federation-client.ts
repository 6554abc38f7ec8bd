import { type HttpClient, HttpError, type HttpResponse, type Timeouts } from '../net/index.ts';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { xMatrixAuthorization } from './request-auth.ts';
import type { ResolvedServer, ServerResolver } from './resolve-types.ts';
import { type VerifiedServerKeys, verifyServerKeyDocument } from './server-keys.ts';
import { politenessKeyOf } from './server-name.ts';
import type { SigningKey } from './signing-key.ts';

export interface FederationIdentity {
  serverName: string;
  signingKey: SigningKey;
}

export interface FederationRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path starting with `/`, already percent-encoded where it embeds ids (no `?`: use `query`). */
  path: string;
  /** Encoded once here, with encodeURIComponent; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  body?: JsonValue;
  /** Sign with X-Matrix (default: true when the client has an identity). */
  signed?: boolean;
  /**
   * The `Accept` header (default `application/json`). With any other, a body is parsed as JSON only
   * when its Content-Type says it is JSON (an error answer); the bytes are in `raw` either way.
   */
  accept?: string;
  maxBytes?: number;
  timeouts?: Partial<Timeouts>;
  deadline?: number;
  signal?: AbortSignal;
}

export interface FederationResponse {
  status: number;
  /** Parsed JSON; undefined when the body is not JSON. */
  body: unknown;
  /** The body as received. */
  raw: Buffer;
  headers: HttpResponse['headers'];
  resolved: ResolvedServer;
  latencyMs: number;
  certValidTo: Date | undefined;
  remoteAddress: string;
}

export interface FederationClientOptions {
  http: HttpClient;
  resolver: ServerResolver;
  identity?: FederationIdentity | undefined;
}

/** The largest key document accepted (a server with many old keys still fits). */
const KEY_DOCUMENT_MAX_BYTES = 256 * 1024;

/** Failures that mean "this target cannot be reached"; the next SRV target is tried. */
const UNREACHABLE = new Set<HttpError['code']>([
  'dns_failed',
  'connect_failed',
  'connect_timeout',
  'blocked_address',
]);

/** The request target exactly as it goes on the wire: the bytes the X-Matrix signature covers. */
export function federationRequestTarget(path: string, query?: FederationRequest['query']): string {
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) {
    throw new HttpError(
      'invalid_url',
      `"${path}" is not a request path (start with "/", pass the query separately)`,
    );
  }
  const pairs = Object.entries(query ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  const raw = pairs.length > 0 ? `${path}?${pairs.join('&')}` : path;
  // Normalise through the URL parser once, so the signed bytes equal what the client sends.
  const url = new URL(raw, 'https://target.invalid');
  return `${url.pathname}${url.search}`;
}

/**
 * Requests to other homeservers: resolves the server name, dials the resolved target with the
 * spec's Host header and TLS name, and signs with X-Matrix over exactly the bytes sent. Non-2xx
 * answers are returned; transport failures throw HttpError or ResolutionError.
 */
export class FederationClient {
  private readonly http: HttpClient;
  private readonly resolver: ServerResolver;
  private readonly identity: FederationIdentity | undefined;

  constructor(options: FederationClientOptions) {
    this.http = options.http;
    this.resolver = options.resolver;
    this.identity = options.identity;
  }

  /** Atlas's own server name, when it has a federation identity. */
  get serverName(): string | undefined {
    return this.identity?.serverName;
  }

  async request(serverName: string, request: FederationRequest): Promise<FederationResponse> {
    const target = federationRequestTarget(request.path, request.query);
    const resolved = await this.resolver.resolve(serverName);
    const accept = request.accept ?? 'application/json';
    const headers: Record<string, string> = { accept };
    const body = request.body === undefined ? undefined : canonicalJson(request.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (request.signed ?? this.identity !== undefined) {
      if (!this.identity) {
        throw new Error('a signed federation request needs a server name and key (set ATLAS_SERVER_NAME)');
      }
      headers.authorization = xMatrixAuthorization(
        {
          method: request.method,
          uri: target,
          origin: this.identity.serverName,
          // The destination is the server name before delegation (spec, "Request Authentication").
          destination: resolved.serverName,
          ...(request.body !== undefined ? { content: request.body } : {}),
        },
        this.identity.signingKey,
      );
    }
    const targets = [
      { host: resolved.connectHost, port: resolved.connectPort },
      ...(resolved.alternatives ?? []),
    ];
    let firstError: unknown;
    for (const connectTo of targets) {
      try {
        const response = await this.http.request({
          url: `https://${resolved.hostHeader}${target}`,
          method: request.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          connectTo,
          tlsServername: resolved.tlsServername,
          hostHeader: resolved.hostHeader,
          // The server's host, as every other request to it is keyed (its well-knowns, its client
          // API), so a server with an explicit port still gets one request at a time.
          politenessKey: politenessKeyOf(resolved.serverName),
          ...(request.maxBytes !== undefined ? { maxBytes: request.maxBytes } : {}),
          ...(request.timeouts ? { timeouts: request.timeouts } : {}),
          ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return {
          status: response.status,
          body: accept === 'application/json' || isJson(response) ? parseOrUndefined(response) : undefined,
          raw: response.body,
          headers: response.headers,
          resolved: { ...resolved, connectHost: connectTo.host, connectPort: connectTo.port },
          latencyMs: response.latencyMs,
          certValidTo: response.certValidTo,
          remoteAddress: response.remoteAddress,
        };
      } catch (error) {
        firstError ??= error;
        if (!(error instanceof HttpError && UNREACHABLE.has(error.code))) throw error;
      }
    }
    throw firstError;
  }

  /**
   * The server's self-signed key document (`/_matrix/key/v2/server`), verified; null when it
   * answers anything but a valid document for that name. Transport failures throw.
   */
  async getServerKeys(
    serverName: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<VerifiedServerKeys | null> {
    const response = await this.request(serverName, {
      method: 'GET',
      path: '/_matrix/key/v2/server',
      signed: false,
      maxBytes: KEY_DOCUMENT_MAX_BYTES,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status !== 200) return null;
    return verifyServerKeyDocument(response.body, response.resolved.serverName);
  }
}

function isJson(response: HttpResponse): boolean {
  const type = response.headers['content-type'];
  return typeof type === 'string' && /^application\/json\b/i.test(type.trim());
}

function parseOrUndefined(response: HttpResponse): unknown {
  if (response.body.length === 0) return undefined;
  try {
    return response.json();
  } catch (error) {
    if (error instanceof HttpError && error.code === 'bad_json') return undefined;
    throw error;
  }
}
