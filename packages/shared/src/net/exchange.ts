import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkServerIdentity, TLSSocket } from 'node:tls';
import type { AddressPolicy } from './address-policy.ts';
import type { CallScope } from './call-scope.ts';
import { BufferedResponse } from './response.ts';
import { HttpError, type Timeouts } from './types.ts';

/** One hop of a request: what to send and where. */
export interface Hop {
  url: URL;
  method: 'GET' | 'POST' | 'PUT';
  headers: Record<string, string>;
  body: Buffer | undefined;
  connectTo: { host: string; port: number } | undefined;
  tlsServername: string | undefined;
  hostHeader: string | undefined;
}

export interface ExchangeContext {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  policy: AddressPolicy;
  userAgent: string;
}

export interface ExchangeLimits {
  timeouts: Timeouts;
  maxBytes: number;
  /** A redirect will be followed: its body is drained, not returned. */
  followingRedirects: boolean;
}

/** Redirect bodies up to this size are read and dropped so the connection can be reused. */
const MAX_DRAINED_REDIRECT_BODY = 64 * 1024;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Peer certificate expiry by socket, so reused connections report it without re-reading it. */
const certificateExpiry = new WeakMap<Socket, Date | undefined>();

function certValidTo(socket: Socket | null): Date | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  if (certificateExpiry.has(socket)) return certificateExpiry.get(socket);
  // Only the expiry is wanted: getPeerCertificate() would also hash the certificate three times
  // and copy every field into an object, ~1 ms per new connection.
  const certificate = socket.getPeerX509Certificate();
  const validTo = certificate ? new Date(certificate.validTo) : undefined;
  const value = validTo && !Number.isNaN(validTo.getTime()) ? validTo : undefined;
  certificateExpiry.set(socket, value);
  return value;
}

type Phase = 'connect' | 'tls' | 'response' | 'body';

function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  const first = (error as Error & { errors?: unknown[] }).errors?.[0];
  return first instanceof Error ? errorCode(first) : '';
}

/** Turns a socket or parser error into the HttpError a caller can act on. */
function translate(error: Error, phase: Phase, where: string, url: string): HttpError {
  if (error instanceof HttpError) return error;
  const code = errorCode(error);
  const detail = code ? `${code}: ${error.message}` : error.message;
  if (code.startsWith('HPE_')) {
    return new HttpError('protocol_error', `${url} answered malformed HTTP (${detail})`, url);
  }
  if (phase === 'tls' || /^ERR_(TLS|SSL)_/.test(code) || /CERT|SELF_SIGNED|ISSUER|VERIFY|EPROTO/.test(code)) {
    return new HttpError('tls_failed', `TLS with ${where} failed (${detail})`, url);
  }
  if (phase === 'connect') {
    return new HttpError('connect_failed', `could not connect to ${where} (${detail})`, url);
  }
  return new HttpError(
    'protocol_error',
    `${where} closed the connection before the ${phase === 'body' ? 'body was complete' : 'response'} (${detail})`,
    url,
  );
}

