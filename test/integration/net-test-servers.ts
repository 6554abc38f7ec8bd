import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHttpClient, type HttpClient, type HttpClientOptions, HttpError } from '@atlas/shared/net';
import { expect } from 'vitest';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/test-ca.ts';

/** What a test server saw of one request. */
export interface SeenRequest {
  method: string;
  /** The request target exactly as it came on the request line. */
  url: string;
  host: string | undefined;
  /** The TLS server name the client sent (SNI), or undefined when it sent none. */
  sni: string | undefined;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (request: SeenRequest, response: ServerResponse) => void | Promise<void>;

export interface TestServer {
  host: string;
  port: number;
  /** `host:port`, bracketed for IPv6. */
  authority: string;
  requests: SeenRequest[];
  /** TLS connections accepted so far. */
  readonly connections: number;
  /** Requests being handled right now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Starts counting `maxInFlight` afresh. */
  resetMaxInFlight(): void;
  certificate: IssuedCertificate;
  close(): Promise<void>;
}

const usedAddresses = new Set<string>();

/**
 * A loopback address of its own (127.x.y.z), for servers that must listen on a port the protocol
 * fixes (443 for .well-known, 8448 for federation), so parallel test files never collide.
 */
export function dedicatedLoopbackAddress(): string {
  for (;;) {
    const address = `127.${randomInt(16, 250)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!usedAddresses.has(address)) {
      usedAddresses.add(address);
      return address;
    }
  }
}

export interface TestServerOptions {
  ca: TestCa;
  host: string;
  port?: number;
  names: string[];
  handler: Handler;
}

/**
 * A real HTTPS server with a certificate from the test CA for `names`, recording every request
 * with its Host header and SNI. `port` 0 (the default) picks a free one.
 */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const issued = await options.ca.issue(options.names);
  const sockets = new Set<Socket>();
  const requests: SeenRequest[] = [];
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer({ cert: issued.cert, key: issued.key }, (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const servername = (req.socket as TLSSocket).servername;
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        sni: typeof servername === 'string' ? servername : undefined,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      Promise.resolve(options.handler(seen, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  server.on('secureConnection', () => connections++);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: options.host,
    port,
    authority: options.host.includes(':') ? `[${options.host}]:${port}` : `${options.host}:${port}`,
    requests,
    get connections() {
      return connections;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
    certificate: issued,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The test CA and DNS server a net test file trusts and resolves through, and the clients it made. */
export interface NetTestBed {
  ca: TestCa;
  dns: DnsServer;
  /**
   * An HTTP client that resolves through `dns`, trusts `ca` (`ca: undefined`: only the built-in
   * roots) and lets loopback through; `close()` closes it.
   */
  client(options?: Partial<HttpClientOptions>): HttpClient;
  /** `startTestServer` with `ca`, on a dedicated loopback address unless `host` is given; `close()` closes it. */
  server(options: Omit<TestServerOptions, 'ca' | 'host'> & { host?: string }): Promise<TestServer>;
  /** Closes every client, then every server, then the DNS server. */
  close(): Promise<void>;
}

export async function startNetTestBed(): Promise<NetTestBed> {
  const ca = await createTestCa();
  const dns = await startDnsServer();
  const clients: HttpClient[] = [];
  const servers: TestServer[] = [];
  return {
    ca,
    dns,
    client(options = {}) {
      const http = createHttpClient({
        dnsServers: [{ host: dns.host, port: dns.port }],
        ca: ca.cert,
        allowNetworks: ['127.0.0.0/8'],
        userAgent: 'Atlas-test/1',
        maxInFlight: 8,
        ...options,
      });
      clients.push(http);
      return http;
    },
    async server(options) {
      const server = await startTestServer({
        ...options,
        ca,
        host: options.host ?? dedicatedLoopbackAddress(),
      });
      servers.push(server);
      return server;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((server) => server.close()));
      await dns.close();
    },
  };
}

/** The HttpError a request ends in; fails the test when it succeeds or fails otherwise. */
export async function expectHttpError(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected the request to fail');
}
