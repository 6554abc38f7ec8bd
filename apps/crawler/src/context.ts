import type { Config, DirectoryPolicy } from '@atlas/shared/config';
import type { Database } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import type { FederationClient, ServerResolver } from '@atlas/shared/matrix';
import type { HttpClient, SharedHolds } from '@atlas/shared/net';
import type { QueueBackend } from '@atlas/shared/queue';
import type { BlockCache } from './blocks.ts';
import type { KnownServers } from './discover/known-servers.ts';
import type { MeasureSlots } from './facts/measure-slots.ts';
import type { ViaHomeserver } from './remote/via-homeserver.ts';
import type { CrawlStats } from './stats.ts';
import type { FairShare } from './workers/fair-share.ts';

/** Limits for reading one server's directory (ATLAS_CRAWL_* and ATLAS_PAGE_LIMIT). */
export interface CrawlSettings {
  /** `limit` sent with each page request. */
  pageLimit: number;
  maxPages: number;
  maxRooms: number;
  maxSeconds: number;
  /** Jobs per queue this process runs at once. */
  concurrency: number;
  /** Room caps per server and the follow-up budget (ATLAS_DIRECTORY_ROOM_CAP and friends). */
  directory: DirectoryPolicy;
  /**
   * A listed room measured before this moment is measured again: a day ago in the long run;
   * `crawl --once` gives its own start, so a one-off pass measures every room it lists once, and
   * finds the servers that joined rooms since.
   */
  factsMeasuredBefore(): Date;
}

/** Everything a job needs; built once per process (see runtime.ts). */
export interface CrawlerContext {
  /** The whole configuration, for workers that need more than the crawler's settings (search). */
  config: Config;
  database: Database;
  queues: QueueBackend;
  log: Logger;
  /** The one outbound client for remote servers (SSRF guard, caps, politeness). */
  http: HttpClient;
  resolver: ServerResolver;
  federation: FederationClient;
  /** Atlas's server name when it signs federation requests; undefined without an identity. */
  ownServerName: string | undefined;
  /** Via-homeserver mode, when ATLAS_HOMESERVER_URL is configured. */
  via: ViaHomeserver | undefined;
  settings: CrawlSettings;
  blocks: BlockCache;
  /** Server names already put forward for discovery by this process (see known-servers.ts). */
  knownServers: KnownServers;
  /**
   * Complexity requests in flight: up to ATLAS_CRAWL_CONCURRENCY, one while directories are read or
   * servers found, so measuring never slows the work that stores rooms.
   */
  complexitySlots: MeasureSlots;
  stats: CrawlStats;
  /**
   * Holds shared by every crawler process on Redis (ADR 0009): a server's requests and its jobs run
   * one at a time across processes. Undefined without REDIS_URL: one process is all there is.
   */
  serverHolds: SharedHolds | undefined;
  /** This process's share for heavy servers' directory reads (fair-share.ts). */
  fairShare: FairShare;
  /** Aborted when the process shuts down: running jobs stop at their next request. */
  signal: AbortSignal;
}
