import type { KeyObject } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { parseServerName } from './server-name.ts';
import { type SigningKey, signBytes, verifyBytes } from './signing-key.ts';

/**
 * Request authentication (server-server API, "Request Authentication").
 * The signed object is `{method, uri, origin, destination, content?}` where `uri` is the path and
 * query exactly as sent on the wire; Synapse rebuilds it from the raw request line, so the bytes
 * signed must be the bytes sent.
 */
export interface SignedRequest {
  method: string;
  /** Path plus query string, already percent-encoded as it will be sent. */
  uri: string;
  origin: string;
  destination: string;
  content?: JsonValue;
}

export function requestSigningPayload(request: SignedRequest): string {
  const object: Record<string, JsonValue> = {
    method: request.method.toUpperCase(),
    uri: request.uri,
    origin: request.origin,
    destination: request.destination,
  };
  if (request.content !== undefined) object.content = request.content;
  return canonicalJson(object);
}

/**
 * The `Authorization` header value. The spec's parameter list says "signature" but its example and
 * Synapse use `sig`; Synapse rejects a header without it.
 */
export function xMatrixAuthorization(request: SignedRequest, key: SigningKey): string {
  const sig = signBytes(key, requestSigningPayload(request));
  return `X-Matrix origin="${request.origin}",destination="${request.destination}",key="${key.keyId}",sig="${sig}"`;
}

export interface XMatrixCredentials {
  origin: string;
  destination: string | undefined;
  keyId: string;
  sig: string;
}

/**
 * Parses an `Authorization: X-Matrix ...` header. Values may be quoted or bare tokens (RFC 9110
 * auth-param); returns null for anything malformed, so callers answer 401 without throwing.
 */
export function parseXMatrixAuthorization(header: string | undefined | null): XMatrixCredentials | null {
  if (!header || header.length > 4096) return null;
  const match = /^X-Matrix\s+(.*)$/i.exec(header.trim());
  if (!match?.[1]) return null;
  const params = new Map<string, string>();
  const paramPattern = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g;
  for (const m of match[1].matchAll(paramPattern)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!params.has(name)) params.set(name, value);
  }
  // Whatever the parameters do not cover must be separators only.
  if (match[1].replace(paramPattern, '').replace(/[\s,]/g, '') !== '') return null;
  const origin = params.get('origin');
  const keyId = params.get('key');
  const sig = params.get('sig');
  if (!origin || !keyId || !sig || !parseServerName(origin) || !/^ed25519:[A-Za-z0-9_]+$/.test(keyId))
    return null;
  return { origin: origin.toLowerCase(), destination: params.get('destination')?.toLowerCase(), keyId, sig };
}

/** Verifies a parsed X-Matrix header against the request as received and the origin's public key. */
export function verifyXMatrixRequest(
  credentials: XMatrixCredentials,
  request: Omit<SignedRequest, 'origin' | 'destination'> & { destination: string },
  publicKey: KeyObject,
): boolean {
  if (
    credentials.destination !== undefined &&
    credentials.destination !== request.destination.toLowerCase()
  ) {
    return false;
  }
  let payload: string;
  try {
    payload = requestSigningPayload({
      ...request,
      origin: credentials.origin,
      destination: credentials.destination ?? request.destination,
    });
  } catch {
    return false;
  }
  return verifyBytes(publicKey, payload, credentials.sig);
}
