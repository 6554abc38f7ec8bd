import { type ApiSettings, type AppDeps, createApp, DEFAULT_SETTINGS } from '@atlas/api';
import { silentLogger } from '@atlas/shared/log';
import { generateSigningKey } from '@atlas/shared/matrix';
import { createPostgresSearchIndex, indexChangedRooms, type SearchIndex } from '@atlas/shared/search';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const ATLAS_NAME = 'atlas.test';

export interface TestApi {
  database: TestDatabase;
  search: SearchIndex;
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  /** Pushes rows changed since the last run into the search index, as the index queue does. */
  reindex(): Promise<void>;
  /** A GET with a client address (app.request() has no socket, so the address is passed as node's would be). */
  get(path: string, headers?: Record<string, string>, ip?: string): Promise<Response>;
  send(
    method: string,
    path: string,
    body: unknown,
    headers?: Record<string, string>,
    ip?: string,
  ): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real app over a fresh migrated database and the PostgreSQL search backend (or the one
 * `search` makes over that database).
 */
export async function createTestApi(
  label: string,
  options: {
    settings?: Partial<ApiSettings>;
    deps?: Partial<AppDeps>;
    search?: (database: TestDatabase) => SearchIndex;
  } = {},
): Promise<TestApi> {
  const database = await createTestDatabase(label);
  const search = options.search
    ? options.search(database)
    : createPostgresSearchIndex({ databaseUrl: database.url, poolSize: 4 });
  await search.init();
  const deps: AppDeps = {
    database,
    log: silentLogger,
    identity: { serverName: ATLAS_NAME, signingKey: generateSigningKey() },
    search,
    settings: { ...DEFAULT_SETTINGS, rateLimitPerMinute: 0, ...options.settings },
    ...options.deps,
  };
  const app = createApp(deps);
  const env = (ip: string) => ({ incoming: { socket: { remoteAddress: ip }, url: undefined } });
  return {
    database,
    search,
    deps,
    app,
    async reindex() {
      await indexChangedRooms(database.sql, search);
    },
    get: (path, headers = {}, ip = '127.0.0.1') =>
      Promise.resolve(app.request(path, { headers }, env(ip) as never)),
    send: (method, path, body, headers = {}, ip = '127.0.0.1') =>
      Promise.resolve(
        app.request(
          path,
          {
            method,
            headers: { 'content-type': 'application/json', ...headers },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          },
          env(ip) as never,
        ),
      ),
    async close() {
      await search.close();
      await database.drop();
    },
  };
}
