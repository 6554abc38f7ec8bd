import { isMediaId, mediaRef } from '@atlas/shared/matrix';
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../errors.ts';
import { createRouter, errorResponses } from '../openapi.ts';

/**
 * Avatars are named by their `mxc://` URI, whose content never changes (client-server API,
 * "Content repository"), so a browser may keep one as long as it likes.
 */
const AVATAR_CACHE_CONTROL = 'public, max-age=2592000, immutable';
/** A failure says so for as long as Atlas remembers short failures; the page shows the letter meanwhile. */
const FAILURE_CACHE_CONTROL = 'public, max-age=600';

const avatarRoute = createRoute({
  method: 'get',
  path: '/media/avatar/{serverName}/{mediaId}',
  tags: ['Media'],
  summary: 'A room avatar',
  description:
    "The avatar `mxc://{serverName}/{mediaId}` of a room the directory shows, as a WebP decoded and re-encoded by Atlas (no metadata): a 96×96 crop, or within 400×400 with `size=large`. Fetched from the media's origin over federation the first time it is asked for, then served from Atlas's cache. Rooms' `avatar_thumbnail` links here.",
  request: {
    params: z.object({
      serverName: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[A-Za-z0-9.:[\]-]+$/, 'a Matrix server name')
        .openapi({ example: 'example.org' }),
      mediaId: z
        .string()
        .min(1)
        .max(255)
        .regex(/^[A-Za-z0-9_-]+$/, 'a media id (letters, digits, "-" and "_")')
        .openapi({ example: 'AbCdEf0123' }),
    }),
    query: z.object({
      size: z
        .enum(['thumb', 'large'])
        .optional()
        .openapi({ description: 'thumb (96×96, default) or large (400)' }),
    }),
  },
  responses: {
    200: {
      description: 'The avatar (ETag and a long Cache-Control; If-None-Match is answered with 304)',
      content: { 'image/webp': { schema: z.string().openapi({ type: 'string', format: 'binary' }) } },
    },
    304: { description: 'Not modified' },
    ...errorResponses(400, 404),
  },
});

/** The avatar's variant from `size`, or a 400 worded as the router's validation hook words one. */
function sizeOf(size: string | undefined): 'thumb' | 'large' {
  if (size === undefined || size === 'thumb' || size === 'large') return size ?? 'thumb';
  throw new ApiError('BAD_REQUEST', 'invalid query: size: must be "thumb" or "large"');
}

/**
 * The route is documented from `avatarRoute` (as `openapiGetWithQuery` does for the searches) and
 * checked by hand: a page of results asks for twenty avatars at once, and zod-openapi's validator
 * cost about a quarter of the route's own time in-process (7-15 µs a request). `mediaRef` checks
 * more strictly than the documented patterns: a server name by the spec's grammar, a media id by
 * the spec's characters. Parameters are checked before anything else, so a bad one is a 400 with
 * media on or off.
 */
export function mediaRoutes() {
  const router = createRouter();
  router.openAPIRegistry.registerPath(avatarRoute);
  router.get('/media/avatar/:serverName/:mediaId', async (c) => {
    const size = sizeOf(c.req.query('size'));
    const serverName = c.req.param('serverName');
    const mediaId = c.req.param('mediaId');
    const ref = mediaRef(serverName, mediaId);
    if (!ref) {
      throw new ApiError(
        'BAD_REQUEST',
        isMediaId(mediaId)
          ? 'invalid param: serverName: not a Matrix server name'
          : 'invalid param: mediaId: letters, digits, "-" and "_" only (at most 255)',
      );
    }
    const avatars = c.get('deps').avatars;
    if (!avatars) {
      throw new ApiError('NOT_FOUND', 'this Atlas serves no remote media (ATLAS_MEDIA=off)', {
        'cache-control': FAILURE_CACHE_CONTROL,
      });
    }
    const answer = await avatars.get(ref, size);
    if (!answer.ok) {
      throw new ApiError('NOT_FOUND', `no avatar mxc://${serverName}/${mediaId}: ${answer.message}`, {
        'cache-control': FAILURE_CACHE_CONTROL,
      });
    }
    const etag = answer.avatar.etag;
    const match = c.req.header('if-none-match');
    if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      return c.body(null, 304, { etag, 'cache-control': AVATAR_CACHE_CONTROL });
    }
    return c.body(answer.avatar.bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': answer.contentType,
      etag,
      'cache-control': AVATAR_CACHE_CONTROL,
      'x-content-type-options': 'nosniff',
      // Opened on its own, the image may do nothing but be an image.
      'content-security-policy': "default-src 'none'; sandbox",
    });
  });
  return router;
}
