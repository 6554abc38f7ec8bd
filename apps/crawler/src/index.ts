/**
 * The crawler as a library: its roles, which the `atlas` command (apps/cli) runs, and its parts,
 * for tests and the benchmark (the search index worker registers itself in workers/index.ts).
 */

export type { CrawlerContext, CrawlSettings } from './context.ts';
export { type CrawlMode, type CrawlSummary, crawlModes, crawlServer } from './crawl/crawl-server.ts';
export { type CrawlSummaryJson, summaryJson } from './crawl-summary.ts';
export { type RunningCrawler, type StartCrawlerOptions, startCrawler } from './crawler.ts';
export { discoverServers } from './discover/discover-servers.ts';
export { measureRooms } from './facts/measure-rooms.ts';
export { type CrawlOnceOptions, crawlUntilDrained, searchableRooms } from './once.ts';
export { probeServer } from './probe/probe-server.ts';
export { progressLine, queueDepths } from './progress.ts';
export { fetchFederationPage, type PageRequest } from './remote/directory.ts';
export { createViaHomeserver } from './remote/via-homeserver.ts';
export { crawlOnce, startCrawlerRole, startCrawlOnceWorkers } from './roles.ts';
export { type CrawlerRuntime, type CrawlerRuntimeOptions, createCrawlerRuntime } from './runtime.ts';
export { CrawlStats } from './stats.ts';
export { sweepDueServers } from './sweep/sweep.ts';
export {
  CRAWL_QUEUES,
  type QueueWorker,
  WORKERS,
  type WorkerRegistration,
  type WorkerSetup,
} from './workers/index.ts';
