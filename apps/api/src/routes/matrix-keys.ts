import type { FederationIdentity } from '@atlas/shared/matrix';
import { serverKeyDocument } from '@atlas/shared/matrix';
import { ATLAS_VERSION } from '@atlas/shared/version';
import { type Context, Hono } from 'hono';

/**
 * Atlas's federation identity: its signing key and its software version. The whole HTTP app and
 * the key server of `atlas crawl --once` (key-server.ts) serve these same routes.
 */
export function matrixIdentityRoutes(identity: FederationIdentity | undefined): Hono {
  const app = new Hono();
  const key = (c: Context) => {
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
  };
  app.get('/_matrix/key/v2/server', key);
  // The key id form is deprecated (spec: "Publishing Keys"), but older servers still ask for it;
  // Synapse answers it with the whole document, and so does Atlas, without a redirect that a key
  // fetcher might not follow.
  app.get('/_matrix/key/v2/server/:keyId', key);
  app.get('/_matrix/federation/v1/version', (c) =>
    c.json({ server: { name: 'Atlas', version: ATLAS_VERSION } }),
  );
  return app;
}
