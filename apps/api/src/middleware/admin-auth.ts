import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares against every configured token in constant time: digests make the lengths equal, and
 * every token is compared whether or not an earlier one matched.
 */
export function tokenMatches(candidate: string, tokens: readonly Buffer[]): boolean {
  const given = digest(candidate);
  let match = false;
  for (const token of tokens) match = timingSafeEqual(given, token) || match;
  return match;
}

/** The token from `Authorization: Bearer <token>`, or the password of Basic auth (for the dashboard in a browser). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S{1,512})$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export function adminAuth(tokens: readonly string[]): MiddlewareHandler<AppEnv> {
  const digests = tokens.map(digest);
  return async (c, next) => {
    if (digests.length === 0) {
      throw new ApiError('FORBIDDEN', 'admin endpoints are off; set ATLAS_ADMIN_TOKENS to enable them');
    }
    const token = presentedToken(c.req.header('authorization'));
    if (!token || !tokenMatches(token, digests)) {
      throw new ApiError(
        'UNAUTHORIZED',
        token ? 'the admin token is wrong' : 'send an admin token: Authorization: Bearer <token>',
        { 'www-authenticate': 'Bearer realm="atlas-admin", Basic realm="atlas-admin"' },
      );
    }
    await next();
  };
}
