import type { Config } from '@atlas/shared/config';
import { type Database, isShownAvatar } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import { createKeyStore, type FederationClient, mxcUri, type SigningKey } from '@atlas/shared/matrix';
import { AvatarService, AvatarStore } from '@atlas/shared/media';
import type { HttpClient } from '@atlas/shared/net';
import type { QueueBackend } from '@atlas/shared/queue';
import { createSearchIndex, withSearchCache } from '@atlas/shared/search';
import { Redis } from 'ioredis';
import type { ApiSettings, AppDeps } from './deps.ts';

export interface AppDepsInput {
  database: Database;
  log: Logger;
  identity: { serverName: string; signingKey: SigningKey } | undefined;
  queues?: QueueBackend | undefined;
  /** Fetches origins' keys to verify signed federation requests; without it they are refused. */
  federation?: Pick<FederationClient, 'getServerKeys'> | undefined;
  /**
   * Fetches avatars from their origins (with ATLAS_MEDIA on): the federation client and the HTTP
   * client under it, so media shares the SSRF guard, limits and per-server politeness of the rest.
   */
  media?: { federation: FederationClient; http: HttpClient } | undefined;
  ready?: () => Promise<boolean>;
}

export function apiSettings(config: Config): ApiSettings {
  // Delegation to Atlas's own TLS listener when nothing else is said.
  const wellKnownServer =
    config.api.wellKnownServer ??
    (config.serverName && config.federation
      ? `${config.serverName.replace(/:\d+$/, '')}:${config.federation.port}`
      : undefined);
  return {
    adminTokens: config.adminTokens,
    publicUrl: config.api.publicUrl,
    elementUrl: config.api.elementUrl,
    wellKnownServer,
    directoryMaxComplexity: config.api.directoryMaxComplexity,
    rateLimitPerMinute: config.api.rateLimitPerMinute,
    reportsPerHour: config.api.reportsPerHour,
    trustedProxies: config.api.trustedProxies,
    vouchedServers: [...config.directory.vouched.keys()],
  };
}

/**
 * Everything `createApp` needs, built from the configuration: the search backend (Meilisearch when
 * MEILI_URL is set, with PostgreSQL answering whenever Meilisearch cannot; else PostgreSQL), the
 * key store for signed requests, and the operator settings. `close()` releases what this made (not
 * the database or queues).
 */
export async function createAppDeps(
  config: Config,
  input: AppDepsInput,
): Promise<AppDeps & { close(): Promise<void> }> {
  // Identical searches share one answer until the index changes (see withSearchCache).
  const search = withSearchCache(
    await createSearchIndex({ databaseUrl: input.database.url, meili: config.meili, log: input.log }),
  );
  const stopping = new AbortController();
  let avatars: AvatarService | undefined;
  if (config.media && input.media) {
    const { sql } = input.database;
    avatars = new AvatarService({
      store: await AvatarStore.open({
        dir: config.media.cacheDir,
        capBytes: config.media.cacheBytes,
        log: input.log,
      }),
      federation: input.media.federation,
      http: input.media.http,
      log: input.log,
      isShownAvatar: (ref) => isShownAvatar(sql, mxcUri(ref), ref.serverName),
      signal: stopping.signal,
    });
  }
  // The rate limits' own connection: it must not wait for Redis (a limit that cannot be counted
  // falls back to this process's memory at once), unlike the queues' connections.
  const limitStore = config.redisUrl
    ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined;
  limitStore?.on('error', () => {
    // Reconnection is ioredis's; a limit meanwhile counts in memory (ClientRateLimiter).
  });
  return {
    database: input.database,
    log: input.log,
    identity: input.identity,
    ...(input.ready ? { ready: input.ready } : {}),
    search,
    queues: input.queues,
    limitStore,
    keyStore: input.federation ? createKeyStore({ federation: input.federation }) : undefined,
    avatars,
    settings: apiSettings(config),
    close: async () => {
      stopping.abort();
      limitStore?.disconnect();
      await search.close();
    },
  };
}
