import path from 'node:path';
import type { z } from 'zod';
import { DEFAULT_SEEDS } from './default-seeds.ts';
import { type Env, envSchema } from './schema.ts';

export { DEFAULT_SEEDS } from './default-seeds.ts';
export { type Env, envSchema } from './schema.ts';

export interface Config {
  /** Absolute path of the data folder (keys, embedded database, certificates). */
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  meili: { url: string; key: string | undefined } | undefined;
  /** Atlas's own Matrix server name; unset means no federation identity. */
  serverName: string | undefined;
  seeds: string[];
  dnsServers: { host: string; port: number }[] | undefined;
  caFile: string | undefined;
  allowNetworks: string[];
  http: { host: string; port: number };
  federation: { port: number; certFile: string; keyFile: string } | undefined;
  embeddedPgPort: number;
  homeserver: { url: string; user?: string; password?: string; token?: string } | undefined;
  adminTokens: string[];
  crawl: { concurrency: number; maxPages: number; maxRooms: number; maxSeconds: number; pageLimit: number };
  /** The directory-size policy: how much of one server's directory Atlas keeps and follows up. */
  directory: DirectoryPolicy;
  api: {
    publicUrl: string | undefined;
    elementUrl: string;
    wellKnownServer: string | undefined;
    directoryMaxComplexity: number | undefined;
    rateLimitPerMinute: number;
    reportsPerHour: number;
    trustedProxies: string[];
  };
  /** Room avatars (ATLAS_MEDIA, ATLAS_MEDIA_CACHE_MB); undefined when ATLAS_MEDIA=off. */
  media: MediaSettings | undefined;
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
}

export interface MediaSettings {
  /** Where thumbnails are kept: ATLAS_DATA_DIR/media. */
  cacheDir: string;
  /** The most the cache folder holds, in bytes (ATLAS_MEDIA_CACHE_MB). */
  cacheBytes: number;
}

export interface DirectoryPolicy {
  /** Rooms kept from one server's directory unless the server is vouched for (ATLAS_DIRECTORY_ROOM_CAP). */
  roomCap: number;
  /**
   * Servers the operator vouches for, with the room cap each gets (ATLAS_VOUCHED_SERVERS; a name
   * alone gets ATLAS_CRAWL_MAX_ROOMS). Their directories may pass `roomCap`, and a flag for review
   * does not keep them out of the Element feed or the Matrix directory.
   */
  vouched: ReadonlyMap<string, number>;
  /** Follow-up work (leads, complexity) one server's rooms get per directory read, in ms. */
  followUpMs: number;
}

/** The most rooms Atlas keeps from `serverName`'s directory (one rule, read by the crawler and the API). */
export function roomCapFor(policy: DirectoryPolicy, serverName: string): number {
  return policy.vouched.get(serverName) ?? policy.roomCap;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      return `  ${variable}: ${issue.message}`;
    })
    .join('\n');
}

