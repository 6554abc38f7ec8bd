import { createServer, type Server } from 'node:net';
import {
  createServerResolver,
  FederationClient,
  ResolutionError,
  type ResolvedServer,
  type ServerResolver,
} from '@atlas/shared/matrix';
import { createHttpClient, type HttpClient } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord } from '../support/dns-server.ts';
import { freePort } from '../support/ports.ts';
import {
  dedicatedLoopbackAddress,
  type NetTestBed,
  sendJson,
  startNetTestBed,
  type TestServer,
} from './net-test-servers.ts';

/**
 * Every step of "Resolving server names" (server-server API), end to end over real DNS, TLS and
 * HTTP: which server gets the request, and the Host header and SNI it sees.
 */
let net: NetTestBed;
let http: HttpClient;
let resolver: ServerResolver;
let federation: FederationClient;
let refusing: Server;
const servers = new Map<string, TestServer>();

async function federationServer(
  label: string,
  names: string[],
  options: { host?: string; port?: number } = {},
): Promise<TestServer> {
  const server = await net.server({
    ...options,
    names,
    handler: (_req, res) => sendJson(res, 200, { server: { name: label, version: '1' } }),
  });
  servers.set(label, server);
  return server;
}

function server(label: string): TestServer {
  const found = servers.get(label);
  if (!found) throw new Error(`no server ${label}`);
  return found;
}

/** Resolves, then makes a real request; returns what resolution said and what the server saw. */
async function reach(serverName: string) {
  const resolved = await resolver.resolve(serverName);
  const response = await federation.request(serverName, {
    method: 'GET',
    path: '/_matrix/federation/v1/version',
  });
  const label = (response.body as { server: { name: string } }).server.name;
  const seen = server(label).requests.at(-1);
  return { resolved, label, host: seen?.host, sni: seen?.sni, response };
}

