import { HttpError } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NetTestBed, sendJson, startNetTestBed, type TestServer } from './net-test-servers.ts';

/** The client's everyday behaviour against real TLS servers: reuse, politeness, headers, redirects. */
let net: NetTestBed;
let server: TestServer;
let v6Server: TestServer;
/** Requests parked at the barrier, released once two are waiting at the same time. */
let barrier: (() => void)[] = [];

const client = (maxInFlight = 8) =>
  net.client({
    allowNetworks: ['127.0.0.0/8', '::1/128'],
    userAgent: 'Atlas-test/1.2.3 (+https://atlas.example)',
    maxInFlight,
  });

beforeAll(async () => {
  net = await startNetTestBed();
  server = await net.server({
    names: ['client.test', 'other.client.test', 'alias.client.test'],
    handler: async (req, res) => {
      if (req.url === '/slow') {
        await new Promise((resolve) => setTimeout(resolve, 40));
        sendJson(res, 200, { host: req.host });
      } else if (req.url === '/barrier') {
        barrier.push(() => sendJson(res, 200, { released: true }));
        if (barrier.length >= 2) {
          for (const release of barrier) release();
          barrier = [];
        }
      } else if (req.url.startsWith('/redirect/')) {
        const hops = Number(req.url.slice('/redirect/'.length));
        const next = hops > 0 ? `/redirect/${hops - 1}` : `https://other.client.test:${server.port}/echo`;
        res.writeHead(hops % 2 ? 302 : 308, { location: next }).end();
      } else if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else {
        sendJson(res, 200, {
          method: req.method,
          url: req.url,
          host: req.host,
          sni: req.sni,
          userAgent: req.headers['user-agent'],
          body: req.body.toString('utf8'),
        });
      }
    },
  });
  v6Server = await net.server({
    host: '::1',
    names: ['::1'],
    handler: (_req, res) => sendJson(res, 200, { v6: true }),
  });
  net.dns.setRecords([
    { type: 'A', name: 'client.test', address: server.host },
    { type: 'A', name: 'other.client.test', address: server.host },
    { type: 'CNAME', name: 'alias.client.test', target: 'client.test' },
  ]);
});

afterAll(async () => {
  await net?.close();
});

const url = (path: string, host = 'client.test') => `https://${host}:${server.port}${path}`;

describe('requests', () => {
  it('sends the User-Agent, the Host header and SNI of the URL', async () => {
    const response = await client().request({ url: url('/echo?a=1&b=%2F') });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      method: 'GET',
      url: '/echo?a=1&b=%2F',
      host: `client.test:${server.port}`,
      sni: 'client.test',
      userAgent: 'Atlas-test/1.2.3 (+https://atlas.example)',
      body: '',
    });
    expect(response.remoteAddress).toBe(server.host);
    expect(response.url).toBe(url('/echo?a=1&b=%2F'));
    expect(response.headers['content-type']).toBe('application/json');
  });

  it('posts a body', async () => {
    const response = await client().request({
      url: url('/echo'),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"limit":1}',
    });
    expect(response.json()).toMatchObject({ method: 'POST', body: '{"limit":1}' });
  });

  it('dials connectTo while keeping the given Host header and TLS name', async () => {
    const response = await client().request({
      url: 'https://delegating.example/echo',
      connectTo: { host: 'other.client.test', port: server.port },
      tlsServername: 'alias.client.test',
      hostHeader: 'delegating.example',
    });
    expect(response.json()).toMatchObject({ host: 'delegating.example', sni: 'alias.client.test' });
    // The certificate is checked against the TLS name, not the dialled host.
    await expect(
      client().request({
        url: 'https://delegating.example/echo',
        connectTo: { host: 'other.client.test', port: server.port },
        tlsServername: 'unrelated.example',
      }),
    ).rejects.toMatchObject({ code: 'tls_failed' });
  });

  it('reaches IPv6 literals, bracketed in the URL', async () => {
    const response = await client().request({ url: `https://[::1]:${v6Server.port}/` });
    expect(response.json()).toEqual({ v6: true });
    expect(response.remoteAddress).toBe('::1');
    expect(v6Server.requests[0]?.host).toBe(`[::1]:${v6Server.port}`);
    expect(v6Server.requests[0]?.sni).toBeUndefined();
  });
});

