import { mediaRef } from '@atlas/shared/matrix';
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

export function mediaRoutes() {
  return createRouter().openapi(avatarRoute, async (c) => {
    const { serverName, mediaId } = c.req.valid('param');
    const { size } = c.req.valid('query');
    const avatars = c.get('deps').avatars;
    if (!avatars) {
      throw new ApiError('NOT_FOUND', 'this Atlas serves no remote media (ATLAS_MEDIA=off)', {
        'cache-control': FAILURE_CACHE_CONTROL,
      });
    }
    const ref = mediaRef(serverName, mediaId);
    if (!ref) throw new ApiError('BAD_REQUEST', `${serverName} is not a Matrix server name`);
    const answer = await avatars.get(ref, size ?? 'thumb');
    if (!answer.ok) {
      throw new ApiError('NOT_FOUND', `no avatar mxc://${serverName}/${mediaId}: ${answer.message}`, {
        'cache-control': FAILURE_CACHE_CONTROL,
      });
    }
    const headers = {
      'content-type': answer.contentType,
      etag: answer.avatar.etag,
      'cache-control': AVATAR_CACHE_CONTROL,
      'x-content-type-options': 'nosniff',
      // Opened on its own, the image may do nothing but be an image.
      'content-security-policy': "default-src 'none'; sandbox",
    };
    const match = c.req.header('if-none-match');
    if (match?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === answer.avatar.etag)) {
      return c.body(null, 304, headers);
    }
    // A Buffer is the Uint8Array the response takes; no copy.
    return c.body(answer.avatar.bytes as Uint8Array<ArrayBuffer>, 200, headers);
  });
}
