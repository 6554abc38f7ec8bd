import { createServer, type Server, type Socket } from 'node:net';
import { type HttpClientOptions, HttpError } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import {
  expectHttpError,
  type NetTestBed,
  sendJson,
  startNetTestBed,
  type TestServer,
} from './net-test-servers.ts';

/**
 * A hostile or broken server hurts only its own request: oversized bodies, silence, a body
 * trickled byte by byte, bad TLS and bad JSON all end in a clear HttpError, and the client keeps
 * working for everyone else.
 */
let net: NetTestBed;
let server: TestServer;
let blackHole: Server;
let blackHolePort: number;
const blackHoleSockets = new Set<Socket>();
const cut: string[] = [];

const client = (options: Partial<HttpClientOptions> = {}) => net.client(options);

beforeAll(async () => {
  net = await startNetTestBed();
  server = await net.server({
    names: ['limits.test'],
    handler: (req, res) => {
      res.once('close', () => {
        if (!res.writableFinished) cut.push(req.url);
      });
      switch (req.url) {
        case '/big-announced': {
          res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
          res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
          return;
        }
        case '/big-chunked': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) {
              // keep writing until the socket pushes back
            }
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
          return;
        }
        case '/hang':
          return;
        case '/trickle': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const timer = setInterval(() => res.write(' '), 50);
          res.once('close', () => clearInterval(timer));
          return;
        }
        case '/html':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
          return;
        case '/deep':
          sendJson(res, 200, JSON.parse(`${'['.repeat(200)}${']'.repeat(200)}`));
          return;
        default:
          sendJson(res, 200, { ok: true, padding: 'x'.repeat(1000) });
      }
    },
  });
  // Accepts TCP connections and never says a word: a TLS handshake that never completes.
  blackHole = createServer((socket) => {
    blackHoleSockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => blackHole.listen(0, server.host, resolve));
  const address = blackHole.address();
  blackHolePort = typeof address === 'object' && address ? address.port : 0;
  net.dns.setRecords([{ type: 'A', name: 'limits.test', address: server.host }]);
});

afterAll(async () => {
  for (const socket of blackHoleSockets) socket.destroy();
  await new Promise((resolve) => blackHole?.close(resolve));
  await net?.close();
});

const url = (path: string) => `https://limits.test:${server.port}${path}`;

describe('size caps', () => {
  it('refuses a body whose Content-Length is over the cap, without reading it', async () => {
    const error = await expectHttpError(client().request({ url: url('/big-announced'), maxBytes: 100_000 }));
    expect(error.code).toBe('too_large');
    expect(error.message).toContain('100000');
  });

  it('cuts a streamed body as soon as it passes the cap', async () => {
    const error = await expectHttpError(client().request({ url: url('/big-chunked'), maxBytes: 200_000 }));
    expect(error.code).toBe('too_large');
    // The server's endless body was cut off by the client, not read to the end.
    await waitFor('the server to see its response cut', () => cut.includes('/big-chunked'));
  });

  it('accepts a body within the cap', async () => {
    const response = await client().request({ url: url('/small'), maxBytes: 2_000 });
    expect(response.status).toBe(200);
    expect(response.body.length).toBeLessThanOrEqual(2_000);
  });
});

describe('timeouts', () => {
  it('gives up on a server that never sends headers', async () => {
    const error = await expectHttpError(
      client().request({ url: url('/hang'), timeouts: { headersMs: 300 } }),
    );
    expect(error.code).toBe('headers_timeout');
  });

  it('ends a body trickled byte by byte with the total timeout (slowloris)', async () => {
    const error = await expectHttpError(
      client().request({ url: url('/trickle'), timeouts: { headersMs: 10_000, totalMs: 1_000 } }),
    );
    expect(error.code).toBe('total_timeout');
    await waitFor('the server to see its trickle cut', () => cut.includes('/trickle'));
  });

  it('stops reading at the absolute deadline', async () => {
    const error = await expectHttpError(
      client().request({ url: url('/trickle'), deadline: Date.now() + 600 }),
    );
    expect(error.code).toBe('read_deadline');
    const late = await expectHttpError(client().request({ url: url('/small'), deadline: Date.now() - 1 }));
    expect(late.code).toBe('read_deadline');
  });

  it('times out a TLS handshake that never completes', async () => {
    const error = await expectHttpError(
      client().request({
        url: `https://limits.test:${blackHolePort}/`,
        timeouts: { connectMs: 300 },
      }),
    );
    expect(error.code).toBe('connect_timeout');
  });

  it('counts time waiting for a politeness slot against the total timeout', async () => {
    const http = client({ maxInFlight: 1 });
    const blocking = http.request({ url: url('/hang'), timeouts: { headersMs: 1_500, totalMs: 10_000 } });
    const waiting = expectHttpError(http.request({ url: url('/small'), timeouts: { totalMs: 300 } }));
    expect((await waiting).code).toBe('total_timeout');
    expect((await expectHttpError(blocking)).code).toBe('headers_timeout');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = expectHttpError(client().request({ url: url('/hang'), signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    expect((await pending).code).toBe('aborted');
  });
});

describe('connection failures', () => {
  it('reports a name with no address as a DNS failure', async () => {
    const error = await expectHttpError(client().request({ url: 'https://missing.limits.test/' }));
    expect(error.code).toBe('dns_failed');
    expect(error.message).toContain('missing.limits.test');
  });

  it('reports a refused connection', async () => {
    const error = await expectHttpError(client().request({ url: `https://limits.test:1/` }));
    expect(error.code).toBe('connect_failed');
  });

  it('refuses a certificate from an unknown CA, or for another name', async () => {
    const untrusting = await expectHttpError(client({ ca: undefined }).request({ url: url('/small') }));
    expect(untrusting.code).toBe('tls_failed');
    const wrongName = await expectHttpError(client().request({ url: `https://${server.authority}/small` }));
    expect(wrongName.code).toBe('tls_failed');
    expect(wrongName.message).toContain(server.host);
  });
});

describe('JSON', () => {
  it('reports bodies that are not JSON, or nest too deep, as bad_json', async () => {
    const http = client();
    const html = await http.request({ url: url('/html') });
    expect(() => html.json()).toThrow(HttpError);
    expect(html.text()).toContain('hello');
    const deep = await http.request({ url: url('/deep') });
    expect(() => deep.json()).toThrow(/nested 200 levels/);
  });
});

it('keeps serving other requests after all of the above', async () => {
  const http = client();
  await expectHttpError(http.request({ url: url('/big-chunked'), maxBytes: 1_000 }));
  await expectHttpError(http.request({ url: url('/hang'), timeouts: { headersMs: 200 } }));
  const response = await http.request({ url: url('/small') });
  expect(response.json()).toMatchObject({ ok: true });
});
