import { type HttpClient, HttpError, type Timeouts } from '../net/index.ts';
import {
  ResolutionError,
  type ResolutionStep,
  type ResolvedServer,
  type ServerResolver,
} from './resolve-types.ts';
import { parseServerName, type ServerName } from './server-name.ts';
import { orderSrvTargets, type SrvTarget } from './srv.ts';
import { createWellKnownLookup } from './well-known.ts';

export const DEFAULT_FEDERATION_PORT = 8448;
/** A whole resolution is reused this long; the well-known part has its own, longer cache. */
const DEFAULT_RESOLUTION_CACHE_MS = 5 * 60 * 1000;
const MAX_CACHED_RESOLUTIONS = 20_000;

export interface ServerResolverOptions {
  http: HttpClient;
  /** Clock for the caches (tests move it forward). */
  now?: () => number;
  /** How long a complete resolution is reused (default 5 minutes; 0 turns that cache off). */
  cacheMs?: number;
  /** Randomness for SRV weights and cache jitter. */
  random?: () => number;
  wellKnownTimeouts?: Partial<Timeouts>;
}

/**
 * Server name resolution in the spec's order (server-server API, "Resolving server names"):
 * IP literal, explicit port, `/.well-known/matrix/server` delegation (then, for the delegated
 * name: IP literal, explicit port, SRV `_matrix-fed._tcp`, SRV `_matrix._tcp`, port 8448), else SRV
 * `_matrix-fed._tcp`, SRV `_matrix._tcp` (deprecated), port 8448. The Host header and the
 * certificate name follow the spec for each step; addresses are checked by the HTTP client when it
 * connects.
 */
