import path from 'node:path';
import { createApp, createAppDeps, startServer } from '@atlas/api';
import type { Config } from '@atlas/shared/config';
import { migrateDatabase, openDatabase } from '@atlas/shared/db';
import { createLogger } from '@atlas/shared/log';
import { loadOrCreateSigningKey } from '@atlas/shared/matrix';

/** `atlas start`: the embedded default in one process. Runs until SIGINT or SIGTERM. */
export async function runStart(config: Config, _args: string[]): Promise<number> {
  const log = createLogger(config.log);
  const database = await openDatabase({ ...config, log });
  await migrateDatabase(database);
  const signingKey = await loadOrCreateSigningKey(path.join(config.dataDir, 'signing.key'));
  const identity = config.serverName ? { serverName: config.serverName, signingKey } : undefined;
  const deps = await createAppDeps(config, { database, log, identity });
  const app = createApp(deps);
  const server = await startServer(app, {
    http: config.http,
    federation: config.federation ? { host: config.http.host, ...config.federation } : undefined,
  });
  log.info({ port: server.httpPort, federationPort: server.federationPort }, 'Atlas is up');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('shutting down');
  await server.close();
  await deps.close();
  await database.close();
  return 0;
}