describe('keep-alive', () => {
  it('reuses one connection for many requests, still reporting the certificate and address', async () => {
    const http = client();
    const before = server.connections;
    for (let i = 0; i < 25; i++) {
      const response = await http.request({ url: url(`/echo?page=${i}`) });
      expect(response.status).toBe(200);
      expect(response.remoteAddress).toBe(server.host);
      expect(response.certValidTo).toBeInstanceOf(Date);
      // Certificates carry whole seconds.
      expect(response.certValidTo?.getTime()).toBe(
        Math.floor(server.certificate.notAfter.getTime() / 1000) * 1000,
      );
    }
    expect(server.connections - before).toBe(1);
  });
});

describe('politeness', () => {
  it('runs requests with the same politeness key one at a time', async () => {
    const http = client();
    server.resetMaxInFlight();
    const start = server.requests.length;
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        http.request({
          url: url(`/slow?${i}`, i % 2 ? 'client.test' : 'other.client.test'),
          politenessKey: 'one-server',
        }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(server.requests.length - start).toBe(6);
    expect(server.maxInFlight).toBe(1);
  });

  it('runs requests for different hosts side by side', async () => {
    // The server answers only once two requests wait at once: serialising them would hang.
    const http = client();
    const responses = await Promise.all([
      http.request({ url: url('/barrier'), timeouts: { totalMs: 5_000 } }),
      http.request({ url: url('/barrier', 'other.client.test'), timeouts: { totalMs: 5_000 } }),
    ]);
    expect(responses.map((r) => r.json())).toEqual([{ released: true }, { released: true }]);
  });

  it('caps requests in flight across all hosts', async () => {
    const http = client(1);
    const pending = Promise.all([
      http.request({ url: url('/barrier'), timeouts: { totalMs: 1_000 } }),
      http.request({ url: url('/barrier', 'other.client.test'), timeouts: { totalMs: 1_000 } }),
    ]);
    await expect(pending).rejects.toBeInstanceOf(HttpError);
    barrier = [];
  });
});

describe('redirects', () => {
  it('returns a redirect as it is unless asked to follow', async () => {
    const response = await client().request({ url: url('/redirect/0') });
    expect(response.status).toBe(308);
    expect(response.headers.location).toBe(`https://other.client.test:${server.port}/echo`);
  });

  it('follows redirects across hosts, resolving each hop', async () => {
    const response = await client().request({ url: url('/redirect/3'), maxRedirects: 5 });
    expect(response.status).toBe(200);
    expect(response.url).toBe(url('/echo', 'other.client.test'));
    expect(response.json()).toMatchObject({
      host: `other.client.test:${server.port}`,
      sni: 'other.client.test',
      userAgent: 'Atlas-test/1.2.3 (+https://atlas.example)',
    });
  });

  it('stops after maxRedirects, and on loops', async () => {
    await expect(client().request({ url: url('/redirect/3'), maxRedirects: 2 })).rejects.toMatchObject({
      code: 'too_many_redirects',
    });
    await expect(client().request({ url: url('/loop'), maxRedirects: 10 })).rejects.toMatchObject({
      code: 'too_many_redirects',
    });
  });
});

describe('lookups', () => {
  it('resolves names and SRV records through the configured DNS server', async () => {
    net.dns.addRecords({
      type: 'SRV',
      name: '_matrix-fed._tcp.client.test',
      target: 'client.test',
      port: 8448,
      priority: 5,
    });
    const http = client();
    expect(await http.lookup('client.test')).toEqual([{ address: server.host, family: 4 }]);
    expect(await http.lookup('alias.client.test')).toEqual([{ address: server.host, family: 4 }]);
    expect(await http.resolveSrv('_matrix-fed._tcp.client.test')).toEqual([
      { name: 'client.test', port: 8448, priority: 5, weight: 0 },
    ]);
    expect(await http.resolveSrv('_matrix._tcp.client.test')).toEqual([]);
    await expect(http.lookup('nowhere.client.test')).rejects.toMatchObject({ code: 'dns_failed' });
  });
});
