import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { type AddressPolicy, createAddressPolicy } from './address-policy.ts';
import { CallScope } from './call-scope.ts';
import { createDnsClient, type DnsClient } from './dns.ts';
import { type ExchangeContext, exchange, type Hop, isRedirect } from './exchange.ts';
import { KeyedMutex, type Release, Semaphore } from './limiter.ts';
import type { SharedHolds } from './shared-holds.ts';
import {
  type HttpClient,
  type HttpClientOptions,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  type Timeouts,
} from './types.ts';

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = { connectMs: 10_000, headersMs: 30_000, totalMs: 60_000 };
export const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_IDLE_SOCKET_MS = 30_000;
/** Longest wait for another process's hold on a server (`politenessWaitMs`). */
export const DEFAULT_POLITENESS_WAIT_MS = 90_000;

/**
 * The socket's own DNS hook: every address a host name resolves to is checked at connect time,
 * on the very addresses the socket will dial, so a name cannot pass a check and then resolve
 * elsewhere (DNS rebinding). Blocked addresses are dropped; if none is left the connection fails.
 */
function guardedLookup(dns: DnsClient, policy: AddressPolicy): LookupFunction {
  const lookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (error: Error | null, address: unknown, family?: number) => void,
  ) => {
    dns.lookup(hostname).then(
      (found) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const candidates = family ? found.filter((a) => a.family === family) : found;
        const allowed = candidates.filter((a) => policy.check(a.address).allowed);
        const first = allowed[0];
        if (!first) {
          const verdict = candidates[0] ? policy.check(candidates[0].address) : undefined;
          const reason = verdict && !verdict.allowed ? verdict.message : `${hostname} has no usable address`;
          callback(new HttpError('blocked_address', `${hostname}: ${reason}`), undefined);
          return;
        }
        if (options.all) callback(null, allowed);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), undefined),
    );
  };
  return lookup as unknown as LookupFunction;
}

/**
 * HTTPS agent whose connection pool also keys on the name the certificate was checked against, so a
 * kept-alive socket verified for one name is never handed to a request that expects another.
 */
class TlsNameAgent extends https.Agent {
  override getName(options?: https.RequestOptions & { tlsName?: string }): string {
    return `${super.getName(options)}:${options?.tlsName ?? ''}`;
  }
}

