import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type ISql, type Sql } from 'postgres';
import type { Logger } from '../log/index.ts';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './embedded.ts';
import * as schema from './schema/index.ts';

export type Db = PostgresJsDatabase<typeof schema>;

/** A connection pool or a transaction: what a query takes first, so callers choose. */
export type Queryable = ISql;

export interface Database {
  url: string;
  /** postgres.js, for the hot paths that drizzle would slow down (batched upserts with unnest). */
  sql: Sql;
  db: Db;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Pool size. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

export function connectDatabase(url: string, options: ConnectOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'atlas' },
    idle_timeout: 60,
    connect_timeout: 15,
  });
  const db = drizzle(sql, { schema });
  return { url, sql, db, close: () => sql.end({ timeout: 5 }) };
}

export interface OpenDatabaseOptions extends ConnectOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  log: Logger;
}

/**
 * Connects to DATABASE_URL, or, when it is unset, starts the embedded PostgreSQL under the data
 * folder first. Closing the database also stops an embedded server.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database & { embedded: boolean }> {
  let embedded: EmbeddedDatabase | undefined;
  let url = options.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: options.dataDir,
      port: options.embeddedPgPort,
      log: options.log,
    });
    url = embedded.url;
  }
  const database = connectDatabase(url, options);
  try {
    await database.sql`select 1`;
  } catch (error) {
    await database.close().catch(() => {});
    await embedded?.stop();
    throw new Error(
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(error as Error).message}; check DATABASE_URL`,
    );
  }
  return {
    ...database,
    embedded: embedded !== undefined,
    close: async () => {
      await database.close();
      await embedded?.stop();
    },
  };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Whether the database answers (readiness checks). */
export async function databaseAnswers(sql: Queryable): Promise<boolean> {
  await sql`select 1`;
  return true;
}
