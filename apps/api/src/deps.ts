import type { Database } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import type { SigningKey } from '@atlas/shared/matrix';

/** What the HTTP app needs from the process that hosts it. Tests build the same app with their own. */
export interface AppDeps {
  database: Database;
  log: Logger;
  /** Atlas's Matrix identity; absent when no ATLAS_SERVER_NAME is configured. */
  identity: { serverName: string; signingKey: SigningKey } | undefined;
  /** Resolves true when the process is ready to serve (migrations applied, workers started). */
  ready?: () => Promise<boolean>;
}
