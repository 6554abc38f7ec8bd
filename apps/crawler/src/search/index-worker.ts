import { indexPayload } from '@atlas/shared/queue';
import type { WorkerRegistration } from '../workers/registration.ts';
import { parseJobData } from '../workers/validated.ts';

/** How often rooms changed since their last indexing are pushed to the search index. */
export const INDEX_EVERY_MS = 15_000;
export const INDEX_SCHEDULER_ID = 'atlas-index';
/**
 * A nightly full rebuild: growth over 7 and 30 days moves with the calendar even for rooms that did
 * not change, and a rebuild also drops whatever an interrupted run may have left behind.
 */
export const REBUILD_SCHEDULER_ID = 'atlas-index-rebuild';
export const REBUILD_PATTERN = '17 4 * * *';

/**
 * The index queue's worker: pushes rooms whose `version` moved since they were last indexed, in
 * batches, to the configured search backend (`{full: true}` rebuilds it). The database records
 * what was indexed, so a crash loses nothing: the next run takes the rest. With Meilisearch, each
 * run first puts back what Meilisearch lost (writes it missed while down, or its whole index after
 * a restart without its data), so it catches up by itself within one run of coming back.
 */
export const indexWorker: WorkerRegistration = {
  queue: 'index',
  concurrency: () => 1,
  async setup(ctx) {
    // Loaded here, not at import: the search package carries language models (tens of MB) that
    // processes without this worker (`atlas crawl --once`) should not pay for.
    const { createSearchIndex, indexChangedRooms, rebuildSearchIndex } = await import('@atlas/shared/search');
    const log = ctx.log.child({ queue: 'index' });
    const search = await createSearchIndex({ databaseUrl: ctx.database.url, meili: ctx.config.meili, log });
    return {
      processor: async (job) => {
        const { full } = parseJobData(indexPayload, job);
        const run = full ? rebuildSearchIndex : indexChangedRooms;
        const result = await run(ctx.database.sql, search, { log });
        if (result.ran && (result.upserted > 0 || result.removed > 0)) {
          log.info({ jobId: job.id, full, ...result }, 'search index updated');
        }
        return result;
      },
      close: () => search.close(),
    };
  },
  async schedule(ctx) {
    const queue = ctx.queues.queue('index');
    await queue.upsertJobScheduler(
      INDEX_SCHEDULER_ID,
      { every: INDEX_EVERY_MS },
      { name: 'index', data: { full: false } },
    );
    await queue.upsertJobScheduler(
      REBUILD_SCHEDULER_ID,
      { pattern: REBUILD_PATTERN },
      { name: 'index', data: { full: true } },
    );
  },
};
