import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './env.ts';

export interface ListenOptions {
  http: { host: string; port: number };
  /** A TLS listener for federation: remote servers fetch Atlas's key and call its directory here. */
  federation?: { host: string; port: number; certFile: string; keyFile: string } | undefined;
}

export interface RunningServer {
  httpPort: number;
  federationPort: number | undefined;
  close(): Promise<void>;
}

export function listen(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const address = server.address();
      resolve(address && typeof address === 'object' ? address.port : 0);
    });
  });
}

export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startServer(app: Hono<AppEnv>, options: ListenOptions): Promise<RunningServer> {
  const http = serve({ fetch: app.fetch, hostname: options.http.host, port: options.http.port });
  const httpPort = await listen(http);
  let https: ServerType | undefined;
  let federationPort: number | undefined;
  if (options.federation) {
    const [cert, key] = await Promise.all([
      readFile(options.federation.certFile),
      readFile(options.federation.keyFile),
    ]);
    https = serve({
      fetch: app.fetch,
      hostname: options.federation.host,
      port: options.federation.port,
      createServer: createHttpsServer,
      serverOptions: { cert, key },
    });
    federationPort = await listen(https);
  }
  return {
    httpPort,
    federationPort,
    async close() {
      await Promise.all([closeServer(http), https ? closeServer(https) : Promise.resolve()]);
    },
  };
}
