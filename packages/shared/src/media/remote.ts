import type { FederationClient, FederationResponse, MediaRef } from '../matrix/index.ts';
import { ResolutionError } from '../matrix/index.ts';
import { type HttpClient, HttpError, type Timeouts } from '../net/index.ts';
import { MediaError, type MediaFailure, type MediaRoute } from './errors.ts';
import type { AvatarVariant } from './image.ts';
import { parseFederationMedia } from './multipart.ts';

/**
 * The largest body read for one avatar. A 96×96 thumbnail is a few kilobytes and a 400-pixel one
 * rarely 200; an origin that sends its full-size upload instead is still read up to here, and a
 * body announcing more is refused before it is read.
 */
export const MAX_MEDIA_BYTES = 4 * 1024 * 1024;

/** One avatar fetch, redirects and a `Location` included, ends within `totalMs` (a trickling body too). */
export const MEDIA_TIMEOUTS: Timeouts = { connectMs: 5_000, headersMs: 10_000, totalMs: 15_000 };

/** Redirects followed from a `Location` (each hop resolved and checked by the SSRF guard again). */
const MAX_LOCATION_REDIRECTS = 3;

export interface FetchedMedia {
  bytes: Buffer;
  /** The Content-Type the sender declared. */
  contentType: string | undefined;
  route: MediaRoute;
}

export interface RemoteMediaOptions {
  federation: FederationClient;
  /** The client the federation client uses: a `Location` is fetched with the same guard and limits. */
  http: HttpClient;
  signal?: AbortSignal | undefined;
}

function header(response: { headers: Record<string, string | string[] | undefined> }, name: string) {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errcode(response: FederationResponse): string | undefined {
  const body = response.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const code = (body as { errcode?: unknown }).errcode;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An endpoint the server does not have, by the rule Synapse applies before falling back to the
 * legacy media API (`is_unknown_endpoint`): 404 or 405 with `M_UNRECOGNIZED` or with no JSON at
 * all (older Dendrite and Conduit), and the 400 `M_UNRECOGNIZED` of older Synapse.
 */
function isUnknownEndpoint(response: FederationResponse): boolean {
  const code = errcode(response);
  if (response.status === 400) return code === 'M_UNRECOGNIZED';
  if (response.status !== 404 && response.status !== 405) return false;
  return code === undefined
    ? !response.raw.subarray(0, 1).equals(Buffer.from('{'))
    : code === 'M_UNRECOGNIZED';
}

/** A transport failure, said as a media failure. */
function transportFailure(error: unknown, route: MediaRoute): MediaError {
  if (error instanceof MediaError) {
    error.route ??= route;
    return error;
  }
  if (error instanceof HttpError) {
    const reasons: Partial<Record<HttpError['code'], MediaFailure>> = {
      blocked_address: 'blocked_address',
      too_large: 'too_large',
      too_many_redirects: 'upstream_error',
      invalid_url: 'upstream_error',
      protocol_error: 'upstream_error',
    };
    return new MediaError(reasons[error.code] ?? 'unreachable', `${error.code}: ${error.message}`, route);
  }
  if (error instanceof ResolutionError) {
    return new MediaError('unreachable', `${error.serverName} does not resolve: ${error.message}`, route);
  }
  throw error;
}

function statusFailure(status: number, what: string, route: MediaRoute): MediaError {
  return new MediaError(status === 404 ? 'not_found' : 'upstream_error', `${what} answered ${status}`, route);
}

/**
 * The thumbnail of `ref` from its origin server. Over federation first (server-server API,
 * "Content Repository": `GET /_matrix/federation/v1/media/thumbnail/{mediaId}`, signed, answered
 * with `multipart/mixed`: a JSON part, then the bytes or a `Location` to fetch them from); the
 * legacy `GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId}` only when the origin does not
 * have that endpoint, as Synapse falls back, or when Atlas has no federation identity to sign with.
 * Throws MediaError, with the route that failed.
 */
export async function fetchThumbnail(
  options: RemoteMediaOptions,
  ref: MediaRef,
  variant: AvatarVariant,
): Promise<FetchedMedia> {
  const query = { width: variant.width, height: variant.height, method: variant.method };
  // One deadline for the whole fetch: the federation request, a fallback, a Location and its redirects.
  const deadline = Date.now() + MEDIA_TIMEOUTS.totalMs;
  const common = {
    method: 'GET' as const,
    query,
    accept: '*/*',
    maxBytes: MAX_MEDIA_BYTES,
    timeouts: MEDIA_TIMEOUTS,
    deadline,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (options.federation.serverName !== undefined) {
    let response: FederationResponse;
    try {
      response = await options.federation.request(ref.serverName, {
        ...common,
        path: `/_matrix/federation/v1/media/thumbnail/${encodeURIComponent(ref.mediaId)}`,
        signed: true,
      });
    } catch (error) {
      throw transportFailure(error, 'federation');
    }
    if (response.status === 200) return fromMultipart(options, response, deadline);
    if (!isUnknownEndpoint(response)) {
      throw statusFailure(response.status, `federation media of ${ref.serverName}`, 'federation');
    }
  }
  let response: FederationResponse;
  try {
    response = await options.federation.request(ref.serverName, {
      ...common,
      path: `/_matrix/media/v3/thumbnail/${encodeURIComponent(ref.serverName)}/${encodeURIComponent(ref.mediaId)}`,
      // Never asks the origin to fetch from elsewhere (spec: `allow_remote`), so no loop.
      query: { ...query, allow_remote: 'false' },
      signed: false,
    });
  } catch (error) {
    throw transportFailure(error, 'legacy');
  }
  if (response.status === 200) {
    return { bytes: response.raw, contentType: header(response, 'content-type'), route: 'legacy' };
  }
  if (isUnknownEndpoint(response)) {
    throw new MediaError(
      'no_media_api',
      `${ref.serverName} answers neither federation media nor the legacy media API`,
      'legacy',
    );
  }
  throw statusFailure(response.status, `the legacy media API of ${ref.serverName}`, 'legacy');
}

async function fromMultipart(
  options: RemoteMediaOptions,
  response: FederationResponse,
  deadline: number,
): Promise<FetchedMedia> {
  let answer: ReturnType<typeof parseFederationMedia>;
  try {
    answer = parseFederationMedia(response.raw, header(response, 'content-type'));
  } catch (error) {
    throw transportFailure(error, 'federation');
  }
  if (answer.content.kind === 'bytes') {
    return { bytes: answer.content.bytes, contentType: answer.content.contentType, route: 'federation' };
  }
  // The `Location` is fetched as is: no signature (the spec's CDN case), the same SSRF guard on the
  // address it resolves to and on every redirect, the same size and time limits.
  const url = answer.content.url;
  try {
    const located = await options.http.request({
      url,
      headers: { accept: '*/*' },
      maxBytes: MAX_MEDIA_BYTES,
      maxRedirects: MAX_LOCATION_REDIRECTS,
      timeouts: MEDIA_TIMEOUTS,
      deadline,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (located.status !== 200)
      throw statusFailure(located.status, `the Location ${url}`, 'federation_location');
    return {
      bytes: located.body,
      contentType: header(located, 'content-type'),
      route: 'federation_location',
    };
  } catch (error) {
    throw transportFailure(error, 'federation_location');
  }
}