/**
 * Parses the environment once, at boot. Throws a ConfigError whose message names every bad
 * variable and what it expects.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset", as they do in .env files and compose files.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration:\n${describeIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.MEILI_KEY && !e.MEILI_URL)
    problems.push('  MEILI_KEY: is set but MEILI_URL is not; set MEILI_URL too');
  const tlsParts = [e.ATLAS_TLS_CERT_FILE, e.ATLAS_TLS_KEY_FILE].filter(Boolean).length;
  if (tlsParts === 1) {
    problems.push('  ATLAS_TLS_CERT_FILE / ATLAS_TLS_KEY_FILE: set both, or neither');
  }
  if (
    e.ATLAS_HOMESERVER_URL &&
    !e.ATLAS_HOMESERVER_TOKEN &&
    !(e.ATLAS_HOMESERVER_USER && e.ATLAS_HOMESERVER_PASSWORD)
  ) {
    problems.push(
      '  ATLAS_HOMESERVER_URL: needs ATLAS_HOMESERVER_TOKEN, or ATLAS_HOMESERVER_USER and ATLAS_HOMESERVER_PASSWORD',
    );
  }
  if (e.ATLAS_DIRECTORY_ROOM_CAP > e.ATLAS_CRAWL_MAX_ROOMS) {
    problems.push(
      `  ATLAS_DIRECTORY_ROOM_CAP: ${e.ATLAS_DIRECTORY_ROOM_CAP} is more than ATLAS_CRAWL_MAX_ROOMS (${e.ATLAS_CRAWL_MAX_ROOMS}), the most any read stores; lower it or raise ATLAS_CRAWL_MAX_ROOMS`,
    );
  }
  for (const vouched of e.ATLAS_VOUCHED_SERVERS ?? []) {
    if (vouched.rooms !== undefined && vouched.rooms > e.ATLAS_CRAWL_MAX_ROOMS) {
      problems.push(
        `  ATLAS_VOUCHED_SERVERS: ${vouched.name}=${vouched.rooms} is more than ATLAS_CRAWL_MAX_ROOMS (${e.ATLAS_CRAWL_MAX_ROOMS}), the most any read stores; lower it or raise ATLAS_CRAWL_MAX_ROOMS`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const federation =
    e.ATLAS_TLS_CERT_FILE && e.ATLAS_TLS_KEY_FILE
      ? {
          port: e.ATLAS_FEDERATION_PORT ?? 8448,
          certFile: e.ATLAS_TLS_CERT_FILE,
          keyFile: e.ATLAS_TLS_KEY_FILE,
        }
      : undefined;

  return {
    dataDir: path.resolve(e.ATLAS_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    meili: e.MEILI_URL ? { url: e.MEILI_URL, key: e.MEILI_KEY } : undefined,
    serverName: e.ATLAS_SERVER_NAME?.toLowerCase(),
    seeds:
      e.ATLAS_SEEDS && e.ATLAS_SEEDS.length > 0
        ? e.ATLAS_SEEDS.map((s) => s.toLowerCase())
        : [...DEFAULT_SEEDS],
    dnsServers: e.ATLAS_DNS_SERVERS,
    caFile: e.ATLAS_CA_FILE,
    allowNetworks: e.ATLAS_ALLOW_NETWORKS ?? [],
    http: { host: e.HOST, port: e.PORT },
    federation,
    embeddedPgPort: e.ATLAS_EMBEDDED_PG_PORT,
    homeserver: e.ATLAS_HOMESERVER_URL
      ? {
          url: e.ATLAS_HOMESERVER_URL,
          ...(e.ATLAS_HOMESERVER_USER ? { user: e.ATLAS_HOMESERVER_USER } : {}),
          ...(e.ATLAS_HOMESERVER_PASSWORD ? { password: e.ATLAS_HOMESERVER_PASSWORD } : {}),
          ...(e.ATLAS_HOMESERVER_TOKEN ? { token: e.ATLAS_HOMESERVER_TOKEN } : {}),
        }
      : undefined,
    adminTokens: e.ATLAS_ADMIN_TOKENS ?? [],
    crawl: {
      concurrency: e.ATLAS_CRAWL_CONCURRENCY,
      maxPages: e.ATLAS_CRAWL_MAX_PAGES,
      maxRooms: e.ATLAS_CRAWL_MAX_ROOMS,
      maxSeconds: e.ATLAS_CRAWL_MAX_SECONDS,
      pageLimit: e.ATLAS_PAGE_LIMIT,
    },
    directory: {
      roomCap: e.ATLAS_DIRECTORY_ROOM_CAP,
      vouched: new Map(
        (e.ATLAS_VOUCHED_SERVERS ?? []).map((v) => [v.name, v.rooms ?? e.ATLAS_CRAWL_MAX_ROOMS]),
      ),
      followUpMs: e.ATLAS_FOLLOW_UP_SECONDS * 1000,
    },
    api: {
      publicUrl: e.ATLAS_PUBLIC_URL?.replace(/\/+$/, ''),
      elementUrl: e.ATLAS_ELEMENT_URL.replace(/\/+$/, ''),
      wellKnownServer: e.ATLAS_WELL_KNOWN_SERVER?.toLowerCase(),
      directoryMaxComplexity: e.ATLAS_DIRECTORY_MAX_COMPLEXITY,
      rateLimitPerMinute: e.ATLAS_RATE_LIMIT,
      reportsPerHour: e.ATLAS_REPORT_RATE_LIMIT,
      trustedProxies: e.ATLAS_TRUSTED_PROXIES ?? [],
    },
    media:
      e.ATLAS_MEDIA === 'on'
        ? {
            cacheDir: path.join(path.resolve(e.ATLAS_DATA_DIR), 'media'),
            cacheBytes: e.ATLAS_MEDIA_CACHE_MB * 1024 * 1024,
          }
        : undefined,
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
  };
}
