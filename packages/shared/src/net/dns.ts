import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { HttpError } from './types.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsClient {
  /** A and AAAA records (IPv6 first); throws HttpError('dns_failed') when there are none. */
  lookup(hostname: string): Promise<ResolvedAddress[]>;
  /** SRV records; empty when the name has none; throws HttpError('dns_failed') when DNS fails. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
}

/** Answers that mean "no such record", as opposed to a DNS failure. */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN', 'ENONAME']);
/** Address answers are kept for their TTL, at most this long. */
const MAX_ADDRESS_TTL_MS = 5 * 60 * 1000;
const MAX_CACHED_NAMES = 10_000;

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : String(error);
}

function serverAddress({ host, port }: { host: string; port: number }): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * DNS for every outbound connection. With `servers`, queries go only to them (node's c-ares
 * `Resolver`), so tests and operators can point Atlas at their own DNS; without, A/AAAA go
 * through the system resolver (`getaddrinfo`, so /etc/hosts applies) and SRV through the
 * servers in /etc/resolv.conf.
 */
export function createDnsClient(servers?: readonly { host: string; port: number }[]): DnsClient {
  const resolver = servers?.length ? new dns.Resolver({ timeout: 2_000, tries: 2 }) : undefined;
  resolver?.setServers(servers?.map(serverAddress) ?? []);
  const cache = new Map<string, { addresses: ResolvedAddress[]; expiresAt: number }>();

  async function queryAddresses(
    resolve: (name: string) => Promise<{ address: string; ttl: number }[]>,
    hostname: string,
  ): Promise<{ address: string; ttl: number }[] | { error: string }> {
    try {
      return await resolve(hostname);
    } catch (error) {
      const code = errorCode(error);
      return NO_RECORD.has(code) ? [] : { error: code };
    }
  }

  async function lookupThroughResolver(active: dns.Resolver, hostname: string): Promise<ResolvedAddress[]> {
    const cached = cache.get(hostname);
    if (cached && cached.expiresAt > Date.now()) return cached.addresses;
    const [v6, v4] = await Promise.all([
      queryAddresses((name) => active.resolve6(name, { ttl: true }), hostname),
      queryAddresses((name) => active.resolve4(name, { ttl: true }), hostname),
    ]);
    const records = [
      ...(Array.isArray(v6) ? v6.map((r) => ({ ...r, family: 6 as const })) : []),
      ...(Array.isArray(v4) ? v4.map((r) => ({ ...r, family: 4 as const })) : []),
    ];
    if (records.length === 0) {
      const failure = [v6, v4].find((r): r is { error: string } => !Array.isArray(r));
      throw new HttpError(
        'dns_failed',
        failure
          ? `DNS lookup of ${hostname} failed (${failure.error})`
          : `${hostname} has no A or AAAA record`,
        undefined,
        { transient: failure !== undefined },
      );
    }
    const addresses = records.map(({ address, family }) => ({ address, family }));
    const ttlMs = Math.min(MAX_ADDRESS_TTL_MS, ...records.map((r) => r.ttl * 1000));
    if (ttlMs > 0) {
      if (cache.size >= MAX_CACHED_NAMES) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(hostname, { addresses, expiresAt: Date.now() + ttlMs });
    }
    return addresses;
  }

  async function lookupThroughSystem(hostname: string): Promise<ResolvedAddress[]> {
    try {
      const results = await dns.lookup(hostname, { all: true, verbatim: true });
      return results.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
    } catch (error) {
      const code = errorCode(error);
      const missing = NO_RECORD.has(code);
      throw new HttpError(
        'dns_failed',
        missing ? `${hostname} has no A or AAAA record` : `DNS lookup of ${hostname} failed (${code})`,
        undefined,
        { transient: !missing },
      );
    }
  }

  return {
    async lookup(input) {
      const hostname = input.toLowerCase().replace(/\.$/, '');
      const family = isIP(hostname);
      if (family !== 0) return [{ address: hostname, family: family === 6 ? 6 : 4 }];
      if (hostname.length === 0 || hostname.length > 253) {
        throw new HttpError('dns_failed', `"${input}" is not a host name that can be looked up`);
      }
      return resolver ? lookupThroughResolver(resolver, hostname) : lookupThroughSystem(hostname);
    },
    async resolveSrv(name) {
      try {
        const records = await (resolver ?? dns).resolveSrv(name);
        return records.map(({ name: target, port, priority, weight }) => ({
          name: target,
          port,
          priority,
          weight,
        }));
      } catch (error) {
        const code = errorCode(error);
        if (NO_RECORD.has(code)) return [];
        throw new HttpError('dns_failed', `DNS lookup of ${name} (SRV) failed (${code})`, undefined, {
          transient: true,
        });
      }
    },
  };
}
