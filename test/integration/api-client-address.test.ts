import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { composeDefault } from '../deploy/support/compose-model.ts';
import { killAtlas, type RunningAtlas, startAtlasCommand, untilHealthy } from '../support/atlas-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import {
  atlasBackendOn,
  renderHaproxyConfig,
  replaceOnce,
  resolversAsking,
  startHaproxy,
  templateSection,
  untilHaproxy,
} from '../support/haproxy.ts';
import { freePort } from '../support/ports.ts';

// Which client Atlas counts a request against, behind the deployed HAProxy. A real HAProxy runs the
// rendered template's own `frontend https` (its TLS binds swapped for one plain HTTP bind), the
// sections it uses and `defaults` (with `option forwardfor`), in front of a real `atlas api` on
// Redis. Each client has an address of its own on loopback (its socket bound to 127.x.y.z), as
// clients on the internet have theirs. What a user would notice is asserted: one client's rate limit
// is its own, and no X-Forwarded-For it sends moves its requests onto another address.

const ATLAS_DOMAIN = 'directory.example.test';
/** Requests per minute per client address. */
const LIMIT = 5;

let dir: string;
let database: TestDatabase;
let dns: DnsServer;
let api: RunningAtlas;
let proxy: RunningAtlas;
let proxyPort: number;

/**
 * The rendered config without its `global` (user, certificates and sockets of the container) and
 * without the frontends on fixed ports (80, and 8405 for health); the https frontend listens on
 * `proxyPort`, reads its well-known files from `dir`, and finds Atlas on `apiPort` through the
 * test's DNS server.
 */
function haproxyConfig(apiPort: number): string {
  const rendered = renderHaproxyConfig({
    SERVER_NAME: 'example.test',
    ELEMENT_DOMAIN: 'element.example.test',
    ATLAS_DOMAIN,
    ADMIN_UI: '',
  });
  let https = templateSection(rendered, 'frontend https');
  https = replaceOnce(
    https,
    '  bind :443 ssl crt /etc/haproxy/certs/haproxy.pem alpn h2,http/1.1',
    `  bind 127.0.0.1:${proxyPort}`,
  );
  https = replaceOnce(https, '  bind :8448 ssl crt /etc/haproxy/certs/haproxy.pem alpn h2,http/1.1\n', '');
  // HAProxy reads the well-known files when it starts: the test's (empty) ones, for all three.
  const wellKnown = '/usr/local/etc/haproxy/well-known/';
  https = replaceOnce(https, wellKnown, `${dir}/`).replaceAll(wellKnown, `${dir}/`);
  return [
    'global',
    '  log stdout format raw local0 info',
    '',
    resolversAsking(rendered, dns.address),
    templateSection(rendered, 'defaults'),
    templateSection(rendered, 'backend per_ip'),
    https,
    templateSection(rendered, 'backend synapse'),
    atlasBackendOn(rendered, apiPort),
    templateSection(rendered, 'backend element'),
    templateSection(rendered, 'backend not_found'),
    '',
  ].join('\n');
}

/** A client's loopback address, at random: Redis may still hold an earlier run's counts. */
function clientAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/** The status of one GET on Atlas's domain, sent from the address `from`. */
function statusOf(from: string, target: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        path: target,
        localAddress: from,
        agent: false,
        // fetch() would not send this Host header: HAProxy routes by it.
        headers: { host: ATLAS_DOMAIN, ...headers },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      },
    );
    sent.once('error', reject);
    sent.end();
  });
}

/** Statuses of `count` requests in a row for Atlas's stats (rate limited), sent from `from`. */
async function statusesFrom(from: string, count: number, headers: Record<string, string> = {}) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await statusOf(from, '/api/v1/stats', headers));
  return statuses;
}

const allowed = (count: number) => Array<number>(count).fill(200);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-client-address-'));
  for (const name of ['server', 'client', 'support']) await writeFile(path.join(dir, `${name}.json`), '{}\n');
  database = await createTestDatabase('api_client_address');
  const apiPort = await freePort();
  api = startAtlasCommand(['api'], {
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl'),
    ATLAS_DATA_DIR: path.join(dir, 'data'),
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    LOG_LEVEL: 'info',
    ATLAS_MEDIA: 'off',
    ATLAS_RATE_LIMIT: String(LIMIT),
    // compose.yaml's own value, which the config schema must accept, with loopback added: here
    // loopback stands in for the compose network (HAProxy connects from 127.0.0.1). The clients'
    // addresses are in that trusted range too, as a client on the LAN is in compose's private
    // ranges: Atlas then reads the left-most X-Forwarded-For entry, as Synapse always does, and
    // only HAProxy dropping the client's own header keeps a forged one out.
    ATLAS_TRUSTED_PROXIES: `${await composeDefault('atlas-api', 'ATLAS_TRUSTED_PROXIES')},127.0.0.0/8`,
  });
  await untilHealthy(api, `http://127.0.0.1:${apiPort}`);
  dns = await startDnsServer();
  dns.setRecords([{ type: 'A', name: 'atlas-api', address: '127.0.0.1' }]);

  proxyPort = await freePort();
  proxy = await startHaproxy(dir, haproxyConfig(apiPort));
  // /healthz is not rate limited.
  await untilHaproxy(
    proxy,
    'HAProxy to route to Atlas',
    async () => (await statusOf('127.0.0.1', '/healthz')) === 200,
  );
}, 300_000);

afterAll(async () => {
  await killAtlas(proxy);
  await killAtlas(api);
  await dns?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('client addresses behind the deploy template’s HAProxy', () => {
  it('gives each client address a rate limit of its own', async () => {
    const first = clientAddress();
    const second = clientAddress();
    expect(await statusesFrom(first, LIMIT + 1)).toEqual([...allowed(LIMIT), 429]);
    // The first client's limit is spent; the second's is whole.
    expect(await statusesFrom(second, LIMIT)).toEqual(allowed(LIMIT));
  });

  it('counts a client that sends its own X-Forwarded-For under its real address', async () => {
    const forger = clientAddress();
    const victim = clientAddress();
    // Naming another client's address spends the forger's limit, not the victim's.
    expect(await statusesFrom(forger, LIMIT + 1, { 'x-forwarded-for': victim })).toEqual([
      ...allowed(LIMIT),
      429,
    ]);
    expect(await statusesFrom(victim, 1)).toEqual([200]);
    // A fresh address in the header buys no fresh limit.
    expect(await statusesFrom(forger, 1, { 'x-forwarded-for': '198.51.100.23' })).toEqual([429]);
  });
});
