import { createLogger } from '@atlas/shared/log';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { planIdentity } from '../identity.ts';
import { assertMigrated, openConfiguredDatabase, type ProcessParts, stopParts } from '../parts.ts';
import { announceIdentity, startCrawlerRole } from '../roles.ts';
import { waitForStopSignal } from '../shutdown.ts';

export const crawlerCommand: Command = {
  name: 'crawler',
  summary: 'run the crawler workers only (compose role; several may share one Redis and PostgreSQL)',
  usage: `Usage: atlas crawler

Runs every crawler worker and the sweeper against DATABASE_URL and REDIS_URL, with no HTTP
listener. Several crawler processes may run at once: jobs are shared through the queues, one job
per server at a time. Expects a migrated database (run \`atlas migrate\` first). Signs federation
requests as ATLAS_SERVER_NAME with the key in ATLAS_DATA_DIR, which the \`api\` role must serve
(share the data folder, or the signing.key file, between the two).`,
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
      const database = await openConfiguredDatabase(config, log, 'atlas-crawler');
      parts.database = database;
      await assertMigrated(database);
      const plan = await planIdentity(config, 'crawler');
      announceIdentity(plan, io.stderr, log);
      await startCrawlerRole(config, log, plan, database, parts);
      const signal = await stopped;
      log.info({ signal }, 'shutting down');
      return EXIT.ok;
    } finally {
      await stopParts(parts, log);
    }
  },
};
