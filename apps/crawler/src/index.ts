/**
 * The crawler as a library: what the CLI runs, for tests, the benchmark and other parts of Atlas
 * (the search index worker registers itself in workers/index.ts).
 */

export type { Command, CommandIo } from './cli/command.ts';
export type { CrawlSummaryJson } from './cli/commands/crawl-summary.ts';
export { main } from './cli/main.ts';
export type { CrawlerContext, CrawlSettings } from './context.ts';
export { type CrawlMode, type CrawlSummary, crawlModes, crawlServer } from './crawl/crawl-server.ts';
export {
  LOCK_DURATION_MS,
  type RunningCrawler,
  STALLED_INTERVAL_MS,
  type StartCrawlerOptions,
  startCrawler,
} from './crawler.ts';
export { discoverServers } from './discover/discover-servers.ts';
export { measureRooms } from './facts/measure-rooms.ts';
export { CRAWL_QUEUES, enqueueCrawls, enqueueProbes } from './jobs/enqueue.ts';
export { type CrawlOnceOptions, crawlUntilDrained, searchableRooms } from './once.ts';
export { probeServer } from './probe/probe-server.ts';
export { progressLine, queueDepths } from './progress.ts';
export { fetchFederationPage, type PageRequest } from './remote/directory.ts';
export { createViaHomeserver } from './remote/via-homeserver.ts';
export { type CrawlerRuntime, type CrawlerRuntimeOptions, createCrawlerRuntime } from './runtime.ts';
export { CrawlStats } from './stats.ts';
export { sweepDueServers } from './sweep/sweep.ts';
export { WORKERS, type WorkerRegistration, type WorkerSetup } from './workers/index.ts';
