import { startCrawlerRole } from '@atlas/crawler';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { openCrawlerRuntime } from '../crawler-runtime.ts';
import { runProcess, untilStopped } from '../run-process.ts';

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
    return runProcess(
      io,
      { role: 'crawler', applicationName: 'atlas-crawler', migrate: false },
      async (boot) => {
        boot.parts.crawler = await startCrawlerRole(await openCrawlerRuntime(boot));
        return untilStopped(boot);
      },
    );
  },
};
