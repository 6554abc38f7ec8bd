import { createSearchIndex, indexChangedRooms, rebuildSearchIndex } from '@atlas/shared/search';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT } from '../command.ts';
import { withDatabase } from '../run-process.ts';

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'rebuild the search index from the database (or push only changed rooms)',
  usage: `Usage: atlas reindex [--changed]

Rebuilds the search index (PostgreSQL, or Meilisearch when MEILI_URL is set) from every room in
the database. Searches keep answering from the old index until the new one is complete.
  --changed   only push rooms changed since their last indexing (what the index queue does)

Prints {"upserted":N,"removed":N} on stdout. Exits 1 when another indexer holds the lock.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, { changed: { type: 'boolean' } });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    return withDatabase(
      io,
      { applicationName: 'atlas-reindex', migrate: false },
      async ({ config, log, database }) => {
        const search = await createSearchIndex({ databaseUrl: database.url, meili: config.meili, log });
        try {
          const started = Date.now();
          const run = values.changed ? indexChangedRooms : rebuildSearchIndex;
          const result = await run(database.sql, search, { log });
          if (!result.ran) {
            io.stderr.write('atlas reindex: another indexer is running; try again when it is done\n');
            return EXIT.failure;
          }
          io.stdout.write(`${JSON.stringify({ upserted: result.upserted, removed: result.removed })}\n`);
          io.stderr.write(
            `atlas: ${search.backend} search index ${values.changed ? 'updated' : 'rebuilt'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
          return EXIT.ok;
        } finally {
          await search.close();
        }
      },
    );
  },
};
