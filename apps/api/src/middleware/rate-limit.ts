import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

export interface RateLimitOptions {
  /** Requests allowed per window per client; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** Names the limit in the 429 message. */
  what: string;
}

/** IPv6 clients get a /64 each, as one host usually holds the whole prefix. */
function clientKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const full = ip.includes('::') ? expandIpv6(ip) : ip.split(':');
  return `${full.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
}

/** Where a limiter keeps its counts: this process's memory, or Redis, shared by every API replica. */
export type LimitStore = { kind: 'memory' } | { kind: 'redis'; client: Redis };

/**
 * A count per client IP (an IPv6 client by its /64) over a window, through rate-limiter-flexible:
 * in memory, or in Redis so that R API replicas allow the limit once, not R times. Should Redis not
 * answer, each process counts in its own memory meanwhile (the library's insurance limiter), so an
 * outage of Atlas's own Redis never refuses or fails a request. One limiter can serve several routes
 * (the JSON report endpoint and the report form share one).
 */
export class ClientRateLimiter {
  readonly store: LimitStore['kind'];
  private readonly limiter: RateLimiterAbstract | undefined;

  constructor(
    readonly options: RateLimitOptions & { name: string },
    store: LimitStore,
  ) {
    this.store = store.kind;
    if (options.limit <= 0) return;
    const counts = {
      points: options.limit,
      duration: Math.max(1, Math.round(options.windowMs / 1000)),
      keyPrefix: `atlas-limit:${options.name}`,
    };
    this.limiter =
      store.kind === 'redis'
        ? new RateLimiterRedis({
            ...counts,
            storeClient: store.client,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(counts),
          })
        : new RateLimiterMemory(counts);
  }

  /** Counts a request; past the limit, how many seconds until the window lets it through. */
  async take(ip: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    if (!this.limiter) return { ok: true };
    try {
      await this.limiter.consume(clientKey(ip));
      return { ok: true };
    } catch (refused) {
      if (refused instanceof RateLimiterRes) {
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(refused.msBeforeNext / 1000)) };
      }
      throw refused;
    }
  }

  /** The 429 a caller over the limit gets, with Retry-After. */
  refusal(retryAfterSeconds: number): ApiError {
    const { limit, windowMs, what } = this.options;
    return new ApiError(
      'RATE_LIMITED',
      `too many ${what} from this address (${limit} per ${Math.round(windowMs / 1000)} s); retry after ${retryAfterSeconds} s`,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/** The limit as middleware: over it, 429 with Retry-After. */
export function rateLimit(limiter: ClientRateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const verdict = await limiter.take(c.get('clientIp') ?? 'unknown');
    if (!verdict.ok) throw limiter.refusal(verdict.retryAfterSeconds);
    await next();
  };
}