beforeAll(async () => {
  net = await startNetTestBed();
  http = net.client({ allowNetworks: ['127.0.0.0/8', '::1/128'], maxInFlight: 4 });
  resolver = createServerResolver({ http });
  federation = new FederationClient({ http, resolver });

  const ipWithPort = dedicatedLoopbackAddress();
  await federationServer('ip-with-port', [ipWithPort], { host: ipWithPort });
  const ip8448 = dedicatedLoopbackAddress();
  await federationServer('ip-8448', [ip8448], { host: ip8448, port: 8448 });
  await federationServer('ipv6', ['::1'], { host: '::1' });
  await federationServer('explicit', ['explicit.steps.test']);
  await federationServer('wk-port', ['target-port.steps.test']);
  await federationServer('wk-srv', ['deleg-srv.steps.test']);
  await federationServer('wk-legacy', ['deleg-legacy.steps.test']);
  await federationServer('wk-8448', ['deleg-8448.steps.test'], { port: 8448 });
  await federationServer('srv-fed', ['srv-fed.steps.test']);
  await federationServer('srv-legacy', ['srv-legacy.steps.test']);
  await federationServer('plain', ['plain.steps.test'], { port: 8448 });
  await federationServer('prio-a', ['prio.steps.test', 'failover.steps.test']);
  await federationServer('prio-b', ['prio.steps.test', 'failover.steps.test']);
  await federationServer('wk-bad-fallback', ['wk-bad.steps.test']);

  // A port where nothing answers: connections are refused at once.
  refusing = createServer();
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  const refusedPort = (refusing.address() as { port: number }).port;
  await new Promise<void>((resolve) => refusing.close(() => resolve()));

  const delegations: Record<string, string> = {
    'wk-ip.steps.test': server('ip-with-port').authority,
    'wk-ip-noport.steps.test': server('ip-8448').host,
    'wk-port.steps.test': `target-port.steps.test:${server('wk-port').port}`,
    'wk-srv.steps.test': 'deleg-srv.steps.test',
    'wk-legacy.steps.test': 'deleg-legacy.steps.test',
    'wk-8448.steps.test': 'deleg-8448.steps.test',
    'wk-bad.steps.test': 'not a server name!',
  };
  const wellKnown = await net.server({
    port: 443,
    names: Object.keys(delegations),
    handler: (req, res) => {
      const delegated = req.host ? delegations[req.host] : undefined;
      if (req.url !== '/.well-known/matrix/server' || !delegated)
        sendJson(res, 404, { errcode: 'M_NOT_FOUND' });
      else sendJson(res, 200, { 'm.server': delegated });
    },
  });
  servers.set('well-known', wellKnown);

  const a = (name: string, label: string): DnsRecord => ({ type: 'A', name, address: server(label).host });
  const srv = (name: string, target: string, port: number, priority = 10): DnsRecord => ({
    type: 'SRV',
    name,
    target,
    port,
    priority,
  });
  net.dns.setRecords([
    a('explicit.steps.test', 'explicit'),
    ...Object.keys(delegations).map((name) => ({ type: 'A' as const, name, address: wellKnown.host })),
    a('target-port.steps.test', 'wk-port'),
    srv('_matrix-fed._tcp.deleg-srv.steps.test', 'srv-target.steps.test', server('wk-srv').port),
    a('srv-target.steps.test', 'wk-srv'),
    srv('_matrix._tcp.deleg-legacy.steps.test', 'legacy-target.steps.test', server('wk-legacy').port),
    a('legacy-target.steps.test', 'wk-legacy'),
    a('deleg-8448.steps.test', 'wk-8448'),
    srv('_matrix-fed._tcp.srv-fed.steps.test', 'srv-fed-target.steps.test', server('srv-fed').port),
    a('srv-fed-target.steps.test', 'srv-fed'),
    srv('_matrix._tcp.srv-legacy.steps.test', 'srv-legacy-target.steps.test', server('srv-legacy').port),
    a('srv-legacy-target.steps.test', 'srv-legacy'),
    a('plain.steps.test', 'plain'),
    srv('_matrix-fed._tcp.prio.steps.test', 'prio-b.steps.test', server('prio-b').port, 20),
    srv('_matrix-fed._tcp.prio.steps.test', 'prio-a.steps.test', server('prio-a').port, 10),
    a('prio-a.steps.test', 'prio-a'),
    a('prio-b.steps.test', 'prio-b'),
    srv('_matrix-fed._tcp.failover.steps.test', 'dead.steps.test', refusedPort, 10),
    srv('_matrix-fed._tcp.failover.steps.test', 'prio-b.steps.test', server('prio-b').port, 20),
    { type: 'A', name: 'dead.steps.test', address: '127.0.0.1' },
    srv('_matrix-fed._tcp.wk-bad.steps.test', 'wk-bad-target.steps.test', server('wk-bad-fallback').port),
    a('wk-bad-target.steps.test', 'wk-bad-fallback'),
    srv('_matrix-fed._tcp.unavailable.steps.test', '.', 0),
    { type: 'A', name: 'unavailable.steps.test', address: '127.0.0.1' },
  ]);
});

afterAll(async () => {
  await net?.close();
});

function expectResolved(resolved: ResolvedServer, expected: Partial<ResolvedServer>): void {
  expect(resolved).toMatchObject(expected);
}

describe('1. IP literals', () => {
  it('dials the address and port given; Host is the server name; no SNI', async () => {
    const target = server('ip-with-port');
    const { resolved, label, host, sni } = await reach(target.authority);
    expectResolved(resolved, {
      step: 'ip_literal',
      connectHost: target.host,
      connectPort: target.port,
      hostHeader: target.authority,
      tlsServername: target.host,
      delegatedTo: undefined,
    });
    expect([label, host, sni]).toEqual(['ip-with-port', target.authority, undefined]);
  });

  it('uses port 8448 when the name has none', async () => {
    const target = server('ip-8448');
    const { resolved, label, host } = await reach(target.host);
    expectResolved(resolved, { step: 'ip_literal', connectPort: 8448, hostHeader: target.host });
    expect([label, host]).toEqual(['ip-8448', target.host]);
  });

  it('handles bracketed IPv6 literals', async () => {
    const target = server('ipv6');
    const { resolved, label, host, sni, response } = await reach(target.authority);
    expectResolved(resolved, { step: 'ip_literal', connectHost: '::1', hostHeader: `[::1]:${target.port}` });
    expect([label, host, sni]).toEqual(['ipv6', `[::1]:${target.port}`, undefined]);
    expect(response.remoteAddress).toBe('::1');
  });
});

