import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiRoleOptions, RunningServer } from '@atlas/api';
import type { CrawlerRuntime, RunningCrawler } from '@atlas/crawler';
import type { Config } from '@atlas/shared/config';
import { appliedMigrations, type Database, MIGRATIONS_FOLDER, openDatabase } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import { createQueueBackend, type QueueBackend } from '@atlas/shared/queue';
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
  const applied = await appliedMigrations(database);
  if (applied < journal.entries.length) {
    throw new Error(
      `the database has ${applied} of ${journal.entries.length} migrations applied; run \`atlas migrate\` first`,
    );
  }
}

export async function openQueues(config: Config, database: Database): Promise<QueueBackend> {
  try {
    return await createQueueBackend({ redisUrl: config.redisUrl, databaseUrl: database.url });
  } catch (error) {
    const where = config.redisUrl ? 'Redis at REDIS_URL' : 'the PostgreSQL queue tables (bullmq schema)';
    throw new Error(`cannot open the job queues on ${where}: ${(error as Error).message}`);
  }
}

export interface HttpOptions extends Omit<ApiRoleOptions, 'database' | 'log'> {
  database: Database;
  log: Logger;
}

/** The API's role (the HTTP app and its listeners), registered in `parts` for the ordered stop. */
export async function serveHttp(
  config: Config,
  options: HttpOptions,
  parts: ProcessParts,
): Promise<RunningServer> {
  // The HTTP app (and the search backend it queries) is loaded only by commands that serve it.
  const { startApiRole } = await import('@atlas/api');
  const api = await startApiRole(config, options);
  parts.server = api.server;
  parts.appDeps = { close: api.release };
  return api.server;
}
