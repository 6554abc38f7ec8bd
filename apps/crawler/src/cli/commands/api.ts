import { createLogger } from '@atlas/shared/log';
import { createServerResolver, FederationClient } from '@atlas/shared/matrix';
import { createHttpClient, httpClientOptionsFromConfig } from '@atlas/shared/net';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { planIdentity } from '../identity.ts';
import {
  assertMigrated,
  openConfiguredDatabase,
  openQueues,
  type ProcessParts,
  serveHttp,
  stopParts,
} from '../parts.ts';
import { waitForStopSignal } from '../shutdown.ts';

export const apiCommand: Command = {
  name: 'api',
  summary: 'serve the HTTP API only (compose role)',
  usage: `Usage: atlas api

Serves the HTTP API on PORT (and the federation TLS port when ATLAS_TLS_* are set), including
Atlas's key at /_matrix/key/v2/server, with no crawler workers. Expects a migrated database (run
\`atlas migrate\` first).`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {});
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    const config = io.config();
    const log = createLogger(config.log);
    const parts: ProcessParts = {};
    const stopped = waitForStopSignal();
    try {
      const database = await openConfiguredDatabase(config, log, 'atlas-api');
      parts.database = database;
      await assertMigrated(database);
      const plan = await planIdentity(config, 'api');
      parts.queues = await openQueues(config, database);
      // Verifying signed requests to Atlas means fetching the origin's keys over federation.
      const http = createHttpClient(await httpClientOptionsFromConfig(config, { maxInFlight: 16 }));
      parts.extra = [http];
      const federation = new FederationClient({
        http,
        resolver: createServerResolver({ http }),
        identity: plan.identity,
      });
      const server = await serveHttp(
        config,
        { database, log, identity: plan.identity, queues: parts.queues, federation, publicHttp: true },
        parts,
      );
      log.info({ port: server.httpPort, federationPort: server.federationPort }, 'Atlas API is up');
      const signal = await stopped;
      log.info({ signal }, 'shutting down');
      return EXIT.ok;
    } finally {
      await stopParts(parts, log);
    }
  },
};
