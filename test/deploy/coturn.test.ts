import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import { REPO_ROOT, renderStack } from './support/render.ts';
import { createNetwork, type Network } from './support/sandbox.ts';
import { createStack, type TestStack } from './support/stack.ts';

interface Probe {
  localPort: number;
  mapped: { address: string; port: number };
  allocation: {
    ok: boolean;
    relayed?: { address: string; port: number };
    lifetime?: number;
    code?: number;
    deniedPeers?: Record<string, { ok: boolean; code?: number }>;
  };
  wrongSecret: { ok: boolean; code?: number };
  expired: { ok: boolean; code?: number };
}

async function probe(network: Network, stackDir: string): Promise<Probe> {
  const result = await network.exec(
    [
      process.execPath,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/deploy/support/turn-probe.ts'),
      '127.0.0.1',
      '3478',
      path.join(stackDir, 'secrets/turn_shared_secret'),
    ],
    { cwd: REPO_ROOT },
  );
  if (result.code !== 0) throw new Error(`turn-probe failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Probe;
}

async function listening(network: Network, protocol: 'tcp' | 'udp', port: number): Promise<boolean> {
  const result = await network.exec(['ss', protocol === 'tcp' ? '-Hltn' : '-Hlun', `sport = :${port}`]);
  return result.stdout.trim().length > 0;
}

describe('coturn, from the rendered turnserver.conf and entrypoint', () => {
  let stackDir: string;
  let bareDir: string;

  beforeAll(async () => {
    ({ dir: stackDir } = await renderStack(['--domain', 'example.test', '--turn-ports', '49160-49200']));
    // The same stack without certificates: coturn must start anyway, without TLS.
    ({ dir: bareDir } = await renderStack(['--domain', 'example.test']));
    await cp(path.join(stackDir, 'secrets'), path.join(bareDir, 'secrets'), { recursive: true, force: true });
    for (const file of ['haproxy.pem', 'fullchain.pem', 'privkey.pem'])
      await rm(path.join(bareDir, 'certs', file));
  });

  afterAll(async () => {
    for (const dir of [stackDir, bareDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function withCoturn(dir: string, check: (network: Network, stack: TestStack) => Promise<void>) {
    const network = await createNetwork();
    const stack = await createStack(dir, network);
    try {
      // coturn refuses to pick listener and relay addresses by itself when the only interface is
      // loopback (in the stack it runs on the host's network): the test names 127.0.0.1. That is
      // the only setting the test adds.
      const coturn = await stack.start('coturn', {
        extraArgs: ['--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1'],
      });
      await waitFor('coturn to listen on 3478', async () => {
        if (coturn.process.exitCode !== null) throw new Error(`coturn exited:\n${await coturn.log()}`);
        return listening(network, 'udp', 3478);
      });
      await check(network, stack);
    } catch (error) {
      throw new Error(`${String(error)}\n${await stack.logs()}`);
    } finally {
      await stack.close();
      await network.close();
    }
  }

  it('answers STUN and allocates a relay for TURN REST credentials from the shared secret, only those', async () => {
    await withCoturn(stackDir, async (network) => {
      const result = await probe(network, stackDir);
      expect(result.mapped).toEqual({ family: 'IPv4', address: '127.0.0.1', port: result.localPort });
      expect(result.allocation.ok).toBe(true);
      const relayPort = result.allocation.relayed?.port ?? 0;
      expect(relayPort).toBeGreaterThanOrEqual(49160);
      expect(relayPort).toBeLessThanOrEqual(49200);
      expect(result.allocation.lifetime).toBeGreaterThan(0);
      // The relay cannot be pointed at private, loopback, link-local or multicast addresses.
      const denied = result.allocation.deniedPeers ?? {};
      expect(Object.keys(denied)).toHaveLength(7);
      for (const [peer, answer] of Object.entries(denied)) {
        expect(answer, peer).toMatchObject({ ok: false, code: 403 });
      }
      // A password made with another secret, or an expired username, gets 401.
      expect(result.wrongSecret).toEqual({ ok: false, code: 401, reason: expect.any(String) });
      expect(result.expired).toEqual({ ok: false, code: 401, reason: expect.any(String) });
      // TLS on 5349 with the stack's certificate.
      expect(await listening(network, 'tcp', 5349)).toBe(true);
      const tls = await network.exec([
        'openssl',
        's_client',
        '-connect',
        '127.0.0.1:5349',
        '-servername',
        'example.test',
        '-CAfile',
        path.join(stackDir, 'certs/fullchain.pem'),
        '-verify_return_error',
        '-brief',
      ]);
      expect(`${tls.stdout}${tls.stderr}`).toContain('Verification: OK');
    });
  });

  it('starts without TLS, saying so, when the certificates are missing', async () => {
    await withCoturn(bareDir, async (network, stack) => {
      const result = await probe(network, bareDir);
      expect(result.allocation.ok).toBe(true);
      expect(await listening(network, 'tcp', 5349)).toBe(false);
      expect(await stack.logs()).toContain('starting without TLS');
    });
  });
});
