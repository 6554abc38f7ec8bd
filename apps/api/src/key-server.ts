import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { FederationIdentity } from '@atlas/shared/matrix';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { matrixIdentityRoutes } from './routes/matrix-keys.ts';
import { closeServer, listen } from './server.ts';

export interface KeyServer {
  port: number;
  close(): Promise<void>;
}

/**
 * What a one-off crawl serves on the federation port: the key routes of the HTTP app (remote
 * servers fetch Atlas's key to verify its signed requests) and nothing else, so `atlas crawl
 * --once` does not load the search backend and its language models. Loaded on its own
 * (`@atlas/api/key-server`) for the same reason.
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
  const app = new Hono();
  app.route('/', matrixIdentityRoutes(options.identity));
  app.notFound((c) => c.json({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }, 404));
  const server = serve({
    fetch: app.fetch,
    hostname: options.host,
    port: options.port,
    createServer: createHttpsServer,
    serverOptions: { cert, key },
  });
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 5_000;
  let port: number;
  try {
    port = await listen(server);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `cannot listen on the federation port ${options.port}: it is taken; set ATLAS_FEDERATION_PORT to a free one`,
      );
    }
    throw error;
  }
  return { port, close: () => closeServer(server) };
}
