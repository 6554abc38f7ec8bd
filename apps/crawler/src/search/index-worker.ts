import type { IndexRunResult } from '@atlas/shared/search';
import type { QueueWorker } from '../workers/registration.ts';

/**
 * The index queue's worker: pushes rooms whose `version` moved since they were last indexed, in
 * batches, to the configured search backend (`index-changed`), or rebuilds it (`index-rebuild`).
 * The database records what was indexed, so a crash loses nothing: the next run takes the rest.
 * With Meilisearch, each run first puts back what Meilisearch lost (writes it missed while down, or
 * its whole index after a restart without its data), so it catches up by itself within one run of
 * coming back.
 */
export const indexWorker: QueueWorker<'index'> = {
  queue: 'index',
  async setup(ctx) {
    // Loaded here, not at import: the search package carries language models (tens of MB) that
    // processes without this worker should not pay for.
    const { createSearchIndex, indexChangedRooms, rebuildSearchIndex } = await import('@atlas/shared/search');
    const log = ctx.log.child({ queue: 'index' });
    const search = await createSearchIndex({ databaseUrl: ctx.database.url, meili: ctx.config.meili, log });
    const report = (full: boolean, jobId: string | undefined, result: IndexRunResult) => {
      if (result.ran && (result.upserted > 0 || result.removed > 0)) {
        log.info({ jobId, full, ...result }, 'search index updated');
      }
      return result;
    };
    return {
      processors: {
        'index-changed': async (_data, job) =>
          report(false, job.id, await indexChangedRooms(ctx.database.sql, search, { log })),
        'index-rebuild': async (_data, job) =>
          report(true, job.id, await rebuildSearchIndex(ctx.database.sql, search, { log })),
      },
      close: () => search.close(),
    };
  },
};
