import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunningServer } from '@atlas/api';
import type { Config } from '@atlas/shared/config';
import { type Database, MIGRATIONS_FOLDER, migrateDatabase, openDatabase } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import type { FederationClient, FederationIdentity } from '@atlas/shared/matrix';
import { createQueueBackend, type QueueBackend } from '@atlas/shared/queue';
import type { RunningCrawler } from '../crawler.ts';
import type { CrawlerRuntime } from '../runtime.ts';
import { ShutdownSequence } from './shutdown.ts';

/** What a command started; `stopParts` stops them in order. */
export interface ProcessParts {
  server?: RunningServer;
  crawler?: RunningCrawler;
  runtime?: CrawlerRuntime;
  queues?: QueueBackend;
  appDeps?: { close(): Promise<void> };
  extra?: { close(): Promise<void> }[];
  database?: Database;
}

/** Shutdown in order: HTTP, workers, queues, then what they used, then the database. */
export function stopParts(parts: ProcessParts, log: Logger, timeoutMs?: number): Promise<void> {
  const sequence = new ShutdownSequence(log);
  sequence.add('http', async () => parts.server?.close());
  sequence.add('workers', async (deadline) => {
    parts.runtime?.abort();
    if (!parts.crawler) return;
    const crawler = parts.crawler;
    // Running jobs stop at their next request; a job stuck past the grace period is abandoned (its
    // lock expires and another worker takes it over), leaving time for the steps after this one.
    const grace = Math.max(0, deadline - Date.now() - 3_000);
    const closed = await Promise.race([
      crawler.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), grace).unref()),
    ]);
    if (!closed) await crawler.close({ force: true });
  });
  sequence.add('queues', async () => parts.queues?.close());
  sequence.add('services', async () => {
    await Promise.all([
      parts.appDeps?.close(),
      parts.runtime?.close(),
      ...(parts.extra ?? []).map((e) => e.close()),
    ]);
  });
  sequence.add('database', async () => parts.database?.close());
  return sequence.run(timeoutMs);
}

/** The database from DATABASE_URL, or the embedded one under the data folder. */
export async function openConfiguredDatabase(config: Config, log: Logger, applicationName: string) {
  return openDatabase({ ...config, log, max: 20, applicationName });
}

/**
 * The roles of the compose stack do not migrate (the one-shot `atlas migrate` does); they refuse
 * to start on a database that is behind, with the fix in the message.
 */
export async function assertMigrated(database: Database): Promise<void> {
  const journal = JSON.parse(
    await readFile(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as {
    entries: unknown[];
  };
  let applied = 0;
  try {
    const [row] = await database.sql<{ n: string }[]>`select count(*) as n from drizzle.__drizzle_migrations`;
    applied = Number(row?.n ?? 0);
  } catch {
    applied = 0;
  }
  if (applied < journal.entries.length) {
    throw new Error(
      `the database has ${applied} of ${journal.entries.length} migrations applied; run \`atlas migrate\` first`,
    );
  }
}

export async function migrate(database: Database): Promise<void> {
  await migrateDatabase(database);
}

export async function openQueues(config: Config, database: Database): Promise<QueueBackend> {
  try {
    return await createQueueBackend({ redisUrl: config.redisUrl, databaseUrl: database.url });
  } catch (error) {
    const where = config.redisUrl ? 'Redis at REDIS_URL' : 'the PostgreSQL queue tables (bullmq schema)';
    throw new Error(`cannot open the job queues on ${where}: ${(error as Error).message}`);
  }
}

export interface HttpOptions {
  database: Database;
  log: Logger;
  identity: FederationIdentity | undefined;
  queues: QueueBackend | undefined;
  federation: FederationClient | undefined;
  ready?: () => Promise<boolean>;
  /** false: only the TLS federation listener matters (crawl --once), so HTTP binds an ephemeral loopback port. */
  publicHttp: boolean;
}

/** The HTTP app (the API's `createApp`), on PORT and, when configured, on the TLS federation port. */
export async function serveHttp(
  config: Config,
  options: HttpOptions,
  parts: ProcessParts,
): Promise<RunningServer> {
  // The HTTP app (and the search backend it queries) is loaded only by commands that serve it.
  const { createApp, createAppDeps, startServer } = await import('@atlas/api');
  const deps = await createAppDeps(config, {
    database: options.database,
    log: options.log,
    identity: options.identity,
    queues: options.queues,
    federation: options.federation,
    ...(options.ready ? { ready: options.ready } : {}),
  });
  parts.appDeps = deps;
  const app = createApp(deps);
  const http = options.publicHttp ? config.http : { host: '127.0.0.1', port: 0 };
  let server: RunningServer;
  try {
    server = await startServer(app, {
      http,
      federation: config.federation ? { host: config.http.host, ...config.federation } : undefined,
    });
  } catch (error) {
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
  parts.server = server;
  return server;
}
