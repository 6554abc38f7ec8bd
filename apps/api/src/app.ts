import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { AppDeps } from './deps.ts';
import type { AppEnv } from './env.ts';
import { healthRoutes } from './routes/health.ts';
import { matrixIdentityRoutes } from './routes/matrix-keys.ts';

/**
 * Builds the HTTP app. The process that serves it and the tests (through `app.request()`) call
 * the same factory.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id')?.slice(0, 64) || randomUUID();
    c.set('requestId', requestId);
    c.set('deps', deps);
    c.header('x-request-id', requestId);
    await next();
  });
  app.route('/', healthRoutes());
  app.route('/', matrixIdentityRoutes());
  app.notFound((c) => c.json({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }, 404));
  app.onError((error, c) => {
    deps.log.error({ err: error, requestId: c.get('requestId') }, 'request failed');
    return c.json({ errcode: 'M_UNKNOWN', error: 'Internal server error' }, 500);
  });
  return app;
}
