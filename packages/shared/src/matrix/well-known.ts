import { type HttpClient, HttpError, type Timeouts } from '../net/index.ts';
import { parseServerName } from './server-name.ts';
import { failureLifetimeMs, successLifetimeMs, WellKnownCache } from './well-known-cache.ts';

/** Synapse's cap on a well-known document. */
export const WELL_KNOWN_MAX_BYTES = 50 * 1024;
const WELL_KNOWN_MAX_REDIRECTS = 5;
const WELL_KNOWN_TIMEOUTS: Timeouts = { connectMs: 10_000, headersMs: 15_000, totalMs: 20_000 };

export interface WellKnownLookup {
  /** The `m.server` a host delegates to, or null when it has no valid delegation. Never throws HttpError. */
  delegatedServer(hostname: string): Promise<string | null>;
}

export interface WellKnownOptions {
  http: HttpClient;
  now: () => number;
  random?: () => number;
  timeouts?: Partial<Timeouts>;
}

type Fetched =
  | { ok: true; delegatedServer: string; lifetimeMs: number }
  /** `temporary`: the server may come back (transport error, 5xx, oversized), as Synapse classes it. */
  | { ok: false; temporary: boolean };

/**
 * `GET https://<hostname>/.well-known/matrix/server` with the spec's caching (step 3 of "Resolving
 * server names"): an answer is valid only as a 200 with a JSON object whose `m.server` is a server
 * name; anything else counts as "no delegation" and is cached as a failure.
 */
export function createWellKnownLookup(options: WellKnownOptions): WellKnownLookup {
  const { http, now } = options;
  const random = options.random ?? Math.random;
  const timeouts = { ...WELL_KNOWN_TIMEOUTS, ...options.timeouts };
  const cache = new WellKnownCache(now);
  const inFlight = new Map<string, Promise<string | null>>();

  async function fetchOnce(hostname: string): Promise<Fetched> {
    let response: Awaited<ReturnType<HttpClient['request']>>;
    try {
      response = await http.request({
        url: `https://${hostname}/.well-known/matrix/server`,
        maxBytes: WELL_KNOWN_MAX_BYTES,
        maxRedirects: WELL_KNOWN_MAX_REDIRECTS,
        timeouts,
        politenessKey: hostname,
      });
    } catch (error) {
      // Busy: the request was never sent (another crawler process was talking to the host), so
      // there is no answer to cache; the caller tries again later.
      if (error instanceof HttpError && error.code !== 'busy') return { ok: false, temporary: true };
      throw error;
    }
    if (response.status >= 500) return { ok: false, temporary: true };
    if (response.status !== 200) return { ok: false, temporary: false };
    let body: unknown;
    try {
      body = response.json();
    } catch {
      return { ok: false, temporary: false };
    }
    const server =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)['m.server']
        : undefined;
    const parsed = typeof server === 'string' ? parseServerName(server) : null;
    if (!parsed) return { ok: false, temporary: false };
    return {
      ok: true,
      delegatedServer: parsed.name,
      lifetimeMs: successLifetimeMs(response.headers, now(), random),
    };
  }

  async function refresh(hostname: string): Promise<string | null> {
    const previous = cache.get(hostname);
    const fetched = await fetchOnce(hostname);
    if (fetched.ok) {
      cache.setSuccess(hostname, fetched.delegatedServer, fetched.lifetimeMs);
      return fetched.delegatedServer;
    }
    // A blip while a still-valid answer is cached: keep using it (Synapse does the same).
    if (fetched.temporary && previous?.delegatedServer) return previous.delegatedServer;
    cache.setFailure(hostname, failureLifetimeMs(cache.hadValidRecently(hostname), random));
    return null;
  }

  return {
    async delegatedServer(input) {
      const hostname = input.toLowerCase();
      const cached = cache.get(hostname);
      if (cached && cache.isFresh(cached)) return cached.delegatedServer;
      const running = inFlight.get(hostname);
      if (running) return running;
      const lookup = refresh(hostname).finally(() => inFlight.delete(hostname));
      inFlight.set(hostname, lookup);
      return lookup;
    },
  };
}
