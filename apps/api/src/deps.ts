import type { RoomLinks } from '@atlas/shared/api';
import type { Database } from '@atlas/shared/db';
import type { Logger } from '@atlas/shared/log';
import type { KeyStore, SigningKey } from '@atlas/shared/matrix';
import type { AvatarService } from '@atlas/shared/media';
import type { QueueBackend } from '@atlas/shared/queue';
import type { SearchIndex } from '@atlas/shared/search';
import type { Redis } from 'ioredis';

/** Operator settings the HTTP app reads (from `Config.api` and `Config.adminTokens`). */
export interface ApiSettings {
  /** Bearer tokens for /api/v1/admin; empty turns admin off. */
  adminTokens: string[];
  /** Public base URL served in /.well-known/matrix/client. */
  publicUrl?: string | undefined;
  /** Element Web, for the pages' "Open in Element" links. */
  elementUrl: string;
  /** `host:port` served in /.well-known/matrix/server. */
  wellKnownServer?: string | undefined;
  /** Rooms above this complexity are left out of Matrix publicRooms answers. */
  directoryMaxComplexity?: number | undefined;
  /** Requests per minute per client IP on public endpoints; 0 turns the limit off. */
  rateLimitPerMinute: number;
  reportsPerHour: number;
  /** CIDR ranges whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  /**
   * Servers the operator vouches for (ATLAS_VOUCHED_SERVERS): a room cap reached or a spam signal
   * does not keep them out of the Element feed and the Matrix directory.
   */
  vouchedServers: string[];
}

/** What the HTTP app needs from the process that hosts it. Tests build the same app with their own. */
export interface AppDeps {
  database: Database;
  log: Logger;
  /** Atlas's Matrix identity; absent when no ATLAS_SERVER_NAME is configured. */
  identity: { serverName: string; signingKey: SigningKey } | undefined;
  /** Resolves true when the process is ready to serve (migrations applied, workers started). */
  ready?: () => Promise<boolean>;
  search: SearchIndex;
  /** Job queues: admin's crawl trigger, the dashboard and queue depth metrics need them. */
  queues?: QueueBackend | undefined;
  /**
   * Redis for the rate limits, when REDIS_URL is set: every API replica then counts against one
   * limit. Without it each process counts alone.
   */
  limitStore?: Redis | undefined;
  /** Verifies X-Matrix signatures on federation requests; without it they are refused. */
  keyStore?: Pick<KeyStore, 'verifyRequest'> | undefined;
  /** Room avatars (`/media/avatar/...`); absent when ATLAS_MEDIA=off, and the answers link none. */
  avatars?: AvatarService | undefined;
  settings: ApiSettings;
}

/** What room answers link to in this app. */
export function roomLinks(deps: Pick<AppDeps, 'avatars'>): RoomLinks {
  return { avatars: deps.avatars !== undefined };
}

export const DEFAULT_SETTINGS: ApiSettings = {
  adminTokens: [],
  elementUrl: 'https://app.element.io',
  rateLimitPerMinute: 300,
  reportsPerHour: 10,
  trustedProxies: [],
  vouchedServers: [],
};
