import { serverKeyDocument } from '@atlas/shared/matrix';
import { ATLAS_VERSION } from '@atlas/shared/version';
import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** Atlas's federation identity: its signing key and its software version. */
export function matrixIdentityRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/_matrix/key/v2/server', (c) => {
    const identity = c.get('deps').identity;
    if (!identity) {
      return c.json(
        {
          errcode: 'M_NOT_FOUND',
          error: 'this directory has no federation identity (ATLAS_SERVER_NAME is unset)',
        },
        404,
      );
    }
    return c.json(serverKeyDocument(identity.serverName, identity.signingKey));
  });
  app.get('/_matrix/key/v2/server/:keyId', (c) => c.redirect('/_matrix/key/v2/server', 301));
  app.get('/_matrix/federation/v1/version', (c) =>
    c.json({ server: { name: 'Atlas', version: ATLAS_VERSION } }),
  );
  return app;
}
