import type { Resolver } from 'node:dns/promises';
import { type Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type JsonValue,
  parseServerName,
  type ResolutionStep,
  type SigningKey,
  xMatrixAuthorization,
} from '@atlas/shared/matrix';

/**
 * A small, literal reading of the server-server API's "Resolving server names", used by the
 * simulated servers to fetch the keys of whoever signs a request (as Synapse does), and by tests
 * to prove that each simulated server is reachable the way its manifest entry says.
 */
export interface Located {
  step: ResolutionStep;
  connectHost: string;
  connectPort: number;
  hostHeader: string;
  /** SNI and certificate name; undefined for IP literals (no SNI is sent). */
  tlsServername: string | undefined;
  delegatedTo: string | undefined;
}

/** Where a server's website answers: its hostname on 443, where `/.well-known/matrix/*` lives. */
export function wellKnownSite(serverName: string): Located {
  const hostname = serverName.replace(/:\d+$/, '');
  return {
    step: 'default_port',
    connectHost: hostname,
    connectPort: 443,
    hostHeader: hostname,
    tlsServername: hostname,
    delegatedTo: undefined,
  };
}

export interface SpecClientOptions {
  resolver: Resolver;
  /** PEM CA certificate(s) to trust. */
  ca: string;
  timeoutMs?: number;
  /** A keep-alive agent to reuse connections (default: a new connection per request). */
  agent?: Agent;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Subject alternative names of the certificate the server presented. */
  peerAltNames: string | undefined;
  json(): unknown;
}

const MAX_BODY = 4 * 1024 * 1024;

function hostPort(host: string, port: number | undefined): string {
  const bracketed = isIP(host) === 6 ? `[${host}]` : host;
  return port === undefined ? bracketed : `${bracketed}:${port}`;
}

/** The first A record, else the first AAAA record (the simfed's AAAA-only names). */
export async function lookupAddress(resolver: Resolver, hostname: string): Promise<string> {
  const v4 = await resolver.resolve4(hostname).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENODATA') return [];
    throw error;
  });
  const address = v4[0] ?? (await resolver.resolve6(hostname))[0];
  if (!address) throw new Error(`${hostname} has no address record`);
  return address;
}

/** One HTTPS exchange to an address, with the Host header and SNI the caller chose. */
export async function rawRequest(
  options: SpecClientOptions,
  target: { connectHost: string; connectPort: number; hostHeader: string; tlsServername: string | undefined },
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  const address = isIP(target.connectHost)
    ? target.connectHost
    : await lookupAddress(options.resolver, target.connectHost);
  return await new Promise<RawResponse>((resolve, reject) => {
    const req = httpsRequest({
      host: address,
      port: target.connectPort,
      method,
      path,
      ca: options.ca,
      // No SNI for IP literals; node then checks the certificate against the IP address itself.
      servername: target.tlsServername ?? '',
      agent: options.agent ?? false,
      headers: {
        host: target.hostHeader,
        ...headers,
        ...(body !== undefined
          ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
          : {}),
      },
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`timed out after ${options.timeoutMs ?? 5_000} ms`)),
      options.timeoutMs ?? 5_000,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const socket = res.socket as TLSSocket;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error('response too large'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const bodyBuffer = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: bodyBuffer,
          // Parsed on demand: a many-name certificate is costly to decode on every response.
          get peerAltNames() {
            return socket.getPeerCertificate?.()?.subjectaltname;
          },
          json: () => JSON.parse(bodyBuffer.toString('utf8')) as unknown,
        });
      });
      res.on('error', reject);
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function srvLookup(
  resolver: Resolver,
  name: string,
): Promise<{ name: string; port: number } | undefined> {
  try {
    const records = await resolver.resolveSrv(name);
    records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    return records[0];
  } catch {
    return undefined;
  }
}

