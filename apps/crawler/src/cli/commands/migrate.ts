import { migrateDatabase } from '@atlas/shared/db';
import { createLogger } from '@atlas/shared/log';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { openConfiguredDatabase } from '../parts.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply database migrations, then exit (non-zero on failure)',
  usage: `Usage: atlas migrate

Applies the drizzle-kit migrations to DATABASE_URL (or the embedded PostgreSQL) and the job
queue tables when the queues run on PostgreSQL, then exits: 0 when the database is up to date,
1 on any failure. Safe to run from several processes at once.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {});
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    const config = io.config();
    const log = createLogger(config.log);
    const database = await openConfiguredDatabase(config, log, 'atlas-migrate');
    try {
      await migrateDatabase(database);
      io.stderr.write('atlas: database migrations are applied\n');
      return EXIT.ok;
    } finally {
      await database.close();
    }
  },
};
