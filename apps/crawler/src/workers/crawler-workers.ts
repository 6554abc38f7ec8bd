import { crawlServer } from '../crawl/crawl-server.ts';
import { gatherLeads, measureRooms } from '../facts/measure-rooms.ts';
import { probeServer } from '../probe/probe-server.ts';
import { sweepDueServers } from '../sweep/sweep.ts';
import type { QueueWorker } from './registration.ts';

export const probeWorker: QueueWorker<'probe'> = {
  queue: 'probe',
  setup: (ctx) => ({
    processors: {
      probe: async ({ serverName }) => ({
        verdict: await ctx.complexitySlots.whileFinding(() => probeServer(ctx, serverName)),
      }),
    },
  }),
};

export const crawlWorker: QueueWorker<'crawl'> = {
  queue: 'crawl',
  setup: (ctx) => ({
    processors: {
      crawl: ({ serverName }) => ctx.complexitySlots.whileFinding(() => crawlServer(ctx, serverName)),
    },
  }),
};

export const roomFactsWorker: QueueWorker<'room-facts'> = {
  queue: 'room-facts',
  setup: (ctx) => ({
    processors: {
      'room-leads': async ({ listingServer }) => ({
        leads: await ctx.complexitySlots.whileFinding(() => gatherLeads(ctx, listingServer)),
      }),
      'room-complexity': async ({ listingServer }) => ({ measured: await measureRooms(ctx, listingServer) }),
    },
  }),
};

export const sweepWorker: QueueWorker<'sweep'> = {
  queue: 'sweep',
  setup: (ctx) => ({
    processors: { sweep: () => sweepDueServers(ctx, { crawls: true, max: 5_000 }) },
  }),
};