describe('2. explicit port', () => {
  it('skips well-known and SRV; Host is name:port; the certificate is for the hostname', async () => {
    const target = server('explicit');
    const name = `explicit.steps.test:${target.port}`;
    const { resolved, label, host, sni } = await reach(name);
    expectResolved(resolved, {
      step: 'explicit_port',
      connectHost: 'explicit.steps.test',
      connectPort: target.port,
      hostHeader: name,
      tlsServername: 'explicit.steps.test',
    });
    expect([label, host, sni]).toEqual(['explicit', name, 'explicit.steps.test']);
  });
});

describe('3. .well-known delegation', () => {
  it('to an IP literal with a port: Host is that address and port', async () => {
    const target = server('ip-with-port');
    const { resolved, label, host, sni } = await reach('wk-ip.steps.test');
    expectResolved(resolved, {
      step: 'well_known',
      delegatedTo: target.authority,
      connectHost: target.host,
      connectPort: target.port,
      hostHeader: target.authority,
      tlsServername: target.host,
    });
    expect([label, host, sni]).toEqual(['ip-with-port', target.authority, undefined]);
  });

  it('to an IP literal without a port: 8448', async () => {
    const target = server('ip-8448');
    const { resolved, label, host } = await reach('wk-ip-noport.steps.test');
    expectResolved(resolved, { step: 'well_known', connectPort: 8448, hostHeader: target.host });
    expect([label, host]).toEqual(['ip-8448', target.host]);
  });

  it('to a hostname with a port: Host is delegated:port, certificate for the delegated name', async () => {
    const target = server('wk-port');
    const delegated = `target-port.steps.test:${target.port}`;
    const { resolved, label, host, sni } = await reach('wk-port.steps.test');
    expectResolved(resolved, {
      step: 'well_known',
      delegatedTo: delegated,
      connectHost: 'target-port.steps.test',
      hostHeader: delegated,
      tlsServername: 'target-port.steps.test',
    });
    expect([label, host, sni]).toEqual(['wk-port', delegated, 'target-port.steps.test']);
  });

  it('to a hostname with a _matrix-fed._tcp SRV record: Host and certificate are the delegated name', async () => {
    const { resolved, label, host, sni } = await reach('wk-srv.steps.test');
    expectResolved(resolved, {
      step: 'well_known_srv_matrix_fed',
      delegatedTo: 'deleg-srv.steps.test',
      connectHost: 'srv-target.steps.test',
      connectPort: server('wk-srv').port,
      hostHeader: 'deleg-srv.steps.test',
      tlsServername: 'deleg-srv.steps.test',
    });
    expect([label, host, sni]).toEqual(['wk-srv', 'deleg-srv.steps.test', 'deleg-srv.steps.test']);
  });

  it('to a hostname with only the deprecated _matrix._tcp SRV record', async () => {
    const { resolved, label, host, sni } = await reach('wk-legacy.steps.test');
    expectResolved(resolved, { step: 'well_known_srv_matrix', connectHost: 'legacy-target.steps.test' });
    expect([label, host, sni]).toEqual(['wk-legacy', 'deleg-legacy.steps.test', 'deleg-legacy.steps.test']);
  });

  it('to a hostname without SRV records: its address on 8448', async () => {
    const { resolved, label, host, sni } = await reach('wk-8448.steps.test');
    expectResolved(resolved, {
      step: 'well_known',
      connectHost: 'deleg-8448.steps.test',
      connectPort: 8448,
      hostHeader: 'deleg-8448.steps.test',
    });
    expect([label, host, sni]).toEqual(['wk-8448', 'deleg-8448.steps.test', 'deleg-8448.steps.test']);
  });

  it('ignores an invalid m.server and carries on with SRV', async () => {
    const { resolved, label, host } = await reach('wk-bad.steps.test');
    expectResolved(resolved, {
      step: 'srv_matrix_fed',
      delegatedTo: undefined,
      hostHeader: 'wk-bad.steps.test',
    });
    expect([label, host]).toEqual(['wk-bad-fallback', 'wk-bad.steps.test']);
  });
});

