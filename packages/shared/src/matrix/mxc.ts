import { parseServerName } from './server-name.ts';

/** A piece of media in a Matrix content repository, named by `mxc://<serverName>/<mediaId>`. */
export interface MediaRef {
  /** The server that holds the media (its origin), as written in the URI. */
  serverName: string;
  mediaId: string;
}

/**
 * Media ids are opaque, but the spec (client-server API, "Matrix Content (mxc://) URIs") limits
 * them to `[A-Za-z0-9_-]`; anything else in one is refused rather than put into a request path.
 */
const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function isMediaId(input: string): boolean {
  return MEDIA_ID.test(input);
}

/** The server name and media id of `mxc://server/mediaId`, or null when it is not one. */
export function parseMxcUri(input: unknown): MediaRef | null {
  if (typeof input !== 'string' || !input.startsWith('mxc://')) return null;
  const rest = input.slice('mxc://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  return mediaRef(rest.slice(0, slash), rest.slice(slash + 1));
}

/** A MediaRef when both parts are valid (a server name and a media id), else null. */
export function mediaRef(serverName: string, mediaId: string): MediaRef | null {
  if (!parseServerName(serverName) || !isMediaId(mediaId)) return null;
  return { serverName, mediaId };
}

export function mxcUri(ref: MediaRef): string {
  return `mxc://${ref.serverName}/${ref.mediaId}`;
}
