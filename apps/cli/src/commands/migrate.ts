import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { withDatabase } from '../run-process.ts';

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
    return withDatabase(io, { applicationName: 'atlas-migrate', migrate: true }, async () => {
      io.stderr.write('atlas: database migrations are applied\n');
      return EXIT.ok;
    });
  },
};
