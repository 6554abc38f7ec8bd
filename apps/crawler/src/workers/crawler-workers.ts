import { getServerStatuses, listingServerOf, queueRoomFacts } from '@atlas/shared/db';
import { crawlPayload, discoverPayload, probePayload, sweepPayload } from '@atlas/shared/queue';
import { crawlServer } from '../crawl/crawl-server.ts';
import { discoverServers } from '../discover/discover-servers.ts';
import { gatherLeads, measureRooms } from '../facts/measure-rooms.ts';
import { enqueueRoomFacts } from '../jobs/enqueue.ts';
import { complexityJobPayload } from '../jobs/payloads.ts';
import { probeServer } from '../probe/probe-server.ts';
import { sweepDueServers } from '../sweep/sweep.ts';
import type { WorkerRegistration } from './registration.ts';
import { parseJobData } from './validated.ts';

/** How often the sweeper looks for servers due for a probe or a directory read. */
export const SWEEP_EVERY_MS = 30_000;
/** Stable id of the sweeper's job scheduler: every crawler process upserts the same one. */
export const SWEEP_SCHEDULER_ID = 'atlas-sweep';

/**
 * Records the candidates of a discover job. Directory reads and the leads step record the servers
 * they find themselves (`discoverServers`); this worker drains the jobs earlier versions of Atlas
 * left in the queue.
 */
export const discoverWorker: WorkerRegistration = {
  queue: 'discover',
  setup: (ctx) => ({
    processor: async (job) => {
      const { candidates } = parseJobData(discoverPayload, job);
      return { added: (await discoverServers(ctx, candidates)).length };
    },
  }),
};

export const probeWorker: WorkerRegistration = {
  queue: 'probe',
  concurrency: (ctx) => ctx.settings.concurrency,
  setup: (ctx) => ({
    processor: async (job) => {
      const { serverName } = parseJobData(probePayload, job);
      return { verdict: await ctx.complexitySlots.whileFinding(() => probeServer(ctx, serverName)) };
    },
  }),
};

export const crawlWorker: WorkerRegistration = {
  queue: 'crawl',
  concurrency: (ctx) => ctx.settings.concurrency,
  setup: (ctx) => ({
    processor: async (job) => {
      const { serverName } = parseJobData(crawlPayload, job);
      return ctx.complexitySlots.whileFinding(() => crawlServer(ctx, serverName));
    },
  }),
};

export const complexityWorker: WorkerRegistration = {
  queue: 'complexity',
  // Its jobs mostly wait on one server each (one request at a time per host), and complexity
  // requests have their own few slots, so more jobs than the other queues run at once.
  concurrency: (ctx) => ctx.settings.concurrency * 4,
  setup: (ctx) => ({
    processor: async (job) => {
      const data = parseJobData(complexityJobPayload, job);
      if ('listingServer' in data) {
        return data.step === 'complexity'
          ? { measured: await measureRooms(ctx, data) }
          : { leads: await ctx.complexitySlots.whileFinding(() => gatherLeads(ctx, data.listingServer)) };
      }
      // The single-room form: queue the room for a known server among those given (or one that
      // lists it), and let that server's job measure it.
      const known = await getServerStatuses(ctx.database.sql, data.servers);
      const listingServer =
        data.servers.find((name) => known.some((k) => k.name === name)) ??
        (await listingServerOf(ctx.database.sql, data.roomId));
      if (!listingServer) return { queued: 0 };
      const queued = await queueRoomFacts(ctx.database.sql, listingServer, [data.roomId]);
      if (queued > 0) await enqueueRoomFacts(ctx, [listingServer]);
      return { queued };
    },
  }),
};

export const sweepWorker: WorkerRegistration = {
  queue: 'sweep',
  concurrency: () => 1,
  setup: (ctx) => ({
    processor: async (job) => {
      parseJobData(sweepPayload, job);
      return sweepDueServers(ctx, { crawls: true, max: 5_000 });
    },
  }),
  async schedule(ctx) {
    await ctx.queues
      .queue('sweep')
      .upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: SWEEP_EVERY_MS }, { name: 'sweep', data: {} });
  },
};
