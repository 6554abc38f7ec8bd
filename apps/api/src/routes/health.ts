import { databaseAnswers } from '@atlas/shared/db';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

export function healthRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Liveness: the process answers. Never touches the database, so a slow database does not get
  // the process restarted.
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Readiness: the database answers and the host says it is ready.
  app.get('/readyz', async (c) => {
    const deps = c.get('deps');
    try {
      await databaseAnswers(deps.database.sql);
      const ready = deps.ready ? await deps.ready() : true;
      return c.json({ status: ready ? 'ready' : 'starting' }, ready ? 200 : 503);
    } catch {
      return c.json({ status: 'database unreachable' }, 503);
    }
  });
  return app;
}
