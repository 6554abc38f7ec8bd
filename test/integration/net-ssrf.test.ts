import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dedicatedLoopbackAddress,
  expectHttpError,
  type NetTestBed,
  sendJson,
  startNetTestBed,
  type TestServer,
} from './net-test-servers.ts';

/**
 * The private-address guard, against real sockets: loopback is refused unless ATLAS_ALLOW_NETWORKS
 * names it, whether it comes as a literal, through DNS, or at the end of a redirect.
 */
let net: NetTestBed;
let allowedServer: TestServer;
let forbiddenServer: TestServer;

const client = (allowNetworks: string[]) => net.client({ allowNetworks });

beforeAll(async () => {
  net = await startNetTestBed();
  const allowedHost = dedicatedLoopbackAddress();
  const forbiddenHost = dedicatedLoopbackAddress();
  forbiddenServer = await net.server({
    host: forbiddenHost,
    names: ['forbidden.ssrf.test', forbiddenHost],
    handler: (_req, res) => sendJson(res, 200, { secret: true }),
  });
  allowedServer = await net.server({
    host: allowedHost,
    names: ['allowed.ssrf.test', 'mixed.ssrf.test', allowedHost],
    handler: (req, res) => {
      if (req.url === '/to-forbidden-name') {
        res.writeHead(302, { location: `https://forbidden.ssrf.test:${forbiddenServer.port}/` }).end();
      } else if (req.url === '/to-forbidden-ip') {
        res.writeHead(307, { location: `https://${forbiddenServer.authority}/` }).end();
      } else if (req.url === '/to-mapped-ip') {
        res
          .writeHead(301, { location: `https://[::ffff:${forbiddenServer.host}]:${forbiddenServer.port}/` })
          .end();
      } else {
        sendJson(res, 200, { ok: true });
      }
    },
  });
  net.dns.setRecords([
    { type: 'A', name: 'allowed.ssrf.test', address: allowedHost },
    { type: 'A', name: 'forbidden.ssrf.test', address: forbiddenHost },
    { type: 'A', name: 'mixed.ssrf.test', address: forbiddenHost },
    { type: 'A', name: 'mixed.ssrf.test', address: allowedHost },
  ]);
});

afterAll(async () => {
  await net?.close();
});

describe('the SSRF guard', () => {
  it('refuses a loopback IP literal unless allowed, naming the address and the fix', async () => {
    const error = await expectHttpError(client([]).request({ url: `https://${allowedServer.authority}/` }));
    expect(error.code).toBe('blocked_address');
    expect(error.message).toContain(allowedServer.host);
    expect(error.message).toContain('ATLAS_ALLOW_NETWORKS');
    expect(allowedServer.requests).toHaveLength(0);

    const response = await client(['127.0.0.0/8']).request({ url: `https://${allowedServer.authority}/` });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('checks the addresses a host name resolves to, when connecting', async () => {
    const error = await expectHttpError(
      client([]).request({ url: `https://allowed.ssrf.test:${allowedServer.port}/` }),
    );
    expect(error.code).toBe('blocked_address');
    expect(error.message).toContain(allowedServer.host);
    const response = await client([`${allowedServer.host}/32`]).request({
      url: `https://allowed.ssrf.test:${allowedServer.port}/`,
    });
    expect(response.status).toBe(200);
    expect(response.remoteAddress).toBe(allowedServer.host);
  });

  it('opens exactly the ranges allowNetworks names', async () => {
    const http = client([`${allowedServer.host}/32`]);
    expect((await http.request({ url: `https://${allowedServer.authority}/` })).status).toBe(200);
    const error = await expectHttpError(http.request({ url: `https://${forbiddenServer.authority}/` }));
    expect(error.code).toBe('blocked_address');
    expect(forbiddenServer.requests).toHaveLength(0);
  });

  it('dials only the allowed addresses of a name that resolves to several', async () => {
    const http = client([`${allowedServer.host}/32`]);
    for (let i = 0; i < 5; i++) {
      const response = await http.request({ url: `https://mixed.ssrf.test:${allowedServer.port}/` });
      expect(response.remoteAddress).toBe(allowedServer.host);
    }
    expect(forbiddenServer.requests).toHaveLength(0);
  });

  it('refuses IPv6 loopback and IPv4-mapped literals of blocked addresses', async () => {
    const http = client([]);
    expect((await expectHttpError(http.request({ url: 'https://[::1]:8448/' }))).code).toBe(
      'blocked_address',
    );
    const mapped = await expectHttpError(
      http.request({ url: `https://[::ffff:${allowedServer.host}]:${allowedServer.port}/` }),
    );
    expect(mapped.code).toBe('blocked_address');
    const sixToFour = await expectHttpError(http.request({ url: 'https://[2002:7f00:1::]:8448/' }));
    expect(sixToFour.code).toBe('blocked_address');
  });

  it('checks connectTo targets too', async () => {
    const error = await expectHttpError(
      client([`${allowedServer.host}/32`]).request({
        url: `https://allowed.ssrf.test:${allowedServer.port}/`,
        connectTo: { host: forbiddenServer.host, port: forbiddenServer.port },
      }),
    );
    expect(error.code).toBe('blocked_address');
    expect(forbiddenServer.requests).toHaveLength(0);
  });

  it('re-checks every redirect hop: a redirect to a blocked address is refused', async () => {
    const http = client([`${allowedServer.host}/32`]);
    for (const path of ['/to-forbidden-name', '/to-forbidden-ip', '/to-mapped-ip']) {
      const error = await expectHttpError(
        http.request({ url: `https://${allowedServer.authority}${path}`, maxRedirects: 5 }),
      );
      expect(error.code, path).toBe('blocked_address');
      expect(error.message).toContain(forbiddenServer.host);
    }
    expect(forbiddenServer.requests).toHaveLength(0);
    // With both addresses allowed, the same redirect is followed to the end.
    const both = client([`${allowedServer.host}/32`, `${forbiddenServer.host}/32`]);
    const response = await both.request({
      url: `https://${allowedServer.authority}/to-forbidden-name`,
      maxRedirects: 5,
    });
    expect(response.json()).toEqual({ secret: true });
    expect(response.url).toBe(`https://forbidden.ssrf.test:${forbiddenServer.port}/`);
  });
});
