import type { Config } from '@atlas/shared/config';
import { type Database, migrateDatabase } from '@atlas/shared/db';
import { createLogger, type Logger } from '@atlas/shared/log';
import { type CommandIo, EXIT } from './command.ts';
import { announceIdentity, type IdentityPlan, planIdentity, type Role } from './identity.ts';
import { assertMigrated, openConfiguredDatabase, type ProcessParts, stopParts } from './parts.ts';
import { waitForStopSignal } from './shutdown.ts';

/** What a long-running command has once it is booted. */
export interface ProcessBoot {
  config: Config;
  log: Logger;
  /** `embedded`: the PostgreSQL is the embedded one under the data folder. */
  database: Database & { embedded: boolean };
  plan: IdentityPlan;
  /** Register what the command starts here; it is stopped in order when the command ends. */
  parts: ProcessParts;
  /** Resolves on the first SIGINT or SIGTERM, with the signal's name. */
  stopped: Promise<NodeJS.Signals>;
}

export interface ProcessOptions {
  role: Role;
  /** The PostgreSQL application_name, so the database's list of connections names the process. */
  applicationName: string;
  /**
   * `atlas start` and `crawl --once` apply migrations themselves; the compose roles leave that to
   * the one-shot `atlas migrate` and refuse to start on a database that is behind.
   */
  migrate: boolean;
}

/**
 * Boots a long-running command (the database, migrated or checked to be; the federation identity,
 * announced to the operator), runs `body`, and however it ends stops every part registered in
 * `parts` in order. The stop signal is listened for before anything opens, so a SIGTERM during
 * boot still ends in an orderly shutdown.
 */
export async function runProcess(
  io: CommandIo,
  options: ProcessOptions,
  body: (boot: ProcessBoot) => Promise<number>,
): Promise<number> {
  const config = io.config();
  const log = createLogger(config.log);
  const parts: ProcessParts = {};
  const stopped = waitForStopSignal();
  try {
    const database = await openConfiguredDatabase(config, log, options.applicationName);
    parts.database = database;
    await readySchema(database, options.migrate);
    const plan = await planIdentity(config, options.role);
    announceIdentity(plan, io.stderr, log);
    return await body({ config, log, database, plan, parts, stopped });
  } finally {
    await stopParts(parts, log);
  }
}

/** What a one-shot command works with. */
export interface DatabaseCommand {
  config: Config;
  log: Logger;
  database: Database & { embedded: boolean };
}

/**
 * A one-shot command's database: opened, migrated or checked to be, handed to `body`, and closed
 * however `body` ends.
 */
export async function withDatabase<T>(
  io: CommandIo,
  options: Pick<ProcessOptions, 'applicationName' | 'migrate'>,
  body: (command: DatabaseCommand) => Promise<T>,
): Promise<T> {
  const config = io.config();
  const log = createLogger(config.log);
  const database = await openConfiguredDatabase(config, log, options.applicationName);
  try {
    await readySchema(database, options.migrate);
    return await body({ config, log, database });
  } finally {
    await database.close();
  }
}

function readySchema(database: Database, migrate: boolean): Promise<void> {
  return migrate ? migrateDatabase(database) : assertMigrated(database);
}

/** Serves until SIGINT or SIGTERM, then exits 0 (`runProcess` stops the parts). */
export async function untilStopped(boot: ProcessBoot): Promise<number> {
  const signal = await boot.stopped;
  boot.log.info({ signal }, 'shutting down');
  return EXIT.ok;
}