export function createServerResolver(options: ServerResolverOptions): ServerResolver {
  const { http } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const cacheMs = options.cacheMs ?? DEFAULT_RESOLUTION_CACHE_MS;
  const wellKnown = createWellKnownLookup({
    http,
    now,
    random,
    ...(options.wellKnownTimeouts ? { timeouts: options.wellKnownTimeouts } : {}),
  });
  const cache = new Map<string, { resolved: ResolvedServer; expiresAt: number }>();
  const inFlight = new Map<string, Promise<ResolvedServer>>();

  /** Fails with an operator-readable reason when `host` has no address at all. */
  async function requireAddress(serverName: string, host: string, context: string): Promise<void> {
    try {
      await http.lookup(host);
    } catch (error) {
      if (error instanceof HttpError) {
        throw new ResolutionError(serverName, `${context}${error.message}`, { transient: error.transient });
      }
      throw error;
    }
  }

  async function srvTargets(serverName: string, name: string): Promise<SrvTarget[]> {
    let records: Awaited<ReturnType<HttpClient['resolveSrv']>>;
    try {
      records = await http.resolveSrv(name);
    } catch (error) {
      if (error instanceof HttpError) {
        throw new ResolutionError(serverName, error.message, { transient: error.transient });
      }
      throw error;
    }
    const targets = orderSrvTargets(records, random);
    if (targets === null) {
      throw new ResolutionError(
        serverName,
        `the SRV record ${name} says federation is not offered there (its target is ".")`,
      );
    }
    return targets;
  }

  /** SRV `_matrix-fed._tcp`, then the deprecated `_matrix._tcp`, for `host`. */
  async function viaSrv(
    serverName: string,
    host: string,
  ): Promise<{ step: 'fed' | 'legacy'; targets: SrvTarget[] } | null> {
    const fed = await srvTargets(serverName, `_matrix-fed._tcp.${host}`);
    if (fed.length > 0) return { step: 'fed', targets: fed };
    const legacy = await srvTargets(serverName, `_matrix._tcp.${host}`);
    if (legacy.length > 0) return { step: 'legacy', targets: legacy };
    return null;
  }

  function result(
    name: ServerName,
    step: ResolutionStep,
    targets: SrvTarget[],
    hostHeader: string,
    tlsServername: string,
    delegatedTo?: string,
  ): ResolvedServer {
    const [first, ...rest] = targets;
    if (!first) throw new ResolutionError(name.name, 'no target to connect to');
    return {
      serverName: name.name,
      step,
      connectHost: first.host,
      connectPort: first.port,
      hostHeader,
      tlsServername,
      delegatedTo,
      ...(rest.length > 0 ? { alternatives: rest } : {}),
    };
  }

  async function resolveDelegated(name: ServerName, delegated: ServerName): Promise<ResolvedServer> {
    const d = delegated;
    const context = `${name.name} delegates to ${d.name} (/.well-known/matrix/server), but `;
    if (d.ipFamily !== 0) {
      // Host header: "the IP address, including the port if one was provided".
      return result(
        name,
        'well_known',
        [{ host: d.host, port: d.port ?? DEFAULT_FEDERATION_PORT }],
        d.name,
        d.host,
        d.name,
      );
    }
    if (d.port !== undefined) {
      await requireAddress(name.name, d.host, context);
      return result(name, 'well_known', [{ host: d.host, port: d.port }], d.name, d.host, d.name);
    }
    const srv = await viaSrv(name.name, d.host);
    if (srv) {
      const step = srv.step === 'fed' ? 'well_known_srv_matrix_fed' : 'well_known_srv_matrix';
      return result(name, step, srv.targets, d.host, d.host, d.name);
    }
    await requireAddress(name.name, d.host, `${context}it has no SRV record and `);
    return result(
      name,
      'well_known',
      [{ host: d.host, port: DEFAULT_FEDERATION_PORT }],
      d.host,
      d.host,
      d.name,
    );
  }

  async function resolveUncached(name: ServerName): Promise<ResolvedServer> {
    if (name.ipFamily !== 0) {
      // Step 1: connect to the address; Host is the server name as written, with its port if any.
      return result(
        name,
        'ip_literal',
        [{ host: name.host, port: name.port ?? DEFAULT_FEDERATION_PORT }],
        name.name,
        name.host,
      );
    }
    if (name.port !== undefined) {
      // Step 2: no well-known, no SRV; the certificate must be valid for the hostname.
      await requireAddress(name.name, name.host, '');
      return result(name, 'explicit_port', [{ host: name.host, port: name.port }], name.name, name.host);
    }
    const delegatedTo = await wellKnown.delegatedServer(name.host);
    const delegated = delegatedTo ? parseServerName(delegatedTo) : null;
    if (delegated) return resolveDelegated(name, delegated);
    // Steps 4-6: the certificate must be valid for the original hostname, not the SRV target.
    const srv = await viaSrv(name.name, name.host);
    if (srv) {
      return result(
        name,
        srv.step === 'fed' ? 'srv_matrix_fed' : 'srv_matrix',
        srv.targets,
        name.host,
        name.host,
      );
    }
    await requireAddress(
      name.name,
      name.host,
      `${name.name} has no /.well-known/matrix/server delegation, no _matrix-fed._tcp or _matrix._tcp SRV record, and `,
    );
    return result(
      name,
      'default_port',
      [{ host: name.host, port: DEFAULT_FEDERATION_PORT }],
      name.host,
      name.host,
    );
  }

  return {
    async resolve(serverName) {
      const name = parseServerName(serverName);
      if (!name) throw new ResolutionError(serverName, `"${serverName}" is not a valid Matrix server name`);
      const cached = cache.get(name.name);
      if (cached && cached.expiresAt > now()) return cached.resolved;
      const running = inFlight.get(name.name);
      if (running) return running;
      const resolution = resolveUncached(name)
        .then((resolved) => {
          if (cacheMs > 0) {
            cache.delete(name.name);
            if (cache.size >= MAX_CACHED_RESOLUTIONS) {
              const oldest = cache.keys().next().value;
              if (oldest !== undefined) cache.delete(oldest);
            }
            cache.set(name.name, { resolved, expiresAt: now() + cacheMs });
          }
          return resolved;
        })
        .finally(() => inFlight.delete(name.name));
      inFlight.set(name.name, resolution);
      return resolution;
    },
  };
}