/**
 * Atlas's one outbound HTTP client (see types.ts for the contract): DNS through the configured
 * servers, the private-address guard at connect time, size caps, timeouts, a read deadline,
 * politeness (one request at a time per key, a global cap in flight) and keep-alive reuse.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const policy = createAddressPolicy(options.allowNetworks);
  const dns = createDnsClient(options.dnsServers);
  const lookup = guardedLookup(dns, policy);
  const idle = options.idleSocketMs ?? DEFAULT_IDLE_SOCKET_MS;
  // One secure context for every connection: building one per socket re-parses ~150 root CAs.
  const secureContext = createSecureContext(options.ca ? { ca: [...rootCertificates, options.ca] } : {});
  const context: ExchangeContext = {
    httpAgent: new http.Agent({ keepAlive: true, scheduling: 'lifo', timeout: idle, lookup }),
    httpsAgent: new TlsNameAgent({
      keepAlive: true,
      scheduling: 'lifo',
      timeout: idle,
      lookup,
      secureContext,
      minVersion: 'TLSv1.2',
      maxCachedSessions: options.maxCachedSessions ?? 100,
    }),
    policy,
    userAgent: options.userAgent,
  };
  const inFlight = new Semaphore(options.maxInFlight);
  const perKey = new KeyedMutex();

  async function request(input: HttpRequest): Promise<HttpResponse> {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...input.timeouts };
    const maxRedirects = input.maxRedirects ?? 0;
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new HttpError('invalid_url', `"${input.url}" is not a URL`, input.url);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new HttpError('invalid_url', `${input.url}: only http and https URLs are fetched`, input.url);
    }
    const politenessKey = input.politenessKey ?? url.hostname;
    const releases: Release[] = [];
    // Past the caller's deadline nothing is waited for: the request's scope reports it.
    if (options.sharedHolds && (input.deadline === undefined || input.deadline > Date.now())) {
      // Waiting for another process's hold is not the request's time: its budget starts once held.
      releases.push(...(await holdShared(options.sharedHolds, politenessKey, url.href, input)));
    }
    const scope = new CallScope(url.href, timeouts.totalMs, input.deadline, input.signal);
    try {
      // The per-key slot first: waiting for it must not hold one of the global slots.
      if (releases.length === 0) releases.push(await perKey.acquire(politenessKey, scope.signal));
      releases.push(await inFlight.acquire(scope.signal));
      let hop: Hop = {
        url,
        method: input.method ?? 'GET',
        headers: input.headers ?? {},
        body: input.body === undefined ? undefined : Buffer.from(input.body),
        connectTo: input.connectTo,
        tlsServername: input.tlsServername,
        hostHeader: input.hostHeader,
      };
      const visited = new Set([url.href]);
      for (let redirects = 0; ; redirects++) {
        const limits = {
          timeouts,
          maxBytes: input.maxBytes ?? DEFAULT_MAX_BYTES,
          followingRedirects: maxRedirects > 0,
        };
        const response = await exchange(context, hop, limits, scope);
        const location = response.headers.location;
        if (maxRedirects === 0 || !isRedirect(response.status) || typeof location !== 'string')
          return response;
        if (redirects >= maxRedirects) {
          throw new HttpError(
            'too_many_redirects',
            `${url.href} redirected more than ${maxRedirects} times`,
            url.href,
          );
        }
        hop = nextHop(hop, response.status, location);
        if (visited.has(hop.url.href)) {
          throw new HttpError(
            'too_many_redirects',
            `${url.href} redirects in a loop (${hop.url.href})`,
            url.href,
          );
        }
        visited.add(hop.url.href);
      }
    } catch (error) {
      // A timer may have fired while another error was on its way; report the cause the caller set.
      if (error instanceof HttpError) throw error;
      throw scope.reason ?? error;
    } finally {
      scope.dispose();
      for (const release of releases.reverse()) release();
    }
  }

  /**
   * The politeness holds of a request with `sharedHolds`: this process's slot for the key, then the
   * key's shared hold, waited for at most `politenessWaitMs` (and never past the caller's deadline or
   * signal). Running out of the wait is `busy`, which says nothing about the server.
   */
  async function holdShared(holds: SharedHolds, key: string, href: string, input: HttpRequest) {
    const untilDeadline =
      input.deadline === undefined ? Number.POSITIVE_INFINITY : input.deadline - Date.now();
    const waitMs = Math.max(
      0,
      Math.min(options.politenessWaitMs ?? DEFAULT_POLITENESS_WAIT_MS, untilDeadline),
    );
    const busy = () =>
      new HttpError('busy', `another crawler process kept ${key} busy for ${Math.round(waitMs)} ms`, href, {
        transient: true,
      });
    const wait = new CallScope(href, waitMs, undefined, input.signal, busy);
    const held: Release[] = [];
    try {
      held.push(await perKey.acquire(key, wait.signal));
      held.push(await holds.acquire(key, wait.signal));
      return held;
    } catch (error) {
      for (const release of held.reverse()) release();
      if (error instanceof HttpError) throw error;
      throw wait.reason ?? error;
    } finally {
      wait.dispose();
    }
  }

  return {
    request,
    lookup: (hostname) => dns.lookup(hostname),
    resolveSrv: (name) => dns.resolveSrv(name),
    async close() {
      context.httpAgent.destroy();
      context.httpsAgent.destroy();
    },
  };
}

/** The request a redirect asks for; it is dialled afresh, so delegation overrides are dropped. */
function nextHop(previous: Hop, status: number, location: string): Hop {
  const from = previous.url.href;
  let url: URL;
  try {
    url = new URL(location, previous.url);
  } catch {
    throw new HttpError('invalid_url', `${from} redirected to "${location}", which is not a URL`, from);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HttpError('invalid_url', `${from} redirected to ${url.href}, which is not http(s)`, from);
  }
  if (previous.url.protocol === 'https:' && url.protocol === 'http:') {
    throw new HttpError('protocol_error', `${from} redirected to plain http (${url.href}); refused`, from);
  }
  const toGet = status === 303 || ((status === 301 || status === 302) && previous.method === 'POST');
  const headers = { ...previous.headers };
  if (url.origin !== previous.url.origin) {
    // Credentials were meant for the first origin only.
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
  }
  if (toGet) {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
  }
  return {
    url,
    method: toGet ? 'GET' : previous.method,
    headers,
    body: toGet ? undefined : previous.body,
    connectTo: undefined,
    tlsServername: undefined,
    hostHeader: undefined,
  };
}
