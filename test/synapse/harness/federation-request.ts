import { type JsonValue, type SigningKey, xMatrixAuthorization } from '@atlas/shared/matrix';
import { type RawResponse, rawRequest } from './https-request.ts';

export interface FederationRequest {
  /** Where the request goes: `https://host:port` of the destination's federation listener. */
  baseUrl: string;
  /** The destination's server name, as Atlas would put it in the X-Matrix header. */
  destination: string;
  /** Path and query string exactly as sent on the wire. */
  uri: string;
  method?: 'GET' | 'POST' | 'PUT';
  body?: JsonValue;
  origin: string;
  signingKey: SigningKey;
  /** The test CA, which signed the destination's certificate. */
  ca: string;
  /**
   * What to sign instead of the real request, to prove that the destination checks it: a different
   * key, destination or uri than the one sent. Unset fields sign the truth.
   */
  forge?: {
    signingKey?: SigningKey;
    /** Signed over, and named in the header unless `headerDestination` says otherwise. */
    destination?: string;
    /** The destination the header names, whatever was signed. */
    headerDestination?: string;
    uri?: string;
  };
  /** Send no Authorization header at all. */
  unsigned?: boolean;
}

/** A federation request signed with `X-Matrix` (server-server API, "Request Authentication"). */
export function federationRequest(request: FederationRequest): Promise<RawResponse> {
  const method = request.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (!request.unsigned) {
    const authorization = xMatrixAuthorization(
      {
        method,
        uri: request.forge?.uri ?? request.uri,
        origin: request.origin,
        destination: request.forge?.destination ?? request.destination,
        ...(request.body === undefined ? {} : { content: request.body }),
      },
      request.forge?.signingKey ?? request.signingKey,
    );
    const headerDestination = request.forge?.headerDestination;
    headers.authorization = headerDestination
      ? authorization.replace(/destination="[^"]*"/, `destination="${headerDestination}"`)
      : authorization;
  }
  return rawRequest({
    origin: request.baseUrl,
    path: request.uri,
    method,
    headers,
    ca: request.ca,
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
  });
}
