import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

export interface RateLimitOptions {
  /** Requests allowed per window per client; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** Names the limit in the 429 message. */
  what: string;
}

/** Clients remembered at once; past it the oldest windows are dropped (a spray of addresses cannot grow memory). */
const MAX_CLIENTS = 100_000;

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

/**
 * A fixed-window limit per client IP, in this process's memory. Over the limit: 429 with
 * Retry-After (seconds until the window ends).
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const windows = new Map<string, { start: number; count: number }>();
  return async (c, next) => {
    if (options.limit <= 0) return next();
    const now = Date.now();
    const key = clientKey(c.get('clientIp') ?? 'unknown');
    let window = windows.get(key);
    if (!window || now - window.start >= options.windowMs) {
      windows.delete(key);
      if (windows.size >= MAX_CLIENTS) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      window = { start: now, count: 0 };
      windows.set(key, window);
    }
    window.count++;
    if (window.count > options.limit) {
      const retryAfter = Math.max(1, Math.ceil((window.start + options.windowMs - now) / 1000));
      throw new ApiError(
        'RATE_LIMITED',
        `too many ${options.what} from this address (${options.limit} per ${Math.round(options.windowMs / 1000)} s); retry after ${retryAfter} s`,
        { 'retry-after': String(retryAfter) },
      );
    }
    await next();
  };
}
