import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { FederationIdentity } from '@atlas/shared/matrix';
import { serverKeyDocument } from '@atlas/shared/matrix';
import { ATLAS_VERSION } from '@atlas/shared/version';

export interface KeyServer {
  port: number;
  close(): Promise<void>;
}

/**
 * What a one-off crawl serves on the federation port: Atlas's self-signed key document (remote
 * servers fetch it to verify Atlas's signed requests) and its version, the same answers as the
 * API's routes. The whole HTTP app (its search backend, language models and all) is not needed for
 * that, and `atlas crawl --once` stays small.
 */
export async function startKeyServer(options: {
  identity: FederationIdentity;
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
}): Promise<KeyServer> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(options.certFile), readFile(options.keyFile)]);
  } catch (error) {
    throw new Error(
      `cannot read the TLS certificate or key (${(error as Error).message}); check ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE`,
    );
  }
  const server: Server = createServer({ cert, key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(405, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    if (path === '/_matrix/key/v2/server' || path.startsWith('/_matrix/key/v2/server/')) {
      return json(200, serverKeyDocument(options.identity.serverName, options.identity.signingKey));
    }
    if (path === '/_matrix/federation/v1/version')
      return json(200, { server: { name: 'Atlas', version: ATLAS_VERSION } });
    return json(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `cannot listen on the federation port ${options.port}: it is taken; set ATLAS_FEDERATION_PORT to a free one`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: address && typeof address === 'object' ? address.port : options.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
