import type { Config } from '@atlas/shared/config';
import { createApp } from './app.ts';
import { type AppDepsInput, createAppDeps } from './create-deps.ts';
import { type RunningServer, startServer } from './server.ts';

export interface ApiRoleOptions extends AppDepsInput {
  /** false: only the TLS federation listener matters, so HTTP binds an ephemeral loopback port. */
  publicHttp: boolean;
}

export interface RunningApi {
  server: RunningServer;
  /** Releases what the app opened (its search backend; not the database or queues), once the listeners are closed. */
  release(): Promise<void>;
}

/**
 * The API's role: the HTTP app (JSON API, Matrix endpoints, web pages) on PORT and, when
 * configured, on the TLS federation port. Errors that an operator can fix name the setting.
 */
export async function startApiRole(config: Config, options: ApiRoleOptions): Promise<RunningApi> {
  const { publicHttp, ...input } = options;
  const deps = await createAppDeps(config, input);
  const app = createApp(deps);
  const http = publicHttp ? config.http : { host: '127.0.0.1', port: 0 };
  let server: RunningServer;
  try {
    server = await startServer(app, {
      http,
      federation: config.federation ? { host: config.http.host, ...config.federation } : undefined,
    });
  } catch (error) {
    await deps.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `cannot listen: a port is taken (HTTP ${http.port}${config.federation ? `, federation ${config.federation.port}` : ''}); set PORT or ATLAS_FEDERATION_PORT to a free one`,
      );
    }
    if (code === 'ENOENT') {
      throw new Error(
        `cannot read the TLS certificate or key: ${(error as Error).message}; check ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE`,
      );
    }
    throw error;
  }
  return { server, release: () => deps.close() };
}
