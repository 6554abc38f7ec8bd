import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/**
 * Cache-Control for public reads. The directory changes with each crawl, minutes apart, so short
 * lifetimes lose nothing; the ETag middleware answers revalidations with 304.
 */
export function cacheFor(seconds: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status === 200 && !c.res.headers.has('cache-control')) {
      c.res.headers.set('cache-control', `public, max-age=${seconds}, stale-while-revalidate=${seconds}`);
    }
  };
}
