import { createHash } from 'node:crypto';
import type { Context, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';

/** A strong ETag of a body, in the form Hono's etag middleware gives (quoted hex SHA-1). */
export function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

/**
 * `c.json(data, 200)` with the ETag set from the serialised body. The etag middleware then neither
 * clones the response nor hashes it through WebCrypto (on the hottest endpoints that cost more than
 * building the answer), and still answers a matching If-None-Match with 304. `body` and `etag` may
 * be given when the answer was serialised earlier (a cached answer).
 */
export function jsonWithEtag<T extends object>(
  c: Context,
  data: T,
  serialised?: { body: string; etag: string },
): Response & TypedResponse<JSONParsed<T>, 200, 'json'> {
  const body = serialised?.body ?? JSON.stringify(data);
  return serialisedJson<T>(c, { body, etag: serialised?.etag ?? etagOf(body) });
}

/** A response of JSON serialised earlier (a cached answer) as `T`, with its ETag. */
export function serialisedJson<T extends object>(
  c: Context,
  serialised: { body: string; etag: string },
): Response & TypedResponse<JSONParsed<T>, 200, 'json'> {
  // The same bytes c.json would send; only the type (which describes the body) is restated.
  const response: Response = c.body(serialised.body, 200, {
    'content-type': 'application/json',
    etag: serialised.etag,
  });
  return response as Response & TypedResponse<JSONParsed<T>, 200, 'json'>;
}
