import type { JsonValue } from '@atlas/shared/matrix';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { MatrixApiError } from '../errors.ts';

/** The request target as it came on the wire: the bytes the origin signed (spec "Request Authentication"). */
function requestTarget(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const raw = c.env?.incoming?.url;
  if (raw?.startsWith('/')) return raw;
  const url = new URL(c.req.url);
  return `${url.pathname}${url.search}`;
}

/**
 * Refuses federation requests without a valid X-Matrix signature of their origin, whose key is
 * fetched over federation (through the safe HTTP client) and cached by the key store.
 */
export function requireXMatrix(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    if (!deps.identity) {
      throw new MatrixApiError(
        'NOT_FOUND',
        'M_UNRECOGNIZED',
        'this directory has no federation identity (ATLAS_SERVER_NAME is unset)',
      );
    }
    if (!deps.keyStore) {
      throw new MatrixApiError(
        'UNAUTHORIZED',
        'M_UNAUTHORIZED',
        'this process cannot verify federation signatures',
      );
    }
    let content: JsonValue | undefined;
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const text = await c.req.text();
      if (text.length > 0) {
        try {
          content = JSON.parse(text) as JsonValue;
        } catch {
          throw new MatrixApiError('BAD_REQUEST', 'M_NOT_JSON', 'the body is not JSON');
        }
      }
    }
    const result = await deps.keyStore.verifyRequest({
      authorization: c.req.header('authorization'),
      method: c.req.method,
      uri: requestTarget(c),
      destination: deps.identity.serverName,
      ...(content !== undefined ? { content } : {}),
    });
    if (!result.ok) throw new MatrixApiError('UNAUTHORIZED', 'M_UNAUTHORIZED', result.reason);
    c.set('origin', result.origin);
    await next();
  };
}
