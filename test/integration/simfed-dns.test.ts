import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';

function resolverFor(server: DnsServer): Resolver {
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([server.address]);
  return resolver;
}

/** One query over TCP with RFC 1035 length framing, without node's resolver in between. */
function queryOverTcp(server: DnsServer, name: string, type: 'A' | 'SRV'): Promise<dnsPacket.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    let received = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => {
      socket.write(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ type, name }] }));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(dnsPacket.decode(received.subarray(2)));
      }
    });
  });
}

describe('test DNS server', () => {
  let dns: DnsServer;
  let resolver: Resolver;

  beforeAll(async () => {
    dns = await startDnsServer();
    dns.setRecords([
      { type: 'A', name: 'hs1.simfed.test', address: '127.10.0.1' },
      { type: 'AAAA', name: 'hs1.simfed.test', address: '::1' },
      { type: 'SRV', name: '_matrix-fed._tcp.hs2.simfed.test', target: 'fed.hs2.simfed.test', port: 8449 },
      { type: 'A', name: 'fed.hs2.simfed.test', address: '127.10.0.2' },
      { type: 'CNAME', name: 'alias.simfed.test', target: 'hs1.simfed.test' },
    ]);
    resolver = resolverFor(dns);
  });

  afterAll(async () => {
    await dns.close();
  });

  it('answers A and AAAA through node:dns, case-insensitively', async () => {
    expect(await resolver.resolve4('hs1.simfed.test')).toEqual(['127.10.0.1']);
    expect(await resolver.resolve4('HS1.SimFed.Test')).toEqual(['127.10.0.1']);
    expect(await resolver.resolve6('hs1.simfed.test')).toEqual(['::1']);
  });

  it('answers SRV through node:dns', async () => {
    expect(await resolver.resolveSrv('_matrix-fed._tcp.hs2.simfed.test')).toEqual([
      { name: 'fed.hs2.simfed.test', port: 8449, priority: 10, weight: 0 },
    ]);
  });

  it('says NXDOMAIN for unknown names and NODATA for a known name without the type', async () => {
    await expect(resolver.resolve4('nobody.simfed.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolveSrv('_matrix._tcp.hs1.simfed.test')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    await expect(resolver.resolve6('fed.hs2.simfed.test')).rejects.toMatchObject({ code: 'ENODATA' });
    // An empty non-terminal exists: it has names below it.
    await expect(resolver.resolve4('_tcp.hs2.simfed.test')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('follows CNAMEs inside its data', async () => {
    expect(await resolver.resolve4('alias.simfed.test')).toEqual(['127.10.0.1']);
  });

  it('answers over TCP, and truncates big UDP answers so the client retries over TCP', async () => {
    const tcp = await queryOverTcp(dns, 'fed.hs2.simfed.test', 'A');
    expect(tcp.id).toBe(7);
    expect(tcp.answers).toMatchObject([{ type: 'A', name: 'fed.hs2.simfed.test', data: '127.10.0.2' }]);
    const many = Array.from({ length: 60 }, (_, i) => `127.20.0.${i + 1}`);
    dns.addRecords(...many.map((address) => ({ type: 'A' as const, name: 'big.simfed.test', address })));
    const tcpBefore = dns.tcpQueryCount;
    expect((await resolver.resolve4('big.simfed.test')).sort()).toEqual([...many].sort());
    expect(dns.tcpQueryCount).toBeGreaterThan(tcpBefore);
  });

  it('drops names on request and replaces everything on setRecords', async () => {
    dns.removeNames('alias.simfed.test');
    await expect(resolver.resolve4('alias.simfed.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    dns.setRecords([{ type: 'A', name: 'new.simfed.test', address: '127.10.0.9' }]);
    await expect(resolver.resolve4('hs1.simfed.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(await resolver.resolve4('new.simfed.test')).toEqual(['127.10.0.9']);
    expect(dns.queryCount).toBeGreaterThan(0);
  });
});
