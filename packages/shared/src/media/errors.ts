/**
 * Why an avatar could not be served. Each reason is logged with the media it concerns, and decides
 * how long Atlas waits before asking the origin again (see `lasting`).
 */
export type MediaFailure =
  /** The origin has no such media (404 `M_NOT_FOUND`), or Atlas shows no room with that avatar. */
  | 'not_found'
  /** The origin answers neither federation media nor the legacy media endpoint. */
  | 'no_media_api'
  /** The origin (or the `Location` it gave) answered a status Atlas cannot use. */
  | 'upstream_error'
  /** DNS, connection, TLS or a time limit failed. */
  | 'unreachable'
  /** The address to dial is private, loopback or otherwise special (the SSRF guard). */
  | 'blocked_address'
  /** The body is larger than Atlas reads. */
  | 'too_large'
  /** A federation media answer that is not the spec's multipart/mixed. */
  | 'bad_multipart'
  /** Not PNG, JPEG, WebP or GIF (SVG included), by its bytes. */
  | 'refused_type'
  /** The declared Content-Type and the bytes disagree. */
  | 'type_mismatch'
  /** More pixels than Atlas decodes (a decompression bomb, or just a huge image). */
  | 'too_many_pixels'
  /** The decoder refused the bytes (truncated, corrupt). */
  | 'bad_image';

/**
 * Failures that another try cannot change: `mxc://` content is immutable (client-server API,
 * "Content repository"), so media refused once is refused for good. The others may pass later.
 */
const LASTING: ReadonlySet<MediaFailure> = new Set([
  'not_found',
  'no_media_api',
  'too_large',
  'bad_multipart',
  'refused_type',
  'type_mismatch',
  'too_many_pixels',
  'bad_image',
  'blocked_address',
]);

/** Which way Atlas fetched (or tried to fetch) an avatar from its origin. */
export type MediaRoute =
  /** Signed `GET /_matrix/federation/v1/media/thumbnail/{mediaId}`, bytes in the answer. */
  | 'federation'
  /** The same, whose answer named a `Location` that Atlas then fetched. */
  | 'federation_location'
  /** The unauthenticated `GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId}`. */
  | 'legacy';

export class MediaError extends Error {
  override name = 'MediaError';
  constructor(
    readonly reason: MediaFailure,
    message: string,
    /** The way that failed, when the failure came from the origin. */
    public route?: MediaRoute,
  ) {
    super(message);
  }

  /** Whether asking again later may succeed (see LASTING). */
  get lasting(): boolean {
    return LASTING.has(this.reason);
  }
}
