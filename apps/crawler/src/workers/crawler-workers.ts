import { crawlPayload, probePayload, sweepPayload } from '@atlas/shared/queue';
import { crawlServer } from '../crawl/crawl-server.ts';
import { gatherLeads, measureRooms } from '../facts/measure-rooms.ts';
import { roomFactsPayload } from '../jobs/payloads.ts';
import { probeServer } from '../probe/probe-server.ts';
import { sweepDueServers } from '../sweep/sweep.ts';
import type { WorkerRegistration } from './registration.ts';
import { parseJobData } from './validated.ts';

/** How often the sweeper looks for servers due for a probe or a directory read. */
export const SWEEP_EVERY_MS = 30_000;
/** Stable id of the sweeper's job scheduler: every crawler process upserts the same one. */
export const SWEEP_SCHEDULER_ID = 'atlas-sweep';

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
      const data = parseJobData(roomFactsPayload, job);
      return data.step === 'complexity'
        ? { measured: await measureRooms(ctx, data) }
        : { leads: await ctx.complexitySlots.whileFinding(() => gatherLeads(ctx, data.listingServer)) };
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
