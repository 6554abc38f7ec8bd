import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../env.ts';

/**
 * CORS open to any origin (no credentials). Preflights go to Hono's cors middleware; other requests
 * get `Access-Control-Allow-Origin: *` on their answer after the handler. Hono's middleware sets it
 * before the handler, which makes Hono copy every answer into a new Response (its body turned into
 * a stream); on the busiest endpoints that copy cost more than the rest of the request.
 */
export function openCors(options: {
  allowMethods: string[];
  allowHeaders?: string[];
}): MiddlewareHandler<AppEnv> {
  const preflight = cors({ origin: '*', ...options });
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', '*');
  };
}
