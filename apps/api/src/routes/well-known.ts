import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { MatrixApiError } from '../errors.ts';

/** Server and client discovery (spec "Server discovery"; CORS is open on both, set in app.ts). */
export function wellKnownRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/.well-known/matrix/server', (c) => {
    const target = c.get('deps').settings.wellKnownServer;
    if (!target)
      throw new MatrixApiError(
        'NOT_FOUND',
        'M_NOT_FOUND',
        'no federation delegation is configured (ATLAS_WELL_KNOWN_SERVER)',
      );
    c.header('cache-control', 'public, max-age=86400');
    return c.json({ 'm.server': target });
  });
  app.get('/.well-known/matrix/client', (c) => {
    const baseUrl = c.get('deps').settings.publicUrl;
    if (!baseUrl)
      throw new MatrixApiError('NOT_FOUND', 'M_NOT_FOUND', 'no public URL is configured (ATLAS_PUBLIC_URL)');
    c.header('cache-control', 'public, max-age=3600');
    return c.json({ 'm.homeserver': { base_url: baseUrl } });
  });
  return app;
}