describe('4-6. without delegation', () => {
  it('SRV _matrix-fed._tcp: Host and certificate are the original hostname, not the target', async () => {
    const { resolved, label, host, sni } = await reach('srv-fed.steps.test');
    expectResolved(resolved, {
      step: 'srv_matrix_fed',
      connectHost: 'srv-fed-target.steps.test',
      hostHeader: 'srv-fed.steps.test',
      tlsServername: 'srv-fed.steps.test',
    });
    expect([label, host, sni]).toEqual(['srv-fed', 'srv-fed.steps.test', 'srv-fed.steps.test']);
  });

  it('SRV _matrix._tcp (deprecated)', async () => {
    const { resolved, label, host, sni } = await reach('srv-legacy.steps.test');
    expectResolved(resolved, { step: 'srv_matrix', connectHost: 'srv-legacy-target.steps.test' });
    expect([label, host, sni]).toEqual(['srv-legacy', 'srv-legacy.steps.test', 'srv-legacy.steps.test']);
  });

  it('port 8448 on the hostname', async () => {
    const { resolved, label, host, sni } = await reach('plain.steps.test');
    expectResolved(resolved, { step: 'default_port', connectHost: 'plain.steps.test', connectPort: 8448 });
    expect([label, host, sni]).toEqual(['plain', 'plain.steps.test', 'plain.steps.test']);
  });
});

describe('SRV records', () => {
  it('go to the lowest priority first', async () => {
    const { resolved, label, host } = await reach('prio.steps.test');
    expect(resolved.connectHost).toBe('prio-a.steps.test');
    expect(resolved.alternatives).toEqual([{ host: 'prio-b.steps.test', port: server('prio-b').port }]);
    expect([label, host]).toEqual(['prio-a', 'prio.steps.test']);
  });

  it('fall back to the next target when one cannot be reached', async () => {
    const { label, host, response } = await reach('failover.steps.test');
    expect([label, host]).toEqual(['prio-b', 'failover.steps.test']);
    expect(response.resolved.connectHost).toBe('prio-b.steps.test');
  });
});

describe('failures', () => {
  async function reason(serverName: string): Promise<string> {
    try {
      await resolver.resolve(serverName);
    } catch (error) {
      expect(error).toBeInstanceOf(ResolutionError);
      expect((error as ResolutionError).serverName).toBe(serverName);
      return (error as ResolutionError).message;
    }
    throw new Error(`${serverName} resolved`);
  }

  it('explain a name that leads nowhere', async () => {
    await expect(resolver.resolve('nowhere.steps.test')).rejects.toMatchObject({ transient: false });
    const message = await reason('nowhere.steps.test');
    expect(message).toContain('no /.well-known/matrix/server delegation');
    expect(message).toContain('_matrix-fed._tcp');
    expect(message).toContain('nowhere.steps.test has no A or AAAA record');
  });

  it('explain an SRV record that says federation is not offered', async () => {
    const message = await reason('unavailable.steps.test');
    expect(message).toContain('_matrix-fed._tcp.unavailable.steps.test');
    expect(message).toContain('not offered');
  });

  it('refuse names that are not server names', async () => {
    expect(await reason('not a name')).toContain('not a valid Matrix server name');
    expect(await reason('example.org:99999')).toContain('not a valid Matrix server name');
  });

  it('mark a DNS server that does not answer as transient, unlike a name without records', async () => {
    const deadDns = createHttpClient({
      dnsServers: [{ host: '127.0.0.1', port: await freePort() }],
      ca: net.ca.cert,
      allowNetworks: ['127.0.0.0/8'],
      userAgent: 'Atlas-test/1',
      maxInFlight: 4,
    });
    try {
      const error = await createServerResolver({ http: deadDns })
        .resolve('plain.steps.test')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResolutionError);
      expect(error).toMatchObject({ transient: true, message: expect.stringContaining('DNS lookup of') });
    } finally {
      await deadDns.close();
    }
  });

  it('explain an explicit port on a name without addresses', async () => {
    expect(await reason('missing.steps.test:8448')).toContain('missing.steps.test has no A or AAAA record');
  });
});
