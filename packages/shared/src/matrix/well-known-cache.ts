/**
 * How long `/.well-known/matrix/server` answers are kept (server-server API, "Resolving server
 * names", step 3): respect the response's cache headers, 24 h by default, 48 h at most, errors up
 * to an hour. Bounds and the refresh grace period follow Synapse's well_known_resolver.py.
 */
const HOUR = 3600 * 1000;
export const WELL_KNOWN_DEFAULT_TTL_MS = 24 * HOUR;
export const WELL_KNOWN_MAX_TTL_MS = 48 * HOUR;
/** Synapse's floor: a server sending `no-store` or `max-age=0` is not asked on every request. */
export const WELL_KNOWN_MIN_TTL_MS = 5 * 60 * 1000;
export const WELL_KNOWN_FAILURE_TTL_MS = HOUR;
/** A failure right after a valid answer is more likely a blip: retry sooner. */
export const WELL_KNOWN_DOWN_TTL_MS = 2 * 60 * 1000;
/** How long after a valid answer expires a failure still counts as "recently had a valid one". */
export const WELL_KNOWN_REMEMBER_VALID_MS = 2 * HOUR;
/** Refetch once this fraction of an entry's lifetime is left, keeping the old answer meanwhile. */
export const WELL_KNOWN_GRACE_FACTOR = 0.2;
/** Default and failure lifetimes are shortened by up to this fraction so refetches spread out. */
export const WELL_KNOWN_JITTER = 0.1;

type Headers = Record<string, string | string[] | undefined>;

function headerValues(headers: Headers, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The lifetime the response's own headers ask for, in ms, or undefined when they say nothing.
 * `Cache-Control: no-store` is 0, `max-age` wins over `Expires`, an unparseable `Expires` means
 * already expired (RFC 9111 §5.3).
 */
export function cachePeriodFromHeaders(headers: Headers, now: number): number | undefined {
  const directives = new Map<string, string | undefined>();
  for (const header of headerValues(headers, 'cache-control')) {
    for (const directive of header.split(',')) {
      const [name, value] = directive.split('=', 2).map((part) => part.trim());
      if (name) directives.set(name.toLowerCase(), value?.replace(/^"(.*)"$/, '$1'));
    }
  }
  if (directives.has('no-store')) return 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined && /^\d+$/.test(maxAge)) return Number(maxAge) * 1000;
  const expires = headerValues(headers, 'expires').at(-1);
  if (expires !== undefined) {
    const at = Date.parse(expires);
    return Number.isNaN(at) ? 0 : Math.max(0, at - now);
  }
  return undefined;
}

/** Lifetime of a valid answer: its headers' wish clamped to [5 min, 48 h], else 24 h less jitter. */
export function successLifetimeMs(headers: Headers, now: number, random: () => number = Math.random): number {
  const fromHeaders = cachePeriodFromHeaders(headers, now);
  if (fromHeaders === undefined) return jittered(WELL_KNOWN_DEFAULT_TTL_MS, random);
  return Math.min(WELL_KNOWN_MAX_TTL_MS, Math.max(WELL_KNOWN_MIN_TTL_MS, fromHeaders));
}

/** Lifetime of a failed lookup: up to an hour, or 2 minutes when the server had a valid answer lately. */
export function failureLifetimeMs(hadValidRecently: boolean, random: () => number = Math.random): number {
  return jittered(hadValidRecently ? WELL_KNOWN_DOWN_TTL_MS : WELL_KNOWN_FAILURE_TTL_MS, random);
}

function jittered(period: number, random: () => number): number {
  return Math.round(period * (1 - WELL_KNOWN_JITTER * random()));
}

export interface WellKnownEntry {
  /** The delegated server name, or null when the lookup failed or found none. */
  delegatedServer: string | null;
  storedAt: number;
  expiresAt: number;
}

/** Cached well-known answers per host name, bounded in size, read against an injectable clock. */
export class WellKnownCache {
  private readonly entries = new Map<string, WellKnownEntry>();
  private readonly hadValidUntil = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  /** The entry while it has not expired. */
  get(hostname: string): WellKnownEntry | undefined {
    const entry = this.entries.get(hostname);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(hostname);
      return undefined;
    }
    return entry;
  }

  /** Whether the entry is still fresh enough to use without refetching. */
  isFresh(entry: WellKnownEntry): boolean {
    const ttl = entry.expiresAt - entry.storedAt;
    return this.now() < entry.expiresAt - WELL_KNOWN_GRACE_FACTOR * ttl;
  }

  hadValidRecently(hostname: string): boolean {
    const until = this.hadValidUntil.get(hostname);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.hadValidUntil.delete(hostname);
    return false;
  }

  setSuccess(hostname: string, delegatedServer: string, lifetimeMs: number): void {
    const now = this.now();
    this.put(hostname, { delegatedServer, storedAt: now, expiresAt: now + lifetimeMs });
    this.bounded(this.hadValidUntil, hostname, now + lifetimeMs + WELL_KNOWN_REMEMBER_VALID_MS);
  }

  setFailure(hostname: string, lifetimeMs: number): void {
    const now = this.now();
    this.put(hostname, { delegatedServer: null, storedAt: now, expiresAt: now + lifetimeMs });
  }

  private put(hostname: string, entry: WellKnownEntry): void {
    this.bounded(this.entries, hostname, entry);
  }

  private bounded<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    if (map.size >= this.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(key, value);
  }
}