async function fetchWellKnown(options: SpecClientOptions, hostname: string): Promise<string | undefined> {
  try {
    const res = await rawRequest(
      options,
      { connectHost: hostname, connectPort: 443, hostHeader: hostname, tlsServername: hostname },
      'GET',
      '/.well-known/matrix/server',
    );
    if (res.status !== 200) return undefined;
    const body = res.json() as { 'm.server'?: unknown };
    const target = body['m.server'];
    return typeof target === 'string' && parseServerName(target) ? target.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Steps 1-6 of the spec, in order. Throws when the name leads nowhere. */
export async function locateServer(options: SpecClientOptions, serverName: string): Promise<Located> {
  const parsed = parseServerName(serverName);
  if (!parsed) throw new Error(`"${serverName}" is not a server name`);
  const none = { delegatedTo: undefined };
  if (parsed.ipFamily !== 0) {
    const port = parsed.port ?? 8448;
    return {
      step: 'ip_literal',
      connectHost: parsed.host,
      connectPort: port,
      hostHeader: hostPort(parsed.host, parsed.port),
      tlsServername: undefined,
      ...none,
    };
  }
  if (parsed.port !== undefined) {
    return {
      step: 'explicit_port',
      connectHost: parsed.host,
      connectPort: parsed.port,
      hostHeader: parsed.name,
      tlsServername: parsed.host,
      ...none,
    };
  }
  const delegated = await fetchWellKnown(options, parsed.host);
  if (delegated) {
    const target = parseServerName(delegated);
    if (!target) throw new Error(`bad m.server ${delegated}`);
    const base = { delegatedTo: delegated };
    if (target.ipFamily !== 0 || target.port !== undefined) {
      return {
        step: 'well_known',
        connectHost: target.host,
        connectPort: target.port ?? 8448,
        hostHeader: target.name,
        tlsServername: target.ipFamily !== 0 ? undefined : target.host,
        ...base,
      };
    }
    const fed = await srvLookup(options.resolver, `_matrix-fed._tcp.${target.host}`);
    if (fed) {
      return {
        step: 'well_known_srv_matrix_fed',
        connectHost: fed.name,
        connectPort: fed.port,
        hostHeader: target.host,
        tlsServername: target.host,
        ...base,
      };
    }
    const legacy = await srvLookup(options.resolver, `_matrix._tcp.${target.host}`);
    if (legacy) {
      return {
        step: 'well_known_srv_matrix',
        connectHost: legacy.name,
        connectPort: legacy.port,
        hostHeader: target.host,
        tlsServername: target.host,
        ...base,
      };
    }
    return {
      step: 'well_known',
      connectHost: target.host,
      connectPort: 8448,
      hostHeader: target.host,
      tlsServername: target.host,
      ...base,
    };
  }
  const fed = await srvLookup(options.resolver, `_matrix-fed._tcp.${parsed.host}`);
  if (fed) {
    return {
      step: 'srv_matrix_fed',
      connectHost: fed.name,
      connectPort: fed.port,
      hostHeader: parsed.host,
      tlsServername: parsed.host,
      ...none,
    };
  }
  const legacy = await srvLookup(options.resolver, `_matrix._tcp.${parsed.host}`);
  if (legacy) {
    return {
      step: 'srv_matrix',
      connectHost: legacy.name,
      connectPort: legacy.port,
      hostHeader: parsed.host,
      tlsServername: parsed.host,
      ...none,
    };
  }
  return {
    step: 'default_port',
    connectHost: parsed.host,
    connectPort: 8448,
    hostHeader: parsed.host,
    tlsServername: parsed.host,
    ...none,
  };
}

export interface FederationCall {
  destination: string;
  method: 'GET' | 'POST';
  /** Path and query, percent-encoded exactly as it goes on the wire (it is what gets signed). */
  uri: string;
  content?: JsonValue;
  /** Sign as this server with this key (omit for unauthenticated endpoints). */
  signAs?: { serverName: string; key: SigningKey };
  /** Sign for this destination instead of the real one (to test rejection). */
  signedDestination?: string;
  /** Sign this URI instead of the one sent (to test rejection). */
  signedUri?: string;
}

/** Resolves the destination and sends one (optionally signed) federation request. */
export async function federationRequest(
  options: SpecClientOptions,
  call: FederationCall,
  located?: Located,
): Promise<RawResponse> {
  const target = located ?? (await locateServer(options, call.destination));
  const headers: Record<string, string> = {};
  if (call.signAs) {
    headers.authorization = xMatrixAuthorization(
      {
        method: call.method,
        uri: call.signedUri ?? call.uri,
        origin: call.signAs.serverName,
        destination: call.signedDestination ?? call.destination,
        ...(call.content !== undefined ? { content: call.content } : {}),
      },
      call.signAs.key,
    );
  }
  return rawRequest(
    options,
    target,
    call.method,
    call.uri,
    headers,
    call.content !== undefined ? JSON.stringify(call.content) : undefined,
  );
}
