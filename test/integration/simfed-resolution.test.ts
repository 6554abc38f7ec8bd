import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyServerKeyDocument } from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestServer } from '../simfed/model.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import {
  type Located,
  locateServer,
  lookupAddress,
  rawRequest,
  type SpecClientOptions,
  wellKnownSite,
} from '../simfed/spec-client.ts';

// Each simulated server must be reachable exactly the way its manifest entry says, through the
// spec's resolution steps over the simfed's DNS and TLS, and nowhere else.
describe('simulated federation: resolution, TLS and unauthenticated endpoints', () => {
  let dir: string;
  let sim: SimFed;
  let client: SpecClientOptions;

  const servers = (predicate: (s: ManifestServer) => boolean) => sim.manifest.servers.filter(predicate);
  const one = (predicate: (s: ManifestServer) => boolean): ManifestServer => {
    const found = servers(predicate)[0];
    if (!found) throw new Error('no such server in the manifest');
    return found;
  };
  const get = (target: Located, uri: string) => rawRequest(client, target, 'GET', uri);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'simfed-res-'));
    sim = await startSimFed({
      servers: 26,
      seed: 'resolution-test',
      dir,
      rooms: 400,
      slowDelayMs: 100,
      stallMs: 30_000,
    });
    const resolver = new Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([sim.dns.address]);
    client = { resolver, ca: sim.caCert, timeoutMs: 5_000 };
  });

  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('covers every resolution step and every failure mode', () => {
    expect(new Set(sim.manifest.servers.map((s) => s.resolution))).toEqual(
      new Set([
        'ip_literal',
        'explicit_port',
        'well_known',
        'well_known_srv_matrix_fed',
        'well_known_srv_matrix',
        'srv_matrix_fed',
        'srv_matrix',
        'default_port',
      ]),
    );
    expect(new Set(sim.manifest.servers.map((s) => s.behaviour))).toEqual(
      new Set([
        'normal',
        'slow',
        'stall_tls',
        'stall_response',
        'trickle',
        'offline_refused',
        'offline_no_dns',
      ]),
    );
    expect(sim.manifest.env.ATLAS_ALLOW_NETWORKS).toBe(sim.network);
    expect(sim.manifest.env.ATLAS_SEEDS?.split(',')).toEqual(sim.manifest.seeds);
  });

  it('resolves every reachable server by the step its manifest names, to the endpoint it names', async () => {
    for (const server of servers((s) => s.reachable)) {
      const located = await locateServer(client, server.name);
      expect(located.step, server.name).toBe(server.resolution);
      expect(located.delegatedTo ?? null, server.name).toBe(server.delegated_to);
      const address = (
        isIP(located.connectHost)
          ? located.connectHost
          : await lookupAddress(client.resolver, located.connectHost)
      ).replace(/^::ffff:/, '');
      expect(`${address}:${located.connectPort}`, server.name).toBe(server.endpoint);

      const version = await get(located, '/_matrix/federation/v1/version');
      expect(version.status, server.name).toBe(200);
      expect(version.json(), server.name).toEqual({
        server: { name: server.software, version: server.version },
      });

      const keys = await get(located, '/_matrix/key/v2/server');
      const verified = verifyServerKeyDocument(keys.json(), server.name);
      expect(verified?.keys.has(server.key_id), server.name).toBe(true);
    }
  });

  it('publishes A, AAAA (IPv4-mapped, reaching the same listener) or both, as the manifest says', async () => {
    const v6only = one((s) => s.reachable && s.address_records === 'AAAA');
    const host = v6only.name.replace(/:\d+$/, '');
    await expect(client.resolver.resolve4(host)).rejects.toMatchObject({ code: 'ENODATA' });
    expect((await client.resolver.resolve6(host))[0]).toMatch(/^::ffff:/);
    const located = await locateServer(client, v6only.name);
    expect((await get(located, '/_matrix/federation/v1/version')).status).toBe(200);

    const dual = one((s) => s.reachable && s.address_records === 'A+AAAA');
    const target = (await locateServer(client, dual.name)).connectHost;
    expect(await client.resolver.resolve4(target)).toHaveLength(1);
    expect(await client.resolver.resolve6(target)).toHaveLength(1);
  });

  it('serves well-known client and support documents and registration as the manifest says', async () => {
    for (const server of servers((s) => s.reachable && s.resolution !== 'ip_literal')) {
      const site = wellKnownSite(server.name);
      if (server.endpoint?.startsWith(`${sim.network.replace(/\.0\/24$/, '')}.2:`)) {
        // Nothing listens on 443 for these: the well-known fetch is refused.
        await expect(get(site, '/.well-known/matrix/server')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        continue;
      }
      const wellKnown = await get(site, '/.well-known/matrix/server');
      if (server.delegated_to)
        expect(wellKnown.json(), server.name).toEqual({ 'm.server': server.delegated_to });
      else expect(wellKnown.status, server.name).toBe(404);

      const clientDoc = await get(site, '/.well-known/matrix/client');
      expect(clientDoc.status, server.name).toBe(server.client_well_known ? 200 : 404);
      const support = await get(site, '/.well-known/matrix/support');
      if (server.contacts.length > 0) {
        expect(support.json(), server.name).toMatchObject({ contacts: server.contacts });
      } else {
        expect(support.status, server.name).toBe(404);
      }
      const register = await rawRequest(client, site, 'POST', '/_matrix/client/v3/register', {}, '{}');
      if (server.registration === 'open') {
        expect(register.status, server.name).toBe(401);
        const body = register.json() as { flows: { stages: string[] }[]; session: string };
        expect(
          body.flows.map((f) => f.stages),
          server.name,
        ).toEqual(server.registration_stages);
        expect(body.session).toEqual(expect.any(String));
      } else {
        expect(register.status, server.name).toBe(403);
        expect(register.json()).toMatchObject({ errcode: 'M_FORBIDDEN' });
      }
    }
  });

  it('fails the way offline and slow servers fail', async () => {
    const noDns = one((s) => s.behaviour === 'offline_no_dns');
    await expect(client.resolver.resolve4(noDns.name)).rejects.toMatchObject({ code: 'ENOTFOUND' });

    const refused = one((s) => s.behaviour === 'offline_refused');
    const located = await locateServer(client, refused.name);
    await expect(get(located, '/_matrix/federation/v1/version')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });

    for (const behaviour of ['stall_tls', 'stall_response', 'trickle'] as const) {
      const server = one((s) => s.behaviour === behaviour);
      const target = await locateServer({ ...client, timeoutMs: 800 }, server.name);
      await expect(
        rawRequest({ ...client, timeoutMs: 800 }, target, 'GET', '/_matrix/federation/v1/version'),
        server.name,
      ).rejects.toThrow(/timed out/);
    }
    const slow = one((s) => s.behaviour === 'slow');
    const version = await get(await locateServer(client, slow.name), '/_matrix/federation/v1/version');
    expect(version.status).toBe(200);
  });

  it('presents a valid certificate only for the name the spec says, and routes only that name', async () => {
    const srv = one((s) => s.reachable && s.resolution === 'srv_matrix_fed');
    const located = await locateServer(client, srv.name);
    // TLS must carry the server name, not the SRV target.
    await expect(
      get(
        { ...located, tlsServername: located.connectHost, hostHeader: located.connectHost },
        '/_matrix/federation/v1/version',
      ),
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });

    const delegated = one(
      (s) => s.reachable && s.resolution === 'well_known' && /:\d+$/.test(s.delegated_to ?? ''),
    );
    const target = await locateServer(client, delegated.name);
    // Skipping delegation: the server's own name is not served on the delegated endpoint.
    await expect(
      get(
        { ...target, tlsServername: delegated.name, hostHeader: delegated.name },
        '/_matrix/federation/v1/version',
      ),
    ).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // Right certificate, a Host this listener does not serve: no such site.
    const unknownHost = await get(
      { ...target, hostHeader: delegated.name },
      '/_matrix/federation/v1/version',
    );
    expect(unknownHost.status).toBe(404);
    // Right certificate, the Host of another server on the same listener: misdirected.
    const neighbour = one(
      (s) => s.reachable && s.name !== delegated.name && s.endpoint === delegated.endpoint,
    );
    const neighbourTarget = await locateServer(client, neighbour.name);
    const misdirected = await get(
      { ...target, hostHeader: neighbourTarget.hostHeader },
      '/_matrix/federation/v1/version',
    );
    expect(misdirected.status).toBe(421);

    const literal = one((s) => s.reachable && s.resolution === 'ip_literal');
    const located2 = await locateServer(client, literal.name);
    expect(located2.tlsServername).toBeUndefined();
    expect((await get(located2, '/_matrix/federation/v1/version')).status).toBe(200);
  });
});