/** Errors on a kept-alive socket the server closed just before we reused it; worth one retry. */
function isStaleSocketError(error: Error): boolean {
  const code = errorCode(error);
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Sends one HTTP request and reads its response, within the scope's deadline and the hop's own
 * connect and headers timeouts. A keep-alive socket that turns out to be closed is retried once
 * on a fresh connection, as browsers do, since the server never saw the request.
 */
export async function exchange(
  context: ExchangeContext,
  hop: Hop,
  limits: ExchangeLimits,
  scope: CallScope,
): Promise<BufferedResponse> {
  try {
    return await exchangeOnce(context, hop, limits, scope);
  } catch (error) {
    if (error instanceof StaleSocket && !scope.signal.aborted) {
      return exchangeOnce(context, hop, limits, scope);
    }
    throw error instanceof StaleSocket ? error.cause : error;
  }
}

class StaleSocket extends Error {
  constructor(override readonly cause: HttpError) {
    super(cause.message);
  }
}

function exchangeOnce(
  context: ExchangeContext,
  hop: Hop,
  limits: ExchangeLimits,
  scope: CallScope,
): Promise<BufferedResponse> {
  const { url } = hop;
  const href = url.href;
  const secure = url.protocol === 'https:';
  const urlHost = stripBrackets(url.hostname);
  const dialHost = stripBrackets(hop.connectTo?.host ?? urlHost);
  const dialPort = hop.connectTo?.port ?? (url.port ? Number(url.port) : secure ? 443 : 80);
  const where = `${dialHost.includes(':') ? `[${dialHost}]` : dialHost}:${dialPort}`;
  if (isIP(dialHost)) {
    // The socket's lookup hook never runs for IP literals, so they are checked here.
    const verdict = context.policy.check(dialHost);
    if (!verdict.allowed) return Promise.reject(new HttpError('blocked_address', verdict.message, href));
  }
  const tlsName = stripBrackets(hop.tlsServername ?? urlHost).toLowerCase();
  const headers: Record<string, string> = {
    ...hop.headers,
    host: hop.hostHeader ?? url.host,
    'user-agent': context.userAgent,
  };
  if (hop.body) headers['content-length'] = String(hop.body.length);

  return new Promise<BufferedResponse>((resolve, reject) => {
    const started = performance.now();
    let phase: Phase = 'connect';
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let headersTimer: NodeJS.Timeout | undefined;

    const options: https.RequestOptions & { tlsName: string } = {
      agent: secure ? context.httpsAgent : context.httpAgent,
      host: dialHost,
      port: dialPort,
      method: hop.method,
      path: `${url.pathname}${url.search}`,
      headers,
      // No SNI for IP addresses (spec: "SNI is not supported and should not be sent"); the
      // certificate is still checked against the expected name or address.
      servername: isIP(tlsName) ? '' : tlsName,
      checkServerIdentity: (_host, certificate) => checkServerIdentity(tlsName, certificate),
      tlsName,
    };
    const request = (secure ? https : http).request(options);

    const cleanup = () => {
      clearTimeout(connectTimer);
      clearTimeout(headersTimer);
      scope.signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: HttpError | StaleSocket) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
      request.destroy(error instanceof StaleSocket ? error.cause : error);
    };
    const onAbort = () => {
      fail(scope.reason ?? new HttpError('aborted', `request to ${href} was cancelled`, href));
    };
    if (scope.signal.aborted) {
      onAbort();
      return;
    }
    scope.signal.addEventListener('abort', onAbort, { once: true });

    const awaitResponse = () => {
      clearTimeout(connectTimer);
      phase = 'response';
      headersTimer = setTimeout(
        () =>
          fail(
            new HttpError(
              'headers_timeout',
              `${where} sent no response headers within ${limits.timeouts.headersMs} ms`,
              href,
            ),
          ),
        limits.timeouts.headersMs,
      );
    };

    request.on('socket', (socket: Socket) => {
      if (request.reusedSocket) {
        awaitResponse();
        return;
      }
      connectTimer = setTimeout(
        () =>
          fail(
            new HttpError(
              'connect_timeout',
              `connecting to ${where} took longer than ${limits.timeouts.connectMs} ms`,
              href,
            ),
          ),
        limits.timeouts.connectMs,
      );
      if (secure) {
        socket.once('connect', () => {
          if (phase === 'connect') phase = 'tls';
        });
        socket.once('secureConnect', awaitResponse);
      } else {
        socket.once('connect', awaitResponse);
      }
    });

    request.on('error', (error: Error) => {
      const translated = translate(error, phase, where, href);
      if (request.reusedSocket && phase === 'response' && isStaleSocketError(error)) {
        fail(new StaleSocket(translated));
      } else {
        fail(translated);
      }
    });

    request.on('response', (response: IncomingMessage) => {
      clearTimeout(headersTimer);
      phase = 'body';
      const latencyMs = performance.now() - started;
      const status = response.statusCode ?? 0;
      const socket = response.socket;
      const remoteAddress = socket?.remoteAddress ?? '';
      const validTo = certValidTo(socket);
      const draining =
        limits.followingRedirects && isRedirect(status) && typeof response.headers.location === 'string';
      const cap = draining ? MAX_DRAINED_REDIRECT_BODY : limits.maxBytes;
      const announced = Number(response.headers['content-length']);
      if (Number.isFinite(announced) && announced > cap) {
        if (draining) {
          settle(Buffer.alloc(0), true);
        } else {
          fail(tooLarge(`announces ${announced} bytes, more`));
        }
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > cap) {
          if (draining) settle(Buffer.alloc(0), true);
          else fail(tooLarge('sent more'));
          return;
        }
        if (!draining) chunks.push(chunk);
      });
      response.on('end', () => settle(Buffer.concat(chunks, received), false));
      response.on('error', (error: Error) => fail(translate(error, 'body', where, href)));
      response.on('close', () => {
        if (!response.complete) {
          fail(
            new HttpError(
              'protocol_error',
              `${where} closed the connection before the body was complete`,
              href,
            ),
          );
        }
      });

      function tooLarge(what: string): HttpError {
        return new HttpError(
          'too_large',
          `${href} ${what} than the ${limits.maxBytes} bytes Atlas accepts for this request`,
          href,
        );
      }

      function settle(body: Buffer, destroy: boolean): void {
        if (settled) return;
        settled = true;
        cleanup();
        if (destroy) request.destroy();
        resolve(
          new BufferedResponse(status, response.headers, href, body, remoteAddress, validTo, latencyMs),
        );
      }
    });

    request.end(hop.body);
  });
}
