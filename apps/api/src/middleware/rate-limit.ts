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
 * A fixed-window count per client IP (an IPv6 client by its /64), in this process's memory. One
 * limiter can serve several routes (the JSON report endpoint and the report form share one).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(readonly options: RateLimitOptions) {}

  /** Counts a request; past the limit, how many seconds until the window ends. */
  take(ip: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const { limit, windowMs } = this.options;
    if (limit <= 0) return { ok: true };
    const key = clientKey(ip);
    let window = this.windows.get(key);
    if (!window || now - window.start >= windowMs) {
      this.windows.delete(key);
      if (this.windows.size >= MAX_CLIENTS) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count <= limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)) };
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

/** The limit as middleware: over it, 429 with Retry-After (seconds until the window ends). */
export function rateLimit(limiter: FixedWindowLimiter | RateLimitOptions): MiddlewareHandler<AppEnv> {
  const shared = limiter instanceof FixedWindowLimiter ? limiter : new FixedWindowLimiter(limiter);
  return async (c, next) => {
    const verdict = shared.take(c.get('clientIp') ?? 'unknown');
    if (!verdict.ok) throw shared.refusal(verdict.retryAfterSeconds);
    await next();
  };
}
