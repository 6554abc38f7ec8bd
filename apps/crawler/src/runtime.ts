import { setMaxListeners } from 'node:events';
import type { Config } from '@atlas/shared/config';
import { type Database, FACTS_MAX_AGE_MS } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import { createServerResolver, FederationClient, type FederationIdentity } from '@atlas/shared/matrix';
import { createHttpClient, createRedisHolds, httpClientOptionsFromConfig } from '@atlas/shared/net';
import { QUEUES, type QueueBackend } from '@atlas/shared/queue';
import { createBlockCache } from './blocks.ts';
import type { CrawlerContext } from './context.ts';
import { KnownServers } from './discover/known-servers.ts';
import { MeasureSlots } from './facts/measure-slots.ts';
import { createViaHomeserver } from './remote/via-homeserver.ts';
import { CrawlStats } from './stats.ts';
import { FairShare } from './workers/fair-share.ts';

/** How long an idle connection to a remote server is kept for reuse. */
const IDLE_SOCKET_MS = 5_000;
/**
 * TLS sessions kept for resumption. A server is met again after its idle connection closed (probe,
 * then directory read, then leads from other servers' rooms), and a resumed session skips the
 * certificate signature and verification of a full handshake. A session takes under a kilobyte.
 */
const TLS_SESSIONS = 4_000;

export interface CrawlerRuntimeOptions {
  config: Config;
  database: Database;
  queues: QueueBackend;
  log: Logger;
  /** Atlas's server name and key; without one, directories are read without signing. */
  identity: FederationIdentity | undefined;
  /** Measure again every listed room measured before this (`crawl --once`: its start); see `CrawlSettings`. */
  factsMeasuredSince?: Date;
  /** The queues' namespace on Redis (`createQueueBackend`'s), which the shared holds use too. */
  queueNamespace?: string;
}

export interface CrawlerRuntime {
  ctx: CrawlerContext;
  /** Tells running jobs to stop at their next request (shutdown). */
  abort(): void;
  /** Closes the HTTP clients (after the workers have stopped). */
  close(): Promise<void>;
}

/** Builds the jobs' context from the configuration: HTTP clients, resolver, federation client. */
export async function createCrawlerRuntime(options: CrawlerRuntimeOptions): Promise<CrawlerRuntime> {
  const { config, log } = options;
  const concurrency = config.crawl.concurrency;
  // With Redis, crawler processes may be many (ADR 0009): a server's requests and jobs run one at a
  // time across all of them. Alone on PostgreSQL, this process's own rules are all there is.
  const serverHolds = config.redisUrl
    ? createRedisHolds(config.redisUrl, {
        prefix: `${options.queueNamespace ?? 'atlas'}:hold:`,
        onConnection: ({ state, error, downMs }) => {
          if (state === 'lost') {
            log.warn(
              { part: 'redis', err: error },
              'politeness holds: Redis connection lost, reconnecting with backoff',
            );
          } else {
            log.info({ part: 'redis', downMs }, 'politeness holds: Redis connection back');
          }
        },
      })
    : undefined;
  const http = createHttpClient({
    ...(await httpClientOptionsFromConfig(config, { maxInFlight: Math.max(32, concurrency * 4) })),
    ...(serverHolds ? { sharedHolds: serverHolds } : {}),
    // A crawl talks to thousands of servers, each over its own TLS connection; one is reused within
    // milliseconds while its server is read, then only costs memory.
    idleSocketMs: IDLE_SOCKET_MS,
    maxCachedSessions: TLS_SESSIONS,
  });
  const resolver = createServerResolver({ http });
  const federation = new FederationClient({ http, resolver, identity: options.identity });
  // The operator's own homeserver may live on a private network (a compose service), so its client
  // lets every address through; it is only ever used for that one configured URL.
  const homeserverHttp = config.homeserver
    ? createHttpClient(
        await httpClientOptionsFromConfig(
          { ...config, allowNetworks: ['0.0.0.0/0', '::/0'] },
          { maxInFlight: Math.max(4, concurrency) },
        ),
      )
    : undefined;
  const via =
    config.homeserver && homeserverHttp
      ? createViaHomeserver({ ...config.homeserver, http: homeserverHttp, log })
      : undefined;
  const controller = new AbortController();
  // Every request in flight listens on this signal; dozens at once is normal.
  setMaxListeners(0, controller.signal);
  const ctx: CrawlerContext = {
    config,
    database: options.database,
    queues: options.queues,
    log,
    http,
    resolver,
    federation,
    ownServerName: options.identity?.serverName,
    via,
    settings: {
      pageLimit: config.crawl.pageLimit,
      maxPages: config.crawl.maxPages,
      maxRooms: config.crawl.maxRooms,
      maxSeconds: config.crawl.maxSeconds,
      concurrency,
      directory: config.directory,
      factsMeasuredBefore: () => options.factsMeasuredSince ?? new Date(Date.now() - FACTS_MAX_AGE_MS),
    },
    blocks: createBlockCache(options.database.sql),
    knownServers: new KnownServers(),
    complexitySlots: new MeasureSlots(concurrency),
    stats: new CrawlStats(),
    serverHolds,
    fairShare: new FairShare(QUEUES.crawl.concurrency(concurrency)),
    signal: controller.signal,
  };
  return {
    ctx,
    abort: () => controller.abort(),
    async close() {
      await Promise.all([http.close(), homeserverHttp?.close(), serverHolds?.close()]);
    },
  };
}
