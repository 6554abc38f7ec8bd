import { createServerResolver, FederationClient } from '@atlas/shared/matrix';
import { createHttpClient, httpClientOptionsFromConfig } from '@atlas/shared/net';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { openQueues, serveHttp } from '../parts.ts';
import { runProcess, untilStopped } from '../run-process.ts';

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
    return runProcess(io, { role: 'api', applicationName: 'atlas-api', migrate: false }, async (boot) => {
      const { config, database, log, plan, parts } = boot;
      parts.queues = await openQueues(config, database);
      // Verifying signed requests to Atlas means fetching the origin's keys over federation; the
      // same client fetches avatars from their origins.
      const http = createHttpClient(await httpClientOptionsFromConfig(config, { maxInFlight: 16 }));
      parts.extra = [http];
      const federation = new FederationClient({
        http,
        resolver: createServerResolver({ http }),
        identity: plan.identity,
      });
      const server = await serveHttp(
        config,
        {
          database,
          log,
          identity: plan.identity,
          queues: parts.queues,
          federation,
          media: { federation, http },
          publicHttp: true,
        },
        parts,
      );
      log.info({ port: server.httpPort, federationPort: server.federationPort }, 'Atlas API is up');
      return untilStopped(boot);
    });
  },
};
